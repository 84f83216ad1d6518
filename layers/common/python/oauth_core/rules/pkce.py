"""Proof Key for Code Exchange (RFC 7636), S256 only (RFC 9700 2.1.1)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from oauth_core.errors import InvalidGrant, InvalidRequest

METHOD_S256 = "S256"
SUPPORTED_METHODS = (METHOD_S256,)
# A S256 challenge is the base64url (no padding) SHA-256 of the verifier: always 43 characters.
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}\Z")
# code-verifier = 43*128unreserved (RFC 7636 4.1)
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}\Z")


def validate_challenge(challenge: str | None, method: str | None) -> str:
    """Check an authorization request's challenge (B1-B3); returns the challenge."""
    if not challenge:
        raise InvalidRequest("code_challenge is required (PKCE)")
    if method != METHOD_S256:
        raise InvalidRequest("code_challenge_method must be S256")
    if not _CHALLENGE.match(challenge):
        raise InvalidRequest("code_challenge must be 43 characters of base64url")
    return challenge


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def is_valid_verifier(verifier: str) -> bool:
    return bool(_VERIFIER.match(verifier))


def verify(verifier: str | None, challenge: str | None) -> None:
    """Check the token request's verifier against the stored challenge (B4-B6)."""
    if challenge is None:
        # A code issued without a challenge must not be redeemed with a verifier (downgrade),
        # and this server issues none without one.
        raise InvalidGrant("the authorization code was not issued with PKCE")
    if not verifier:
        raise InvalidGrant("code_verifier is required")
    if not is_valid_verifier(verifier):
        raise InvalidRequest("code_verifier must be 43-128 characters of [A-Za-z0-9-._~]")
    if not hmac.compare_digest(challenge_of(verifier), challenge):
        raise InvalidGrant("code_verifier does not match the code_challenge")


def verifier_matches(verifier: str | None, challenge: str | None) -> bool:
    try:
        verify(verifier, challenge)
    except (InvalidGrant, InvalidRequest):
        return False
    return True
