"""The page that replaces a temporary password, in Chromium: announced errors, then on to the
app; screenshots at 1280 and 390 px, light and dark."""

from __future__ import annotations

from pathlib import Path

import requests
from playwright.sync_api import Browser, expect

from tests.browser.conftest import SCREENS, Scheme
from tests.browser.test_login_flow import APP, app_callback, browser_app_client  # noqa: F401
from tests.e2e.conftest import LocalStack
from tests.e2e.flows import authorize_params, pkce_pair
from tests.e2e.test_security_client_credentials import oauthctl


def reset_to_temporary(stack: LocalStack, username: str) -> None:
    made = oauthctl(stack, "users", "create", username, "--password-stdin", stdin="first pw 0\n")
    assert made.returncode in (0, 2), made.stderr  # 2: made by an earlier parametrization
    reset = oauthctl(
        stack,
        "users",
        "set-password",
        username,
        "--temporary",
        "--password-stdin",
        stdin="temporary pw 1",
    )
    assert reset.returncode == 0, reset.stderr


@SCREENS
def test_a_temporary_password_is_replaced_in_the_browser(
    chromium: Browser,
    stack: LocalStack,
    output_dir: Path,
    app_callback: tuple[str, list[str]],  # noqa: F811
    width: int,
    scheme: Scheme,
) -> None:
    username = f"temp-{width}-{scheme}"
    reset_to_temporary(stack, username)
    redirect_uri, callbacks = app_callback
    context = chromium.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()
    params = authorize_params(client_id=APP, challenge=pkce_pair()[1], redirect_uri=redirect_uri)
    query = "&".join(f"{k}={requests.utils.quote(v, safe='')}" for k, v in params.items())
    page.goto(f"{stack.issuer}/authorize?{query}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("temporary pw 1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill("my own password 2")
    page.get_by_label("New password, again").fill("my own password 3")
    page.get_by_role("button", name="Save and continue").click()
    assert page.get_by_role("alert").inner_text() == "The two passwords are not the same."
    page.screenshot(path=str(output_dir / f"password-change-{width}-{scheme}.png"), full_page=True)
    page.get_by_label("New password", exact=True).fill("my own password 2")
    page.get_by_label("New password, again").fill("my own password 2")
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url(f"{stack.issuer}/consent**")  # signed in now: on with the request
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{redirect_uri}**")
    assert callbacks and "code=" in callbacks[-1]
    context.close()
