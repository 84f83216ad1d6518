"""A passkey as the second factor, and "Add a passkey?" after a password sign-in, in Chromium
with a virtual authenticator (SECURITY K6, K8): a user signs in with their password, is offered
to add a passkey and adds it; signed out, they sign in with their password again for an app
that asks for more than a password, and the second-factor step asks for the passkey, whose
code's ID token says both factors. "Not now" goes on and is not asked again in that browser;
without JavaScript no offer is made, and the step says what a passkey needs. Screenshots of the
offer and the step at 1280 and 390 px, light and dark."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pyotp
import requests
from playwright.sync_api import Browser, Page, expect

from oauth_core import constants
from tests.browser.conftest import SCREENS, Scheme
from tests.browser.test_login_flow import APP, app_callback, browser_app_client, redeem_code  # noqa: F401
from tests.browser.test_passkeys import (
    NO_CONDITIONAL_MEDIATION,
    authorize_url,
    site_of,
    virtual_authenticator,
)
from tests.e2e.conftest import LocalStack
from tests.e2e.flows import pkce_pair, query_of
from tests.e2e.test_security_client_credentials import oauthctl

PASSWORD = "passkey second step pw 1"
# An app asking for more than a password (acr_values): a passkey is then the second factor.
MFA = f"&acr_values={requests.utils.quote(constants.ACR_MFA, safe='')}"


def new_user(stack: LocalStack, username: str) -> None:
    made = oauthctl(stack, "users", "create", username, "--password-stdin", stdin=PASSWORD)
    assert made.returncode == 0, made.stderr


def sign_in_with_password(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_out(page: Page, site: str) -> None:
    page.goto(f"{site}/logout")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Signed out")).to_be_visible()


@SCREENS
def test_k6_a_passkey_added_at_sign_in_is_then_the_second_factor(
    chromium: Browser,
    stack: LocalStack,
    output_dir: Path,
    app_callback: tuple[str, list[str]],  # noqa: F811
    width: int,
    scheme: Scheme,
) -> None:
    username = f"pk-second-{width}-{scheme}"
    new_user(stack, username)
    redirect_uri, callbacks = app_callback
    context = chromium.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    # The password is what this test types: the authenticator must not take the sign-in page's
    # autofill offer (conditional mediation) with the passkey alone.
    context.add_init_script(NO_CONDITIONAL_MEDIATION)
    page = context.new_page()
    cdp, authenticator = virtual_authenticator(context, page)
    site = site_of(stack)

    def shot(name: str) -> None:
        page.screenshot(path=str(output_dir / f"{name}-{width}-{scheme}.png"), full_page=True)

    # A password sign-in on a device that can keep a passkey: the offer.
    sign_in_with_password(page, authorize_url(site, redirect_uri, pkce_pair()[1])[0], username)
    expect(page.get_by_role("heading", name="Sign in faster next time?")).to_be_visible()
    add = page.get_by_role("button", name="Add a passkey")
    expect(add).to_be_visible()
    expect(page.get_by_role("button", name="Not now")).to_be_visible()
    shot("passkey-offer")
    add.click()
    page.wait_for_url(f"{site}/consent**")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{redirect_uri}**")
    (held,) = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert held["isResidentCredential"] is True and held["rpId"] == "localhost"

    # Signed out, then the password again, for an app that asks for more than a password: the
    # passkey is the second factor.
    sign_out(page, site)
    verifier, challenge = pkce_pair()
    url, params = authorize_url(site, redirect_uri, challenge)
    sign_in_with_password(page, url + MFA, username)
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    use = page.get_by_role("button", name="Use your passkey")
    expect(use).to_be_visible()
    expect(page.get_by_text("needs a browser that supports passkeys")).to_be_hidden()
    box = use.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
    shot("two-step-passkey")
    use.click()
    page.wait_for_url(f"{redirect_uri}**")  # consent given above: straight to the app
    callback = query_of(callbacks[-1])
    assert callback["state"] == params["state"]
    tokens = redeem_code(stack, callback, redirect_uri, verifier).json()
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert (claims["amr"], claims["acr"]) == (["pwd", "hwk", "mfa"], constants.ACR_MFA)

    # The account page says where the passkey is the second step; with an authenticator app as
    # well, every password sign-in has the step, and it offers both: the passkey first.
    page.goto(f"{site}/account")
    expect(page.get_by_text("Where an app asks for more than your password")).to_be_visible()
    page.locator("#two-step").scroll_into_view_if_needed()
    shot("account-two-step-passkeys")
    page.get_by_role("button", name="Set up an authenticator app").click()
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step verification").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    sign_out(page, site)
    sign_in_with_password(page, authorize_url(site, redirect_uri, pkce_pair()[1])[0], username)
    expect(page.get_by_role("button", name="Use your passkey")).to_be_visible()
    code = page.get_by_label("Code from your authenticator app, or a recovery code")
    expect(code).to_be_visible()
    shot("two-step-passkey-and-app")
    code.fill(str(pyotp.TOTP(secret).at(time.time() + 30)))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{redirect_uri}**")
    context.close()


def test_k8_not_now_goes_on_and_is_not_asked_again_in_this_browser(
    chromium: Browser,
    stack: LocalStack,
    app_callback: tuple[str, list[str]],  # noqa: F811
) -> None:
    username = "pk-offer-not-now"
    new_user(stack, username)
    redirect_uri, callbacks = app_callback
    context = chromium.new_context()
    context.add_init_script(NO_CONDITIONAL_MEDIATION)
    page = context.new_page()
    virtual_authenticator(context, page)
    site = site_of(stack)
    sign_in_with_password(page, authorize_url(site, redirect_uri, pkce_pair()[1])[0], username)
    page.get_by_role("button", name="Not now").click()
    page.wait_for_url(f"{site}/consent**")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{redirect_uri}**")
    assert "code=" in callbacks[-1]
    sign_out(page, site)
    sign_in_with_password(page, authorize_url(site, redirect_uri, pkce_pair()[1])[0], username)
    page.wait_for_url(f"{redirect_uri}**")  # no offer: straight on (consent given)
    context.close()


def test_k8_without_javascript_no_offer_and_the_step_says_what_a_passkey_needs(
    chromium: Browser,
    stack: LocalStack,
    output_dir: Path,
    app_callback: tuple[str, list[str]],  # noqa: F811
) -> None:
    redirect_uri, callbacks = app_callback
    site = site_of(stack)
    # No offer without the script: the password signs in as before.
    new_user(stack, "pk-no-script")
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in_with_password(
        page, authorize_url(site, redirect_uri, pkce_pair()[1])[0], "pk-no-script"
    )
    page.wait_for_url(f"{site}/consent**")
    context.close()

    # A user whose only second factor is a passkey, in a browser without JavaScript: the step
    # says what it needs (no button that cannot work).
    username = "pk-no-script-2"
    new_user(stack, username)
    with_script = chromium.new_context()
    with_script.add_init_script(NO_CONDITIONAL_MEDIATION)
    page = with_script.new_page()
    virtual_authenticator(with_script, page)
    sign_in_with_password(page, authorize_url(site, redirect_uri, pkce_pair()[1])[0], username)
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url(f"{site}/consent**")
    with_script.close()
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    url = authorize_url(site, redirect_uri, pkce_pair()[1])[0]
    sign_in_with_password(page, url + MFA, username)
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    expect(page.get_by_role("button", name="Use your passkey")).to_be_hidden()
    expect(page.get_by_text("needs a browser that supports passkeys")).to_be_visible()
    page.screenshot(path=str(output_dir / "two-step-passkey-no-javascript.png"), full_page=True)
    assert not callbacks
    context.close()


def test_k7_a_passkey_sign_in_with_a_temporary_password_is_told_to_replace_it(
    chromium: Browser,
    stack: LocalStack,
    output_dir: Path,
    app_callback: tuple[str, list[str]],  # noqa: F811
) -> None:
    username = "pk-temporary"
    new_user(stack, username)
    redirect_uri, callbacks = app_callback
    context = chromium.new_context(viewport={"width": 390, "height": 800})
    context.add_init_script(NO_CONDITIONAL_MEDIATION)
    page = context.new_page()
    virtual_authenticator(context, page)
    site = site_of(stack)
    sign_in_with_password(page, authorize_url(site, redirect_uri, pkce_pair()[1])[0], username)
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url(f"{site}/consent**")
    sign_out(page, site)
    reset = oauthctl(
        stack, "users", "set-password", username, "--password-stdin", "--temporary",
        stdin="a temporary password 1",
    )  # fmt: skip
    assert reset.returncode == 0, reset.stderr
    page.goto(authorize_url(site, redirect_uri, pkce_pair()[1])[0])
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("Your password was reset")
    page.screenshot(path=str(output_dir / "login-passkey-temporary-password.png"), full_page=True)
    assert "/login" in page.url and not callbacks
    context.close()
