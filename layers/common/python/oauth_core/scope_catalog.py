"""The scopes this server knows: the built-in ones and those an operator registered.

A client may be given only known scopes, discovery advertises exactly these, and the consent
page says what each means. A scope belongs to one API (its audience; none: the default API,
`<issuer>/resource`) and either is asked for on the consent page or is granted without asking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from oauth_core import constants

# RFC 6749 3.3 scope-token, and short enough to show on a page.
SCOPE_NAME_PATTERN = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]{1,128}$")
DESCRIPTION_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,127}$")
MAX_DESCRIPTION_LENGTH = 200


@dataclass(frozen=True)
class ScopeDefinition:
    """One scope: what it means to a user, in words and as a translation key."""

    name: str
    description: str
    description_key: str
    consent: bool = True  # asked for on the consent page; False: granted without asking
    audience: str | None = None  # the API it belongs to; None: the default API
    builtin: bool = False
    created_at: int = 0

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "description_key": self.description_key,
            "consent": self.consent,
            "created_at": self.created_at,
        }
        if self.audience:
            item["audience"] = self.audience
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> ScopeDefinition:
        return cls(
            name=str(item["name"]),
            description=str(item.get("description", "")),
            description_key=str(item.get("description_key", "")),
            consent=bool(item.get("consent", True)),
            audience=str(item["audience"]) if item.get("audience") else None,
            created_at=int(item.get("created_at", 0)),
        )


def _builtin(name: str, description: str, *, consent: bool = True) -> ScopeDefinition:
    key = "scope." + re.sub(r"[^a-z0-9]+", "_", name.lower())
    return ScopeDefinition(name, description, key, consent=consent, builtin=True)


# OpenID Connect's scopes, and the sample API's two (the resource function checks them).
BUILTIN_SCOPES: tuple[ScopeDefinition, ...] = (
    _builtin(constants.SCOPE_OPENID, "Confirm who you are"),
    _builtin("profile", "See your name and profile"),
    _builtin("email", "See your email address"),
    _builtin("phone", "See your phone number"),
    # Said on the consent page in a sentence of its own (SECURITY D10), not as a list item.
    _builtin(constants.SCOPE_OFFLINE_ACCESS, "Keep access while you are away"),
    _builtin(constants.SCOPE_READ, "Read your data"),
    _builtin(constants.SCOPE_WRITE, "Change your data"),
)
BUILTIN_NAMES = frozenset(scope.name for scope in BUILTIN_SCOPES)


@dataclass(frozen=True)
class ScopeCatalog:
    """Every known scope at one moment: the built-in ones and the registered ones."""

    by_name: Mapping[str, ScopeDefinition]

    @classmethod
    def of(cls, registered: Iterable[ScopeDefinition] = ()) -> ScopeCatalog:
        scopes = {scope.name: scope for scope in registered}
        scopes.update({scope.name: scope for scope in BUILTIN_SCOPES})  # never overridden
        return cls(scopes)

    def names(self) -> list[str]:
        return sorted(self.by_name)

    def unknown(self, names: Iterable[str]) -> list[str]:
        return sorted(name for name in names if name not in self.by_name)

    def asked(self, names: Iterable[str]) -> frozenset[str]:
        """The scopes among `names` that a user is asked for (unknown ones are asked too)."""
        return frozenset(
            name for name in names if (found := self.by_name.get(name)) is None or found.consent
        )

    def description(self, name: str) -> str:
        found = self.by_name.get(name)
        return found.description if found and found.description else name


BUILTIN_CATALOG = ScopeCatalog.of()
