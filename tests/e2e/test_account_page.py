"""The account page over HTTP: sign in there, see the apps allowed, remove one (its refresh token
refused at once, its consent asked again), change the password (the current one needed; other
sign-ins end), sign out everywhere, a temporary password replaced, and the G1 CSRF check on
every form; each change in the audit trail."""

from __future__ import annotations

import json
import re

import pytest
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import SPA, Browser, authorize_params, exchange, get_code, refresh
from tests.e2e.test_security_client_credentials import oauthctl
from tests.support import pkce_pair

PASSWORD = "account page password 1"
FORM = re.compile(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', re.DOTALL)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def forms(html: str) -> list[tuple[str, dict[str, str]]]:
    """Each form of a page: its action and hidden fields."""
    return [(action, dict(HIDDEN.findall(body))) for action, body in FORM.findall(html)]


def form_for(html: str, target_path: str, **wanted: str) -> dict[str, str]:
    for target, fields in forms(html):
        if target == target_path and all(fields.get(k) == v for k, v in wanted.items()):
            return fields
    raise AssertionError(f"no form for {target_path} {wanted} in {forms(html)}")


def new_user(stack: LocalStack, username: str, password: str = PASSWORD) -> None:
    made = oauthctl(stack, "users", "create", username, "--password-stdin", stdin=password + "\n")
    assert made.returncode == 0, made.stderr
    named = oauthctl(stack, "users", "update", username, "--claim", "name=Avery Account")
    assert named.returncode == 0, named.stderr


def account_sign_in(browser: Browser, username: str, password: str = PASSWORD) -> str:
    """Signs in on the account page; the page's HTML."""
    page = browser.get("/account")
    assert page.status_code == 200 and "Sign in to see and manage your account" in page.text
    fields = form_for(page.text, "/account/login")
    done = browser.post("/account/login", {**fields, "username": username, "password": password})
    assert done.status_code == 303, done.text
    assert done.headers["Location"] == "/account?done=signed_in"
    shown = browser.get("/account")
    assert shown.status_code == 200
    return shown.text


def tail(stack: LocalStack, event: str) -> list[dict[str, object]]:
    shown = oauthctl(stack, "audit", "tail", "-n", "1000", "--output", "json", "--event", event)
    assert shown.returncode == 0, shown.stderr
    return list(json.loads(shown.stdout))


def test_remove_access_revokes_the_apps_grant_and_consent(stack: LocalStack) -> None:
    user = "account-remove"
    new_user(stack, user)
    code = get_code(stack, username=user, password=PASSWORD)
    tokens = exchange(stack, code).json()
    browser = Browser(stack)
    page = account_sign_in(browser, user)
    assert "Avery Account" in page and f"Signed in as {user}" in page
    assert "Read your data" in page and "It can use this access while you are away" in page
    remove = form_for(page, "/account", action="remove", client_id=SPA)

    gone = browser.post("/account", remove)
    assert gone.status_code == 303 and gone.headers["Location"] == "/account?done=removed"
    after = browser.get(gone.headers["Location"]).text
    assert "access was removed" in after and "You have not allowed any app" in after
    refused = refresh(stack, tokens["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    # The consent is gone too: the app must ask again.
    again = code.browser.authorize(**authorize_params(challenge=pkce_pair()[1]))
    assert again.headers["Location"].startswith("/consent")
    withdrawn = [r for r in tail(stack, "consent.withdrawn") if r.get("client_id") == SPA]
    assert any(r["detail"] == {"grants": "1"} or r["detail"] == {"grants": 1} for r in withdrawn)


def test_changing_the_password_needs_the_current_one_and_ends_other_sign_ins(
    stack: LocalStack,
) -> None:
    user, new = "account-password", "account page password 2"
    new_user(stack, user)
    elsewhere = Browser(stack)
    account_sign_in(elsewhere, user)
    browser = Browser(stack)
    page = account_sign_in(browser, user)
    change = form_for(page, "/account", action="password")

    def attempt(current: str, chosen: str, again: str) -> str:
        answer = browser.post(
            "/account",
            {**change, "current_password": current, "new_password": chosen,
             "confirm_password": again},
        )  # fmt: skip
        assert answer.status_code == 400, answer.text
        return answer.text

    assert "current password is not right" in attempt("wrong current one", new, new)
    assert "not the same" in attempt(PASSWORD, new, new + "x")
    assert "at least 8 characters" in attempt(PASSWORD, "short", "short")
    done = browser.post(
        "/account",
        {**change, "current_password": PASSWORD, "new_password": new, "confirm_password": new},
    )
    assert done.status_code == 303 and done.headers["Location"] == "/account?done=password"
    assert "Your password was changed" in browser.get("/account?done=password").text
    # The other browser's sign-in ended; the old password opens nothing, the new one does.
    assert "Sign in to see and manage" in elsewhere.get("/account").text
    fresh = Browser(stack)
    login = form_for(fresh.get("/account").text, "/account/login")
    old = fresh.post("/account/login", {**login, "username": user, "password": PASSWORD})
    assert old.status_code == 200 and "Incorrect username or password" in old.text
    account_sign_in(Browser(stack), user, new)
    assert any(r.get("username") == user for r in tail(stack, "password.changed"))


def test_sign_out_everywhere_ends_every_session(stack: LocalStack) -> None:
    user = "account-everywhere"
    new_user(stack, user)
    elsewhere = Browser(stack)
    account_sign_in(elsewhere, user)
    browser = Browser(stack)
    page = account_sign_in(browser, user)
    ended = browser.post("/account", form_for(page, "/account", action="sign_out_everywhere"))
    assert ended.status_code == 303 and ended.headers["Location"] == "/account?done=signed_out"
    shown = browser.get(ended.headers["Location"]).text
    assert "signed out everywhere" in shown and "Sign in to see and manage" in shown
    assert "Sign in to see and manage" in elsewhere.get("/account").text
    records = [r for r in tail(stack, "sessions.ended") if r.get("username") == user]
    assert records and records[-1]["detail"] in ({"sessions": "2"}, {"sessions": 2})


def test_a_temporary_password_is_replaced_on_the_account_page(stack: LocalStack) -> None:
    user, temporary, chosen = "account-temporary", "temporary password 9", "chosen password 9"
    new_user(stack, user)
    reset = oauthctl(
        stack, "users", "set-password", user, "--temporary", "--password-stdin", stdin=temporary
    )
    assert reset.returncode == 0, reset.stderr
    browser = Browser(stack)
    login = form_for(browser.get("/account").text, "/account/login")
    asked = browser.post("/account/login", {**login, "username": user, "password": temporary})
    assert asked.status_code == 200 and "Choose a new password" in asked.text
    fields = form_for(asked.text, "/account/password")
    # An account handle opens nothing at the sign-in page's own step.
    elsewhere = browser.post(
        "/login/password", {**fields, "new_password": chosen, "confirm_password": chosen}
    )
    assert "Sign-in expired" in elsewhere.text
    done = browser.post(
        "/account/password", {**fields, "new_password": chosen, "confirm_password": chosen}
    )
    assert done.status_code == 303 and done.headers["Location"] == "/account?done=signed_in"
    assert f"Signed in as {user}" in browser.get("/account").text


def test_g1_every_account_form_needs_its_csrf_token(stack: LocalStack) -> None:
    user = "account-csrf"
    new_user(stack, user)
    browser = Browser(stack)
    page = account_sign_in(browser, user)
    for action, fields in forms(page):
        forged = browser.post(action, {**fields, "csrf_token": "x" * 43})
        assert forged.status_code == 403, (action, forged.status_code)
    login = form_for(Browser(stack).get("/account").text, "/account/login")
    stranger = Browser(stack)  # no CSRF cookie of its own
    refused = stranger.post("/account/login", {**login, "username": user, "password": PASSWORD})
    assert refused.status_code == 403
    assert f"Signed in as {user}" in browser.get("/account").text  # nothing happened


def test_d8_a_disabled_users_session_shows_the_sign_in_form(stack: LocalStack) -> None:
    user = "account-disabled"
    new_user(stack, user)
    browser = Browser(stack)
    account_sign_in(browser, user)
    assert oauthctl(stack, "users", "disable", user).returncode == 0
    assert "Sign in to see and manage" in browser.get("/account").text


@pytest.mark.parametrize("path", ["/login", "/logout"])
def test_the_sign_in_and_sign_out_pages_link_to_the_account_page(
    stack: LocalStack, path: str
) -> None:
    browser = Browser(stack)
    if path == "/login":
        start = browser.authorize(**authorize_params(challenge=pkce_pair()[1]))
        path = start.headers["Location"]
    assert 'href="/account"' in browser.get(path).text


def test_unknown_action_is_a_clear_error(stack: LocalStack) -> None:
    user = "account-unknown-action"
    new_user(stack, user)
    browser = Browser(stack)
    page = account_sign_in(browser, user)
    fields = form_for(page, "/account", action="sign_out_everywhere")
    answer = browser.post("/account", {**fields, "action": "delete_everything"})
    assert answer.status_code == 400


def test_g3_the_account_page_sends_the_browser_hardening_headers(stack: LocalStack) -> None:
    page = Browser(stack).get("/account")
    for header, value in (
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ):
        assert page.headers[header] == value
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def account_sign_in_answer(stack: LocalStack, user: str, planted: str) -> requests.Response:
    new_user(stack, user)
    browser = Browser(stack)
    browser.http.cookies.set("session", planted)
    login = form_for(browser.get("/account").text, "/account/login")
    return browser.post("/account/login", {**login, "username": user, "password": PASSWORD})


def test_g4_the_account_sign_in_answers_303(stack: LocalStack) -> None:
    assert account_sign_in_answer(stack, "account-g4", "x" * 43).status_code == 303


def test_g2_the_account_sign_in_sets_a_fresh_flagged_session_cookie(stack: LocalStack) -> None:
    planted = "planted-session-id-" + "x" * 30
    cookie = account_sign_in_answer(stack, "account-g2", planted).headers["set-cookie"]
    fresh = cookie.split("session=", 1)[1].split(";", 1)[0]
    assert fresh and fresh != planted
    for flag in ("HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
