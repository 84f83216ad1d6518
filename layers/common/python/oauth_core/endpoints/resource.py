"""The sample protected API (RFC 6750, and RFC 9449 for DPoP-bound tokens): token checks around
two tiny operations, and /userinfo. Imports nothing that signs: it needs only the issuer's public
keys, and talks to AWS only to use up a DPoP proof's `jti` (the store is made on the first
proof). Its refusals are bearer errors, answered by the dispatch path's bearer medium
(`WWW-Authenticate: Bearer`, or `DPoP` for a request that used it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oauth_core.config import Settings
from oauth_core.constants import (
    CLIENT_SIGNING_ALGORITHMS,
    PROTECTED_RESOURCE_METADATA_PATH,
    REVOCATIONS_PATH,
    SCOPE_OPENID,
    SCOPE_READ,
    SCOPE_WRITE,
)
from oauth_core.errors import BearerError, InvalidBearerRequest, InvalidRequest
from oauth_core.http.forms import query_pairs
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse, json_response
from oauth_core.rules.claims import PROFILE_CLAIM_NAMES
from oauth_core.tokens.bearer import (
    DPOP,
    AccessTokenVerifier,
    JwksCache,
    access_token_from,
    fetch_json_over_http,
    require_scope,
)
from oauth_core.tokens.dpop import SenderConstraint, as_dpop
from oauth_core.tokens.revocation_list import RevocationList


class ResourceServer:
    def __init__(
        self, settings: Settings, verifier: AccessTokenVerifier, constraint: SenderConstraint
    ):
        self._settings = settings
        self._verifier = verifier
        self._constraint = constraint

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        constraint: SenderConstraint,
        jwks: JwksCache | None = None,
        revocations: RevocationList | None = None,
    ) -> ResourceServer:
        if revocations is None:
            revocations = RevocationList(fetch_json_over_http, settings.revocation_refresh)
        verifier = AccessTokenVerifier(jwks or JwksCache(), revocations=revocations)
        return cls(settings, verifier, constraint)

    def _authorize(self, request: HttpRequest, needed_scope: str) -> dict[str, Any]:
        try:
            names = {name for name, _ in query_pairs(request.raw_query)}
        except InvalidRequest as exc:
            raise InvalidBearerRequest("the query string is malformed") from exc
        scheme, token = access_token_from(request.header("authorization"), "access_token" in names)
        issuer = self._settings.issuer_for(request.domain_name)
        claims = self._verifier.verify(
            token,
            issuer=issuer,
            audience=self._settings.audience_for(issuer),
            jwks_uri=self._settings.jwks_uri or f"{issuer}/.well-known/jwks.json",
            revocations_uri=self._settings.revocations_uri or f"{issuer}{REVOCATIONS_PATH}",
        )
        self._constraint.check(
            scheme,
            token,
            claims,
            request.header("dpop"),
            method=request.method,
            url=f"{issuer}{request.path}",
        )
        require_scope(claims, needed_scope)
        return claims

    def protected(
        self, request: HttpRequest, needed_scope: str, operation: Callable[[dict[str, Any]], Any]
    ) -> HttpResponse:
        try:
            claims = self._authorize(request, needed_scope)
        except BearerError as refused:
            refused.resource_metadata = self._metadata_url(request)
            scheme = (request.header("authorization") or "").strip().partition(" ")[0]
            if scheme.lower() == DPOP:
                as_dpop(refused)
            raise
        return json_response(200, operation(claims))

    def _metadata_url(self, request: HttpRequest) -> str:
        return self._settings.issuer_for(request.domain_name) + PROTECTED_RESOURCE_METADATA_PATH

    def metadata(self, request: HttpRequest) -> HttpResponse:
        """RFC 9728 protected-resource metadata of the bundled API: what a client (an MCP
        client, say) needs to find its authorization server and the scopes to ask for."""
        issuer = self._settings.issuer_for(request.domain_name)
        document = {
            "resource": self._settings.audience_for(issuer),
            "authorization_servers": [issuer],
            "scopes_supported": [SCOPE_READ, SCOPE_WRITE],
            "bearer_methods_supported": ["header"],
            # RFC 9728 2: DPoP-bound tokens are taken too (and then only with a proof).
            "dpop_signing_alg_values_supported": list(CLIENT_SIGNING_ALGORITHMS),
            "resource_name": "The built-in API (/resource, /userinfo)",
        }
        cached = {"Cache-Control": "public, max-age=3600"}
        return json_response(200, document, cached, no_store=False)

    def read(self, request: HttpRequest) -> HttpResponse:
        return self.protected(request, SCOPE_READ, lambda c: _describe(c, "read"))

    def write(self, request: HttpRequest) -> HttpResponse:
        return self.protected(request, SCOPE_WRITE, lambda c: _describe(c, "write"))

    def userinfo(self, request: HttpRequest) -> HttpResponse:
        """OIDC Core 5.3, answered from the claims the access token carries (no database)."""
        return self.protected(request, SCOPE_OPENID, _userinfo)


def _userinfo(claims: dict[str, Any]) -> dict[str, Any]:
    released = {name: claims[name] for name in PROFILE_CLAIM_NAMES if name in claims}
    return {"sub": claims["sub"], **released}


def _describe(claims: dict[str, Any], action: str) -> dict[str, Any]:
    return {
        "action": action,
        "sub": claims["sub"],
        "client_id": claims["client_id"],
        "scope": claims.get("scope", ""),
    }
