"""Recovery and verification by e-mail over HTTP, against the local stack (SECURITY R1-R6): the
e-mails are read from moto's SES (local_stack.mailbox) and their links followed as a user
would."""

from __future__ import annotations

import re
from collections.abc import Iterator

import jwt
import pytest
import requests

from local_stack import mailbox
from tests.e2e.conftest import LocalStack, local_stack
from tests.e2e.flows import (
    WEB,
    WEB_REDIRECT,
    Browser,
    exchange,
    form_fields,
    get_code,
    refresh,
    session_from,
)
from tests.e2e.test_security_client_credentials import oauthctl

PASSWORD = "first password 1"
NEW_PASSWORD = "chosen password 2"
LINK = re.compile(r"(http://127\.0\.0\.1:\d+)(/[a-z/-]+)\?token=([A-Za-z0-9_-]+)")


def create_user(stack: LocalStack, username: str, email: str | None, verified: bool = True) -> None:
    claims = ["--claim", f"email={email}", "--claim", f"email_verified={str(verified).lower()}"]
    made = oauthctl(
        stack, "users", "create", username, *(claims if email else []), "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr


def mails_to(stack: LocalStack, address: str) -> list[mailbox.Mail]:
    return mailbox.to(stack.aws_endpoint, address)


def link_of(mail: mailbox.Mail) -> tuple[str, str]:
    """(path, token) of the message's one link."""
    (found,) = LINK.findall(mail.text)
    return found[1], found[2]


def forgot(browser: Browser, typed: str) -> requests.Response:
    page = browser.get("/forgot-password")
    assert page.status_code == 200, page.text
    return browser.post("/forgot-password", {**form_fields(page.text), "identifier": typed})


def reset_by_mail(stack: LocalStack, browser: Browser, username: str, address: str) -> str:
    """Ask for a link, follow it, choose NEW_PASSWORD; the token the link carried."""
    before = len(mails_to(stack, address))
    assert forgot(browser, username).status_code == 303
    mails = mails_to(stack, address)
    assert len(mails) == before + 1
    path, token = link_of(mails[-1])
    assert path == "/reset-password"
    page = browser.get(f"{path}?token={token}")
    assert page.status_code == 200 and "Choose a new password" in page.text
    done = browser.post(
        "/reset-password",
        {**form_fields(page.text), "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert done.status_code == 303 and done.headers["Location"] == "/account?done=reset"
    return token


def sign_in_at_account(browser: Browser, username: str, password: str) -> requests.Response:
    page = browser.get("/account")
    return browser.post(
        "/account/login", {**form_fields(page.text), "username": username, "password": password}
    )


def test_r1_every_forgot_password_request_gets_the_same_answer(stack: LocalStack) -> None:
    create_user(stack, "r1-verified", "r1-verified@example.org")
    create_user(stack, "r1-unverified", "r1-unverified@example.org", verified=False)
    create_user(stack, "r1-disabled", "r1-disabled@example.org")
    assert oauthctl(stack, "users", "disable", "r1-disabled").returncode == 0
    browser = Browser(stack, session_from("127.0.0.11"))
    answers = set()
    for typed in (
        "r1-verified",
        "r1-verified@example.org",
        "r1-unverified",
        "r1-unverified@example.org",
        "r1-disabled",
        "r1-nobody",
        "r1-nobody@example.org",
    ):
        answer = forgot(browser, typed)
        # All but what the gateway stamps on every answer: its date and request id.
        headers = {
            k.lower(): v
            for k, v in answer.headers.items()
            if k.lower() not in ("date", "apigw-requestid")
        }
        answers.add((answer.status_code, tuple(sorted(headers.items())), answer.content))
    assert len(answers) == 1
    ((status, sent_headers, _),) = answers
    assert status == 303 and dict(sent_headers)["location"] == "/forgot-password?sent=1"
    assert len(mails_to(stack, "r1-verified@example.org")) == 2
    for address in ("r1-unverified@example.org", "r1-disabled@example.org"):
        assert mails_to(stack, address) == []
    sent = browser.get("/forgot-password?sent=1")
    assert "If an account matches what you typed" in sent.text


def test_r2_a_mailed_reset_link_works_once_and_the_old_password_is_gone(
    stack: LocalStack,
) -> None:
    create_user(stack, "r2-user", "r2-user@example.org")
    browser = Browser(stack, session_from("127.0.0.12"))
    token = reset_by_mail(stack, browser, "r2-user", "r2-user@example.org")
    again = browser.get(f"/reset-password?token={token}")
    assert again.status_code == 400 and "This link does not work" in again.text
    fresh = Browser(stack, session_from("127.0.0.13"))
    assert "Incorrect username or password" in sign_in_at_account(fresh, "r2-user", PASSWORD).text
    assert sign_in_at_account(fresh, "r2-user", NEW_PASSWORD).status_code == 303
    mail = mails_to(stack, "r2-user@example.org")[-1]
    assert mail.subject == "Reset your password"
    assert "works once, within 15 minutes" in mail.text
    assert mail.headers["Auto-Submitted"] == "auto-generated"
    assert token in mail.html and "<img" not in mail.html


def test_r2_no_token_reaches_the_logs(stack: LocalStack) -> None:
    create_user(stack, "r2-logs", "r2-logs@example.org")
    token = reset_by_mail(stack, Browser(stack, session_from("127.0.0.14")), "r2-logs",
                          "r2-logs@example.org")  # fmt: skip
    logged = stack.output.read_text() + stack.audit_file.read_text()
    assert token not in logged
    assert "r2-logs@example.org" not in logged


def test_r3_a_source_over_its_limit_still_signs_in_with_the_password(
    sign_up_stack: LocalStack,
) -> None:
    stack = sign_up_stack  # RECOVERIES_PER_SOURCE=3 there
    create_user(stack, "r3-user", "r3-user@example.org")
    browser = Browser(stack, session_from("127.0.0.15"))
    statuses = [forgot(browser, "r3-user").status_code for _ in range(4)]
    assert statuses == [303, 303, 303, 429]
    assert sign_in_at_account(browser, "r3-user", PASSWORD).status_code == 303
    other = Browser(stack, session_from("127.0.0.25"))
    assert forgot(other, "r3-user").status_code == 303  # another source is not held back


def test_r4_a_reset_ends_every_session_and_grant(stack: LocalStack) -> None:
    create_user(stack, "r4-user", "r4-user@example.org")
    signed_in = Browser(stack, session_from("127.0.0.16"))
    result = get_code(stack, WEB, WEB_REDIRECT, browser=signed_in, username="r4-user",
                      password=PASSWORD)  # fmt: skip
    tokens = exchange(stack, result, WEB, WEB_REDIRECT).json()
    assert "refresh_token" in tokens
    assert "Signed in as r4-user" in signed_in.get("/account").text
    reset_by_mail(stack, Browser(stack, session_from("127.0.0.17")), "r4-user",
                  "r4-user@example.org")  # fmt: skip
    refused = refresh(stack, tokens["refresh_token"], client_id=WEB)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert "Sign in to see and manage your account" in signed_in.get("/account").text


def test_r5_a_changed_address_is_unverified_until_its_link_is_followed(
    stack: LocalStack,
) -> None:
    create_user(stack, "r5-user", "r5-old@example.org")
    changed = oauthctl(stack, "users", "update", "r5-user", "--claim", "email=r5-new@example.org")
    assert changed.returncode == 0, changed.stderr
    assert '"email_verified": false' in changed.stdout
    assert "sent to r5-new@example.org" in changed.stderr

    def id_token_says() -> bool:
        result = get_code(
            stack, WEB, WEB_REDIRECT, browser=Browser(stack, session_from("127.0.0.18")),
            username="r5-user", password=PASSWORD, scope="openid email",
        )  # fmt: skip
        id_token = exchange(stack, result, WEB, WEB_REDIRECT).json()["id_token"]
        claims = jwt.decode(id_token, options={"verify_signature": False})
        assert claims["email"] == "r5-new@example.org"
        return bool(claims["email_verified"])

    assert id_token_says() is False
    # No reset link goes to the unverified address.
    forgot(Browser(stack, session_from("127.0.0.19")), "r5-new@example.org")
    (mail,) = mails_to(stack, "r5-new@example.org")
    assert mail.subject == "Confirm your e-mail address"
    path, token = link_of(mail)
    browser = Browser(stack, session_from("127.0.0.20"))
    page = browser.get(f"{path}?token={token}")
    assert page.status_code == 200 and "r5-new@example.org" in page.text
    done = browser.post(path, form_fields(page.text))
    assert done.status_code == 303 and done.headers["Location"] == "/account?done=email_verified"
    assert id_token_says() is True
    assert browser.post(path, form_fields(page.text)).status_code == 400  # once


def test_r5_the_account_page_changes_the_address_with_the_current_password(
    stack: LocalStack,
) -> None:
    create_user(stack, "r5-page", "r5-page@example.org")
    browser = Browser(stack, session_from("127.0.0.21"))
    assert sign_in_at_account(browser, "r5-page", PASSWORD).status_code == 303
    page = browser.get("/account")
    fields = form_fields(page.text)
    csrf = fields["csrf_token"]
    wrong = browser.post(
        "/account/email",
        {"csrf_token": csrf, "action": "change", "email": "r5-page-new@example.org",
         "current_password": "not it"},
    )  # fmt: skip
    assert wrong.status_code == 400 and "current password is not right" in wrong.text
    done = browser.post(
        "/account/email",
        {"csrf_token": csrf, "action": "change", "email": "r5-page-new@example.org",
         "current_password": PASSWORD},
    )  # fmt: skip
    assert done.status_code == 303
    assert done.headers["Location"] == "/account?done=email_changed#email"
    shown = browser.get("/account?done=email_changed").text
    assert "not confirmed yet" in shown
    (notice,) = mails_to(stack, "r5-page@example.org")
    assert notice.subject == "Your e-mail address was changed"
    (verification,) = mails_to(stack, "r5-page-new@example.org")
    path, token = link_of(verification)
    confirm = browser.get(f"{path}?token={token}")
    browser.post(path, form_fields(confirm.text))
    assert "r5-page-new@example.org</strong>, confirmed." in browser.get("/account").text


def test_r6_sign_up_is_off_by_default(stack: LocalStack) -> None:
    assert Browser(stack).get("/sign-up").status_code == 404


@pytest.fixture(scope="module")
def sign_up_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack with self sign-up on, few recoveries per source and short-held answers."""
    env = {"SELF_SIGN_UP": "on", "RECOVERIES_PER_SOURCE": "3", "EMAIL_ANSWER_MS": "100"}
    with local_stack(tmp_path_factory, "sign-up-stack", env) as running:
        yield running


def sign_up(browser: Browser, username: str, email: str) -> requests.Response:
    page = browser.get("/sign-up")
    assert page.status_code == 200, page.text
    return browser.post(
        "/sign-up",
        {**form_fields(page.text), "username": username, "email": email,
         "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )  # fmt: skip


def test_r6_a_sign_up_is_created_by_its_mailed_link_only(sign_up_stack: LocalStack) -> None:
    stack = sign_up_stack
    browser = Browser(stack, session_from("127.0.0.22"))
    answer = sign_up(browser, "r6-new", "r6-new@example.org")
    assert answer.status_code == 303 and answer.headers["Location"] == "/sign-up?sent=1"
    assert (
        "Incorrect username or password" in sign_in_at_account(browser, "r6-new", NEW_PASSWORD).text
    )  # nothing exists yet
    (mail,) = mails_to(stack, "r6-new@example.org")
    path, token = link_of(mail)
    assert path == "/sign-up/confirm"
    page = browser.get(f"{path}?token={token}")
    fields = form_fields(page.text)
    # The link alone creates nothing: the password chosen at sign-up must be typed again.
    for typed in ("", "not the one chosen 7"):
        refused = browser.post(path, {**fields, "password": typed})
        assert refused.status_code == 400 and "not the password chosen at sign-up" in refused.text
    assert (
        "Incorrect username or password" in sign_in_at_account(browser, "r6-new", NEW_PASSWORD).text
    )  # nothing was made, and the link was not used up
    created = browser.post(path, {**fields, "password": NEW_PASSWORD})
    assert created.status_code == 303 and created.headers["Location"] == "/account?done=created"
    assert sign_in_at_account(browser, "r6-new", NEW_PASSWORD).status_code == 303
    shown = oauthctl(stack, "users", "show", "r6-new")
    assert '"email_verified": true' in shown.stdout


def test_r6_a_sign_up_with_someone_elses_address_is_not_theirs_to_finish(
    sign_up_stack: LocalStack,
) -> None:
    """Pre-registration: the attacker signs up with the victim's address; the victim's clicks,
    without the attacker's password, make nothing, and are limited like sign-in failures."""
    stack = sign_up_stack
    attacker = Browser(stack, session_from("127.0.0.25"))
    assert sign_up(attacker, "r6-victim", "r6-victim@example.org").status_code == 303
    (mail,) = mails_to(stack, "r6-victim@example.org")
    assert "If this was not you, ignore this e-mail: no account is made." in mail.text
    path, token = link_of(mail)
    victim = Browser(stack, session_from("127.0.0.26"))
    fields = form_fields(victim.get(f"{path}?token={token}").text)
    answers = [
        victim.post(path, {**fields, "password": f"victim guess {n}"}).status_code
        for n in range(12)
    ]
    assert answers == [400] * 10 + [429] * 2  # MAX_FAILED_ATTEMPTS (10) a username and source
    assert victim.post(path, {**fields, "password": NEW_PASSWORD}).status_code == 429
    shown = oauthctl(stack, "users", "show", "r6-victim")
    assert shown.returncode != 0  # no account


def test_r6_a_taken_username_and_a_used_address_get_the_same_answer(
    sign_up_stack: LocalStack,
) -> None:
    stack = sign_up_stack
    create_user(stack, "r6-taken", "r6-owner@example.org")
    browser = Browser(stack, session_from("127.0.0.23"))
    answers = [
        sign_up(browser, "r6-free", "r6-free@example.org"),
        sign_up(browser, "r6-taken", "r6-other@example.org"),
        sign_up(browser, "r6-another", "r6-owner@example.org"),
    ]
    assert len({(a.status_code, a.headers["Location"], a.content) for a in answers}) == 1
    assert "username is taken" in mails_to(stack, "r6-other@example.org")[0].text
    assert (
        "already belongs to your account r6-taken"
        in mails_to(stack, "r6-owner@example.org")[0].text
    )


def test_the_mailbox_reads_what_the_local_stack_sent(stack: LocalStack) -> None:
    create_user(stack, "mailbox-user", "mailbox-user@example.org")
    forgot(Browser(stack, session_from("127.0.0.24")), "mailbox-user")
    (mail,) = mails_to(stack, "mailbox-user@example.org")
    assert mail.sender == "Local sign-in <no-reply@example.com>"
    assert mail.text and mail.html
