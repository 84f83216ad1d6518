"""Domain records: clients in RFC 7591 client-metadata terms, and users."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from oauth_core import constants, scope


@dataclass(frozen=True)
class Client:
    """A registered client (RFC 7591 names) plus this server's documented extensions."""

    client_id: str
    client_name: str = ""
    redirect_uris: tuple[str, ...] = ()
    grant_types: tuple[str, ...] = (constants.GRANT_AUTHORIZATION_CODE,)
    response_types: tuple[str, ...] = ("code",)
    token_endpoint_auth_method: str = constants.AUTH_METHOD_BASIC
    scope: str = ""
    # Extensions: a first-party client skips the consent screen.
    first_party: bool = False
    access_token_ttl: int | None = None
    id_token_signed_response_alg: str = "RS256"
    disabled: bool = False
    created_at: int = 0

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == constants.AUTH_METHOD_NONE

    @property
    def allowed_scopes(self) -> frozenset[str]:
        return scope.parse(self.scope)

    def allows_grant(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    def to_item(self) -> dict[str, Any]:
        item = asdict(self)
        item["redirect_uris"] = list(self.redirect_uris)
        item["grant_types"] = list(self.grant_types)
        item["response_types"] = list(self.response_types)
        if item["access_token_ttl"] is None:
            del item["access_token_ttl"]
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Client:
        ttl = item.get("access_token_ttl")
        return cls(
            client_id=str(item["client_id"]),
            client_name=str(item.get("client_name", "")),
            redirect_uris=tuple(item.get("redirect_uris") or ()),
            grant_types=tuple(item.get("grant_types") or ()),
            response_types=tuple(item.get("response_types") or ()),
            token_endpoint_auth_method=str(
                item.get("token_endpoint_auth_method", constants.AUTH_METHOD_BASIC)
            ),
            scope=str(item.get("scope", "")),
            first_party=bool(item.get("first_party", False)),
            access_token_ttl=int(ttl) if ttl is not None else None,
            id_token_signed_response_alg=str(item.get("id_token_signed_response_alg", "RS256")),
            disabled=bool(item.get("disabled", False)),
            created_at=int(item.get("created_at", 0)),
        )

    def with_changes(self, **changes: Any) -> Client:
        return replace(self, **changes)


@dataclass(frozen=True)
class User:
    username: str
    sub: str
    password_hash: str
    claims: dict[str, Any] = field(default_factory=dict)
    disabled: bool = False
    created_at: int = 0

    def to_item(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> User:
        return cls(
            username=str(item["username"]),
            sub=str(item["sub"]),
            password_hash=str(item["password_hash"]),
            claims=dict(item.get("claims") or {}),
            disabled=bool(item.get("disabled", False)),
            created_at=int(item.get("created_at", 0)),
        )
