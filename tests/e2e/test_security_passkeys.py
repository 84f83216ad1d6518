"""Passkeys over HTTP against the local stack (DynamoDB under moto), with the software
authenticator of the unit tests: added on the account page, then signing in for an app alone
(the ID token's amr); the same answer refused when presented again (K2); a counter that went
backwards refused and the passkey suspended (K3); the forms' CSRF check (G1)."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import jwt
import requests

from oauth_core import constants
from tests.e2e.conftest import LocalStack
from tests.e2e.flows import SPA, SPA_REDIRECT, Browser, authorize_params, query_of
from tests.e2e.test_account_page import account_sign_in, form_for, new_user
from tests.passkey_authenticator import SoftPasskey
from tests.support import form_fields, pkce_pair


def options_in(html: str, attribute: str) -> dict[str, Any]:
    found = re.search(rf'{attribute}="([^"]+)"', html)
    assert found, f"no {attribute} in the page"
    options: dict[str, Any] = json.loads(unescape(found.group(1)))
    return options


def origin_of(stack: LocalStack) -> str:
    """The passkeys' origin: a loopback stack's is localhost's (no IP address is an RP ID)."""
    return stack.issuer.replace("://127.0.0.1:", "://localhost:")


def add_passkey(stack: LocalStack, browser: Browser, key: SoftPasskey) -> requests.Response:
    page = browser.get("/account").text
    options = options_in(page, "data-passkey-create")
    assert options["rp"]["id"] == "localhost"
    fields = form_for(page, "/account/passkeys", action="add")
    return browser.post(
        "/account/passkeys",
        {**fields, "name": "e2e key", "credential": key.create(options, origin=origin_of(stack))},
    )


def login_page(browser: Browser) -> tuple[str, dict[str, str], str]:
    """An authorization request's sign-in page: its HTML, the passkey form's fields, and the
    PKCE verifier."""
    verifier, challenge = pkce_pair()
    started = browser.authorize(**authorize_params(SPA, SPA_REDIRECT, challenge, scope="openid"))
    assert started.status_code == 303 and started.headers["Location"].startswith("/login")
    page = browser.get(started.headers["Location"]).text
    return page, form_for(page, "/login"), verifier


def user_with_passkey(stack: LocalStack, username: str) -> tuple[Browser, SoftPasskey]:
    """A new user who added a passkey on the account page: their browser there, and the key."""
    new_user(stack, username)
    account = Browser(stack)
    account_sign_in(account, username)
    key = SoftPasskey("localhost")
    added = add_passkey(stack, account, key)
    assert added.headers["Location"] == "/account?done=passkey_added#passkeys"
    return account, key


def test_k2_a_passkey_signs_in_alone_and_its_answer_works_once(stack: LocalStack) -> None:
    _, key = user_with_passkey(stack, "passkey-e2e")

    browser = Browser(stack)
    page, fields, verifier = login_page(browser)
    answer = key.get(options_in(page, "data-passkey-get"), origin=origin_of(stack))
    signed_in = browser.post("/login/passkey", {**fields, "credential": answer})
    assert signed_in.status_code == 303, signed_in.text
    done = browser.until_client(signed_in)
    code = query_of(done.headers["Location"])["code"]
    tokens = requests.post(
        f"{stack.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": SPA_REDIRECT,
            "client_id": SPA,
            "code_verifier": verifier,
        },
        timeout=10,
    ).json()
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert (claims["amr"], claims["acr"]) == (["hwk", "user", "mfa"], constants.ACR_PASSKEY)

    # K2: the same answer again, in a browser with the same cookies and request, is refused.
    replayed = browser.post("/login/passkey", {**fields, "credential": answer})
    assert replayed.status_code == 200
    assert "That passkey could not sign you in" in unescape(replayed.text)
    assert not any("session" in c for c in replayed.raw.headers.getlist("Set-Cookie"))


def test_k3_a_counter_gone_back_is_refused_and_suspends_the_passkey(stack: LocalStack) -> None:
    account, key = user_with_passkey(stack, "passkey-e2e-counter")
    browser = Browser(stack)
    page, fields, _ = login_page(browser)
    answer = key.get(options_in(page, "data-passkey-get"), origin=origin_of(stack), sign_count=5)
    assert browser.post("/login/passkey", {**fields, "credential": answer}).status_code == 303
    # An answer whose counter went back (a copy of the authenticator) is refused, and the
    # passkey with it, even with a counter that moves on.
    fresh = Browser(stack)
    page, fields, _ = login_page(fresh)
    cloned = key.get(options_in(page, "data-passkey-get"), origin=origin_of(stack), sign_count=1)
    refused = fresh.post("/login/passkey", {**fields, "credential": cloned})
    assert refused.status_code == 200 and "its use counter went backwards" in unescape(refused.text)
    page, fields, _ = login_page(fresh)
    later = key.get(options_in(page, "data-passkey-get"), origin=origin_of(stack), sign_count=99)
    again = fresh.post("/login/passkey", {**fields, "credential": later})
    assert "its use counter went backwards" in unescape(again.text)
    listed = account.get("/account").text
    assert "Refused since its use counter went backwards" in listed


def test_g1_the_passkey_forms_need_the_csrf_token(stack: LocalStack) -> None:
    browser = Browser(stack)
    page, fields, _ = login_page(browser)
    for path, form in (
        ("/login/passkey", {**fields, "csrf_token": "forged" * 5, "credential": "{}"}),
        ("/account/passkey-login", {"csrf_token": "forged" * 5, "credential": "{}"}),
        ("/account/passkeys", {"csrf_token": "forged" * 5, "action": "remove"}),
    ):
        assert browser.post(path, form).status_code == 403, path
    assert form_fields(page)["csrf_token"]
