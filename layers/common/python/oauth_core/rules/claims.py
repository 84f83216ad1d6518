"""OpenID Connect Core 5.4: which profile claims each scope releases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from oauth_core import constants

if TYPE_CHECKING:
    from oauth_core.catalog import Catalog
    from oauth_core.models import User

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
# The user's groups, in every token of theirs (an API may name the claim otherwise).
GROUPS_CLAIM = constants.GROUPS_CLAIM
CLAIMS_SUPPORTED = (
    *("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp"),
    *("amr", "sid"),  # how the user signed in (RFC 8176); the session (back-channel logout)
    *PROFILE_CLAIM_NAMES,
    GROUPS_CLAIM,
)
# Claims the server itself sets in access and ID tokens: no attribute may be mapped onto them.
RESERVED_CLAIMS = frozenset(
    {
        *("iss", "sub", "aud", "exp", "iat", "nbf", "jti", "auth_time", "nonce", "azp"),
        *("at_hash", "c_hash", "acr", "amr", "sid", "scope", "client_id", "grant_id", "cnf"),
        *("typ", "act", "may_act", "roles", "entitlements", "email_verified"),
        *PROFILE_CLAIM_NAMES,
        GROUPS_CLAIM,
    }
)
_PROFILE = frozenset(PROFILE_CLAIM_NAMES)


def claims_for_scopes(claims: Mapping[str, Any], scopes: Iterable[str]) -> dict[str, Any]:
    released: dict[str, Any] = {}
    for scope in scopes:
        for name in SCOPE_CLAIMS.get(scope, ()):
            if name in claims:
                released[name] = claims[name]
    return released


def token_claims(snapshot: Mapping[str, Any], scopes: Iterable[str]) -> dict[str, Any]:
    """What a user's token says of them: the profile claims the scopes release (OIDC Core 5.4,
    only with `openid`), and the claims that are the user's own whatever the scope: their
    groups and their mapped attributes."""
    wanted = list(scopes)
    released = claims_for_scopes(snapshot, wanted) if "openid" in wanted else {}
    released.update({k: v for k, v in snapshot.items() if k not in _PROFILE})
    return released


def user_profile(
    claims: Mapping[str, Any],
    groups: Iterable[str] = (),
    attributes: Mapping[str, Any] | None = None,
    attribute_claims: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Everything tokens may say of a user: their standard claims, their groups, and those
    attributes the registry maps to a claim (`attribute_claims`: attribute -> claim name)."""
    profile = {name: value for name, value in claims.items() if name in _PROFILE}
    if groups:
        profile[GROUPS_CLAIM] = sorted(groups)
    for attribute, claim in (attribute_claims or {}).items():
        if attributes and attribute in attributes:
            profile[claim] = attributes[attribute]
    return profile


def profile_of(user: User, catalog: Catalog) -> dict[str, Any]:
    """A user's profile as tokens carry it, with the attributes the catalog maps to claims."""
    return user_profile(user.claims, user.groups, user.attributes, catalog.attribute_claims())
