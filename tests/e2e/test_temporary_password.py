"""A temporary password (oauthctl users set-password --temporary): right at sign-in, it opens
nothing until the user has chosen their own; the page refuses a mismatch, the temporary one
again and a short one; once changed, the mark is spent and the old password is gone."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import SPA_REDIRECT, Browser, authorize_params, form_fields, pkce_pair
from tests.e2e.test_security_client_credentials import oauthctl

USER, TEMPORARY, CHOSEN = "temp-user", "temporary pass 1", "my own password 2"


@pytest.fixture(scope="module")
def user(stack: LocalStack) -> str:
    made = oauthctl(stack, "users", "create", USER, "--password-stdin", stdin="first one!!\n")
    assert made.returncode == 0, made.stderr
    reset = oauthctl(
        stack, "users", "set-password", USER, "--temporary", "--password-stdin", stdin=TEMPORARY
    )
    assert reset.returncode == 0 and "temporary" in reset.stdout
    return USER


def test_a_temporary_password_must_be_replaced_before_anything_opens(
    stack: LocalStack, user: str
) -> None:
    browser = Browser(stack)
    start = browser.authorize(**authorize_params(challenge=pkce_pair()[1]))
    asked = browser.sign_in(start.headers["Location"], user, TEMPORARY)
    assert asked.status_code == 200 and "Choose a new password" in asked.text
    assert "Set-Cookie" not in asked.headers or "session" not in asked.headers["Set-Cookie"]
    fields = form_fields(asked.text)

    def choose(new: str, again: str) -> str:
        answer = browser.post(
            "/login/password", {**fields, "new_password": new, "confirm_password": again}
        )
        assert answer.status_code == 200, answer.text
        return answer.text

    assert "not the same" in choose(CHOSEN, CHOSEN + "x")
    assert "other than the temporary one" in choose(TEMPORARY, TEMPORARY)
    assert "at least 8 characters" in choose("short", "short")
    done = browser.post(
        "/login/password", {**fields, "new_password": CHOSEN, "confirm_password": CHOSEN}
    )
    assert done.status_code == 303
    final = browser.until_client(done, user, CHOSEN)
    assert final.headers["Location"].startswith(SPA_REDIRECT)

    spent = browser.post(
        "/login/password",
        {**fields, "new_password": "another one 3", "confirm_password": "another one 3"},
    )
    assert "Sign-in expired" in spent.text

    fresh = Browser(stack)
    again = fresh.authorize(**authorize_params(challenge=pkce_pair()[1]))
    refused = fresh.sign_in(again.headers["Location"], user, TEMPORARY)
    assert "Incorrect username or password" in refused.text
    allowed = fresh.sign_in(again.headers["Location"], user, CHOSEN)
    assert allowed.status_code == 303


def test_a_forged_password_step_opens_nothing(stack: LocalStack) -> None:
    browser = Browser(stack)
    start = browser.authorize(**authorize_params(challenge=pkce_pair()[1]))
    page = browser.get(start.headers["Location"])
    fields = form_fields(page.text)  # a real handle, but no password change marked in it
    forged = browser.post(
        "/login/password", {**fields, "new_password": CHOSEN, "confirm_password": CHOSEN}
    )
    assert "Sign-in expired" in forged.text
