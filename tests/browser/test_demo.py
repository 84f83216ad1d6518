"""The demo ecosystem (`make demo`): the web app signs its user in through Chromium with the code
flow and PKCE and out again (RP-initiated and back-channel logout), and the backend service runs
once with Client Credentials."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LocalStack

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


WEBAPP_SECRET = "browser-webapp-secret-0123456789abcdefghij"


@pytest.fixture(scope="module")
def webapp(stack: LocalStack) -> Iterator[str]:
    """One web app for the module: registering its client anew for each test would leave the
    authorization function's client cache (2 s here) with the previous port's redirect URI."""
    from oauthctl.admin import Admin

    port = free_port()
    # The demo web app's own registration for the port it runs on: a web client's loopback
    # redirect URI matches exactly, port included (SECURITY A2).
    Admin.connect(endpoint_url=stack.aws_endpoint).clients().create(
        {
            "client_id": "browser-webapp",
            "client_name": "Demo web app",
            "client_secret": WEBAPP_SECRET,
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [f"http://127.0.0.1:{port}/callback"],
            "post_logout_redirect_uris": [f"http://127.0.0.1:{port}/signed-out"],
            "backchannel_logout_uri": f"http://127.0.0.1:{port}/backchannel-logout",
            "scope": "openid profile email offline_access read:data write:data",
            "first_party": True,
        },
        replace=True,
    )
    env = {
        **os.environ,
        "OAUTH_ISSUER": stack.issuer,
        "PORT": str(port),
        "WEBAPP_CLIENT_ID": "browser-webapp",
        "WEBAPP_CLIENT_SECRET": WEBAPP_SECRET,
        # Refresh on every page load, so the test sees refresh rotation at work.
        "WEBAPP_REFRESH_MARGIN": "100000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "examples.webapp.app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.2)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_service_example_reads_its_secret_and_calls_the_api(stack: LocalStack) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "examples.service.service", "--issuer", stack.issuer],
        cwd=ROOT,
        env={**os.environ, **stack.aws_env()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["status"] == 200
    assert answer["body"]["client_id"] == "demo-service"


def test_service_example_caches_and_retries_once_on_401(stack: LocalStack) -> None:
    from examples.service.service import ApiClient

    api = ApiClient(stack.issuer, "demo-service", stack.client_secret("demo-service"))
    assert api.get("/resource").status_code == 200
    assert api.get("/resource").status_code == 200
    assert api.tokens_fetched == 1  # cached
    assert api._session is not None
    api._session.token["access_token"] = "revoked-or-garbage"  # the API will answer 401
    assert api.get("/resource").status_code == 200
    assert api.tokens_fetched == 2  # one retry, with a fresh token


def sign_in(page: Page, stack: LocalStack, webapp: str) -> None:
    page.goto(webapp)
    page.get_by_role("link", name="Log in").click()
    page.wait_for_url(f"{stack.issuer}/login**")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{webapp}/")


def test_webapp_signs_in_calls_api_refreshes_and_logs_out(
    chromium: Browser, stack: LocalStack, webapp: str, output_dir: Path
) -> None:
    page = chromium.new_page()
    sign_in(page, stack, webapp)
    assert "Signed in as Dana Demo" in page.locator("#user").inner_text()
    assert '"action": "read"' in page.locator("#api").inner_text().replace('":"', '": "')
    page.screenshot(path=str(output_dir / "demo-webapp.png"), full_page=True)
    page.reload()  # refreshes the access token (rotation) and calls the API again
    assert "Signed in as Dana Demo" in page.locator("#user").inner_text()
    # RP-initiated logout: through the server's /logout with the ID token, and back, unasked.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{webapp}/signed-out?state=*")
    expect(page.get_by_role("heading", name="Signed out")).to_be_visible()
    both = page.get_by_text("signed out of this app and of the authorization server")
    expect(both).to_be_visible()
    # The server's sign-in ended too: Log in asks for the password.
    page.goto(webapp)
    expect(page.get_by_text("You are not signed in.")).to_be_visible()
    sign_in(page, stack, webapp)
    assert "Signed in as Dana Demo" in page.locator("#user").inner_text()
    page.close()


def test_webapp_is_signed_out_when_the_user_signs_out_at_the_server(
    chromium: Browser, stack: LocalStack, webapp: str
) -> None:
    """Back-channel logout: signing out on the server's own page ends the app's session."""
    page = chromium.new_page()
    sign_in(page, stack, webapp)
    page.goto(f"{stack.issuer}/logout")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Signed out")).to_be_visible()
    # The server told the app (a POST it verified), without the browser going there.
    deadline = time.monotonic() + 30
    while True:
        page.goto(webapp)
        if page.get_by_text("You are not signed in.").is_visible():
            break
        assert time.monotonic() < deadline, "the app was never told"
        page.wait_for_timeout(200)
    page.get_by_role("link", name="Log in").click()
    page.wait_for_url(f"{stack.issuer}/login**")
    expect(page.get_by_label("Password")).to_be_visible()
    page.close()


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_webapp_pages_fit_desk_and_phone_widths_in_light_and_dark(
    chromium: Browser,
    stack: LocalStack,
    webapp: str,
    output_dir: Path,
    width: int,
    scheme: Literal["light", "dark"],
) -> None:
    """Signed out, signed in and after "Log out", at each width and colour scheme: a viewport
    meta tag (a phone would otherwise lay the page out 980 px wide), no sideways scrolling."""
    context = chromium.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()

    def fits(name: str) -> None:
        page.screenshot(path=str(output_dir / f"demo-{name}-{width}-{scheme}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name

    page.goto(webapp)
    viewport = page.locator('meta[name="viewport"]')
    assert viewport.get_attribute("content") == "width=device-width, initial-scale=1"
    fits("home")
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{webapp}/")
    expect(page.locator("#api")).to_be_visible()
    fits("signed-in")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{webapp}/signed-out?state=*")
    expect(page.get_by_role("heading", name="Signed out")).to_be_visible()
    fits("signed-out")
    context.close()


def test_make_demo_starts_everything_and_runs_the_service() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "examples.demo",
            "--port",
            "0",
            "--webapp-port",
            str(free_port()),
            "--exit-after-start",
        ],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert '"status": 200' in result.stdout
    assert "sign in as demo / demo-password" in result.stdout
