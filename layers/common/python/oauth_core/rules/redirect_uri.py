"""Redirect URIs: what may be registered (SECURITY A10) and what matches at /authorize (A2).

Matching is exact string comparison (RFC 9700 4.1.3). The single exception is RFC 8252 7.3:
for a client registered as a native app (`application_type: native`), a loopback redirect URI
(an IP literal over plain http) matches on any port. A port is 1-65535 without leading zeros,
for everyone.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "[::1]", "localhost"})
_LOOPBACK_LITERAL = re.compile(r"^http://(127\.0\.0\.1|\[::1\])(?::([0-9]*))?(/[^#]*)?\Z")
_PORT = re.compile(r"^[1-9][0-9]{0,4}\Z")
_FORBIDDEN_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob", "about"})
_PRIVATE_SCHEME = re.compile(r"^[a-z][a-z0-9+\-]*(\.[a-z0-9+\-]+)+\Z")
MAX_REDIRECT_URI_LENGTH = 2000


class UnsafeRedirectUri(ValueError):
    """A redirect URI that must not be registered; the message says why."""


def _valid_port(port: str) -> bool:
    return bool(_PORT.match(port)) and int(port) <= 65535


def _port_text(netloc: str) -> str | None:
    """The port exactly as written (None: no port), for the checks int() would blur."""
    host_end = netloc.rfind("]") + 1 if netloc.startswith("[") else 0
    _, sep, port = netloc[host_end:].rpartition(":")
    return port if sep else None


def validate_registration(uri: str) -> str:
    """Return `uri` if it is safe to register, else raise UnsafeRedirectUri naming the fault."""
    if not isinstance(uri, str) or not uri:
        raise UnsafeRedirectUri("redirect URI must be a non-empty string")
    if len(uri) > MAX_REDIRECT_URI_LENGTH:
        raise UnsafeRedirectUri("redirect URI is too long")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in uri):
        raise UnsafeRedirectUri("redirect URI contains white space or control characters")
    if "*" in uri:
        raise UnsafeRedirectUri("redirect URI must not contain wildcards")
    if "#" in uri:
        raise UnsafeRedirectUri("redirect URI must not contain a fragment")
    if "\\" in uri:
        raise UnsafeRedirectUri("redirect URI must not contain backslashes")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise UnsafeRedirectUri(f"redirect URI is malformed: {exc}") from exc
    scheme = parts.scheme.lower()
    if not scheme:
        raise UnsafeRedirectUri("redirect URI must be absolute")
    if scheme in _FORBIDDEN_SCHEMES:
        raise UnsafeRedirectUri(f"redirect URI scheme {scheme!r} is not allowed")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeRedirectUri("redirect URI must not contain user information")
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise UnsafeRedirectUri("redirect URI must name a host")
        port = _port_text(parts.netloc)
        if port is not None and not _valid_port(port):
            raise UnsafeRedirectUri("redirect URI port must be 1-65535, without leading zeros")
        if not uri.startswith(f"{scheme}:"):
            raise UnsafeRedirectUri("redirect URI scheme must be lower case")
        if (
            scheme == "http"
            and parts.netloc.split(":")[0].lower() not in _LOOPBACK_HOSTS
            and not (parts.netloc.startswith("[::1]"))
        ):
            raise UnsafeRedirectUri("plain http is allowed only for loopback redirect URIs")
        return uri
    # A native app's private-use scheme must be a reverse domain name (RFC 8252 7.1).
    if not _PRIVATE_SCHEME.match(scheme):
        raise UnsafeRedirectUri(
            "redirect URI must use https, http on loopback, or a reverse-domain private scheme"
        )
    return uri


def _without_loopback_port(uri: str) -> str | None:
    """A loopback IP-literal URI with its port left out, if its port (if any) is valid."""
    match = _LOOPBACK_LITERAL.match(uri)
    if not match or (match.group(2) is not None and not _valid_port(match.group(2))):
        return None
    return f"http://{match.group(1)}{match.group(3) or ''}"


def is_loopback_http(uri: str) -> bool:
    """An `http` URI on a loopback IP literal (RFC 8252 7.3), a native app's."""
    return _LOOPBACK_LITERAL.match(uri) is not None


def matches(requested: str, registered: str, *, native: bool = False) -> bool:
    """True iff `requested` is exactly `registered`, or, for a native app, differs only by a
    loopback port."""
    if requested == registered:
        return True
    if not native:
        return False
    registered_base = _without_loopback_port(registered)
    return registered_base is not None and _without_loopback_port(requested) == registered_base


def find_registered(
    requested: str, registered: tuple[str, ...], *, native: bool = False
) -> str | None:
    """The registered URI that `requested` matches, if any."""
    for candidate in registered:
        if matches(requested, candidate, native=native):
            return candidate
    return None
