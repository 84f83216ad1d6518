"""The account page in Chromium: reached from the sign-out page, signed in there, the app the user
allowed listed with what it may do, a wrong current password announced, access removed, and
signing out everywhere; screenshots at 1280 and 390 px, light and dark."""

from __future__ import annotations

from pathlib import Path

import requests
from playwright.sync_api import Browser, expect

from tests.browser.conftest import SCREENS, Scheme
from tests.browser.test_login_flow import APP, app_callback, browser_app_client  # noqa: F401
from tests.e2e.conftest import LocalStack
from tests.e2e.flows import authorize_params, pkce_pair
from tests.e2e.test_security_client_credentials import oauthctl

PASSWORD = "account browser pw 1"


@SCREENS
def test_the_account_page_in_the_browser(
    chromium: Browser,
    stack: LocalStack,
    output_dir: Path,
    app_callback: tuple[str, list[str]],  # noqa: F811
    width: int,
    scheme: Scheme,
) -> None:
    username = f"account-{width}-{scheme}"
    made = oauthctl(stack, "users", "create", username, "--password-stdin", stdin=PASSWORD)
    assert made.returncode == 0, made.stderr
    named = oauthctl(
        stack, "users", "update", username, "--claim", "name=Robin Example",
        "--claim", f"email={username}@example.com",
    )  # fmt: skip
    assert named.returncode == 0, named.stderr
    redirect_uri, callbacks = app_callback
    context = chromium.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()
    # An app allowed first, through the code flow.
    params = authorize_params(client_id=APP, challenge=pkce_pair()[1], redirect_uri=redirect_uri)
    query = "&".join(f"{k}={requests.utils.quote(v, safe='')}" for k, v in params.items())
    page.goto(f"{stack.issuer}/authorize?{query}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{redirect_uri}**")
    assert callbacks and "code=" in callbacks[-1]

    # From the sign-out page to the account page; a new sign-in there.
    page.goto(f"{stack.issuer}/logout")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Manage your account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    page.screenshot(path=str(output_dir / f"account-sign-in-{width}-{scheme}.png"), full_page=True)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    expect(page.get_by_text("Robin Example")).to_be_visible()
    remove = page.get_by_role("button", name="Remove access for Browser test app")
    expect(remove).to_be_visible()

    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password", exact=True).fill("account browser pw 2")
    page.get_by_label("New password, again").fill("account browser pw 2")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_have_text("Your current password is not right.")
    page.screenshot(path=str(output_dir / f"account-{width}-{scheme}.png"), full_page=True)

    remove = page.get_by_role("button", name="Remove access for Browser test app")
    remove.click()
    expect(page.get_by_role("status")).to_contain_text("access was removed")
    expect(page.get_by_text("You have not allowed any app")).to_be_visible()
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("status")).to_contain_text("signed out everywhere")
    expect(page.get_by_label("Username")).to_be_visible()
    context.close()
