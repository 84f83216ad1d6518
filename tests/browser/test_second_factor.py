"""Two-step verification in Chromium (SECURITY M4, M5): an authenticator app set up from the
account page (the QR code, the key in text, a wrong first code announced, the recovery codes
shown once), then a sign-in for an app with the password and a code. Screenshots of every page
at 1280 and 390 px, light and dark."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
import requests
from playwright.sync_api import Browser, expect

from tests.browser.conftest import SCREENS, Scheme
from tests.browser.test_login_flow import APP, app_callback, browser_app_client  # noqa: F401
from tests.e2e.conftest import LocalStack
from tests.e2e.flows import authorize_params, pkce_pair
from tests.e2e.test_security_client_credentials import oauthctl

PASSWORD = "two step browser pw 1"


@SCREENS
def test_m5_an_authenticator_app_set_up_and_used_in_the_browser(
    chromium: Browser,
    stack: LocalStack,
    output_dir: Path,
    app_callback: tuple[str, list[str]],  # noqa: F811
    width: int,
    scheme: Scheme,
) -> None:
    username = f"two-step-{width}-{scheme}"
    made = oauthctl(stack, "users", "create", username, "--password-stdin", stdin=PASSWORD)
    assert made.returncode == 0, made.stderr
    context = chromium.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()

    def shot(name: str) -> None:
        page.screenshot(path=str(output_dir / f"{name}-{width}-{scheme}.png"), full_page=True)

    # The account page: two-step verification is off, and set up from there.
    page.goto(f"{stack.issuer}/account")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    shot("account-two-step-off")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_role("heading", name="Set up an authenticator app")).to_be_visible()
    qr = page.get_by_role("img", name="QR code to scan with your authenticator app")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box and box["width"] >= 150 and box["x"] >= 0 and box["x"] + box["width"] <= width
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(
        "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    )
    page.get_by_role("button", name="Turn on two-step verification").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    shot("two-step-enrol")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step verification").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    assert page.locator("#recovery-codes li").count() == 10
    shot("two-step-recovery-codes")
    page.get_by_role("link", name="I saved them, back to my account").click()
    expect(page.get_by_role("status")).to_contain_text("Two-step verification is on")
    shot("account-two-step-on")

    # A sign-in for an app: the password, then a code from the app (the next time step's,
    # which one step of drift accepts: no waiting).
    page.goto(f"{stack.issuer}/logout")
    page.get_by_role("button", name="Sign out").click()
    redirect_uri, callbacks = app_callback
    params = authorize_params(client_id=APP, challenge=pkce_pair()[1], redirect_uri=redirect_uri)
    query = "&".join(f"{k}={requests.utils.quote(v, safe='')}" for k, v in params.items())
    page.goto(f"{stack.issuer}/authorize?{query}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    code = page.get_by_label("Code from your authenticator app, or a recovery code")
    expect(code).to_be_focused()
    shot("two-step-code")
    code.fill(str(pyotp.TOTP(secret).at(time.time() + 30)))
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{redirect_uri}**")
    assert callbacks and "code=" in callbacks[-1]
    context.close()
