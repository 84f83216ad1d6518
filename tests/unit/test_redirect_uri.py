from __future__ import annotations

import pytest

from oauth_core.rules.redirect_uri import (
    UnsafeRedirectUri,
    find_registered,
    matches,
    validate_registration,
)

REGISTERED = "https://app.example.com/callback"


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/callback",
        "https://app.example.com:8443/cb?x=1",
        "http://127.0.0.1/callback",
        "http://[::1]:8080/callback",
        "http://localhost:3000/cb",
        "com.example.app:/oauth2redirect",
    ],
)
def test_safe_redirect_uris_register(uri: str) -> None:
    assert validate_registration(uri) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example.com/callback",
        "https://app.example.com/callback#fragment",
        "https://app.example.com/callback#",
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "DaTa:text/html,x",
        "vbscript:msgbox(1)",
        "https://user@app.example.com/callback",
        "https://user:pass@app.example.com/callback",
        "https://*.example.com/callback",
        "https://app.example.com/*",
        "/relative/callback",
        "https:///no-host",
        "https://app.example.com/call back",
        "https://app.example.com\\@evil.com/",
        "myapp:/callback",
        "",
        "HTTPS://app.example.com/cb",
    ],
)
def test_a10_unsafe_redirect_uris_are_refused(uri: str) -> None:
    with pytest.raises(UnsafeRedirectUri):
        validate_registration(uri)


@pytest.mark.parametrize(
    "requested",
    [
        "https://APP.example.com/callback",
        "https://app.example.com/callback/",
        "https://app.example.com:443/callback",
        "https://app.example.com/callback?x=1",
        "https://app.example.com/callback/../callback",
        "https://app.example.com/Callback",
        "https://user@app.example.com/callback",
        "https://app.example.com.evil.com/callback",
        "https://app.example.com/callback#x",
        "https://app.example.com/callback%2F",
        "http://app.example.com/callback",
    ],
)
def test_a2_any_variant_does_not_match(requested: str) -> None:
    assert not matches(requested, REGISTERED)


def test_a2_exact_match() -> None:
    assert matches(REGISTERED, REGISTERED)


def test_a2_loopback_port_may_vary_for_native_clients() -> None:
    assert matches("http://127.0.0.1:51234/cb", "http://127.0.0.1/cb", native=True)
    assert matches("http://127.0.0.1:1/cb", "http://127.0.0.1:8400/cb", native=True)
    assert matches("http://127.0.0.1:65535/cb", "http://127.0.0.1/cb", native=True)
    assert matches("http://[::1]:9000/cb?x=1", "http://[::1]/cb?x=1", native=True)
    assert not matches("http://127.0.0.1:51234/other", "http://127.0.0.1/cb", native=True)
    assert not matches("http://127.0.0.2:51234/cb", "http://127.0.0.1/cb", native=True)
    assert not matches("https://127.0.0.1:51234/cb", "http://127.0.0.1/cb", native=True)
    assert not matches("http://127.0.0.1:51234/cb#x", "http://127.0.0.1/cb", native=True)
    # The hostname "localhost" is not an IP literal: RFC 8252 8.3 gives it no port exemption.
    assert not matches("http://localhost:51234/cb", "http://localhost/cb", native=True)


@pytest.mark.parametrize("port", ["9999", "0", "99999", "65536", "08400", "", "+80", "8400 "])
def test_a2_loopback_port_of_a_web_client_must_match_exactly(port: str) -> None:
    registered = "http://127.0.0.1:8400/callback"
    assert not matches(f"http://127.0.0.1:{port}/callback", registered)


@pytest.mark.parametrize("port", ["0", "99999", "65536", "08400", "", "+80", "00"])
def test_a2_ports_outside_1_to_65535_or_with_leading_zeros_are_refused_for_everyone(
    port: str,
) -> None:
    assert not matches(f"http://127.0.0.1:{port}/cb", "http://127.0.0.1/cb", native=True)
    with pytest.raises(UnsafeRedirectUri):
        validate_registration(f"http://127.0.0.1:{port}/cb")
    with pytest.raises(UnsafeRedirectUri):
        validate_registration(f"https://app.example.com:{port}/cb")


def test_find_registered_returns_the_registered_string() -> None:
    registered = ("https://a/cb", "http://127.0.0.1/cb")
    assert find_registered("http://127.0.0.1:4000/cb", registered, native=True) == (
        "http://127.0.0.1/cb"
    )
    assert find_registered("http://127.0.0.1:4000/cb", registered) is None
    assert find_registered("https://a/cb/", ("https://a/cb",)) is None
