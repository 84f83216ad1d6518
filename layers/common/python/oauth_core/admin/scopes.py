"""Registering scopes: what each means on the consent page, whether it is asked for, and which
API it belongs to. Used by oauthctl and the seed loader."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from oauth_core.clock import Clock
from oauth_core.errors import ConditionFailed
from oauth_core.ports import ClientStore, ScopeStore
from oauth_core.scope_catalog import (
    BUILTIN_NAMES,
    DESCRIPTION_KEY_PATTERN,
    MAX_DESCRIPTION_LENGTH,
    SCOPE_NAME_PATTERN,
    ScopeCatalog,
    ScopeDefinition,
)

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
    if audience is not None:
        parts = urlsplit(str(audience)) if isinstance(audience, str) else None
        if parts is None or parts.scheme != "https" or not parts.netloc or parts.fragment:
            raise InvalidScopeDefinition("audience", "the API's identifier: an https URL")
    return ScopeDefinition(
        name=name,
        description=description.strip(),
        description_key=key,
        consent=consent,
        audience=audience,
        created_at=now,
    )


class ScopeAdmin:
    def __init__(self, scopes: ScopeStore, clients: ClientStore, clock: Clock):
        self._scopes = scopes
        self._clients = clients
        self._clock = clock

    def catalog(self) -> ScopeCatalog:
        return ScopeCatalog.of(self._scopes.list())

    def get(self, name: str) -> ScopeDefinition | None:
        return self.catalog().by_name.get(name)

    def list(self) -> list[ScopeDefinition]:
        return [self.catalog().by_name[name] for name in self.catalog().names()]

    def create(self, data: Mapping[str, Any]) -> ScopeDefinition:
        definition = _check(data, now=self._clock.now())
        if definition.name in BUILTIN_NAMES:
            raise InvalidScopeDefinition("name", f"{definition.name} is built in")
        try:
            self._scopes.put(definition, must_not_exist=True)
        except ConditionFailed:
            raise InvalidScopeDefinition(
                "name", f"{definition.name} is already registered"
            ) from None
        return definition

    def update(self, name: str, changes: Mapping[str, Any]) -> ScopeDefinition:
        current = self._registered(name)
        merged = {**current.to_item(), **changes, "name": name}
        merged.pop("created_at", None)
        updated = _check(merged, now=current.created_at)
        self._scopes.put(updated)
        return updated

    def delete(self, name: str) -> None:
        self._registered(name)
        holders = [c.client_id for c in self._clients.list() if name in c.allowed_scopes]
        if holders:
            raise ScopeInUse(name, holders)
        self._scopes.delete(name)

    def _registered(self, name: str) -> ScopeDefinition:
        if name in BUILTIN_NAMES:
            raise InvalidScopeDefinition("name", f"{name} is built in and cannot be changed")
        found = self._scopes.get(name)
        if found is None:
            raise LookupError(f"no scope {name!r}")
        return found
