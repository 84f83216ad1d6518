"""The seed: clients (RFC 7591 names) and users, loaded into a fresh local stack.

Format: {"clients": [{client metadata, "client_secret": ...}], "users": [{"username",
"password", profile claims...}]}. A bad seed is refused with a message that names the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oauth_core.admin.registry import ClientRegistry, InvalidClientMetadata, validate_metadata
from oauth_core.admin.users import InvalidUser, UserDirectory, check_claims, check_password
from oauth_core.models import canonical_username

DEFAULT_SEED = Path(__file__).with_name("default_seed.json")


class SeedError(ValueError):
    pass


@dataclass
class Seed:
    clients: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)


def parse_seed(data: Any, source: str = "seed") -> Seed:
    """Check the whole seed before anything is written, so a bad seed writes nothing."""
    if not isinstance(data, dict):
        raise SeedError(f"{source}: must be a JSON object with 'clients' and 'users'")
    unknown = set(data) - {"clients", "users"}
    if unknown:
        raise SeedError(f"{source}: unknown top-level field {sorted(unknown)[0]!r}")
    clients, users = data.get("clients", []), data.get("users", [])
    if not isinstance(clients, list) or not isinstance(users, list):
        raise SeedError(f"{source}: 'clients' and 'users' must be lists")
    seen: set[str] = set()
    for index, client in enumerate(clients):
        where = f"{source}: clients[{index}]"
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
        secret = client.get("client_secret")
        if parsed.is_public and secret is not None:
            raise SeedError(f"{where}.client_secret: a public client has no secret")
        if secret is not None and (not isinstance(secret, str) or len(secret) < 32):
            raise SeedError(f"{where}.client_secret: must be a string of at least 32 characters")
    names: set[str] = set()
    for index, user in enumerate(users):
        where = f"{source}: users[{index}]"
        if not isinstance(user, dict):
            raise SeedError(f"{where}: must be an object")
        username = user.get("username")
        if not isinstance(username, str) or not username:
            raise SeedError(f"{where}.username: is required")
        if canonical_username(username) in names:
            # Usernames are case-insensitive: `Alice` and `alice` are the same account (G7).
            raise SeedError(f"{where}.username: {username!r} appears twice")
        names.add(canonical_username(username))
        try:
            check_password(user.get("password"))
            check_claims({k: v for k, v in user.items() if k not in ("username", "password")})
        except InvalidUser as exc:
            raise SeedError(f"{where}.{exc.field}: {exc.message}") from exc
    return Seed(clients=clients, users=users)


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


def apply_seed(seed: Seed, registry: ClientRegistry, directory: UserDirectory) -> SeedResult:
    result = SeedResult()
    for client in seed.clients:
        registration = registry.create(client, replace=True)
        if registration.client_secret:
            result.secrets[registration.client.client_id] = registration.client_secret
    for user in seed.users:
        claims = {k: v for k, v in user.items() if k not in ("username", "password")}
        try:
            directory.create(user["username"], user["password"], claims, replace_existing=True)
        except InvalidUser as exc:
            raise SeedError(f"users.{exc.field}: {exc.message}") from exc
    return result
