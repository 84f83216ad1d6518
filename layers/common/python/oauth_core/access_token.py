"""JWT access tokens in the RFC 9068 profile: issuing (token function) only.

Verification lives in oauth_core.bearer so the resource function loads no signing keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from oauth_core.constants import ACCESS_TOKEN_TYPE
from oauth_core.keys import SigningKey


@dataclass(frozen=True)
class AccessTokenClaims:
    issuer: str
    audience: str
    subject: str
    client_id: str
    scope: str
    issued_at: int
    expires_in: int
    jwt_id: str
    auth_time: int | None = None

    def as_dict(self) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": self.subject,
            "aud": self.audience,
            "client_id": self.client_id,
            "scope": self.scope,
            "iat": self.issued_at,
            "exp": self.issued_at + self.expires_in,
            "jti": self.jwt_id,
        }
        if self.auth_time is not None:
            claims["auth_time"] = self.auth_time
        return claims


def sign(claims: dict[str, Any], key: SigningKey, token_type: str | None = None) -> str:
    headers: dict[str, Any] = {"kid": key.kid}
    if token_type:
        headers["typ"] = token_type
    return jwt.encode(claims, key.private_key, algorithm=key.alg, headers=headers)


def issue(claims: AccessTokenClaims, key: SigningKey) -> str:
    return sign(claims.as_dict(), key, ACCESS_TOKEN_TYPE)
