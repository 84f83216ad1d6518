"""Recovery and verification by e-mail in Chromium: "Forgot your password?" from an app's
sign-in, the link read from the local stack's SES, a new password, and on to the app; an
address confirmed; a self sign-up. Screenshots of every page at 1280 and 390 px, light and
dark (test-output/browser/)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from local_stack import mailbox
from tests.browser.conftest import SCREENS, Scheme
from tests.browser.test_login_flow import APP, app_callback, browser_app_client  # noqa: F401
from tests.e2e.conftest import LocalStack, local_stack
from tests.e2e.flows import SPA, SPA_REDIRECT, authorize_params, pkce_pair
from tests.e2e.test_security_client_credentials import oauthctl

PASSWORD = "browser first pw 1"
NEW_PASSWORD = "browser chosen pw 2"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/[a-z/-]+\?token=[A-Za-z0-9_-]+")


def link_to(stack: LocalStack, address: str) -> str:
    """The link of the newest message to `address`."""
    mail = mailbox.to(stack.aws_endpoint, address)[-1]
    (link,) = LINK.findall(mail.text)
    return link


def authorize_url(stack: LocalStack, client_id: str, redirect_uri: str) -> str:
    challenge = pkce_pair()[1]
    params = authorize_params(client_id=client_id, challenge=challenge, redirect_uri=redirect_uri)
    query = "&".join(f"{k}={requests.utils.quote(v, safe='')}" for k, v in params.items())
    return f"{stack.issuer}/authorize?{query}"


def shot(page: Page, output_dir: Path, name: str, width: int, scheme: Scheme) -> None:
    page.screenshot(path=str(output_dir / f"{name}-{width}-{scheme}.png"), full_page=True)


def create_user(stack: LocalStack, username: str, email: str, verified: bool) -> None:
    made = oauthctl(
        stack, "users", "create", username, "--claim", f"email={email}",
        "--claim", f"email_verified={str(verified).lower()}", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert made.returncode in (0, 2), made.stderr  # 2: made by an earlier run in this stack


@SCREENS
def test_forgot_password_by_e_mail_then_on_to_the_app(
    chromium: Browser,
    stack: LocalStack,
    output_dir: Path,
    app_callback: tuple[str, list[str]],  # noqa: F811
    width: int,
    scheme: Scheme,
) -> None:
    username = f"forgot-{width}-{scheme}"
    address = f"{username}@example.org"
    create_user(stack, username, address, verified=True)
    redirect_uri, callbacks = app_callback
    context = chromium.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    app_tab = context.new_page()
    app_tab.goto(authorize_url(stack, APP, redirect_uri))
    expect(app_tab.get_by_role("heading", name="Sign in")).to_be_visible()
    shot(app_tab, output_dir, "sign-in-with-recovery", width, scheme)
    app_tab.get_by_role("link", name="Forgot your password?").click()
    expect(app_tab.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    expect(app_tab.get_by_label("Username or e-mail address")).to_be_focused()
    shot(app_tab, output_dir, "forgot-password", width, scheme)
    app_tab.get_by_label("Username or e-mail address").fill(address)
    app_tab.get_by_role("button", name="Send the link").click()
    expect(app_tab.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    shot(app_tab, output_dir, "forgot-password-sent", width, scheme)

    # The link, opened from the mail in another tab.
    mail_tab = context.new_page()
    mail_tab.goto(link_to(stack, address))
    expect(mail_tab.get_by_role("heading", name="Choose a new password")).to_be_visible()
    mail_tab.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    mail_tab.get_by_label("New password, again").fill(NEW_PASSWORD + "!")
    mail_tab.get_by_role("button", name="Save the new password").click()
    expect(mail_tab.get_by_role("alert")).to_have_text("The two passwords are not the same.")
    shot(mail_tab, output_dir, "reset-password", width, scheme)
    mail_tab.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    mail_tab.get_by_label("New password, again").fill(NEW_PASSWORD)
    mail_tab.get_by_role("button", name="Save the new password").click()
    expect(mail_tab.get_by_role("status")).to_contain_text("Your password was changed")
    shot(mail_tab, output_dir, "account-after-reset", width, scheme)
    mail_tab.close()

    # Back in the app's tab: the sign-in it was on, with the new password, and on to the app.
    app_tab.get_by_role("link", name="Back to sign in").click()
    app_tab.get_by_label("Username").fill(username)
    app_tab.get_by_label("Password").fill(NEW_PASSWORD)
    app_tab.get_by_role("button", name="Sign in").click()
    app_tab.get_by_role("button", name="Allow").click()
    app_tab.wait_for_url(f"{redirect_uri}**")
    assert callbacks and "code=" in callbacks[-1]
    context.close()


@SCREENS
def test_an_address_changed_and_confirmed(
    chromium: Browser, stack: LocalStack, output_dir: Path, width: int, scheme: Scheme
) -> None:
    username = f"confirm-{width}-{scheme}"
    create_user(stack, username, f"{username}@example.org", verified=True)
    context = chromium.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()
    page.goto(f"{stack.issuer}/account")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    new_address = f"{username}-new@example.org"
    page.get_by_label("New e-mail address").fill(new_address)
    page.get_by_label("Your password, to confirm it is you").fill("not my password")
    page.get_by_role("button", name="Change e-mail address").click()
    expect(page.get_by_role("alert")).to_have_text("Your current password is not right.")
    page.get_by_label("New e-mail address").fill(new_address)
    page.get_by_label("Your password, to confirm it is you").fill(PASSWORD)
    page.get_by_role("button", name="Change e-mail address").click()
    expect(page.get_by_role("status")).to_contain_text("Follow the link we sent")
    shot(page, output_dir, "account-email-unconfirmed", width, scheme)

    link = link_to(stack, new_address)
    page.goto(link)
    expect(page.get_by_role("heading", name="Confirm your e-mail address")).to_be_visible()
    shot(page, output_dir, "verify-email", width, scheme)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_have_text("Your e-mail address is confirmed.")
    expect(page.get_by_text(f"{new_address}, confirmed.")).to_be_visible()
    shot(page, output_dir, "account-email-confirmed", width, scheme)
    page.goto(link)  # once only
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    shot(page, output_dir, "link-refused", width, scheme)
    context.close()


@pytest.fixture(scope="module")
def sign_up_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    env = {"SELF_SIGN_UP": "on", "EMAIL_ANSWER_MS": "100"}
    with local_stack(tmp_path_factory, "browser-sign-up", env) as running:
        yield running


@SCREENS
def test_r6_a_self_sign_up_finished_by_its_e_mail_link_and_password(
    chromium: Browser, sign_up_stack: LocalStack, output_dir: Path, width: int, scheme: Scheme
) -> None:
    stack = sign_up_stack
    username = f"new-{width}-{scheme}"
    address = f"{username}@example.org"
    context = chromium.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()
    page.goto(authorize_url(stack, SPA, SPA_REDIRECT))
    shot(page, output_dir, "sign-in-with-sign-up", width, scheme)
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    shot(page, output_dir, "sign-up", width, scheme)
    page.get_by_label("Username").fill(username)
    page.get_by_label("E-mail address").fill(address)
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password, again").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("at least 8 characters")
    shot(page, output_dir, "sign-up-error", width, scheme)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    shot(page, output_dir, "sign-up-sent", width, scheme)

    page.goto(link_to(stack, address))
    expect(page.get_by_role("heading", name="Finish creating your account")).to_be_visible()
    expect(page.get_by_label("Password chosen at sign-up")).to_be_focused()
    shot(page, output_dir, "sign-up-confirm", width, scheme)
    # The link alone creates nothing: the password chosen at sign-up is typed again (R6).
    page.get_by_label("Password chosen at sign-up").fill("not the chosen one 3")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("not the password chosen at sign-up")
    shot(page, output_dir, "sign-up-confirm-error", width, scheme)
    page.get_by_label("Password chosen at sign-up").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status")).to_have_text(
        "Your account is ready. Sign in with the password you chose."
    )
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    context.close()
