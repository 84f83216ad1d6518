"""OpenID Connect Core 5.4: which profile claims each scope releases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

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
# Every OpenID Connect Core 5.1 claim a user record may carry: those some scope releases.
PROFILE_CLAIM_NAMES = tuple(claim for claims in SCOPE_CLAIMS.values() for claim in claims)
CLAIMS_SUPPORTED = (
    *("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp"),
    *PROFILE_CLAIM_NAMES,
)


def claims_for_scopes(claims: Mapping[str, Any], scopes: Iterable[str]) -> dict[str, Any]:
    released: dict[str, Any] = {}
    for scope in scopes:
        for name in SCOPE_CLAIMS.get(scope, ()):
            if name in claims:
                released[name] = claims[name]
    return released
