"""The whole code flow in a real browser: app redirect, sign-in, consent, code, token exchange
with PKCE, /resource and /userinfo, refresh, sign-out. Saves screenshots of the pages."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

import pytest
import requests
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import authorize_params, pkce_pair, query_of

APP = "browser-app"


def redeem_code(
    stack: LocalStack,
    callback: dict[str, str],
    redirect_uri: str,
    verifier: str,
    client_id: str = APP,
) -> requests.Response:
    """The app's redemption of the code its callback got (RFC 6749 4.1.3, with PKCE)."""
    return requests.post(
        f"{stack.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        },
        timeout=10,
    )


CLIENT_CACHE_SECONDS = 2  # CLIENT_CACHE_TTL of the test stack (tests/e2e/conftest.py)
PUSHING_APP = "browser-par-app"


@pytest.fixture(autouse=True)
def browser_app_client(stack: LocalStack) -> None:
    """A native-style public client: a loopback redirect URI, any port (RFC 8252 7.3).
    Registered anew for every test (a new registration: no consent or grant of an earlier test
    carries over), then the functions' client caches (CLIENT_CACHE_TTL, 2 s on the test stack)
    are waited out: a function still holding the previous registration refused the test's
    request now and then (a flaky test)."""
    from oauthctl.admin import Admin

    Admin.connect(endpoint_url=stack.aws_endpoint).clients().create(
        {
            "client_id": APP,
            "client_name": "Browser test app",
            "application_type": "native",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": ["http://127.0.0.1/callback"],
            "scope": "openid profile email offline_access read:data",
        },
        replace=True,
    )
    time.sleep(CLIENT_CACHE_SECONDS + 0.5)


@pytest.fixture
def app_callback() -> Iterator[tuple[str, list[str]]]:
    """The app's redirect URI: a real server on a free loopback port that records callbacks."""
    seen: list[str] = []

    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/callback"):  # not the browser's /favicon.ico
                seen.append(self.path)
            body = b"<!doctype html><title>App</title><h1>App callback</h1>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/callback", seen
    finally:
        server.shutdown()


def test_code_flow_in_chromium(
    chromium: Browser, stack: LocalStack, output_dir: Path, app_callback: tuple[str, list[str]]
) -> None:
    redirect_uri, callbacks = app_callback
    context = chromium.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    verifier, challenge = pkce_pair()
    params = authorize_params(
        client_id=APP,
        challenge=challenge,
        redirect_uri=redirect_uri,
        scope="openid profile email offline_access read:data",
        nonce="n-1",
    )
    query = "&".join(f"{k}={requests.utils.quote(v, safe='')}" for k, v in params.items())

    page.goto(f"{stack.issuer}/authorize?{query}")
    page.wait_for_url(f"{stack.issuer}/login?request_id=**")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.screenshot(path=str(output_dir / "login-page.png"), full_page=True)

    # A wrong password first: the error is announced and the form comes back.
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Incorrect username or password."
    page.screenshot(path=str(output_dir / "login-error.png"), full_page=True)

    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{stack.issuer}/consent**")
    expect(page.get_by_text("Browser test app", exact=True)).to_be_visible()
    expect(page.locator("#offline")).to_contain_text("while you are away")
    page.screenshot(path=str(output_dir / "consent-page.png"), full_page=True)
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{redirect_uri}**")

    callback = query_of(callbacks[-1])
    assert callback["state"] == params["state"]
    assert callback["iss"] == stack.issuer
    tokens = redeem_code(stack, callback, redirect_uri, verifier).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert requests.get(f"{stack.issuer}/resource", headers=bearer, timeout=10).status_code == 200
    assert requests.get(f"{stack.issuer}/userinfo", headers=bearer, timeout=10).json()["email"] == (
        "demo@example.com"
    )
    refreshed = requests.post(
        f"{stack.issuer}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": APP,
        },
        timeout=10,
    )
    assert refreshed.status_code == 200

    # Signed in: a second authorization goes straight back to the app (consent remembered).
    page.goto(f"{stack.issuer}/authorize?{query}")
    page.wait_for_url(f"{redirect_uri}**")
    assert "code" in query_of(callbacks[-1])

    page.goto(f"{stack.issuer}/logout")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Signed out")).to_be_visible()
    page.goto(f"{stack.issuer}/authorize?{query}")
    page.wait_for_url(f"{stack.issuer}/login**")
    context.close()


@pytest.fixture(scope="module")
def pushing_app(stack: LocalStack) -> str:
    """A client of its own, registered once: the autouse fixture registers APP anew for every
    test, and a function's cached copy of the previous registration would then push for it."""
    from oauthctl.admin import Admin

    Admin.connect(endpoint_url=stack.aws_endpoint).clients().create(
        {
            "client_id": PUSHING_APP,
            "client_name": "Browser test app (PAR)",
            "application_type": "native",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": ["http://127.0.0.1/callback"],
            "scope": "openid profile offline_access read:data",
        },
        replace=True,
    )
    return PUSHING_APP


def test_a18_a_pushed_authorization_request_signs_in_in_chromium(
    chromium: Browser, stack: LocalStack, app_callback: tuple[str, list[str]], pushing_app: str
) -> None:
    """RFC 9126: the app pushes the request, the browser carries only client_id and the
    request_uri, signs in and consents; the code is exchanged; the request_uri is spent."""
    redirect_uri, callbacks = app_callback
    verifier, challenge = pkce_pair()
    params = authorize_params(client_id=pushing_app, challenge=challenge, redirect_uri=redirect_uri)
    pushed = requests.post(f"{stack.issuer}/par", data=params, timeout=10)
    assert pushed.status_code == 201, pushed.text
    query = urlencode({"client_id": pushing_app, "request_uri": pushed.json()["request_uri"]})
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{stack.issuer}/authorize?{query}")
    page.wait_for_url(f"{stack.issuer}/login?request_id=**")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{stack.issuer}/consent**")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{redirect_uri}**")
    callback = query_of(callbacks[-1])
    assert (callback["state"], callback["iss"]) == (params["state"], stack.issuer)
    tokens = redeem_code(stack, callback, redirect_uri, verifier, client_id=pushing_app)
    assert tokens.status_code == 200, tokens.text
    again = page.goto(f"{stack.issuer}/authorize?{query}")
    assert again is not None and again.status == 400
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_fit_desk_and_phone_widths_in_light_and_dark(
    chromium: Browser,
    stack: LocalStack,
    output_dir: Path,
    width: int,
    scheme: Literal["light", "dark"],
) -> None:
    """The sign-in, consent (with its offline-access sentence) and error pages, screenshot at
    each width and colour scheme; none scrolls sideways."""
    context = chromium.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    params = authorize_params(
        challenge=pkce_pair()[1], scope="openid profile offline_access read:data", prompt="consent"
    )
    query = "&".join(f"{k}={requests.utils.quote(v, safe='')}" for k, v in params.items())

    def fits(name: str) -> None:
        page.screenshot(path=str(output_dir / f"{name}-{width}-{scheme}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name

    page.goto(f"{stack.issuer}/authorize?{query}")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    fits("login")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#offline")).to_be_visible()
    fits("consent")
    page.goto(f"{stack.issuer}/login?request_id=no-such-request")
    expect(page.get_by_role("alert")).to_contain_text("expired")
    fits("expired")
    context.close()
