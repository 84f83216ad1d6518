"""Passkeys beyond signing in alone, over HTTP against the local stack (DynamoDB under moto), with
the software authenticator: a passkey as the second factor after the password, another user's
refused (K6); a passkey sign-in of a user whose password an operator made temporary (K7); "Add a
passkey?" after a password sign-in (K8); and an operator's `oauthctl users passkeys list|remove`,
and `users delete` taking the user's passkeys with them."""

from __future__ import annotations

import json
from html import unescape
from typing import Any

import boto3
import jwt
import requests

from oauth_core import constants
from tests.e2e.conftest import LocalStack
from tests.e2e.flows import (
    SPA,
    SPA_REDIRECT,
    Browser,
    CodeResult,
    authorize_params,
    exchange,
    pkce_pair,
)
from tests.e2e.test_account_page import PASSWORD, form_for, tail
from tests.e2e.test_security_client_credentials import oauthctl
from tests.e2e.test_security_passkeys import login_page, options_in, origin_of, user_with_passkey
from tests.passkey_authenticator import SoftPasskey
from tests.support import query_of


def password_step(
    stack: LocalStack, username: str, *, acr_values: str | None = None, **fields: str
) -> tuple[Browser, Any, str]:
    """A browser that gave `username`'s right password for the SPA (asking for `acr_values`):
    it, the answer, and the PKCE verifier."""
    browser = Browser(stack)
    if acr_values is None:
        _, form, verifier = login_page(browser)
    else:
        verifier, challenge = pkce_pair()
        params = authorize_params(SPA, SPA_REDIRECT, challenge, scope="openid")
        started = browser.authorize(**params, acr_values=acr_values)
        form = form_for(browser.get(started.headers["Location"]).text, "/login")
    answer = browser.post("/login", {**form, "username": username, "password": PASSWORD, **fields})
    return browser, answer, verifier


def passkey_fields(stack: LocalStack, html: str, key: SoftPasskey) -> dict[str, str]:
    """The second-factor page's passkey form, answered by `key` as the script would."""
    fields = form_for(html, constants.SECOND_FACTOR_PATH, method="passkey")
    credential = key.get(options_in(html, "data-passkey-get"), origin=origin_of(stack))
    return {**fields, "credential": credential}


def id_token(stack: LocalStack, browser: Browser, answer: Any, verifier: str) -> dict[str, Any]:
    done = browser.until_client(answer)
    query = query_of(done.headers["Location"])
    tokens = exchange(
        stack, CodeResult(query["code"], verifier, query.get("state", ""), query, browser)
    )
    assert tokens.status_code == 200, tokens.text
    claims: dict[str, Any] = jwt.decode(
        tokens.json()["id_token"], options={"verify_signature": False}
    )
    return claims


def test_k6_a_passkey_is_the_second_factor_and_only_the_users_own(stack: LocalStack) -> None:
    _, key = user_with_passkey(stack, "pk-2fa-e2e")
    _, strangers = user_with_passkey(stack, "pk-2fa-e2e-other")
    # A password alone signs this user in (a passkey does not turn two-step verification on).
    alone, answer, verifier = password_step(stack, "pk-2fa-e2e")
    assert answer.status_code == 303
    assert id_token(stack, alone, answer, verifier)["amr"] == ["pwd"]
    # An app that asks for more than a password: the passkey is the second factor.
    browser, asked, verifier = password_step(stack, "pk-2fa-e2e", acr_values=constants.ACR_MFA)
    assert asked.status_code == 200 and "Use your passkey" in asked.text
    assert browser.http.cookies.get("session") is None
    # Another user's passkey, answering this step's challenge: refused, and no session.
    refused = browser.post(
        constants.SECOND_FACTOR_PATH, passkey_fields(stack, asked.text, strangers)
    )
    assert refused.status_code == 200 and "could not confirm it is you" in unescape(refused.text)
    assert browser.http.cookies.get("session") is None
    failures = [
        r for r in tail(stack, "second_factor.failure") if r.get("username") == "pk-2fa-e2e"
    ]
    assert failures and failures[-1]["detail"] == {"reason": "wrong_user"}
    # The user's own passkey: signed in with both factors.
    done = browser.post(constants.SECOND_FACTOR_PATH, passkey_fields(stack, refused.text, key))
    assert done.status_code == 303, done.text
    claims = id_token(stack, browser, done, verifier)
    assert (claims["amr"], claims["acr"]) == (["pwd", "hwk", "mfa"], constants.ACR_MFA)


def test_k7_a_passkey_sign_in_with_a_temporary_password_is_told_to_replace_it(
    stack: LocalStack,
) -> None:
    _, key = user_with_passkey(stack, "pk-temporary-e2e")
    reset = oauthctl(
        stack, "users", "set-password", "pk-temporary-e2e", "--password-stdin", "--temporary",
        stdin="a temporary password 1\n",
    )  # fmt: skip
    assert reset.returncode == 0, reset.stderr
    browser = Browser(stack)
    page, fields, _ = login_page(browser)
    answer = key.get(options_in(page, "data-passkey-get"), origin=origin_of(stack))
    refused = browser.post("/login/passkey", {**fields, "credential": answer})
    assert refused.status_code == 200 and "Your password was reset" in unescape(refused.text)
    assert browser.http.cookies.get("session") is None
    reasons = [
        r["detail"]
        for r in tail(stack, "passkey.refused")
        if r.get("username") == "pk-temporary-e2e"
    ]
    assert {"reason": "password_change_required"} in reasons


def test_k8_a_passkey_added_after_a_password_sign_in_then_not_now(stack: LocalStack) -> None:
    oauthctl(stack, "users", "create", "pk-offer-e2e", "--password-stdin", stdin=PASSWORD + "\n")
    browser, offered, verifier = password_step(stack, "pk-offer-e2e", offer_passkey="1")
    assert offered.status_code == 200 and "Sign in faster next time?" in offered.text
    creation = options_in(offered.text, "data-passkey-create")
    assert creation["rp"]["id"] == "localhost"
    key = SoftPasskey("localhost")
    fields = form_for(offered.text, "/login/passkey-offer", action="add")
    made = key.create(creation, origin=origin_of(stack))
    added = browser.post("/login/passkey-offer", {**fields, "credential": made})
    assert added.status_code == 303, added.text
    assert id_token(stack, browser, added, verifier)["amr"] == ["pwd"]
    listed = oauthctl(stack, "users", "passkeys", "list", "pk-offer-e2e", "--output", "json")
    assert [p["credential_id"] for p in json.loads(listed.stdout)] == [key.id]
    assert any(
        r["detail"] == {"synced": False, "by": "sign-in"} for r in tail(stack, "passkey.added")
    )

    # Another user declines: the sign-in goes on unchanged, and this browser is not asked again.
    oauthctl(stack, "users", "create", "pk-offer-later", "--password-stdin", stdin=PASSWORD + "\n")
    browser, offered, verifier = password_step(stack, "pk-offer-later", offer_passkey="1")
    later = browser.post(
        "/login/passkey-offer", form_for(offered.text, "/login/passkey-offer", action="later")
    )
    assert later.status_code == 303
    assert id_token(stack, browser, later, verifier)["amr"] == ["pwd"]
    assert browser.http.cookies.get("passkey_offer") == "later"
    browser.http.cookies.set("session", None)  # signed out, then back in this browser
    _, form, _ = login_page(browser)
    again = browser.post(
        "/login", {**form, "username": "pk-offer-later", "password": PASSWORD, "offer_passkey": "1"}
    )
    assert again.status_code == 303 and "Sign in faster" not in again.text


def test_an_operator_lists_and_removes_a_users_passkeys_and_delete_takes_them(
    stack: LocalStack,
) -> None:
    _, lost = user_with_passkey(stack, "pk-operator-e2e")
    account, kept = user_with_passkey(stack, "pk-operator-e2e-2")
    listed = oauthctl(stack, "users", "passkeys", "list", "pk-operator-e2e", "--output", "json")
    assert listed.returncode == 0, listed.stderr
    (shown,) = json.loads(listed.stdout)
    assert shown["credential_id"] == lost.id and shown["name"] == "e2e key"
    assert "public_key" not in shown and "user_handle" not in shown
    table = oauthctl(stack, "users", "passkeys", "list", "pk-operator-e2e")
    assert table.stdout.splitlines()[0].split() == [
        "CREDENTIAL_ID", "NAME", "CREATED", "LAST_USED", "SYNCED", "SUSPENDED",
    ]  # fmt: skip
    # Another user's passkey is not this user's to remove.
    other = oauthctl(stack, "users", "passkeys", "remove", "pk-operator-e2e", "--", kept.id)
    assert other.returncode == 1 and "has no passkey" in other.stderr
    removed = oauthctl(stack, "users", "passkeys", "remove", "pk-operator-e2e", "--", lost.id)
    assert removed.returncode == 0, removed.stderr
    changes = [
        r
        for r in tail(stack, "admin.change")
        if isinstance(r["detail"], dict) and r["detail"]["command"] == "users passkeys remove"
    ]
    assert changes and changes[-1]["username"] == "pk-operator-e2e"
    assert lost.id not in json.dumps(changes[-1])  # the record names the option, not the value
    # The removed passkey signs no one in any more.
    browser = Browser(stack)
    page, fields, _ = login_page(browser)
    answer = lost.get(options_in(page, "data-passkey-get"), origin=origin_of(stack))
    refused = browser.post("/login/passkey", {**fields, "credential": answer})
    assert refused.status_code == 200 and "could not sign you in" in unescape(refused.text)
    assert (
        json.loads(
            oauthctl(
                stack, "users", "passkeys", "list", "pk-operator-e2e", "--output", "json"
            ).stdout
        )
        == []
    )

    # Deleting a user deletes their passkeys from the table.
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=stack.aws_endpoint, region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )  # fmt: skip
    key = {"credential_id": {"S": kept.id}}
    assert "Item" in dynamodb.get_item(TableName="oauth-passkeys", Key=key)
    assert oauthctl(stack, "users", "delete", "pk-operator-e2e-2").returncode == 0
    assert "Item" not in dynamodb.get_item(TableName="oauth-passkeys", Key=key)
    assert account.get("/account").status_code == 200  # its page is the sign-in form again


def test_g1_the_offer_needs_the_csrf_token(stack: LocalStack) -> None:
    oauthctl(stack, "users", "create", "pk-offer-csrf", "--password-stdin", stdin=PASSWORD + "\n")
    browser, offered, _ = password_step(stack, "pk-offer-csrf", offer_passkey="1")
    fields = form_for(offered.text, "/login/passkey-offer", action="later")
    forged = browser.post("/login/passkey-offer", {**fields, "csrf_token": "forged" * 5})
    assert forged.status_code == 403
    assert (
        requests.post(f"{stack.issuer}/login/passkey-offer", data=fields, timeout=10).status_code
        == 403
    )
