"""The seed: the catalog (APIs, scopes, user attributes), clients and users, loaded into a
fresh local stack.

Format: {"apis": [{"name", "groups_claim", "description"}], "scopes": [{"name",
"description", "description_key", "consent", "audience"}], "attributes": [{"name", "type",
"claim", "description"}], "clients": [{client metadata (RFC 7591 names), "client_secret"}],
"users": [{"username", "password", profile claims..., "attributes": {name: value}, "groups":
[...]}]}; every section is optional. The catalog is checked by the same code as `oauthctl apis`,
`scopes` and `attributes` (oauth_core.admin.catalog), and declared first, in that order: a
scope may belong to a seeded API, a client may be given a seeded scope, a user may carry a
seeded attribute. A bad seed is refused with a message that names the field, e.g.
`scopes[2].audience: ...`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oauth_core import constants
from oauth_core.admin.catalog import (
    ApiAdmin,
    AttributeAdmin,
    InvalidDefinition,
    InvalidScopeDefinition,
    ScopeAdmin,
)
from oauth_core.admin.registry import ClientRegistry, InvalidClientMetadata, validate_metadata
from oauth_core.admin.users import InvalidUser, UserDirectory, check_claims, check_password
from oauth_core.catalog import DEFAULT_API, Catalog
from oauth_core.clock import Clock, SystemClock
from oauth_core.models import User, canonical_username
from oauth_core.ports import CatalogStore, ClientStore
from oauth_core.storage.memory import MemoryCatalogStore, MemoryClientStore, MemoryUserStore

DEFAULT_SEED = Path(__file__).with_name("default_seed.json")
# Declared in this order, before clients and users: a scope may name a seeded API (audience).
CATALOG_SECTIONS = ("apis", "scopes", "attributes")
SECTIONS = (*CATALOG_SECTIONS, "clients", "users")
API_FIELDS = frozenset(
    {
        "name",
        "groups_claim",
        "description",
        "access_token_ttl",
        "signing_alg",
        "introspecting_clients",
    }
)
ATTRIBUTE_FIELDS = frozenset({"name", "type", "claim", "description"})
USER_FIELDS = frozenset({"username", "password", "attributes", "groups"})  # the rest: claims


class SeedError(ValueError):
    pass


@dataclass
class Seed:
    clients: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    apis: list[dict[str, Any]] = field(default_factory=list)
    scopes: list[dict[str, Any]] = field(default_factory=list)
    attributes: list[dict[str, Any]] = field(default_factory=list)
    source: str = "seed"  # the file, for messages

    @property
    def declares_catalog(self) -> bool:
        return bool(self.apis or self.scopes or self.attributes)


@dataclass(frozen=True)
class CatalogAdmins:
    """What declares the seed's APIs, scopes and attributes (as `oauthctl` does)."""

    scopes: ScopeAdmin
    apis: ApiAdmin
    attributes: AttributeAdmin

    @classmethod
    def on(cls, store: CatalogStore, clients: ClientStore, clock: Clock) -> CatalogAdmins:
        return cls(
            ScopeAdmin(store, clients, clock), ApiAdmin(store, clock), AttributeAdmin(store, clock)
        )


def parse_seed(data: Any, source: str = "seed") -> Seed:
    """Check the whole seed before anything is written, so a bad seed writes nothing.

    The catalog is declared into a scratch in-memory one by the admin classes themselves, so
    the clients' scopes and the users' attributes are checked against what the seed declares
    exactly as they will be when it is applied."""
    if not isinstance(data, dict):
        raise SeedError(f"{source}: must be a JSON object with {', '.join(map(repr, SECTIONS))}")
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise SeedError(f"{source}: unknown top-level field {sorted(unknown)[0]!r}")
    for section in SECTIONS:
        if not isinstance(data.get(section, []), list):
            raise SeedError(f"{source}: {section}: must be a list")
    seed = Seed(
        clients=data.get("clients", []),
        users=data.get("users", []),
        apis=data.get("apis", []),
        scopes=data.get("scopes", []),
        attributes=data.get("attributes", []),
        source=source,
    )
    scratch = MemoryCatalogStore()
    clock = SystemClock()
    _declare_catalog(seed, CatalogAdmins.on(scratch, MemoryClientStore(), clock))
    _check_clients(seed, scratch.catalog())
    _check_users(seed, scratch, clock)
    return seed


def _check_clients(seed: Seed, declared: Catalog) -> None:
    seen: set[str] = set()
    for index, client in enumerate(seed.clients):
        where = f"{seed.source}: clients[{index}]"
        if not isinstance(client, dict):
            raise SeedError(f"{where}: must be an object")
        metadata = {k: v for k, v in client.items() if k != "client_secret"}
        try:
            parsed = validate_metadata(metadata)
        except InvalidClientMetadata as exc:
            raise SeedError(f"{where}.{exc.field}: {exc.message}") from exc
        if parsed.client_id in seen:
            raise SeedError(f"{where}.client_id: {parsed.client_id!r} appears twice")
        seen.add(parsed.client_id)
        undeclared = declared.unknown_scopes(parsed.allowed_scopes)
        if undeclared:
            what = (
                "is not a built-in scope: declare it"
                if len(undeclared) == 1
                else "are not built-in scopes: declare them"
            )
            raise SeedError(f"{where}.scope: {', '.join(undeclared)} {what} in the seed's scopes")
        secret = client.get("client_secret")
        if not parsed.uses_secret and secret is not None:
            method = parsed.token_endpoint_auth_method
            raise SeedError(f"{where}.client_secret: a {method} client has no secret")
        if secret is not None and (not isinstance(secret, str) or len(secret) < 32):
            raise SeedError(f"{where}.client_secret: must be a string of at least 32 characters")


def _check_users(seed: Seed, declared: MemoryCatalogStore, clock: Clock) -> None:
    """Each user's password and claims, and its attributes and groups as the user directory
    takes them (against the seed's attributes), on a scratch directory: no password is hashed."""
    users = MemoryUserStore()
    scratch = UserDirectory(users, clock, catalog=declared)
    names: set[str] = set()
    for index, user in enumerate(seed.users):
        where = f"{seed.source}: users[{index}]"
        if not isinstance(user, dict):
            raise SeedError(f"{where}: must be an object")
        username = user.get("username")
        if not isinstance(username, str) or not username:
            raise SeedError(f"{where}.username: is required")
        canonical = canonical_username(username)
        if canonical in names:
            # Usernames are case-insensitive: `Alice` and `alice` are the same account (G7).
            raise SeedError(f"{where}.username: {username!r} appears twice")
        names.add(canonical)
        try:
            check_password(user.get("password"))
            check_claims(_claims_of(user))
        except InvalidUser as exc:
            raise SeedError(f"{where}.{exc.field}: {exc.message}") from exc
        attributes, groups = user.get("attributes", {}), user.get("groups", [])
        if not isinstance(attributes, dict):
            raise SeedError(f"{where}.attributes: must be an object: attribute name -> value")
        if not isinstance(groups, list):
            raise SeedError(f"{where}.groups: must be a list of group names")
        users.put(User(username=canonical, sub=canonical, password_hash=""))
        _set_attributes_and_groups(scratch, canonical, user, where)


def read_seed(path: Path | None = None) -> Seed:
    path = path or DEFAULT_SEED
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SeedError(f"{path}: no such file") from exc
    except json.JSONDecodeError as exc:
        raise SeedError(f"{path}: not valid JSON ({exc})") from exc
    return parse_seed(data, str(path))


@dataclass
class SeedResult:
    secrets: dict[str, str] = field(default_factory=dict)  # client_id -> secret, to print once


def apply_seed(
    seed: Seed,
    registry: ClientRegistry,
    directory: UserDirectory,
    catalog: CatalogAdmins | None = None,
) -> SeedResult:
    """Declare the seed's catalog, then register its clients and create its users. Applying a
    seed again makes what it names match it: a declaration, client or user of the same name is
    replaced (a user keeps its `sub`)."""
    if seed.declares_catalog:
        if catalog is None:
            raise SeedError(
                "the seed declares apis, scopes or attributes: apply_seed needs CatalogAdmins"
            )
        _declare_catalog(seed, catalog)
    result = SeedResult()
    for index, client in enumerate(seed.clients):
        try:
            registration = registry.create(client, replace=True)
        except InvalidClientMetadata as exc:
            raise SeedError(f"{seed.source}: clients[{index}].{exc.field}: {exc.message}") from exc
        if registration.client_secret:
            result.secrets[registration.client.client_id] = registration.client_secret
    for index, user in enumerate(seed.users):
        where = f"{seed.source}: users[{index}]"
        try:
            created = directory.create(
                user["username"], user["password"], _claims_of(user), replace_existing=True
            )
        except InvalidUser as exc:
            raise SeedError(f"{where}.{exc.field}: {exc.message}") from exc
        _set_attributes_and_groups(directory, created.username, user, where)
    return result


def _claims_of(user: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in user.items() if k not in USER_FIELDS}


def _set_attributes_and_groups(
    directory: UserDirectory, username: str, user: dict[str, Any], where: str
) -> None:
    """The user directory checks each attribute against its declared type, and each group."""
    if user.get("attributes"):
        try:
            directory.set_attributes(username, user["attributes"])
        except InvalidUser as exc:
            raise SeedError(f"{where}.attributes.{exc.field}: {exc.message}") from exc
    for index, group in enumerate(user.get("groups", [])):
        try:
            directory.add_group(username, group)
        except InvalidUser as exc:
            raise SeedError(f"{where}.groups[{index}]: {exc.message}") from exc


# --- the catalog ---


def _declare_catalog(seed: Seed, admins: CatalogAdmins) -> None:
    declare = {"apis": _declare_api, "scopes": _declare_scope, "attributes": _declare_attribute}
    for section in CATALOG_SECTIONS:
        seen: set[str] = set()
        for index, entry in enumerate(getattr(seed, section)):
            where = f"{seed.source}: {section}[{index}]"
            if not isinstance(entry, dict):
                raise SeedError(f"{where}: must be an object")
            name = entry.get("name")
            if isinstance(name, str):
                if name in seen:
                    raise SeedError(f"{where}.name: {name!r} appears twice")
                seen.add(name)
            try:
                declare[section](admins, entry)
            except InvalidScopeDefinition as exc:  # InvalidDefinition too
                raise SeedError(f"{where}.{exc.field}: {exc.message}") from exc


def _unknown_fields(entry: dict[str, Any], known: frozenset[str], kind: str) -> None:
    unknown = set(entry) - known
    if unknown:
        raise InvalidDefinition(sorted(unknown)[0], f"is not {kind} field")


def _declare_api(admins: CatalogAdmins, entry: dict[str, Any]) -> None:
    """Registered, or (the built-in `default` too) updated to match."""
    _unknown_fields(entry, API_FIELDS, "an API")
    name: Any = entry.get("name")  # the admin says what is wrong with it, if anything
    groups_claim = entry.get("groups_claim")
    existing = admins.apis.get(name) if isinstance(name, str) else None
    ttl, alg = entry.get("access_token_ttl"), entry.get("signing_alg")
    introspecting = entry.get("introspecting_clients", [])
    if existing is None:
        admins.apis.create(
            name,
            groups_claim=groups_claim,
            description=entry.get("description", ""),
            access_token_ttl=ttl,
            signing_alg=alg,
            introspecting_clients=introspecting,
        )
        return
    admins.apis.update(
        name,
        groups_claim=groups_claim or constants.GROUPS_CLAIM,
        access_token_ttl=ttl,
        signing_alg=alg,
        introspecting_clients=introspecting,
        # The built-in API keeps its description unless the seed gives one.
        description=entry.get("description", None if name == DEFAULT_API else ""),
    )


def _declare_scope(admins: CatalogAdmins, entry: dict[str, Any]) -> None:
    """Registered, or a registered one of that name replaced; a built-in one is refused."""
    name: Any = entry.get("name")
    existing = admins.scopes.get(name) if isinstance(name, str) else None
    if existing is None or existing.builtin:
        admins.scopes.create(entry)
        return
    # Every field the seed leaves out goes back to its default, as in `create`.
    defaults = {"description": None, "description_key": None, "consent": True, "audience": None}
    admins.scopes.update(name, {**defaults, **{k: v for k, v in entry.items() if k != "name"}})


def _declare_attribute(admins: CatalogAdmins, entry: dict[str, Any]) -> None:
    """Declared, or one of that name declared again as the seed says."""
    _unknown_fields(entry, ATTRIBUTE_FIELDS, "an attribute")
    name = entry.get("name")
    name = name if isinstance(name, str) else ""  # which AttributeAdmin refuses, saying why
    if name and admins.attributes.get(name) is not None:
        admins.attributes.delete(name)
    admins.attributes.create(
        name,
        entry.get("type", "string"),
        claim=entry.get("claim"),
        description=entry.get("description", ""),
    )
