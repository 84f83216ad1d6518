"""Token revocation (RFC 7009).

A client may revoke only its own tokens; any other token, unknown or not, gets the same 200 so
that the endpoint tells nothing. Revoking a refresh token revokes its whole grant; revoking an
access token puts its `jti` on the deny list that introspection consults (resource servers that
verify JWTs locally see it expire instead; access tokens are short-lived for that reason).
"""

from __future__ import annotations

from oauth_core import audit
from oauth_core.clock import Clock
from oauth_core.config import Settings
from oauth_core.constants import MAX_TOKEN_LENGTH
from oauth_core.endpoints.token_operations import read_token_operation
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse, json_response
from oauth_core.observability import count
from oauth_core.ports import GrantStore, KeyStore, RateLimiter
from oauth_core.rate_limit import Limit
from oauth_core.rules.client_auth import ThrottledAuthenticator
from oauth_core.rules.hashing import token_hash
from oauth_core.tokens import access_token


class RevocationEndpoint:
    def __init__(
        self,
        client_auth: ThrottledAuthenticator,
        grants: GrantStore,
        published_keys: KeyStore,
        settings: Settings,
        limiter: RateLimiter | None = None,
        clock: Clock | None = None,
    ):
        self._client_auth = client_auth
        self._grants = grants
        self._published_keys = published_keys
        self._settings = settings
        self._limiter = limiter
        self._clock = clock

    def handle(self, request: HttpRequest) -> HttpResponse:
        client, token = read_token_operation(self._client_auth, request)
        if len(token) <= MAX_TOKEN_LENGTH:
            # The hint is only a hint (RFC 7009 2.1): the token's shape decides.
            if token.count(".") == 2:
                self._revoke_access_token(request, token, client.client_id)
            else:
                self._revoke_refresh_token(token, client.client_id)
        return json_response(200, {})

    def _publishable(self, client_id: str) -> bool:
        """Each access token a client revokes is published to every API (SECURITY F7) until it
        expires: a client's revocations are published up to so many an hour, so no one can fill
        the list. Beyond that the token is still revoked here (introspection answers it
        inactive), never refused: a busy client's logouts must not fail."""
        if self._limiter is None or self._clock is None:
            return True
        limit = Limit(self._settings.revocations_per_client, 3600)
        taken, _ = self._limiter.take(f"revoke#{client_id}", self._clock.now_ms(), limit)
        if not taken:
            count("RevocationNotPublished")
        return taken

    def _revoke_refresh_token(self, token: str, client_id: str) -> None:
        record = self._grants.get_refresh(token_hash(token))
        if record is not None and record.client_id == client_id:
            self._grants.revoke_family(record.family_id)
            count("TokenRevoked", token_type="refresh_token")
            audit.emit(
                audit.TOKEN_REVOKED,
                client_id=client_id,
                sub=record.sub,
                token_type="refresh_token",
                grant_id=record.family_id,
            )

    def _revoke_access_token(self, request: HttpRequest, token: str, client_id: str) -> None:
        issuer = self._settings.issuer_for(request.domain_name)
        claims = access_token.verify_own(token, self._published_keys.load(), issuer)
        if claims is not None and claims["client_id"] == client_id:
            publish = self._publishable(client_id)
            self._grants.revoke_access_token(
                str(claims["jti"]), int(claims["exp"]), publish=publish
            )
            count("TokenRevoked", token_type="access_token")
            audit.emit(
                audit.TOKEN_REVOKED,
                client_id=client_id,
                sub=str(claims["sub"]) if claims.get("sub") else None,
                token_type="access_token",
                grant_id=str(claims["grant_id"]) if claims.get("grant_id") else None,
            )
