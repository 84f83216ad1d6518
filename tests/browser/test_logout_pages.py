"""The sign-out pages of RP-initiated logout in Chromium: the question an app's request without
a valid hint leads to, the refusal of an unregistered return address, and the signed-out page;
each screenshot at desk and phone widths, light and dark; none scrolls sideways. Confirming
follows the app's return address, which the page's CSP (form-action) must allow."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import authorize_params, pkce_pair

APP = "browser-logout-app"


@pytest.fixture(scope="module")
def app_base(stack: LocalStack) -> Iterator[str]:
    """The app: a loopback server for its callback and its return address; registered once."""
    from oauthctl.admin import Admin

    class App(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>App</title><h1>Back at the app</h1>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    Admin.connect(endpoint_url=stack.aws_endpoint).clients().create(
        {
            "client_id": APP,
            "client_name": "Browser test app",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "redirect_uris": [f"{base}/callback"],
            "post_logout_redirect_uris": [f"{base}/bye"],
            "scope": "openid profile",
            "first_party": True,
        },
        replace=True,
    )
    try:
        yield base
    finally:
        server.shutdown()


def sign_in(page: Page, stack: LocalStack, base: str) -> None:
    params = authorize_params(
        client_id=APP, redirect_uri=f"{base}/callback", challenge=pkce_pair()[1], scope="openid"
    )
    page.goto(f"{stack.issuer}/authorize?{urlencode(params)}")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/callback**")


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_logout_pages_fit_desk_and_phone_widths_in_light_and_dark(
    chromium: Browser,
    stack: LocalStack,
    app_base: str,
    output_dir: Path,
    width: int,
    scheme: Literal["light", "dark"],
) -> None:
    context = chromium.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()

    def fits(name: str) -> None:
        page.screenshot(path=str(output_dir / f"{name}-{width}-{scheme}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name

    sign_in(page, stack, app_base)
    bye = f"{app_base}/bye"
    asked = {"client_id": APP, "post_logout_redirect_uri": bye, "state": "st"}
    page.goto(f"{stack.issuer}/logout?{urlencode(asked)}")
    expect(page.get_by_text("Browser test app asks you to sign out")).to_be_visible()
    expect(page.get_by_text("You are signed in as demo")).to_be_visible()
    fits("logout-asked")

    refused = {"client_id": APP, "post_logout_redirect_uri": "https://evil.example/bye"}
    page.goto(f"{stack.issuer}/logout?{urlencode(refused)}")
    expect(page.get_by_role("heading", name="This sign-out link does not work")).to_be_visible()
    expect(page.locator("#reference")).to_be_visible()
    fits("logout-refused")

    # Confirmed: signed out and sent back to the app's registered address, with its state.
    page.goto(f"{stack.issuer}/logout?{urlencode(asked)}")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{bye}?state=st")
    expect(page.get_by_role("heading", name="Back at the app")).to_be_visible()

    # Without a return address: the server's own page, naming the app.
    sign_in(page, stack, app_base)
    page.goto(f"{stack.issuer}/logout?{urlencode({'client_id': APP})}")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Signed out")).to_be_visible()
    expect(page.get_by_text("You can return to Browser test app")).to_be_visible()
    fits("logout-signed-out")
    context.close()
