"""SECURITY G9: cookies drop `Secure` only for a plain-http loopback issuer."""

from __future__ import annotations

import pytest

from oauth_core.config import Settings
from oauth_core.http.pages import CookiePolicy


@pytest.mark.parametrize(
    ("issuer", "secure"),
    [
        (None, True),  # deployed without a custom domain: https://<API domain>
        ("https://auth.example.com", True),
        ("http://auth.example.com", True),  # plain http elsewhere: still Secure
        ("http://10.0.0.5:8000", True),
        ("http://127.0.0.1.evil.example:8000", True),
        ("http://127.0.0.1:8000", False),
        ("http://localhost:8000", False),
        ("http://[::1]:8000", False),
    ],
)
def test_g9_sessions_are_secure_unless_the_issuer_is_plain_http_loopback(
    issuer: str | None, secure: bool
) -> None:
    settings = Settings(issuer=issuer)
    assert settings.secure_cookies is secure
    cookie = CookiePolicy(settings.secure_cookies).set("session", "v", 60)
    assert ("; Secure" in cookie) is secure
    assert cookie.startswith("__Host-session=") is secure
