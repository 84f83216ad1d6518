"""OpenID Connect Core ID tokens (3.1.3.6): signed claims about the sign-in, with `at_hash`."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

from oauth_core.keys import SigningKey
from oauth_core.tokens import access_token


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
    sid: str | None = None,
    amr: tuple[str, ...] = (),
    acr: str = "",
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
    if sid:  # the sign-in session (OIDC Back-Channel Logout 2.1), named in its logout tokens
        payload["sid"] = sid
    if amr:  # how the user signed in (OIDC Core 2, RFC 8176), and what assurance that gives
        payload["amr"] = list(amr)
    if acr:
        payload["acr"] = acr
    return access_token.sign(payload, key, "JWT")
