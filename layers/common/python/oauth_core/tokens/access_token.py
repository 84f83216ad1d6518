"""JWT access tokens in the RFC 9068 profile: issuing (token function) only.

Verification lives in oauth_core.tokens.bearer so the resource function loads no signing keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oauth_core.constants import ACCESS_TOKEN_TYPE
from oauth_core.keys import KeySet, SigningKey
from oauth_core.tokens.compact import unverified_header
from oauth_core.tokens.jws import Signers


@dataclass(frozen=True)
class AccessTokenClaims:
    issuer: str
    audience: str | list[str]  # one API, or several (RFC 8707)
    subject: str
    client_id: str
    scope: str
    issued_at: int
    expires_in: int
    jwt_id: str
    auth_time: int | None = None
    # Extensions: the grant (token family) it came from, and the user's released profile claims
    # (RFC 9068 2.2.2), which is what /userinfo answers from without a database.
    grant_id: str | None = None
    profile: dict[str, Any] | None = None
    # RFC 9449 6.1: the thumbprint of the DPoP key the token is bound to.
    dpop_jkt: str | None = None

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
        if self.grant_id is not None:
            claims["grant_id"] = self.grant_id
        if self.dpop_jkt is not None:
            claims["cnf"] = {"jkt": self.dpop_jkt}
        if self.profile:
            claims.update({k: v for k, v in self.profile.items() if k not in claims})
        return claims


# Signers per key and type, for the container's life (oauth_core.tokens.jws).
SIGNERS = Signers()


def sign(claims: dict[str, Any], key: SigningKey, token_type: str) -> str:
    return SIGNERS.sign(claims, key, token_type)


def issue(claims: AccessTokenClaims, key: SigningKey) -> str:
    return sign(claims.as_dict(), key, ACCESS_TOKEN_TYPE)


def verify_own(token: str, keys: KeySet, issuer: str) -> dict[str, Any] | None:
    """Claims of an access token this server issued and that is unexpired, else None.

    For introspection and revocation, which hold the key set already: no JWKS fetch.
    """
    # PyJWT takes tens of milliseconds to import, which the token endpoint's cold start (it
    # never verifies) should not pay: only revocation and introspection load it.
    import jwt

    header = unverified_header(token)
    if header is None:
        return None
    if str(header.get("typ", "")).lower() != ACCESS_TOKEN_TYPE:
        return None
    key = next((k for k in keys.keys if k.kid == header.get("kid")), None)
    if key is None or header.get("alg") != key.alg:
        return None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.private_key.public_key(),
            algorithms=[key.alg],
            issuer=issuer,
            options={"verify_aud": False, "require": ["exp", "iat", "jti", "client_id"]},
        )
    except jwt.PyJWTError:
        return None
    return claims
