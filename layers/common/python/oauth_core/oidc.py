"""OpenID Connect Core: which profile claims each scope releases (5.4), and the ID token."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from oauth_core import access_token
from oauth_core.keys import SigningKey

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name",
        "family_name",
        "given_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
}
CLAIMS_SUPPORTED = (
    *("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp"),
    *(claim for claims in SCOPE_CLAIMS.values() for claim in claims),
)


def claims_for_scopes(claims: Mapping[str, Any], scopes: Iterable[str]) -> dict[str, Any]:
    released: dict[str, Any] = {}
    for scope in scopes:
        for name in SCOPE_CLAIMS.get(scope, ()):
            if name in claims:
                released[name] = claims[name]
    return released


def at_hash(token: str, alg: str) -> str:
    """Left half of the access token's hash (OIDC Core 3.1.3.6); SHA-256 for RS256 and ES256."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def id_token(
    *,
    issuer: str,
    client_id: str,
    sub: str,
    auth_time: int,
    nonce: str | None,
    access_token_value: str,
    claims: Mapping[str, Any],
    now: int,
    ttl: int,
    key: SigningKey,
) -> str:
    payload: dict[str, Any] = {
        "iss": issuer,
        "sub": sub,
        "aud": client_id,
        "azp": client_id,
        "iat": now,
        "exp": now + ttl,
        "auth_time": auth_time,
        "at_hash": at_hash(access_token_value, key.alg),
        **claims,
    }
    if nonce:
        payload["nonce"] = nonce
    return access_token.sign(payload, key, "JWT")
