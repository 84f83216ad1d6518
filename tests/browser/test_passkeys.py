"""Passkeys in Chromium with a virtual authenticator (Chrome DevTools Protocol, WebAuthn domain):
a passkey added on the account page, signing out, then signing in for an app with the passkey
alone and getting a code whose ID token says how (amr); and the pages without JavaScript still
sign in with a password. Screenshots of the changed pages at 1280 and 390 px, light and dark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from oauth_core import constants
from tests.browser.conftest import SCREENS, Scheme
from tests.browser.test_login_flow import APP, app_callback, browser_app_client, redeem_code  # noqa: F401
from tests.e2e.conftest import LocalStack
from tests.e2e.flows import authorize_params, pkce_pair, query_of
from tests.e2e.test_security_client_credentials import oauthctl

PASSWORD = "passkey browser pw 1"


def virtual_authenticator(context: BrowserContext, page: Page) -> tuple[Any, str]:
    """A platform authenticator that holds passkeys and verifies its user (as a fingerprint
    reader would), answering without a prompt; the CDP session and its id."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


# A browser without conditional mediation (passkeys in autofill): only the button is left.
NO_CONDITIONAL_MEDIATION = (
    "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"
)


def site_of(stack: LocalStack) -> str:
    """Where the browser opens the stack: WebAuthn takes no IP address as an RP ID, so a
    loopback development stack's passkeys are localhost's (Settings.passkey_relying_party)."""
    return stack.issuer.replace("://127.0.0.1:", "://localhost:")


def authorize_url(site: str, redirect_uri: str, challenge: str) -> tuple[str, dict[str, str]]:
    params = authorize_params(
        client_id=APP, challenge=challenge, redirect_uri=redirect_uri, scope="openid profile"
    )
    query = "&".join(f"{k}={requests.utils.quote(v, safe='')}" for k, v in params.items())
    return f"{site}/authorize?{query}", params


@SCREENS
def test_a_passkey_added_on_the_account_page_signs_in_for_an_app_alone(
    chromium: Browser,
    stack: LocalStack,
    output_dir: Path,
    app_callback: tuple[str, list[str]],  # noqa: F811
    width: int,
    scheme: Scheme,
) -> None:
    username = f"passkey-{width}-{scheme}"
    made = oauthctl(stack, "users", "create", username, "--password-stdin", stdin=PASSWORD)
    assert made.returncode == 0, made.stderr
    redirect_uri, callbacks = app_callback
    context = chromium.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    # Wide: the browser offers the passkey in the username field's autofill, and the virtual
    # authenticator takes that offer at once (conditional mediation). Narrow: a browser without
    # conditional mediation, where the user presses "Sign in with a passkey".
    conditional = width == 1280
    if not conditional:
        context.add_init_script(NO_CONDITIONAL_MEDIATION)
    page = context.new_page()
    cdp, authenticator = virtual_authenticator(context, page)
    site = site_of(stack)

    # The sign-in page offers passkeys (the authenticator holds none yet).
    page.goto(authorize_url(site, redirect_uri, pkce_pair()[1])[0])
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_attribute("autocomplete", "username webauthn")
    page.screenshot(path=str(output_dir / f"login-passkey-{width}-{scheme}.png"), full_page=True)

    # The account page: signed in with the password, a passkey added (a recent sign-in: no
    # password asked again).
    page.goto(f"{site}/account")
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
    page.screenshot(
        path=str(output_dir / f"account-sign-in-passkey-{width}-{scheme}.png"), full_page=True
    )
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Passkeys")).to_be_visible()
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    page.screenshot(path=str(output_dir / f"passkeys-none-{width}-{scheme}.png"), full_page=True)
    page.get_by_label("Name of the new passkey").fill("This laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status").first).to_contain_text("Your passkey was added")
    expect(page.get_by_role("button", name="Remove This laptop")).to_be_visible()
    expect(page.get_by_text("Not used yet.")).to_be_visible()
    page.screenshot(path=str(output_dir / f"passkeys-added-{width}-{scheme}.png"), full_page=True)
    (held,) = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert held["isResidentCredential"] is True
    assert held["rpId"] == "localhost"

    # Signed out, then an app asks: the passkey alone signs in.
    page.goto(f"{site}/logout")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Signed out")).to_be_visible()
    verifier, challenge = pkce_pair()
    url, params = authorize_url(site, redirect_uri, challenge)
    page.goto(url)
    if not conditional:
        page.wait_for_url(f"{site}/login?request_id=**")
        page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(f"{site}/consent**")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{redirect_uri}**")
    callback = query_of(callbacks[-1])
    assert callback["state"] == params["state"]
    tokens = redeem_code(stack, callback, redirect_uri, verifier).json()
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["amr"] == ["hwk", "user", "mfa"]  # a passkey bound to this device, verified
    assert claims["acr"] == constants.ACR_PASSKEY

    # The account page lists when it was last used; removing it takes it off the page.
    page.goto(f"{site}/account")
    expect(page.locator("#passkey-list")).to_contain_text("Last used")
    page.get_by_role("button", name="Remove This laptop").click()
    expect(page.get_by_role("status").first).to_contain_text("The passkey was removed")
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    context.close()


def test_k4_a_passkey_whose_user_is_not_verified_signs_no_one_in(
    chromium: Browser,
    stack: LocalStack,
    output_dir: Path,
    app_callback: tuple[str, list[str]],  # noqa: F811
) -> None:
    username = "passkey-unverified"
    made = oauthctl(stack, "users", "create", username, "--password-stdin", stdin=PASSWORD)
    assert made.returncode == 0, made.stderr
    redirect_uri, callbacks = app_callback
    context = chromium.new_context()
    page = context.new_page()
    cdp, authenticator = virtual_authenticator(context, page)
    site = site_of(stack)
    page.goto(f"{site}/account")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status").first).to_contain_text("Your passkey was added")
    page.goto(f"{site}/logout")
    page.get_by_role("button", name="Sign out").click()
    # The authenticator now answers without verifying its user (presence only).
    cdp.send(
        "WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": False}
    )
    url, _ = authorize_url(site, redirect_uri, pkce_pair()[1])
    page.goto(url)
    page.get_by_role("button", name="Sign in with a passkey").click()
    # The browser itself refuses (the options require verification), or the server does.
    expect(page.locator("#passkey-status, [role=alert]").first).to_be_visible()
    assert "/login" in page.url
    page.screenshot(path=str(output_dir / "login-passkey-refused.png"), full_page=True)
    assert not any(username in c for c in callbacks)
    context.close()


@pytest.mark.parametrize("javascript", [False, True])
def test_without_javascript_or_off_the_rp_id_the_sign_in_page_offers_the_password_alone(
    chromium: Browser,
    stack: LocalStack,
    output_dir: Path,
    app_callback: tuple[str, list[str]],  # noqa: F811
    javascript: bool,
) -> None:
    """Without JavaScript, or at 127.0.0.1 (no RP ID), the passkey offer stays hidden and the
    password signs in as before."""
    redirect_uri, _ = app_callback
    context = chromium.new_context(java_script_enabled=javascript)
    page = context.new_page()
    url, _ = authorize_url(stack.issuer, redirect_uri, pkce_pair()[1])
    page.goto(url)
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_hidden()
    if not javascript:
        page.screenshot(path=str(output_dir / "login-no-javascript.png"), full_page=True)
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    # Signed in: on to the consent page (or the app, had the user allowed it before).
    page.wait_for_url(lambda url: "/login" not in url)
    context.close()
