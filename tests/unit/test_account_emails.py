"""Recovery and verification by e-mail on the in-memory stores (SECURITY R1-R6): the pages, the
links they mail (read from the fake mailer) and what following them does."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from dataclasses import replace
from html import unescape
from typing import Any

import pytest

from oauth_core import constants
from oauth_core.admin.account_emails import AccountEmails
from oauth_core.clock import FixedClock
from oauth_core.config import Settings
from oauth_core.endpoints.email_links import AnswerPace, EmailLinkPages
from oauth_core.endpoints.signin import PasswordSignIn
from oauth_core.errors import TooManyRequests
from oauth_core.http.answers import page_answer
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.keys import KeySet
from oauth_core.models import Session, User
from oauth_core.rules import email_limits
from oauth_core.rules.hashing import token_hash
from oauth_core.storage.memory_email import MemoryEmailLinkStore, MemoryMailer, SentEmail
from oauth_core.wiring import Components, endpoints_for, memory_components
from tests.support import ISSUER, form_fields, form_request

CSRF = "c" * 43
SENDER = "Example sign-in <no-reply@example.com>"
PASSWORD = "the first password 1"
NEW_PASSWORD = "a brand new password 2"
LINK = re.compile(r"https://auth\.example\.com(/[a-z/-]+)\?token=([A-Za-z0-9_-]+)")
HOLD_MS = 1000


def settings(**changes: Any) -> Settings:
    return replace(Settings(issuer=ISSUER, email_sender=SENDER, email_answer_ms=1), **changes)


@pytest.fixture
def services(clock: FixedClock, session_keys: KeySet) -> Components:
    return memory_components(settings(self_sign_up=True), clock=clock, keys=session_keys)


def mailer(services: Components) -> MemoryMailer:
    assert isinstance(services.mailer, MemoryMailer)
    return services.mailer


def links(services: Components) -> MemoryEmailLinkStore:
    assert isinstance(services.email_links, MemoryEmailLinkStore)
    return services.email_links


def emails(services: Components) -> AccountEmails:
    assert services.account_emails is not None
    return services.account_emails


def make_user(
    services: Components, username: str, email: str | None, *, verified: bool = True
) -> User:
    claims: dict[str, Any] = {}
    if email is not None:
        claims = {"email": email, "email_verified": verified}
    return services.user_directory.create(username, PASSWORD, claims)


class Pages:
    """The login function's pages, called as the dispatch calls them (errors as pages)."""

    def __init__(self, services: Components, source: str = "198.51.100.7"):
        self.endpoints = endpoints_for("login", services)
        self.cookies = services.flow.cookies
        self.source = source

    def _request(
        self, method: str, path: str, fields: dict[str, str], query: str, csrf: bool, cookie: str
    ) -> HttpRequest:
        cookies = [cookie] if cookie else []
        if csrf:
            cookies.append(f"{self.cookies.name('csrf')}={CSRF}")
            fields = {"csrf_token": CSRF, **fields}
        request = form_request(
            fields,
            path=path,
            method=method,
            query=query,
            headers={"cookie": "; ".join(cookies)} if cookies else {},
        )
        return replace(request, source_ip=self.source)

    def call(
        self,
        endpoint: str,
        fields: dict[str, str] | None = None,
        *,
        method: str = "POST",
        path: str = "/",
        query: str = "",
        csrf: bool = True,
        cookie: str = "",
    ) -> HttpResponse:
        request = self._request(method, path, fields or {}, query, csrf, cookie)
        try:
            return self.endpoints[endpoint](request)
        except Exception as exc:
            return page_answer(request, exc)

    def forgot(self, typed: str) -> HttpResponse:
        return self.call("forgot_password", {"identifier": typed})


def link_in(message: SentEmail) -> tuple[str, str]:
    """(path, token) of the one link of ours a message carries, in its text and its HTML."""
    found = LINK.findall(message.text)
    assert len(found) == 1, message.text
    assert found[0] == LINK.findall(unescape(message.html))[0]
    return found[0]


def comparable(response: HttpResponse) -> tuple[int, dict[str, str], str, list[str]]:
    return response.status_code, dict(response.headers), response.body, list(response.cookies)


# --- R1: no account enumeration ------------------------------------------------------------------


def test_r1_forgot_password_answers_byte_for_byte_alike_whoever_is_named(
    services: Components,
) -> None:
    make_user(services, "verified", "verified@example.org")
    make_user(services, "unverified", "unverified@example.org", verified=False)
    make_user(services, "no-address", None)
    disabled = make_user(services, "disabled", "disabled@example.org")
    services.user_directory.set_disabled(disabled.username, True)
    pages = Pages(services)
    answers = {
        typed: comparable(pages.forgot(typed))
        for typed in (
            "verified",
            "VERIFIED@example.org",
            "unverified",
            "unverified@example.org",
            "no-address",
            "disabled",
            "disabled@example.org",
            "nobody",
            "nobody@example.org",
        )
    }
    first = next(iter(answers.values()))
    assert first[0] == 303 and first[1]["Location"] == "/forgot-password?sent=1"
    assert all(answer == first for answer in answers.values()), answers
    # Only the account with a verified address (asked for by name and by address) got mail.
    assert [m.to for m in mailer(services).sent] == ["verified@example.org"] * 2


class Recording:
    """Wraps a store and records which of its operations were called, in order."""

    def __init__(self, inner: Any, calls: list[str], name: str):
        self._inner, self._calls, self._name = inner, calls, name

    def __getattr__(self, attribute: str) -> Any:
        found = getattr(self._inner, attribute)
        if not callable(found):
            return found

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(f"{self._name}.{attribute}")
            return found(*args, **kwargs)

        return recorded


class SlowMailer(MemoryMailer):
    """A mailer that takes 250 ms of the clock to send, as SES takes its time."""

    def __init__(self, clock: FixedClock):
        super().__init__()
        self._clock = clock

    def send(self, to: str, subject: str, text: str, html: str) -> None:
        self._clock.advance_ms(250)
        super().send(to, subject, text, html)


@pytest.mark.parametrize(
    "typed",
    [("alice", "nobody", "bob"), ("alice@example.org", "no@example.org", "bob@example.org")],
)
def test_r1_the_same_lookups_and_the_same_time_whoever_is_named(
    clock: FixedClock, session_keys: KeySet, typed: tuple[str, str, str]
) -> None:
    components = memory_components(
        settings(email_answer_ms=HOLD_MS), clock=clock, keys=session_keys
    )
    make_user(components, "alice", "alice@example.org")
    make_user(components, "bob", "bob@example.org", verified=False)
    calls: list[str] = []
    slow = SlowMailer(clock)
    account_emails = AccountEmails(
        Recording(components.users, calls, "users"),
        Recording(components.email_index, calls, "index"),
        components.user_directory,
        links(components),
        slow,
        replace_limiter(components, calls),
        clock,
        components.random,
    )
    pace = AnswerPace(clock, HOLD_MS, sleep=lambda seconds: clock.advance_ms(round(seconds * 1000)))
    pages = EmailLinkPages(
        components.flow,
        account_emails,
        account_emails._limits,
        components.settings,
        pace,
        components.random,
    )
    known, unknown, unverified = typed
    seen: dict[str, tuple[list[str], int, tuple[Any, ...]]] = {}
    for name in typed:
        calls.clear()
        started = clock.now_ms()
        request = replace(
            form_request(
                {"csrf_token": CSRF, "identifier": name},
                path="/forgot-password",
                headers={"cookie": f"{components.flow.cookies.name('csrf')}={CSRF}"},
            ),
            source_ip="203.0.113.9",
        )
        answer = pages.forgot(request)
        seen[name] = (list(calls), clock.now_ms() - started, comparable(answer))
    assert len(slow.sent) == 1 and slow.sent[0].to == "alice@example.org"
    # The same questions of the same stores, the same answer, and it left at the same time:
    # the known account's send (250 ms here) was inside the hold.
    assert seen[known][0] == seen[unknown][0] == seen[unverified][0]
    assert seen[known][1] == seen[unknown][1] == seen[unverified][1] == HOLD_MS
    assert seen[known][2] == seen[unknown][2] == seen[unverified][2]


def replace_limiter(components: Components, calls: list[str]) -> Any:
    from oauth_core.rules.email_limits import EmailLimits

    limiter = Recording(components.rate_limiter, calls, "buckets")
    return EmailLimits(limiter, components.settings, components.clock)


def test_r1_a_failed_send_gives_the_same_answer(services: Components) -> None:
    make_user(services, "alice", "alice@example.org")
    pages = Pages(services)
    sent = comparable(pages.forgot("alice"))
    mailer(services).failing = True
    failed = comparable(pages.forgot("alice"))
    assert sent == failed and len(mailer(services).sent) == 1


# --- R2: reset links -----------------------------------------------------------------------------


def reset_link(services: Components, pages: Pages, username: str = "alice") -> str:
    pages.forgot(username)
    path, token = link_in(mailer(services).sent[-1])
    assert path == constants.RESET_PASSWORD_PATH
    return token


def choose(pages: Pages, token: str, new: str = NEW_PASSWORD, again: str | None = None) -> Any:
    return pages.call(
        "reset_password",
        {"token": token, "new_password": new, "confirm_password": new if again is None else again},
    )


def test_r2_a_reset_link_opens_a_page_and_works_once(services: Components) -> None:
    user = make_user(services, "alice", "alice@example.org")
    pages = Pages(services)
    token = reset_link(services, pages)
    for _ in range(2):  # looking at it (a mail scanner does) uses nothing up
        shown = pages.call("reset_password_page", method="GET", query=f"token={token}")
        assert shown.status_code == 200 and "Choose a new password" in shown.body
        assert form_fields(shown.body)["token"] == token
    done = choose(pages, token)
    assert done.status_code == 303 and done.headers["Location"] == "/account?done=reset"
    changed = services.users.get("alice")
    assert changed is not None and changed.password_hash != user.password_hash
    again = choose(pages, token, "yet another password 3")
    assert again.status_code == 400 and "This link does not work" in again.body
    refused = pages.call("reset_password_page", method="GET", query=f"token={token}")
    assert refused.status_code == 400


def test_r2_a_reset_link_expires_after_15_minutes(services: Components, clock: FixedClock) -> None:
    make_user(services, "alice", "alice@example.org")
    pages = Pages(services)
    token = reset_link(services, pages)
    assert "works once, within 15 minutes" in mailer(services).sent[-1].text
    clock.advance(constants.RESET_LINK_TTL)
    assert choose(pages, token).status_code == 400
    assert stored(services, "alice").password_hash == make_hash_of(services, "alice")


def make_hash_of(services: Components, username: str) -> str:
    return stored(services, username).password_hash


def stored(services: Components, username: str) -> User:
    user = services.users.get(username)
    assert user is not None
    return user


def test_r2_only_the_tokens_hash_is_stored(services: Components) -> None:
    make_user(services, "alice", "alice@example.org")
    pages = Pages(services)
    token = reset_link(services, pages)
    stored = links(services).links
    assert list(stored) == [token_hash(token)]
    assert token not in repr(stored)


def test_r2_any_password_change_voids_the_link(services: Components, clock: FixedClock) -> None:
    make_user(services, "alice", "alice@example.org")
    pages = Pages(services)
    token = reset_link(services, pages)
    services.user_directory.set_password("alice", "changed elsewhere 4")
    assert (
        pages.call("reset_password_page", method="GET", query=f"token={token}").status_code == 400
    )
    assert choose(pages, token).status_code == 400
    assert stored(services, "alice").password_hash == make_hash_of(services, "alice")


def test_r2_a_link_for_an_address_no_longer_verified_is_void(services: Components) -> None:
    make_user(services, "alice", "alice@example.org")
    pages = Pages(services)
    token = reset_link(services, pages)
    services.user_directory.update("alice", {"email": "other@example.org"})
    assert choose(pages, token).status_code == 400


def test_r2_a_password_the_rules_refuse_does_not_use_up_the_link(services: Components) -> None:
    make_user(services, "alice", "alice@example.org")
    pages = Pages(services)
    token = reset_link(services, pages)
    mismatch = choose(pages, token, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert mismatch.status_code == 400 and "not the same" in mismatch.body
    short = choose(pages, token, "short")
    assert "at least 8 characters" in short.body
    assert choose(pages, token).status_code == 303


def test_r2_of_parallel_uses_of_one_link_one_wins(services: Components) -> None:
    make_user(services, "alice", "alice@example.org")
    pages = Pages(services)
    token = reset_link(services, pages)
    results: list[int] = []
    barrier = threading.Barrier(8)

    def use() -> None:
        barrier.wait()
        results.append(choose(pages, token).status_code)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [303] + [400] * 7


def test_r2_a_forged_or_malformed_token_is_refused_without_a_read(services: Components) -> None:
    pages = Pages(services)
    for token in ("", "short", "x" * 101, "not/base64url/" * 3, "a" * 43):
        assert choose(pages, token).status_code == 400
        assert (
            pages.call("reset_password_page", method="GET", query=f"token={token}").status_code
            == 400
        )


def test_r2_a_link_for_another_purpose_does_not_reset(services: Components) -> None:
    user = make_user(services, "alice", "alice@example.org", verified=False)
    emails(services).send_verification(user, ISSUER)
    _, token = link_in(mailer(services).sent[-1])
    assert choose(Pages(services), token).status_code == 400


# --- R3: limits that never lock a password out ---------------------------------------------------


def test_r3_a_source_that_asks_too_often_is_told_to_wait(
    clock: FixedClock, session_keys: KeySet
) -> None:
    components = memory_components(
        settings(recoveries_per_source=3), clock=clock, keys=session_keys
    )
    pages = Pages(components)
    for _ in range(3):
        assert pages.forgot("nobody").status_code == 303
    refused = pages.forgot("nobody")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert Pages(components, source="203.0.113.50").forgot("nobody").status_code == 303


def test_r3_an_address_asked_for_too_often_gets_no_more_mail_and_the_same_answer(
    services: Components,
) -> None:
    make_user(services, "alice", "alice@example.org")
    answers = [
        comparable(Pages(services, source="203.0.113.9").forgot("alice"))
        for _ in range(services.settings.emails_per_address + 3)
    ]
    assert all(answer == answers[0] for answer in answers)
    assert len(mailer(services).sent) == services.settings.emails_per_address
    # From every network together, a few times more at most: the mailbox is never flooded.
    overall = services.settings.emails_per_address * email_limits.NETWORKS_PER_ADDRESS
    for n in range(overall + 3):
        Pages(services, source=f"198.51.100.{n}").forgot("alice")
    assert len(mailer(services).sent) == overall


def test_r3_a_stranger_cannot_hold_back_the_mail_a_user_asks_for_from_their_network(
    services: Components,
) -> None:
    """The per-address limit is one a stranger can trip for someone else: asking from one
    network (resets for a username, sign-ups with an address) fills only that network's count."""
    make_user(services, "alice", "alice@example.org")
    stranger = Pages(services, source="192.0.2.66")
    for _ in range(services.settings.emails_per_address + 3):
        stranger.forgot("alice")
        stranger.forgot("alice@example.org")
    sent = len(mailer(services).sent)
    Pages(services, source="203.0.113.9").forgot("alice")
    assert len(mailer(services).sent) == sent + 1  # alice's own request is mailed


def test_r3_full_e_mail_buckets_never_stop_a_password_sign_in(
    clock: FixedClock, session_keys: KeySet
) -> None:
    components = memory_components(
        settings(recoveries_per_source=2, emails_per_address=1), clock=clock, keys=session_keys
    )
    make_user(components, "alice", "alice@example.org")
    pages = Pages(components)
    for _ in range(5):
        pages.forgot("alice")
    assert pages.forgot("alice").status_code == 429
    sign_in = PasswordSignIn(
        components.flow,
        components.users,
        components.grants,
        components.throttle,
        components.user_directory,
        components.settings,
        clock,
        components.random,
    )
    request = replace(form_request({}, path="/login"), source_ip=pages.source)
    assert sign_in.check(request, "alice", PASSWORD, None) is not None


# --- R4: a reset ends what the old password opened -----------------------------------------------


def test_r4_a_reset_ends_every_session_and_grant(services: Components, clock: FixedClock) -> None:
    user = make_user(services, "alice", "alice@example.org")
    session = Session(
        session_hash=token_hash("s" * 43),
        sub=user.sub,
        username=user.username,
        auth_time=clock.now(),
        expires_at=clock.now() + 3600,
        signed_in_ms=clock.now_ms(),
    )
    services.grants.put_session(session)
    pages = Pages(services)
    token = reset_link(services, pages)
    clock.advance_ms(5)
    done = choose(pages, token)
    # This browser's session cookie is cleared too.
    assert any(c.startswith("__Host-session=;") for c in done.cookies)
    state = services.grants.get_subject_state(user.sub)
    assert state is not None and not state.allows(session.signed_in_ms)
    assert services.grants.get_session(session.session_hash) is None
    cookie = f"{services.flow.cookies.name('session')}={'s' * 43}"
    request = form_request({}, method="GET", path="/account", headers={"cookie": cookie})
    assert services.flow.live_session(request) is None


# --- R5: a new address is unverified until its link is followed ----------------------------------


def test_r5_a_new_address_is_unverified_until_its_link_is_followed(
    services: Components,
) -> None:
    user = make_user(services, "alice", "alice@example.org")
    outcome = emails(services).change_email(user, "Alice@New.example", ISSUER)
    assert outcome == "sent"
    changed = services.users.get("alice")
    assert changed is not None and changed.claims["email"] == "alice@new.example"
    assert changed.claims["email_verified"] is False
    state = services.grants.get_subject_state(user.sub)
    assert state is not None and state.profile is not None
    assert state.profile["email_verified"] is False  # what the next tokens say
    notice, verification = mailer(services).sent
    assert notice.to == "alice@example.org" and "was just changed" in notice.text
    assert verification.to == "alice@new.example"
    path, token = link_in(verification)
    assert path == constants.VERIFY_EMAIL_PATH
    assert "within 24 hours" in verification.text
    pages = Pages(services)
    shown = pages.call("verify_email_page", method="GET", query=f"token={token}")
    assert shown.status_code == 200 and "alice@new.example" in shown.body
    assert stored(services, "alice").claims["email_verified"] is False  # a look is no click
    done = pages.call("verify_email", {"token": token})
    assert done.status_code == 303 and done.headers["Location"] == "/account?done=email_verified"
    assert stored(services, "alice").claims["email_verified"] is True
    state = services.grants.get_subject_state(user.sub)
    assert state is not None and state.profile is not None
    assert state.profile["email_verified"] is True
    assert pages.call("verify_email", {"token": token}).status_code == 400  # once


def test_r5_a_verification_link_expires_and_a_newer_address_voids_it(
    services: Components, clock: FixedClock
) -> None:
    user = make_user(services, "alice", "alice@example.org", verified=False)
    pages = Pages(services)
    emails(services).send_verification(user, ISSUER)
    _, stale = link_in(mailer(services).sent[-1])
    clock.advance(constants.VERIFY_LINK_TTL)
    assert pages.call("verify_email", {"token": stale}).status_code == 400
    emails(services).send_verification(user, ISSUER)
    _, token = link_in(mailer(services).sent[-1])
    services.user_directory.update("alice", {"email": "elsewhere@example.org"})
    assert pages.call("verify_email", {"token": token}).status_code == 400
    assert stored(services, "alice").claims["email_verified"] is False


def test_r5_a_link_verifies_only_its_own_address_when_the_address_changes_meanwhile(
    services: Components, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner follows the link mailed to an address they hold while, in a parallel request,
    they change the account's address to one they do not hold: the link must not verify the
    new one (it would reach apps as `email_verified: true`)."""
    user = make_user(services, "mallory", "mallory@example.org", verified=False)
    emails(services).send_verification(user, ISSUER)
    _, token = link_in(mailer(services).sent[-1])
    found = AccountEmails._verify_holds

    def then_changed(self: AccountEmails, link: Any) -> User | None:
        held = found(self, link)  # the link still holds here...
        services.user_directory.update("mallory", {"email": "victim@example.org"})  # ...not now
        return held

    monkeypatch.setattr(AccountEmails, "_verify_holds", then_changed)
    Pages(services).call("verify_email", {"token": token})
    claims = stored(services, "mallory").claims
    assert not (claims["email"] == "victim@example.org" and claims["email_verified"] is True)
    assert services.email_index is not None
    assert services.email_index.users_with_email("victim@example.org") == []


def test_r5_an_address_another_account_has_confirmed_is_not_confirmed_again(
    services: Components,
) -> None:
    """Found by a walk through the pages: a user changed their address to another account's
    confirmed one and confirmed it, and "Forgot your password?" by that address then reached
    their account instead of its owner's. A confirmed address recovers one account."""
    make_user(services, "demo", "demo@example.com")
    newbie = make_user(services, "newbie", "newbie@example.org")
    assert emails(services).change_email(newbie, "demo@example.com", ISSUER) == "sent"
    _, token = link_in(mailer(services).sent[-1])
    pages = Pages(services)
    assert pages.call("verify_email", {"token": token}).status_code == 400
    changed = services.users.get("newbie")
    assert changed is not None and changed.claims["email_verified"] is False
    sent = len(mailer(services).sent)
    assert emails(services).request_reset("demo@example.com", ISSUER) == 1
    reset = mailer(services).sent[sent]
    assert "demo" in reset.text and "newbie" not in reset.text


def test_r5_the_directory_unverifies_a_changed_address_unless_told_otherwise(
    services: Components,
) -> None:
    make_user(services, "alice", "alice@example.org")
    directory = services.user_directory
    same = directory.update("alice", {"email": "ALICE@example.org", "name": "Alice"})
    assert same.claims["email_verified"] is True  # the same address, in other letters
    changed = directory.update("alice", {"email": "alice@other.example"})
    assert changed.claims["email_verified"] is False
    vouched = directory.update("alice", {"email": "alice@third.example", "email_verified": True})
    assert vouched.claims["email_verified"] is True  # an operator who checked it says so
    gone = directory.update("alice", unset=["email"])
    assert "email_verified" not in gone.claims


def test_r5_an_unverified_address_gets_no_reset_link(services: Components) -> None:
    make_user(services, "alice", "alice@example.org", verified=False)
    Pages(services).forgot("alice@example.org")
    Pages(services).forgot("alice")
    assert mailer(services).sent == []


# --- R6: self sign-up ----------------------------------------------------------------------------


def test_r6_self_sign_up_is_off_by_default(clock: FixedClock, session_keys: KeySet) -> None:
    assert Settings().self_sign_up is False
    components = memory_components(settings(), clock=clock, keys=session_keys)
    pages = Pages(components)
    assert pages.call("sign_up_page", method="GET").status_code == 404
    posted = pages.call(
        "sign_up",
        {"username": "new", "email": "new@example.org", "new_password": NEW_PASSWORD,
         "confirm_password": NEW_PASSWORD},
    )  # fmt: skip
    assert posted.status_code == 404
    assert components.users.get("new") is None and mailer(components).sent == []
    # Switched on without a sender, it stays off: the e-mail link is what creates the account.
    assert not Settings(self_sign_up=True).offers_sign_up


def sign_up(pages: Pages, username: str, email: str, password: str = NEW_PASSWORD) -> Any:
    return pages.call(
        "sign_up",
        {"username": username, "email": email, "new_password": password,
         "confirm_password": password},
    )  # fmt: skip


def confirm(pages: Pages, token: str, password: str = NEW_PASSWORD) -> HttpResponse:
    """The sign-up's link followed, with the password typed again."""
    return pages.call("sign_up_confirm", {"token": token, "password": password})


def test_r6_nothing_is_created_until_the_link_is_followed(services: Components) -> None:
    pages = Pages(services)
    answer = sign_up(pages, "Newcomer", "Newcomer@Example.org")
    assert answer.status_code == 303 and answer.headers["Location"] == "/sign-up?sent=1"
    assert services.users.get("newcomer") is None
    (message,) = mailer(services).sent
    assert message.to == "newcomer@example.org"
    path, token = link_in(message)
    assert path == constants.SIGN_UP_CONFIRM_PATH
    (stored,) = links(services).links.values()
    assert NEW_PASSWORD not in repr(stored) and stored.password_hash.startswith("$argon2id$")
    shown = pages.call("sign_up_confirm_page", method="GET", query=f"token={token}")
    assert shown.status_code == 200 and "newcomer" in shown.body
    assert services.users.get("newcomer") is None
    assert 'name="password"' in shown.body and 'autocomplete="current-password"' in shown.body
    created = confirm(pages, token)
    assert created.status_code == 303 and created.headers["Location"] == "/account?done=created"
    user = services.users.get("newcomer")
    assert user is not None
    assert user.claims == {"email": "newcomer@example.org", "email_verified": True}
    assert confirm(pages, token).status_code == 400  # once
    request = replace(form_request({}, path="/login"), source_ip="203.0.113.77")
    sign_in = PasswordSignIn(
        services.flow, services.users, services.grants, services.throttle,
        services.user_directory, services.settings, services.clock, services.random,
    )  # fmt: skip
    assert sign_in.check(request, "newcomer", NEW_PASSWORD, None) is not None


def test_r6_every_sign_up_gets_the_same_answer_and_only_the_address_learns_more(
    services: Components,
) -> None:
    make_user(services, "taken", "owner@example.org")
    pages = Pages(services)
    answers = [
        comparable(sign_up(pages, "free-name", "fresh@example.org")),
        comparable(sign_up(pages, "taken", "someone@example.org")),
        comparable(sign_up(pages, "another", "OWNER@example.org")),
    ]
    assert answers[0] == answers[1] == answers[2]
    fresh, taken, owner = mailer(services).sent
    assert fresh.subject == "Finish creating your account"
    assert taken.to == "someone@example.org" and "that username is taken" in taken.text
    assert LINK.findall(taken.text) == []  # no link that would create anything
    assert owner.to == "owner@example.org" and "already belongs to your account taken" in (
        owner.text
    )
    assert services.users.get("free-name") is None and services.users.get("another") is None


def test_r6_sign_ups_are_limited_per_source(clock: FixedClock, session_keys: KeySet) -> None:
    components = memory_components(
        settings(self_sign_up=True, sign_ups_per_source=2), clock=clock, keys=session_keys
    )
    pages = Pages(components)
    assert sign_up(pages, "one", "one@example.org").status_code == 303
    assert sign_up(pages, "two", "two@example.org").status_code == 303
    refused = sign_up(pages, "three", "three@example.org")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert len(mailer(components).sent) == 2


def test_r6_a_username_taken_before_the_link_is_followed_creates_nothing(
    services: Components,
) -> None:
    pages = Pages(services)
    sign_up(pages, "racer", "racer@example.org")
    _, token = link_in(mailer(services).sent[-1])
    make_user(services, "racer", "first@example.org")
    answer = confirm(pages, token)
    assert answer.status_code == 409 and "taken" in answer.body
    user = services.users.get("racer")
    assert user is not None and user.claims["email"] == "first@example.org"


def test_r6_the_link_alone_creates_nothing_without_the_password_chosen_at_sign_up(
    services: Components,
) -> None:
    """Pre-registration: someone signs up with the victim's address and a password of their
    own. The victim follows the link and clicks, without that password: nothing is made."""
    attacker = Pages(services, source="203.0.113.9")
    sign_up(attacker, "victim-name", "victim@example.org", password="attacker chosen pw 9")
    (message,) = mailer(services).sent
    _, token = link_in(message)
    victim = Pages(services, source="198.51.100.50")
    for typed in ("", NEW_PASSWORD, "attacker chosen pw 8"):
        refused = confirm(victim, token, typed)
        assert refused.status_code == 400, typed
        assert "not the password chosen at sign-up" in refused.body
        assert 'name="token"' in refused.body  # the form again, to try once more
        assert services.users.get("victim-name") is None
    # No password is given back in the page, and the link is not used up by a wrong one: the
    # one who signed up still finishes it (the victim never sees an account made).
    assert "attacker chosen" not in refused.body
    assert confirm(attacker, token, "attacker chosen pw 9").status_code == 303
    assert services.users.get("victim-name") is not None


def test_r6_wrong_passwords_at_the_confirm_page_count_as_failed_sign_ins(
    clock: FixedClock, session_keys: KeySet
) -> None:
    components = memory_components(
        settings(self_sign_up=True, max_failures=3), clock=clock, keys=session_keys
    )
    pages = Pages(components)
    sign_up(pages, "guessed", "guessed@example.org")
    _, token = link_in(mailer(components).sent[-1])
    for attempt in range(3):
        assert confirm(pages, token, f"wrong guess {attempt}").status_code == 400
    # The bucket of that username from that source is full: the right password waits too
    # (the answer must not tell a guesser when it guessed right), and nothing is made.
    refused = confirm(pages, token)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert components.users.get("guessed") is None
    # The same bucket as a sign-in of that username from that source: one budget for both.
    request = replace(form_request({}, path="/login"), source_ip=pages.source)
    keys = components.throttle.keys("signin", "guessed", request.source_ip)
    with pytest.raises(TooManyRequests):
        components.throttle.reserve(keys)
    # Another source is not locked out by these failures (E9), and the link still works.
    assert confirm(Pages(components, source="192.0.2.80"), token).status_code == 303
    assert components.users.get("guessed") is not None


def test_r6_a_right_password_is_no_failure(clock: FixedClock, session_keys: KeySet) -> None:
    components = memory_components(
        settings(self_sign_up=True, max_failures_per_ip=2), clock=clock, keys=session_keys
    )
    pages = Pages(components)  # one source: its bucket would be full after two failures
    for name in ("first-one", "second-one", "third-one"):
        sign_up(pages, name, f"{name}@example.org")
    for message in mailer(components).sent:
        assert confirm(pages, link_in(message)[1]).status_code == 303


def test_r6_the_letter_says_only_who_signed_up_can_finish_it(services: Components) -> None:
    sign_up(Pages(services), "pay.example", "someone@example.org")
    (message,) = mailer(services).sent
    for part in (message.text, unescape(re.sub(r"<[^>]+>", "", message.html))):
        assert "type the password chosen at sign-up" in part
        assert "Only the person who signed up can finish it" in part
        assert "If this was not you, ignore this e-mail: no account is made." in part
    # The chosen name is plain in the text part; in the HTML part, no run of text a mail
    # program would make a link of.
    assert "account pay.example at" in message.text
    assert "pay.example" not in message.html
    assert "<code>pay<span>.</span>example</code>" in message.html


def test_r6_a_taken_username_is_not_a_link_in_the_letter_either(services: Components) -> None:
    make_user(services, "shop.example", "owner@example.org")
    sign_up(Pages(services), "shop.example", "victim@example.org")
    (message,) = mailer(services).sent
    assert "that username is taken" in message.text and "shop.example" not in message.html


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"username": "bad name"}, "Choose a username"),
        ({"email": "not-an-address"}, "Type your e-mail address"),
        ({"confirm_password": "something else 5"}, "not the same"),
        ({"new_password": "short", "confirm_password": "short"}, "at least 8 characters"),
    ],
)
def test_a_sign_up_the_rules_refuse_is_said_on_the_form(
    services: Components, fields: dict[str, str], said: str
) -> None:
    form = {
        "username": "good-name",
        "email": "good@example.org",
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
        **fields,
    }
    answer = Pages(services).call("sign_up", form)
    assert answer.status_code == 400 and said in answer.body
    assert mailer(services).sent == []


# --- the pages -----------------------------------------------------------------------------------

POSTS = [
    "forgot_password",
    "reset_password",
    "verify_email",
    "account_email",
    "sign_up",
    "sign_up_confirm",
]


@pytest.mark.parametrize("endpoint", POSTS)
def test_every_new_form_needs_its_csrf_token(services: Components, endpoint: str) -> None:
    answer = Pages(services).call(endpoint, {"identifier": "alice"}, csrf=False)
    assert answer.status_code == 403


def test_a_stack_without_a_sender_offers_none_of_it(
    clock: FixedClock, session_keys: KeySet
) -> None:
    components = memory_components(Settings(issuer=ISSUER), clock=clock, keys=session_keys)
    assert components.account_emails is None
    pages = Pages(components)
    for endpoint in ("forgot_password_page", "reset_password_page", "verify_email_page"):
        assert pages.call(endpoint, method="GET").status_code == 404
    account = pages.call("account_page", method="GET")
    assert "Forgot your password?" not in account.body


def test_the_account_sign_in_form_offers_the_forgotten_password(services: Components) -> None:
    account = Pages(services).call("account_page", method="GET")
    assert f'href="{constants.FORGOT_PASSWORD_PATH}"' in account.body


def test_the_letters_say_where_from_how_long_and_carry_no_tracking(services: Components) -> None:
    make_user(services, "alice", "alice@example.org")
    Pages(services).forgot("alice")
    (message,) = mailer(services).sent
    assert "auth.example.com" in message.text and "15 minutes" in message.text
    assert "<img" not in message.html and "<script" not in message.html
    assert re.findall(r'href="([^"]+)"', message.html) == [
        f"{ISSUER}{constants.RESET_PASSWORD_PATH}?token={link_in(message)[1]}"
    ]


LOGIN_CHILD = r"""
import json, sys
from oauth_core.config import Settings
from oauth_core.wiring import login_endpoints, memory_components
endpoints = login_endpoints(memory_components(Settings(email_sender="a@example.com")))
loaded = sorted(m for m in sys.modules if m in {forbidden!r} or m.split(".")[0] in {forbidden!r})
print(json.dumps(loaded))
"""


def test_the_login_functions_endpoints_load_nothing_of_e_mail_until_asked() -> None:
    """A container that serves sign-ins makes no SES client and loads no e-mail page (the
    login function's cold start stays lean): all of it is made on the first e-mail page."""
    forbidden = [
        "oauth_core.storage.ses",
        "oauth_core.admin.account_emails",
        "oauth_core.endpoints.email_links",
        "oauth_core.endpoints.sign_up",
        "oauth_core.http.email_pages",
        "boto3",
    ]
    result = subprocess.run(
        [sys.executable, "-c", LOGIN_CHILD.format(forbidden=forbidden)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
