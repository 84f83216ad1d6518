"""Two-step verification against the local stack (SECURITY M1-M6): an authenticator app set up
on the account page (the codes computed with pyotp from the key the page shows), sign-ins with
a code and with recovery codes, the guessing limits, the sealed step, step-up by `acr_values`
and by a client's `require_mfa`, what the ID tokens say, and `oauthctl users mfa reset`.

No test waits for the clock: after the code that sets the app up (this time step's), a sign-in
takes the next step's code, which RFC 6238's one step of drift accepts."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import jwt
import pyotp
import pytest
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import (
    SPA,
    SPA_REDIRECT,
    Browser,
    CodeResult,
    authorize_params,
    exchange,
    form_fields,
    pkce_pair,
    query_of,
    session_from,
)
from tests.e2e.test_security_client_credentials import oauthctl

PASSWORD = "two steps password 1"
ACR_MFA = "urn:oauth-serverless:acr:mfa"
ACR_PASSWORD = "urn:oauth-serverless:acr:pwd"
STRICT, STRICT_REDIRECT = "mfa-strict-app", "http://127.0.0.1:8409/callback"


def form_posting(html: str, target: str, **wanted: str) -> dict[str, str]:
    """The hidden fields of the page's form that posts to `target` with `wanted` among them."""
    for action, body in re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', html):
        fields = form_fields(body)
        if action == target and all(fields.get(k) == v for k, v in wanted.items()):
            return fields
    raise AssertionError(f"no form posting to {target} with {wanted}")


def new_user(stack: LocalStack, username: str) -> str:
    made = oauthctl(stack, "users", "create", username, "--password-stdin", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    return username


def account_sign_in(browser: Browser, username: str) -> requests.Response:
    page = browser.get("/account")
    fields = {**form_posting(page.text, "/account/login"), "username": username}
    return browser.post("/account/login", {**fields, "password": PASSWORD})


def secret_of(html: str) -> str:
    found = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', html)
    assert found, html
    return found.group(1).replace(" ", "")


def codes_of(html: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7-]+)</code></li>", html)


def enrolled(stack: LocalStack, username: str) -> tuple[str, list[str]]:
    """A new user who set up an authenticator app on the account page: its key and the
    recovery codes shown."""
    new_user(stack, username)
    browser = Browser(stack)
    assert account_sign_in(browser, username).status_code == 303
    page = browser.get("/account")
    assert "Set up an authenticator app" in page.text
    start = form_posting(page.text, "/account", action="totp_start")
    enrol = browser.post("/account", start)
    assert enrol.status_code == 200 and "<svg" in enrol.text
    secret = secret_of(enrol.text)
    confirm = {**form_posting(enrol.text, "/login/second-factor"), "code": pyotp.TOTP(secret).now()}
    saved = browser.post("/login/second-factor", confirm)
    assert saved.status_code == 200, saved.text
    codes = codes_of(saved.text)
    assert len(codes) == 10
    assert "Two-step verification is on" in browser.get("/account?done=mfa_on").text
    return secret, codes


def next_code(secret: str) -> str:
    """The next time step's code: one the app shows within 30 seconds, taken now (drift)."""
    return str(pyotp.TOTP(secret).at(time.time() + 30))


def password_step(
    browser: Browser, username: str, client_id: str = SPA, redirect_uri: str = SPA_REDIRECT,
    **extra: str,
) -> tuple[requests.Response, str]:  # fmt: skip
    """/authorize, then the right password: the answer, and the PKCE verifier."""
    verifier, challenge = pkce_pair()
    start = browser.authorize(**authorize_params(client_id, redirect_uri, challenge, **extra))
    return browser.sign_in(start.headers["Location"], username, PASSWORD), verifier


def id_token_of(stack: LocalStack, final: requests.Response, verifier: str) -> dict[str, Any]:
    """The ID token the SPA gets for the code `final` carries (verified with the JWKS)."""
    query = query_of(final.headers["Location"])
    result = CodeResult(query["code"], verifier, query.get("state", ""), query, Browser(stack))
    tokens = exchange(stack, result)
    assert tokens.status_code == 200, tokens.text
    token = tokens.json()["id_token"]
    keys = jwt.PyJWKClient(f"{stack.issuer}/.well-known/jwks.json")
    claims: dict[str, Any] = jwt.decode(
        token, keys.get_signing_key_from_jwt(token).key, algorithms=["RS256", "ES256"],
        audience=SPA, issuer=stack.issuer,
    )  # fmt: skip
    return claims


def test_m1_a_code_signs_in_once_and_the_id_token_says_both_factors(stack: LocalStack) -> None:
    secret, _ = enrolled(stack, "mfa-e2e-once")
    browser = Browser(stack)
    asked, verifier = password_step(browser, "mfa-e2e-once")
    assert asked.status_code == 200 and "Two-step verification" in asked.text
    assert "session" not in asked.headers.get("Set-Cookie", ""), "no session before the code"
    code = next_code(secret)
    done = browser.post("/login/second-factor", {**form_fields(asked.text), "code": code})
    final = browser.until_client(done)
    claims = id_token_of(stack, final, verifier)
    assert claims["amr"] == ["pwd", "otp", "mfa"]  # M6
    assert claims["acr"] == ACR_MFA
    # The same code again, within its window, after the right password: refused.
    again = Browser(stack)
    asked, _ = password_step(again, "mfa-e2e-once")
    replayed = again.post("/login/second-factor", {**form_fields(asked.text), "code": code})
    assert replayed.status_code == 200 and "That code is not right" in replayed.text


def test_m2_recovery_codes_work_once(stack: LocalStack) -> None:
    _, codes = enrolled(stack, "mfa-e2e-recovery")
    browser = Browser(stack)
    asked, verifier = password_step(browser, "mfa-e2e-recovery")
    done = browser.post("/login/second-factor", {**form_fields(asked.text), "code": codes[3]})
    assert id_token_of(stack, browser.until_client(done), verifier)["acr"] == ACR_MFA
    other = Browser(stack)
    asked, _ = password_step(other, "mfa-e2e-recovery")
    spent = other.post("/login/second-factor", {**form_fields(asked.text), "code": codes[3]})
    assert "That code is not right" in spent.text
    page = account_sign_in(Browser(stack), "mfa-e2e-recovery")
    assert page.status_code == 200  # the second factor, on the account page too


def test_m3_guessing_is_limited_per_user_and_source_not_for_the_user_elsewhere(
    stack: LocalStack,
) -> None:
    secret, _ = enrolled(stack, "mfa-e2e-guessed")
    guesser = Browser(stack)
    asked, _ = password_step(guesser, "mfa-e2e-guessed")
    fields = form_fields(asked.text)
    wrong = "000000" if next_code(secret) != "000000" else "999999"
    statuses = [
        guesser.post("/login/second-factor", {**fields, "code": wrong}).status_code
        for _ in range(11)
    ]
    assert statuses == [200] * 10 + [429]
    refused = guesser.post("/login/second-factor", {**fields, "code": next_code(secret)})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    elsewhere = Browser(stack, session_from("127.0.0.2"))
    asked, verifier = password_step(elsewhere, "mfa-e2e-guessed")
    done = elsewhere.post(
        "/login/second-factor", {**form_fields(asked.text), "code": next_code(secret)}
    )
    assert id_token_of(stack, elsewhere.until_client(done), verifier)["acr"] == ACR_MFA


def test_m4_the_second_step_needs_the_password_step_of_its_request(stack: LocalStack) -> None:
    secret, codes = enrolled(stack, "mfa-e2e-sealed")
    browser = Browser(stack)
    start = browser.authorize(**authorize_params(challenge=pkce_pair()[1]))
    login = browser.get(start.headers["Location"])
    forged = browser.post(
        "/login/second-factor", {**form_fields(login.text), "code": next_code(secret)}
    )
    assert forged.status_code == 400 and "Sign-in expired" in forged.text
    asked, _ = password_step(browser, "mfa-e2e-sealed")
    fields = form_fields(asked.text)
    assert browser.post("/login/second-factor", {**fields, "code": codes[0]}).status_code == 303
    reused = browser.post("/login/second-factor", {**fields, "code": codes[1]})
    assert reused.status_code == 400, "a mark opens one second factor"


def test_m5_acr_values_step_a_password_session_up_to_a_second_factor(stack: LocalStack) -> None:
    new_user(stack, "mfa-e2e-stepup")
    browser = Browser(stack)
    first, verifier = password_step(browser, "mfa-e2e-stepup")
    first_claims = id_token_of(stack, browser.until_client(first), verifier)
    assert first_claims["amr"] == ["pwd"] and first_claims["acr"] == ACR_PASSWORD
    verifier, challenge = pkce_pair()
    asked = browser.authorize(**authorize_params(challenge=challenge, acr_values=ACR_MFA))
    where = asked.headers["Location"]
    assert where.startswith("/login/second-factor?"), where  # not a sign-in, not a code
    enrol = browser.get(where)
    assert enrol.status_code == 200 and "Set up an authenticator app" in enrol.text
    confirm = {
        **form_fields(enrol.text),
        "code": pyotp.TOTP(secret_of(enrol.text)).now(),
    }
    saved = browser.post("/login/second-factor", confirm)
    assert len(codes_of(saved.text)) == 10
    final = browser.post("/login/continue", form_fields(saved.text))
    claims = id_token_of(stack, browser.until_client(final), verifier)
    assert claims["acr"] == ACR_MFA and claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["auth_time"] == first_claims["auth_time"]  # the first sign-in's (M6)
    silent = browser.authorize(
        **authorize_params(challenge=pkce_pair()[1], acr_values=ACR_MFA, prompt="none")
    )
    assert "code" in query_of(silent.headers["Location"]), "the session is stepped up now"


def test_m5_prompt_none_that_needs_a_second_factor_is_interaction_required(
    stack: LocalStack,
) -> None:
    new_user(stack, "mfa-e2e-silent")
    browser = Browser(stack)
    first, _ = password_step(browser, "mfa-e2e-silent")
    browser.until_client(first)
    silent = browser.authorize(
        **authorize_params(challenge=pkce_pair()[1], acr_values=ACR_MFA, prompt="none")
    )
    assert query_of(silent.headers["Location"])["error"] == "interaction_required"


@pytest.fixture(scope="module")
def strict_client(stack: LocalStack) -> str:
    made = oauthctl(
        stack, "clients", "create", STRICT, "--grant-type", "authorization_code",
        "--redirect-uri", STRICT_REDIRECT, "--scope", "openid", "--auth-method", "none",
        "--first-party", "--require-mfa",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    shown = json.loads(oauthctl(stack, "clients", "show", STRICT).stdout)
    assert shown["require_mfa"] is True
    time.sleep(2.2)  # the functions' copies of the clients (2 s here)
    return STRICT


def test_m5_a_client_requiring_mfa_has_a_user_without_one_set_it_up(
    stack: LocalStack, strict_client: str
) -> None:
    new_user(stack, "mfa-e2e-strict")
    browser = Browser(stack)
    enrol, _ = password_step(
        browser, "mfa-e2e-strict", strict_client, STRICT_REDIRECT, scope="openid"
    )
    assert enrol.status_code == 200 and "This sign-in needs a second step" in enrol.text
    confirm = {**form_fields(enrol.text), "code": pyotp.TOTP(secret_of(enrol.text)).now()}
    saved = browser.post("/login/second-factor", confirm)
    final = browser.post("/login/continue", form_fields(saved.text))
    assert final.status_code == 303 and final.headers["Location"].startswith(STRICT_REDIRECT)
    assert "code" in query_of(final.headers["Location"])


def test_m5_oauthctl_shows_and_resets_a_users_second_factor(stack: LocalStack) -> None:
    enrolled(stack, "mfa-e2e-reset")
    shown = json.loads(oauthctl(stack, "users", "show", "mfa-e2e-reset").stdout)
    assert shown["mfa"] is True and not any("secret" in key for key in shown)
    reset = oauthctl(stack, "users", "mfa", "reset", "mfa-e2e-reset")
    assert reset.returncode == 0 and "reset" in reset.stdout, reset.stderr
    assert json.loads(oauthctl(stack, "users", "show", "mfa-e2e-reset").stdout)["mfa"] is False
    browser = Browser(stack)
    signed_in, _ = password_step(browser, "mfa-e2e-reset")
    assert signed_in.status_code == 303, "the password alone signs in again"


def test_m6_discovery_lists_the_acr_values(stack: LocalStack) -> None:
    document = requests.get(f"{stack.issuer}/.well-known/openid-configuration", timeout=10).json()
    assert document["acr_values_supported"] == [ACR_PASSWORD, ACR_MFA]
    assert {"acr", "amr"} <= set(document["claims_supported"])


def test_deleting_a_user_removes_their_second_factors(stack: LocalStack) -> None:
    import boto3

    enrolled(stack, "mfa-e2e-deleted")
    sub = json.loads(oauthctl(stack, "users", "show", "mfa-e2e-deleted").stdout)["sub"]
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=stack.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )

    def item() -> dict[str, Any] | None:
        found: dict[str, Any] | None = dynamodb.get_item(
            TableName="oauth-factors", Key={"sub": {"S": sub}}
        ).get("Item")
        return found

    assert item() is not None and "totp_secret" in item()  # type: ignore[operator]
    assert oauthctl(stack, "users", "delete", "mfa-e2e-deleted").returncode == 0
    assert item() is None
