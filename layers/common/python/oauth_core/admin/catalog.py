"""Declaring scopes (what each means on the consent page, whether it is asked for, which API it
belongs to), APIs (which claim carries a user's groups) and user attributes (their type, and
the claim tokens carry them in). Used by oauthctl and the seed loader."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from oauth_core import constants
from oauth_core.catalog import (
    ATTRIBUTE_NAME_PATTERN,
    ATTRIBUTE_TYPES,
    BUILTIN_NAMES,
    CLAIM_NAME_PATTERN,
    DEFAULT_API,
    DESCRIPTION_KEY_PATTERN,
    MAX_DESCRIPTION_LENGTH,
    SCOPE_NAME_PATTERN,
    ApiDefinition,
    AttributeDefinition,
    Catalog,
    ScopeDefinition,
)
from oauth_core.clock import Clock
from oauth_core.errors import ConditionFailed
from oauth_core.models import CLIENT_ID_PATTERN
from oauth_core.ports import CatalogStore, ClientStore
from oauth_core.rules.claims import RESERVED_CLAIMS

FIELDS = frozenset({"name", "description", "description_key", "consent", "audience"})


class InvalidScopeDefinition(ValueError):
    """A scope registration refused; `field` names the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ScopeInUse(ValueError):
    """A scope some clients may still be given cannot be deleted."""

    def __init__(self, name: str, clients: list[str]):
        shown = ", ".join(clients[:10]) + (
            f" and {len(clients) - 10} more" if len(clients) > 10 else ""
        )
        super().__init__(f"{name} is given to {shown}: take it from them first")
        self.clients = clients


def _check(data: Mapping[str, Any], *, now: int) -> ScopeDefinition:
    unknown = set(data) - FIELDS
    if unknown:
        raise InvalidScopeDefinition(sorted(unknown)[0], "is not a scope field")
    name = data.get("name")
    if not isinstance(name, str) or not SCOPE_NAME_PATTERN.match(name):
        raise InvalidScopeDefinition(
            "name", "1 to 128 visible ASCII characters, without spaces, quotes or backslashes"
        )
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        raise InvalidScopeDefinition("description", "is required: what a user is asked to allow")
    if len(description) > MAX_DESCRIPTION_LENGTH or any(ord(c) < 32 for c in description):
        raise InvalidScopeDefinition(
            "description", f"one line of at most {MAX_DESCRIPTION_LENGTH} characters"
        )
    key = data.get("description_key") or "scope." + "".join(
        c if c.isascii() and c.isalnum() else "_" for c in name.lower()
    )
    if not isinstance(key, str) or not DESCRIPTION_KEY_PATTERN.match(key):
        raise InvalidScopeDefinition(
            "description_key", "lower-case letters, digits, '.', '_' and '-' (e.g. scope.orders)"
        )
    consent = data.get("consent", True)
    if not isinstance(consent, bool):
        raise InvalidScopeDefinition("consent", "true or false")
    audience = data.get("audience") or None
    if audience is not None and not is_api_identifier(audience):
        raise InvalidScopeDefinition("audience", IDENTIFIER_RULE)
    return ScopeDefinition(
        name=name,
        description=description.strip(),
        description_key=key,
        consent=consent,
        audience=audience,
        created_at=now,
    )


class ScopeAdmin:
    def __init__(self, store: CatalogStore, clients: ClientStore, clock: Clock):
        self._store = store
        self._clients = clients
        self._clock = clock

    def catalog(self) -> Catalog:
        return Catalog.of(self._store.list(ScopeDefinition))

    def get(self, name: str) -> ScopeDefinition | None:
        return self.catalog().scopes.get(name)

    def list(self) -> list[ScopeDefinition]:
        return [self.catalog().scopes[name] for name in self.catalog().scope_names()]

    def create(self, data: Mapping[str, Any]) -> ScopeDefinition:
        definition = self._with_known_api(_check(data, now=self._clock.now()))
        if definition.name in BUILTIN_NAMES:
            raise InvalidScopeDefinition("name", f"{definition.name} is built in")
        try:
            self._store.put(definition, must_not_exist=True)
        except ConditionFailed:
            raise InvalidScopeDefinition(
                "name", f"{definition.name} is already registered"
            ) from None
        return definition

    def update(self, name: str, changes: Mapping[str, Any]) -> ScopeDefinition:
        current = self._registered(name)
        merged = {**current.to_item(), **changes, "name": name}
        merged.pop("created_at", None)
        updated = self._with_known_api(_check(merged, now=current.created_at))
        self._store.put(updated)
        return updated

    def delete(self, name: str) -> None:
        self._registered(name)
        holders = [c.client_id for c in self._clients.list() if name in c.allowed_scopes]
        if holders:
            raise ScopeInUse(name, holders)
        self._store.delete(ScopeDefinition, name)

    def _registered(self, name: str) -> ScopeDefinition:
        if name in BUILTIN_NAMES:
            raise InvalidScopeDefinition("name", f"{name} is built in and cannot be changed")
        found = self._store.get(ScopeDefinition, name)
        if found is None:
            raise LookupError(f"no scope {name!r}")
        return found

    def _with_known_api(self, scope: ScopeDefinition) -> ScopeDefinition:
        if scope.audience and self._store.get(ApiDefinition, scope.audience) is None:
            raise InvalidScopeDefinition(
                "audience", f"{scope.audience} is not a registered API (oauthctl apis create)"
            )
        return scope


class InvalidDefinition(InvalidScopeDefinition):
    """An API or attribute declaration refused; `field` names the offending field."""


IDENTIFIER_RULE = (
    "an API's identifier (its tokens' aud) is an https URL, or an http one on a loopback host "
    "(127.0.0.1, [::1], localhost) for an API in development"
)
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def is_api_identifier(value: Any) -> bool:
    """An absolute https URL without a fragment, or http on loopback (a local MCP server
    names itself so, and its clients send exactly that as `resource`)."""
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or not parts.netloc or parts.fragment or "#" in value:
        return False
    return parts.scheme == "https" or (
        parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS
    )


def _https_identifier(value: Any) -> str:
    if not is_api_identifier(value):
        raise InvalidDefinition("name", IDENTIFIER_RULE)
    return str(value)


def _claim(value: Any, field: str = "claim") -> str:
    if not isinstance(value, str) or not CLAIM_NAME_PATTERN.match(value):
        raise InvalidDefinition(field, "a claim name: a letter or _, then letters, digits, _:.-")
    if value in RESERVED_CLAIMS - {constants.GROUPS_CLAIM, "roles"}:
        raise InvalidDefinition(field, f"{value} is a claim the server sets itself")
    return value


MAX_TTL = constants.MAX_ACCESS_TOKEN_TTL


def _token_ttl(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 60 <= value <= MAX_TTL:
        raise InvalidDefinition("access_token_ttl", f"whole seconds from 60 to {MAX_TTL}")
    return value


def _signing_alg(value: Any) -> str | None:
    if value is None:
        return None
    if value not in constants.SIGNING_ALGORITHMS:
        algorithms = ", ".join(constants.SIGNING_ALGORITHMS)
        raise InvalidDefinition("signing_alg", f"one of {algorithms}")
    return str(value)


MAX_INTROSPECTING_CLIENTS = 20


def _introspecting_clients(value: Any) -> tuple[str, ...]:
    """The clients that may introspect an API's tokens: registered client ids, no repeats."""
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidDefinition("introspecting_clients", "a list of client ids")
    clients = tuple(dict.fromkeys(value))
    if len(clients) > MAX_INTROSPECTING_CLIENTS:
        raise InvalidDefinition(
            "introspecting_clients", f"at most {MAX_INTROSPECTING_CLIENTS} clients"
        )
    for client_id in clients:
        if not CLIENT_ID_PATTERN.match(client_id):
            raise InvalidDefinition(
                "introspecting_clients", f"{client_id!r} is not a registered client's id"
            )
    return clients


class ApiAdmin:
    """Protected APIs, by identifier; the built-in one is `default`."""

    def __init__(self, store: CatalogStore, clock: Clock):
        self._store = store
        self._clock = clock

    def list(self) -> list[ApiDefinition]:
        return list(Catalog.of(self._store.list(ApiDefinition)).apis.values())

    def get(self, name: str) -> ApiDefinition | None:
        return Catalog.of(self._store.list(ApiDefinition)).apis.get(name)

    def create(
        self,
        name: str,
        *,
        groups_claim: str | None = None,
        description: str = "",
        access_token_ttl: int | None = None,
        signing_alg: str | None = None,
        introspecting_clients: Sequence[str] = (),
    ) -> ApiDefinition:
        api = ApiDefinition(
            _https_identifier(name),
            _claim(groups_claim or constants.GROUPS_CLAIM, "groups_claim"),
            _description(description),
            self._clock.now(),
            _token_ttl(access_token_ttl),
            _signing_alg(signing_alg),
            _introspecting_clients(introspecting_clients),
        )
        try:
            self._store.put(api, must_not_exist=True)
        except ConditionFailed:
            raise InvalidDefinition("name", f"{name} is already registered") from None
        return api

    def update(
        self,
        name: str,
        *,
        groups_claim: str | None = None,
        description: str | None = None,
        access_token_ttl: int | None = None,
        signing_alg: str | None = None,
        introspecting_clients: Sequence[str] | None = None,
    ) -> ApiDefinition:
        """Change what is given; `introspecting_clients` replaces the list (empty: none)."""
        current = self.get(name)
        if current is None:
            raise LookupError(f"no API {name!r}")
        updated = replace(
            current,
            access_token_ttl=_token_ttl(access_token_ttl)
            if access_token_ttl is not None
            else current.access_token_ttl,
            signing_alg=_signing_alg(signing_alg) if signing_alg else current.signing_alg,
            groups_claim=_claim(groups_claim, "groups_claim")
            if groups_claim
            else current.groups_claim,
            description=_description(description)
            if description is not None
            else current.description,
            introspecting_clients=_introspecting_clients(introspecting_clients)
            if introspecting_clients is not None
            else current.introspecting_clients,
        )
        self._store.put(updated)  # `default` is stored the first time it is changed
        return updated

    def delete(self, name: str) -> None:
        if name == DEFAULT_API:
            raise InvalidDefinition("name", "the built-in API cannot be deleted")
        users = [s.name for s in self._store.list(ScopeDefinition) if s.audience == name]
        if users:
            raise InvalidDefinition("name", f"scopes {', '.join(users)} belong to {name}")
        if not self._store.delete(ApiDefinition, name):
            raise LookupError(f"no API {name!r}")


class AttributeAdmin:
    """Custom user attributes: typed, and optionally carried in tokens under a claim."""

    def __init__(self, store: CatalogStore, clock: Clock):
        self._store = store
        self._clock = clock

    def list(self) -> list[AttributeDefinition]:
        return self._store.list(AttributeDefinition)

    def get(self, name: str) -> AttributeDefinition | None:
        return self._store.get(AttributeDefinition, name)

    def create(
        self, name: str, type_: str, *, claim: str | None = None, description: str = ""
    ) -> AttributeDefinition:
        if not ATTRIBUTE_NAME_PATTERN.match(name or ""):
            raise InvalidDefinition("name", "lower-case letters, digits and _, starting a-z")
        if type_ not in ATTRIBUTE_TYPES:
            raise InvalidDefinition("type", f"one of {', '.join(ATTRIBUTE_TYPES)}")
        taken = {a.claim for a in self.list() if a.claim}
        if claim is not None and _claim(claim) in taken:
            raise InvalidDefinition("claim", f"another attribute is carried in {claim}")
        attribute = AttributeDefinition(
            name, type_, claim, _description(description), self._clock.now()
        )
        try:
            self._store.put(attribute, must_not_exist=True)
        except ConditionFailed:
            raise InvalidDefinition("name", f"{name} is already declared") from None
        return attribute

    def delete(self, name: str) -> None:
        if not self._store.delete(AttributeDefinition, name):
            raise LookupError(f"no attribute {name!r}")


def _description(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION_LENGTH or "\n" in value:
        raise InvalidDefinition(
            "description", f"one line of at most {MAX_DESCRIPTION_LENGTH} characters"
        )
    return value.strip()
