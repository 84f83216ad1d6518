"""What an upstream provider's ID token may say about a user here (docs/federation.md): the
profile claims copied into an account made just in time (by the provider's mapping), whether its
e-mail address is verified and in an allowed domain, and the usernames such an account may get.

Nothing here links an account: linking is by the provider's `iss` and `sub` only (SECURITY U4).
An e-mail address counts as verified only when the provider says `email_verified` is the JSON
value true; a string "true" or anything else is not verified.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from oauth_core.catalog import ProviderDefinition
from oauth_core.models import USERNAME_PATTERN
from oauth_core.rules.claims import PROFILE_CLAIM_NAMES

# The claims that say another one was verified: never mapped, only ever set to true when the
# provider says so of the very claim copied (below).
VERIFIED_FLAGS = {"email_verified": "email", "phone_number_verified": "phone_number"}
# Copied by name when a provider declares no mapping (updated_at is the provider's, not ours).
DEFAULT_MAPPING: dict[str, str] = {
    name: name
    for name in PROFILE_CLAIM_NAMES
    if name not in VERIFIED_FLAGS and name != "updated_at"
}
# What a mapping may set: the profile claims, but the flags above and updated_at.
MAPPABLE_CLAIMS = frozenset(DEFAULT_MAPPING)
MAX_CLAIM_LENGTH = 512
# A username base taken from the provider (its preferred_username or the e-mail's local part).
_BASE_CHARACTERS = re.compile(r"[^a-z0-9._@+-]+")
MAX_BASE_LENGTH = 48
USERNAME_ATTEMPTS = 5


def mapped_claims(provider: ProviderDefinition, upstream: Mapping[str, Any]) -> dict[str, Any]:
    """Our profile claims from the provider's: each mapped one that is a non-empty string of at
    most 512 characters; `email_verified` (`phone_number_verified`) true only if the provider
    says so of the `email` (`phone_number`) it sent, and that is what was copied."""
    mapping = dict(provider.claim_mapping) or DEFAULT_MAPPING
    claims: dict[str, Any] = {}
    for ours, theirs in mapping.items():
        value = upstream.get(theirs)
        if isinstance(value, str) and 0 < len(value) <= MAX_CLAIM_LENGTH and value.isprintable():
            claims[ours] = value
    for flag, claim in VERIFIED_FLAGS.items():
        if claim in claims and mapping.get(claim) == claim and upstream.get(flag) is True:
            claims[flag] = True
    return claims


def verified_email(upstream: Mapping[str, Any]) -> str | None:
    """The provider's e-mail address of the user, if it says it verified it (JSON true)."""
    email = upstream.get("email")
    if not isinstance(email, str) or "@" not in email or upstream.get("email_verified") is not True:
        return None
    return email.strip().lower()


def email_domain_allowed(provider: ProviderDefinition, upstream: Mapping[str, Any]) -> bool:
    """Whether the provider's user may sign in here by the provider's domain rule: always when
    it names no domains; else only with a verified e-mail address in one of them, exactly (a
    subdomain is another domain)."""
    if not provider.allowed_email_domains:
        return True
    email = verified_email(upstream)
    if email is None:
        return False
    return email.rsplit("@", 1)[1] in provider.allowed_email_domains


def username_candidates(
    provider: ProviderDefinition, issuer: str, subject: str, upstream: Mapping[str, Any]
) -> list[str]:
    """Usernames an account made just in time may take, first free one wins: the provider's
    name, a dot and the user's preferred_username (or the verified e-mail's local part),
    reduced to the characters usernames allow; then with -2, -3...; last, one from a hash of
    the identity, which no other identity has."""
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:16]
    fallback = f"{provider.name}.{digest}"
    preferred = upstream.get("preferred_username")
    email = verified_email(upstream)
    source = preferred if isinstance(preferred, str) and preferred else None
    if source is None and email is not None:
        source = email.split("@", 1)[0]
    base = _BASE_CHARACTERS.sub("-", (source or "").lower()).strip("-.")[:MAX_BASE_LENGTH]
    if not base:
        return [fallback]
    first = f"{provider.name}.{base}"
    candidates = [first, *(f"{first}-{n}" for n in range(2, USERNAME_ATTEMPTS + 1)), fallback]
    return [name for name in candidates if USERNAME_PATTERN.match(name)]
