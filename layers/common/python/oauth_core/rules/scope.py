"""Scope strings (RFC 6749 3.3): parsing and the subset rules."""

from __future__ import annotations

import re

from oauth_core.errors import InvalidScope

# scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+\Z")
MAX_SCOPE_LENGTH = 1000


def parse(scope: str | None) -> frozenset[str]:
    """Parse a space-delimited scope string; order and repeats do not matter."""
    if not scope:
        return frozenset()
    if len(scope) > MAX_SCOPE_LENGTH:
        raise InvalidScope("scope is too long")
    tokens = scope.split(" ")
    if any(not _SCOPE_TOKEN.match(token) for token in tokens):
        raise InvalidScope("scope is malformed")
    return frozenset(tokens)


def is_valid_scope_string(scope: str) -> bool:
    try:
        parse(scope)
    except InvalidScope:
        return False
    return True


def render(scopes: frozenset[str] | set[str]) -> str:
    """A canonical scope string: sorted, so equal sets render equally."""
    return " ".join(sorted(scopes))


def narrow(requested: str | None, allowed: frozenset[str]) -> frozenset[str]:
    """The scopes to grant: the request (default: all allowed), which must lie within `allowed`."""
    wanted = parse(requested)
    if not wanted:
        return allowed
    if not wanted <= allowed:
        raise InvalidScope("requested scope exceeds what is allowed")
    return wanted
