"""What operators declare, beside clients and users: scopes, the APIs scopes belong to, and
custom user attributes. One small catalog, read whole (one Query) and cached per container.

- A **scope** says what it means to a user (a description, and a key to translate it), whether
  it is asked for on the consent page, and which API it belongs to. A client may be given only
  known scopes; discovery advertises exactly these.
- An **API** (a resource server, named by its identifier, the `aud` of its tokens) says which
  claim carries a user's groups in its access tokens, and which clients may introspect its
  tokens (SECURITY H5). The built-in API is `default`.
- A **user attribute** is typed (string, number or boolean) and may be mapped to a claim that
  tokens then carry.
- A **provider** is another OpenID Connect provider users may sign in with (federation): the
  sign-in page shows a button for each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from oauth_core import constants

# RFC 6749 3.3 scope-token, and short enough to show on a page.
SCOPE_NAME_PATTERN = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]{1,128}\Z")
DESCRIPTION_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,127}\Z")
CLAIM_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_:.-]{0,63}\Z")
ATTRIBUTE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")
MAX_DESCRIPTION_LENGTH = 200
DEFAULT_API = "default"  # the built-in API: `<issuer>/resource` (or OAUTH_AUDIENCE)
ATTRIBUTE_TYPES = ("string", "number", "boolean")


@dataclass(frozen=True)
class ScopeDefinition:
    """One scope: what it means to a user, in words and as a translation key."""

    KIND: ClassVar[str] = "scope"

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


@dataclass(frozen=True)
class ApiDefinition:
    """A protected API (resource server), by its identifier."""

    KIND: ClassVar[str] = "api"

    name: str  # the identifier: an https URL, or `default` for the built-in API
    groups_claim: str = constants.GROUPS_CLAIM  # carries a user's groups in its tokens
    description: str = ""
    created_at: int = 0
    # Its tokens' lifetime and signing algorithm; None: the client's or the stack's.
    access_token_ttl: int | None = None
    signing_alg: str | None = None
    # The clients (ids) that may introspect tokens whose `aud` includes this API (H5).
    introspecting_clients: tuple[str, ...] = ()

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "name": self.name,
            "groups_claim": self.groups_claim,
            "description": self.description,
            "created_at": self.created_at,
        }
        if self.access_token_ttl is not None:
            item["access_token_ttl"] = self.access_token_ttl
        if self.signing_alg is not None:
            item["signing_alg"] = self.signing_alg
        if self.introspecting_clients:
            item["introspecting_clients"] = list(self.introspecting_clients)
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> ApiDefinition:
        ttl = item.get("access_token_ttl")
        return cls(
            name=str(item["name"]),
            groups_claim=str(item.get("groups_claim") or constants.GROUPS_CLAIM),
            description=str(item.get("description", "")),
            created_at=int(item.get("created_at", 0)),
            access_token_ttl=int(ttl) if ttl is not None else None,
            signing_alg=str(item["signing_alg"]) if item.get("signing_alg") else None,
            introspecting_clients=tuple(str(c) for c in item.get("introspecting_clients") or ()),
        )


@dataclass(frozen=True)
class AttributeDefinition:
    """A custom user attribute: its type, and the claim (if any) tokens carry it in."""

    KIND: ClassVar[str] = "attribute"

    name: str
    type: str  # one of ATTRIBUTE_TYPES
    claim: str | None = None
    description: str = ""
    created_at: int = 0

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "created_at": self.created_at,
        }
        if self.claim:
            item["claim"] = self.claim
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> AttributeDefinition:
        return cls(
            name=str(item["name"]),
            type=str(item.get("type", "string")),
            claim=str(item["claim"]) if item.get("claim") else None,
            description=str(item.get("description", "")),
            created_at=int(item.get("created_at", 0)),
        )

    def accepts(self, value: Any) -> bool:
        if self.type == "boolean":
            return isinstance(value, bool)
        if self.type == "number":
            return isinstance(value, int | float) and not isinstance(value, bool)
        return isinstance(value, str) and len(value) <= 512


# OpenID Connect Discovery 4: a provider's document is at its issuer with this appended.
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class ProviderDefinition:
    """An upstream OpenID Connect provider users may sign in with (docs/federation.md). Its
    client secret is not here: it is a secret of its own in Secrets Manager."""

    KIND: ClassVar[str] = "provider"

    name: str  # lower-case letters, digits and '-': in URLs, forms and the secret's name
    display_name: str  # on the button: "Sign in with <display_name>"
    discovery_url: str  # <issuer>/.well-known/openid-configuration
    client_id: str  # ours, registered at the provider
    scope: str = "openid email profile"
    # Our profile claim <- the provider's claim, as pairs; empty: the standard claims by name.
    claim_mapping: tuple[tuple[str, str], ...] = ()
    # When set, only users whose verified e-mail address is in one of these domains.
    allowed_email_domains: tuple[str, ...] = ()
    # An identity no account is linked to gets a new account (just in time), or is refused.
    jit_create: bool = False
    created_at: int = 0

    @property
    def issuer(self) -> str:
        """The issuer the provider must name, exactly (its discovery URL without the suffix)."""
        return self.discovery_url.removesuffix(DISCOVERY_SUFFIX)

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "name": self.name,
            "display_name": self.display_name,
            "discovery_url": self.discovery_url,
            "client_id": self.client_id,
            "scope": self.scope,
            "jit_create": self.jit_create,
            "created_at": self.created_at,
        }
        if self.claim_mapping:
            item["claim_mapping"] = dict(self.claim_mapping)
        if self.allowed_email_domains:
            item["allowed_email_domains"] = list(self.allowed_email_domains)
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> ProviderDefinition:
        mapping = item.get("claim_mapping") or {}
        return cls(
            name=str(item["name"]),
            display_name=str(item.get("display_name") or item["name"]),
            discovery_url=str(item.get("discovery_url", "")),
            client_id=str(item.get("client_id", "")),
            scope=str(item.get("scope") or "openid"),
            claim_mapping=tuple(sorted((str(k), str(v)) for k, v in mapping.items())),
            allowed_email_domains=tuple(str(d) for d in item.get("allowed_email_domains") or ()),
            jit_create=bool(item.get("jit_create", False)),
            created_at=int(item.get("created_at", 0)),
        )


Definition = ScopeDefinition | ApiDefinition | AttributeDefinition | ProviderDefinition
KINDS: dict[
    str,
    type[ScopeDefinition]
    | type[ApiDefinition]
    | type[AttributeDefinition]
    | type[ProviderDefinition],
] = {
    ScopeDefinition.KIND: ScopeDefinition,
    ApiDefinition.KIND: ApiDefinition,
    AttributeDefinition.KIND: AttributeDefinition,
    ProviderDefinition.KIND: ProviderDefinition,
}


def _builtin(name: str, description: str) -> ScopeDefinition:
    key = "scope." + re.sub(r"[^a-z0-9]+", "_", name.lower())
    return ScopeDefinition(name, description, key, builtin=True)


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
BUILTIN_API = ApiDefinition(DEFAULT_API, description="The built-in API (/resource, /userinfo)")


@dataclass(frozen=True)
class Catalog:
    """Everything declared, at one moment: built-in and registered."""

    scopes: Mapping[str, ScopeDefinition]
    apis: Mapping[str, ApiDefinition] = field(default_factory=dict)
    attributes: Mapping[str, AttributeDefinition] = field(default_factory=dict)
    providers: Mapping[str, ProviderDefinition] = field(default_factory=dict)

    @classmethod
    def of(cls, registered: Iterable[Definition] = ()) -> Catalog:
        scopes: dict[str, ScopeDefinition] = {}
        apis: dict[str, ApiDefinition] = {BUILTIN_API.name: BUILTIN_API}
        attributes: dict[str, AttributeDefinition] = {}
        providers: dict[str, ProviderDefinition] = {}
        for definition in registered:
            if isinstance(definition, ScopeDefinition):
                scopes[definition.name] = definition
            elif isinstance(definition, ApiDefinition):
                apis[definition.name] = definition
            elif isinstance(definition, ProviderDefinition):
                providers[definition.name] = definition
            else:
                attributes[definition.name] = definition
        scopes.update({scope.name: scope for scope in BUILTIN_SCOPES})  # never overridden
        return cls(scopes, apis, attributes, providers)

    # --- scopes ---

    def scope_names(self) -> list[str]:
        return sorted(self.scopes)

    def unknown_scopes(self, names: Iterable[str]) -> list[str]:
        return sorted(name for name in names if name not in self.scopes)

    def asked(self, names: Iterable[str]) -> frozenset[str]:
        """The scopes among `names` that a user is asked for (unknown ones are asked too)."""
        return frozenset(
            name for name in names if (found := self.scopes.get(name)) is None or found.consent
        )

    def description(self, name: str) -> str:
        found = self.scopes.get(name)
        return found.description if found and found.description else name

    # --- APIs and attributes ---

    def groups_claim(self, api: str = DEFAULT_API) -> str:
        found = self.apis.get(api) or self.apis.get(DEFAULT_API, BUILTIN_API)
        return found.groups_claim

    def attribute_claims(self) -> dict[str, str]:
        """attribute -> the claim tokens carry it in, for the mapped ones."""
        return {a.name: a.claim for a in self.attributes.values() if a.claim}


BUILTIN_CATALOG = Catalog.of()
