"""Issuing tokens: the access token (RFC 9068 JWT) and the RFC 6749 5.1 response body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oauth_core import access_token
from oauth_core.clock import Clock, Random
from oauth_core.config import Settings
from oauth_core.models import Client
from oauth_core.ports import KeyStore


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    expires_in: int
    jwt_id: str


class TokenIssuer:
    def __init__(self, settings: Settings, keys: KeyStore, clock: Clock, random: Random):
        self._settings = settings
        self._keys = keys
        self._clock = clock
        self._random = random

    def access_token(
        self,
        *,
        issuer: str,
        client: Client,
        subject: str,
        scope: str,
        auth_time: int | None = None,
    ) -> IssuedAccessToken:
        expires_in = client.access_token_ttl or self._settings.access_token_ttl
        jwt_id = self._random.token(16)
        claims = access_token.AccessTokenClaims(
            issuer=issuer,
            audience=self._settings.audience_for(issuer),
            subject=subject,
            client_id=client.client_id,
            scope=scope,
            issued_at=self._clock.now(),
            expires_in=expires_in,
            jwt_id=jwt_id,
            auth_time=auth_time,
        )
        key = self._keys.load().current(self._settings.access_token_alg)
        return IssuedAccessToken(access_token.issue(claims, key), expires_in, jwt_id)


def token_response(issued: IssuedAccessToken, scope: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": scope,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body
