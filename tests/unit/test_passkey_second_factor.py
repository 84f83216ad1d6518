"""Passkeys beyond signing in alone, on the in-memory stack with the software authenticator: a
passkey as the second factor after a password and for a step-up (SECURITY K6), a passkey
sign-in of a user whose password is temporary (K7), and "Add a passkey?" after a password
sign-in (K8)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from html import unescape
from typing import Any

import pyotp
import pytest

from oauth_core import audit, constants
from oauth_core.clock import FixedClock
from oauth_core.endpoints import passkey_factor, passkey_offer, passkeys
from oauth_core.models import User
from oauth_core.rules import totp
from oauth_core.rules.hashing import token_hash
from oauth_core.storage.memory import MemoryGrantStore
from oauth_core.wiring import Components
from tests.passkey_authenticator import SoftPasskey
from tests.support import ISSUER, form_fields
from tests.unit.second_factor_support import (
    APP,
    APP_REDIRECT,
    OTHER_SOURCE,
    PASSWORD,
    STRICT,
    USER,
    MemoryBrowser,
    authorize,
    build,
    issued_code,
    location,
    password_step,
)
from tests.unit.test_passkeys import RP, registered
from tests.unit.test_second_factor import code_now, enrolled

OTHER, OTHER_PASSWORD = "other-user", "other user password"
# An app asking for more than a password (OpenID Connect acr_values).
MFA = {"acr_values": constants.ACR_MFA}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_800_000_000)


@pytest.fixture
def services(clock: FixedClock) -> Components:
    services = build(clock)
    services.user_directory.create(OTHER, OTHER_PASSWORD, {})
    return services


@pytest.fixture
def trail(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """The audit records written meanwhile (to stdout), as a function."""
    monkeypatch.delenv(audit.ENV_AUDIT_FILE, raising=False)
    audit.sink.reset()

    def written() -> list[dict[str, Any]]:
        lines = capsys.readouterr().out.splitlines()
        return [a for a in (audit.from_log_line(line) for line in lines) if a]

    yield written
    audit.sink.reset()
    audit.begin("", "")


def user(services: Components, username: str = USER) -> User:
    found = services.user_directory.get(username)
    assert found is not None
    return found


def with_passkey(services: Components, username: str = USER, **kwargs: Any) -> SoftPasskey:
    key = SoftPasskey("auth.example.com", **kwargs)
    registered(services.passkey_verifier, user(services, username), key)
    return key


def form_with(html: str, target: str, **wanted: str) -> dict[str, str]:
    """The hidden fields of the page's form posting to `target` with `wanted` among them."""
    for action, body in re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', html):
        fields = form_fields(body)
        if action == target and all(fields.get(k) == v for k, v in wanted.items()):
            return fields
    raise AssertionError(f"no form posting to {target} with {wanted}")


def options_in(html: str, attribute: str = "data-passkey-get") -> dict[str, Any]:
    found = re.search(rf'{attribute}="([^"]+)"', html)
    assert found, f"no {attribute} in the page"
    options: dict[str, Any] = json.loads(unescape(found.group(1)))
    return options


def passkey_answer(page: dict[str, Any], key: SoftPasskey, **kwargs: Any) -> dict[str, str]:
    """The second-factor page's passkey form, filled in by `key` as the script would."""
    fields = form_with(page["body"], constants.SECOND_FACTOR_PATH, method="passkey")
    return {**fields, "credential": key.get(options_in(page["body"]), origin=RP.origin, **kwargs)}


def signed_in(browser: MemoryBrowser) -> bool:
    return any("session" in name for name in browser.jar)


# --- K6: a passkey as the second factor ------------------------------------------------------


def test_k6_a_passkey_is_the_second_factor_where_one_is_asked_for(
    services: Components, trail: Any
) -> None:
    key = with_passkey(services)
    with_passkey(services, OTHER)  # someone else's: never offered to this user
    browser = MemoryBrowser(services)
    asked = password_step(browser, **MFA)  # an app asks for more than a password
    assert asked["statusCode"] == 200 and "Two-step verification" in asked["body"]
    assert not signed_in(browser), "no session before the second factor"
    page = asked["body"]
    assert "Use your passkey" in page and 'name="code"' not in page  # no app: the passkey only
    assert 'id="passkey-unsupported"' in page  # said without JavaScript
    options = options_in(page)
    assert [c["id"] for c in options["allowCredentials"]] == [key.id]  # this user's only
    assert options["userVerification"] == "preferred" and options["rpId"] == "auth.example.com"
    csp = asked["headers"]["Content-Security-Policy"]
    assert f"script-src {ISSUER}/passkeys.js;" in csp and "frame-ancestors 'none'" in csp
    done = browser.post(constants.SECOND_FACTOR_PATH, passkey_answer(asked, key))
    code = issued_code(services, done)
    assert (code.amr, code.acr) == (("pwd", "hwk", "mfa"), constants.ACR_MFA)
    assert code.sub == user(services).sub
    success = [r for r in trail() if r["event"] == audit.SECOND_FACTOR_SUCCESS]
    assert success[-1]["detail"]["method"] == "passkey"


def test_k6_a_synced_passkey_says_swk_and_user_verification_is_not_needed(
    services: Components,
) -> None:
    key = with_passkey(services, synced=True, counts=False)
    browser = MemoryBrowser(services)
    asked = password_step(browser, **MFA)
    # The password is what the user knows: a passkey that only saw its user's presence does.
    done = browser.post(constants.SECOND_FACTOR_PATH, passkey_answer(asked, key, verified=False))
    assert issued_code(services, done).amr == ("pwd", "swk", "mfa")


def test_k6_a_user_with_a_passkey_and_an_app_may_give_either(
    services: Components, clock: FixedClock
) -> None:
    secret, _ = enrolled(services, clock)
    key = with_passkey(services)
    by_code = MemoryBrowser(services)
    asked = password_step(by_code)
    assert "Use your passkey" in asked["body"] and 'name="code"' in asked["body"]
    assert asked["body"].index("Use your passkey") < asked["body"].index('name="code"')
    fields = form_with(asked["body"], constants.SECOND_FACTOR_PATH, method="otp")
    done = by_code.post(constants.SECOND_FACTOR_PATH, {**fields, "code": code_now(secret, clock)})
    assert issued_code(services, done).amr == ("pwd", "otp", "mfa")
    by_passkey = MemoryBrowser(services)
    asked = password_step(by_passkey)
    done = by_passkey.post(constants.SECOND_FACTOR_PATH, passkey_answer(asked, key))
    assert issued_code(services, done).amr == ("pwd", "hwk", "mfa")


def test_k6_another_users_passkey_is_refused_and_counted_as_a_wrong_code(
    services: Components, trail: Any
) -> None:
    own = with_passkey(services, counts=False)
    others = with_passkey(services, OTHER, counts=False)
    browser = MemoryBrowser(services)
    asked = password_step(browser, **MFA)
    # The other user's passkey answers this step's own challenge: the signature is good, the
    # passkey is not this user's.
    refused = browser.post(constants.SECOND_FACTOR_PATH, passkey_answer(asked, others))
    assert refused["statusCode"] == 200 and not signed_in(browser)
    assert passkey_factor.REFUSED in unescape(refused["body"])
    assert "Use your passkey" in refused["body"]  # asked again
    failures = [r for r in trail() if r["event"] == audit.SECOND_FACTOR_FAILURE]
    assert failures[-1]["detail"]["reason"] == "wrong_user"
    assert failures[-1]["sub"] == user(services).sub
    # Counted in the second-factor buckets as wrong codes are: the limit reached, even this
    # user's own passkey waits.
    page = refused
    for _ in range(services.settings.max_failures - 1):
        page = browser.post(constants.SECOND_FACTOR_PATH, passkey_answer(page, others))
        assert page["statusCode"] == 200
    limited = browser.post(constants.SECOND_FACTOR_PATH, passkey_answer(page, own))
    assert limited["statusCode"] == 429 and "Retry-After" in limited["headers"]
    assert not signed_in(browser)
    # From another source the user goes on (G7's rule).
    elsewhere = MemoryBrowser(services, source=OTHER_SOURCE)
    asked = password_step(elsewhere, **MFA)
    done = elsewhere.post(constants.SECOND_FACTOR_PATH, passkey_answer(asked, own))
    assert issued_code(services, done).acr == constants.ACR_MFA


def test_k6_the_challenge_answers_only_its_own_step_once(services: Components) -> None:
    key = with_passkey(services, counts=False)
    first, second = MemoryBrowser(services), MemoryBrowser(services)
    page_one, page_two = password_step(first, **MFA), password_step(second, **MFA)
    # The first step's challenge, answered in the second step (another browser and mark).
    answer = key.get(options_in(page_one["body"]), origin=RP.origin)
    fields_two = form_with(page_two["body"], constants.SECOND_FACTOR_PATH, method="passkey")
    crossed = second.post(constants.SECOND_FACTOR_PATH, {**fields_two, "credential": answer})
    assert passkey_factor.REFUSED in unescape(crossed["body"]) and not signed_in(second)
    # Nor in another step of the same browser: the same CSRF cookie, another password step.
    fields_one = form_with(page_one["body"], constants.SECOND_FACTOR_PATH, method="passkey")
    third = password_step(first, **MFA)
    fields_three = form_with(third["body"], constants.SECOND_FACTOR_PATH, method="passkey")
    assert fields_three["csrf_token"] == fields_one["csrf_token"]
    crossed = first.post(constants.SECOND_FACTOR_PATH, {**fields_three, "credential": answer})
    assert passkey_factor.REFUSED in unescape(crossed["body"])
    # A challenge of the sign-in page (a passkey alone) is no second factor's.
    login = MemoryBrowser(services)
    sign_in_page = login.get(location(authorize(login)))
    alone = key.get(options_in(sign_in_page["body"]), origin=RP.origin)
    crossed = first.post(constants.SECOND_FACTOR_PATH, {**fields_one, "credential": alone})
    assert passkey_factor.REFUSED in unescape(crossed["body"])
    # Its own step takes it, once.
    done = first.post(constants.SECOND_FACTOR_PATH, {**fields_one, "credential": answer})
    assert issued_code(services, done)
    grants = services.grants
    assert isinstance(grants, MemoryGrantStore)
    codes = len(grants.codes)
    again = first.post(constants.SECOND_FACTOR_PATH, {**fields_one, "credential": answer})
    assert passkey_factor.REFUSED in unescape(again["body"]) and len(grants.codes) == codes


def test_k6_a_client_that_requires_mfa_takes_a_passkey(services: Components) -> None:
    key = with_passkey(services)
    browser = MemoryBrowser(services)
    asked = password_step(browser, STRICT)  # not the authenticator app's set-up page
    assert "Use your passkey" in asked["body"] and 'id="secret"' not in asked["body"]
    done = browser.post(constants.SECOND_FACTOR_PATH, passkey_answer(asked, key))
    assert issued_code(services, done).acr == constants.ACR_MFA


def test_k6_a_password_session_is_stepped_up_with_a_passkey(
    services: Components, clock: FixedClock
) -> None:
    browser = MemoryBrowser(services)
    first = issued_code(services, password_step(browser))  # before the user had a passkey
    assert first.amr == ("pwd",)
    key = with_passkey(services)
    clock.advance(120)
    where = location(authorize(browser, acr_values=constants.ACR_MFA))
    assert where.startswith(constants.SECOND_FACTOR_PATH)  # a step-up, not a sign-in
    page = browser.get(where)
    assert page["statusCode"] == 200 and "Use your passkey" in page["body"]
    assert f"script-src {ISSUER}/passkeys.js;" in page["headers"]["Content-Security-Policy"]
    done = browser.post(constants.SECOND_FACTOR_PATH, passkey_answer(page, key))
    code = issued_code(services, done)
    assert (code.amr, code.acr) == (("pwd", "hwk", "mfa"), constants.ACR_MFA)
    assert code.auth_time == first.auth_time  # the first sign-in's (M6)
    # The session itself was raised: the next such request needs nothing more.
    session_id = next(v for k, v in browser.jar.items() if "session" in k)
    session = services.grants.get_session(token_hash(session_id))
    assert session is not None and session.acr == constants.ACR_MFA
    assert issued_code(services, authorize(browser, acr_values=constants.ACR_MFA))


def test_k6_the_account_page_sign_in_asks_for_the_passkey_too(
    services: Components, clock: FixedClock
) -> None:
    enrolled(services, clock)  # two-step verification on: the account sign-in takes a passkey
    key = with_passkey(services)
    browser = MemoryBrowser(services)
    form = browser.get("/account")
    fields = {**form_with(form["body"], "/account/login"), "username": USER, "password": PASSWORD}
    asked = browser.post("/account/login", fields)
    assert asked["statusCode"] == 200 and "Use your passkey" in asked["body"]
    assert not signed_in(browser)
    done = browser.post(constants.SECOND_FACTOR_PATH, passkey_answer(asked, key))
    assert location(done) == "/account?done=signed_in" and signed_in(browser)


def test_k6_a_passkey_alone_does_not_turn_two_step_verification_on(
    services: Components,
) -> None:
    """Added on one device, a passkey must not lock its user out of a password sign-in on
    another (nor out of recovery by e-mail): the password alone still signs in, and says so."""
    with_passkey(services)
    browser = MemoryBrowser(services)
    code = issued_code(services, password_step(browser))
    assert (code.amr, code.acr) == (("pwd",), constants.ACR_PASSWORD)
    overview = browser.get("/account")
    assert "Where an app asks for more than your password" in unescape(overview["body"])
    assert "Set up an authenticator app" in overview["body"]


def test_k6_a_suspended_passkey_is_not_a_second_factor(
    services: Components, clock: FixedClock
) -> None:
    key = with_passkey(services)
    services.passkeys.suspend(key.id, clock.now())
    browser = MemoryBrowser(services)
    # The user's only passkey is refused from now on: their password signs them in, as the
    # suspended passkey's message tells them, to remove it.
    assert issued_code(services, password_step(browser)).amr == ("pwd",)
    secret, _ = enrolled(services, clock)
    with_app = MemoryBrowser(services)
    asked = password_step(with_app)
    assert "Use your passkey" not in asked["body"] and 'name="code"' in asked["body"]
    fields = form_with(asked["body"], constants.SECOND_FACTOR_PATH, method="otp")
    forced = {**fields, "method": "passkey", "credential": key.get({"challenge": "AA"}, origin="x")}
    assert with_app.post(constants.SECOND_FACTOR_PATH, forced)["statusCode"] == 400
    done = with_app.post(constants.SECOND_FACTOR_PATH, {**fields, "code": code_now(secret, clock)})
    assert issued_code(services, done).amr == ("pwd", "otp", "mfa")


def test_k6_a_counter_gone_back_at_the_second_step_suspends_the_passkey(
    services: Components, clock: FixedClock, trail: Any
) -> None:
    key = with_passkey(services)
    browser = MemoryBrowser(services)
    asked = password_step(browser, **MFA)
    done = browser.post(constants.SECOND_FACTOR_PATH, passkey_answer(asked, key, sign_count=9))
    assert issued_code(services, done)
    cloned = MemoryBrowser(services)
    asked = password_step(cloned, **MFA)
    refused = cloned.post(constants.SECOND_FACTOR_PATH, passkey_answer(asked, key, sign_count=3))
    # Its only factor is suspended: nothing is left to give here, and it is said why.
    assert refused["statusCode"] == 400 and "its use counter went backwards" in refused["body"]
    stored = services.passkeys.get(key.id)
    assert stored is not None and stored.suspended_at
    assert [r["event"] for r in trail()].count(audit.PASSKEY_SUSPENDED) == 1


# --- K7: a passkey sign-in honours a temporary password ---------------------------------------


def test_k7_a_passkey_does_not_skip_replacing_a_temporary_password(
    services: Components, trail: Any
) -> None:
    key = with_passkey(services, counts=False)
    services.user_directory.set_password(USER, "a temporary password", temporary=True)
    browser = MemoryBrowser(services)
    login = browser.get(location(authorize(browser)))
    fields = form_with(login["body"], "/login")
    answer = key.get(options_in(login["body"]), origin=RP.origin)
    refused = browser.post("/login/passkey", {**fields, "credential": answer})
    assert refused["statusCode"] == 200 and not signed_in(browser)
    assert passkeys.PASSWORD_CHANGE_FIRST in unescape(refused["body"])
    assert 'role="alert"' in refused["body"]
    records = trail()
    refusal = [r for r in records if r["event"] == audit.PASSKEY_REFUSED][-1]
    assert refusal["detail"]["reason"] == "password_change_required"
    assert not [r for r in records if r["event"] == audit.SIGNIN_SUCCESS]
    # The account page's passkey sign-in says the same.
    account = browser.get("/account")
    answer = key.get(options_in(account["body"]), origin=RP.origin)
    told = browser.post(
        "/account/passkey-login",
        {**form_with(account["body"], "/account/login"), "credential": answer},
    )
    assert location(told) == "/account?done=passkey_password_change" and not signed_in(browser)
    assert "Your password was reset" in browser.get(location(told))["body"]
    # The temporary password, then one of the user's own, then the passkey as second factor
    # (for an app that asks for one).
    login = browser.get(location(authorize(browser, **MFA)))
    fields = {**form_with(login["body"], "/login"), "username": USER}
    change = browser.post("/login", {**fields, "password": "a temporary password"})
    assert "Choose a new password" in change["body"]
    chosen = "the user's own new password"
    asked = browser.post(
        "/login/password",
        {**form_fields(change["body"]), "new_password": chosen, "confirm_password": chosen},
    )
    assert "Use your passkey" in asked["body"] and not signed_in(browser)
    done = browser.post(constants.SECOND_FACTOR_PATH, passkey_answer(asked, key))
    assert issued_code(services, done).amr == ("pwd", "hwk", "mfa")
    # From now on the passkey alone signs in again.
    later = MemoryBrowser(services)
    login = later.get(location(authorize(later)))
    answer = key.get(options_in(login["body"]), origin=RP.origin)
    alone = later.post(
        "/login/passkey", {**form_with(login["body"], "/login"), "credential": answer}
    )
    assert issued_code(services, alone).amr == ("hwk", "user", "mfa")


# --- K8: "Add a passkey?" after a password sign-in -------------------------------------------


def sign_in_saying(browser: MemoryBrowser, device: str, client_id: str = APP) -> dict[str, Any]:
    """/authorize, then the password, with the script's `offer_passkey` as `device`."""
    login = browser.get(location(authorize(browser, client_id)))
    fields = {**form_with(login["body"], "/login"), "username": USER, "password": PASSWORD}
    return browser.post("/login", {**fields, "offer_passkey": device})


def test_k8_no_offer_unless_the_script_said_this_device_can_keep_a_passkey(
    services: Components,
) -> None:
    browser = MemoryBrowser(services)
    login = browser.get(location(authorize(browser)))
    assert 'name="offer_passkey" value=""' in login["body"]  # set by the script only
    # Without JavaScript (or a device that cannot keep one) the field stays empty: straight on.
    assert issued_code(services, sign_in_saying(MemoryBrowser(services), "")).amr == ("pwd",)
    offered = sign_in_saying(browser, "1")
    assert offered["statusCode"] == 200 and "Sign in faster next time?" in offered["body"]
    assert signed_in(browser), "the password signed in: the offer comes after"
    headers = offered["headers"]
    assert f"script-src {ISSUER}/passkeys.js;" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"
    creation = options_in(offered["body"], "data-passkey-create")
    assert creation["user"]["name"] == USER and creation["excludeCredentials"] == []
    assert 'id="passkey-create"' in offered["body"] and " hidden novalidate>" in offered["body"]
    assert ">Not now</button>" in offered["body"]  # a plain form: works without the script


def test_k8_not_now_goes_on_unchanged_and_is_not_asked_again_soon(services: Components) -> None:
    browser = MemoryBrowser(services)
    offered = sign_in_saying(browser, "1")
    later = form_with(offered["body"], passkey_offer.OFFER_PATH, action="later")
    done = browser.post(passkey_offer.OFFER_PATH, later)
    code = issued_code(services, done)
    assert (code.amr, code.acr) == (("pwd",), constants.ACR_PASSWORD)
    assert services.passkeys.of_user(user(services).sub) == []
    declined = services.flow.cookies.name(passkey_offer.DECLINED_COOKIE)
    assert browser.jar.get(declined) == "later"
    # Signed out, then in again in this browser: not asked again for now.
    returning = MemoryBrowser(services, jar={declined: browser.jar[declined]})
    again = sign_in_saying(returning, "1")
    assert location(again).startswith(APP_REDIRECT)
    # The request answered once: "Not now" again does not issue another code.
    replayed = browser.post(passkey_offer.OFFER_PATH, later)
    assert replayed["statusCode"] == 400


def test_k8_a_passkey_added_at_the_offer_is_the_users_and_the_sign_in_goes_on(
    services: Components, trail: Any
) -> None:
    browser = MemoryBrowser(services)
    offered = sign_in_saying(browser, "1")
    fields = form_with(offered["body"], passkey_offer.OFFER_PATH, action="add")
    key = SoftPasskey("auth.example.com")
    made = key.create(options_in(offered["body"], "data-passkey-create"), origin=RP.origin)
    done = browser.post(passkey_offer.OFFER_PATH, {**fields, "credential": made})
    assert issued_code(services, done).amr == ("pwd",)  # this sign-in stays a password's
    (kept,) = services.passkeys.of_user(user(services).sub)
    assert kept.credential_id == key.id and kept.name == "Passkey"
    added = [r for r in trail() if r["event"] == audit.PASSKEY_ADDED][-1]
    assert added["detail"] == {"synced": False, "by": "sign-in"}
    # From now on the passkey signs in alone; a password sign-in is not offered one again, and
    # needs no second step for it (K6: a passkey does not turn two-step verification on).
    next_time = MemoryBrowser(services)
    assert issued_code(services, sign_in_saying(next_time, "1")).amr == ("pwd",)


def test_k8_the_offers_forms_are_csrf_protected_and_bound_to_their_sign_in(
    services: Components, clock: FixedClock
) -> None:
    browser = MemoryBrowser(services)
    offered = sign_in_saying(browser, "1")
    fields = form_with(offered["body"], passkey_offer.OFFER_PATH, action="add")
    creation = options_in(offered["body"], "data-passkey-create")
    forged = browser.post(passkey_offer.OFFER_PATH, {**fields, "csrf_token": "f" * 43})
    assert forged["statusCode"] == 403
    # Another browser, signed in as another user, cannot go on with this request's handle.
    other = MemoryBrowser(services)
    login = other.get(location(authorize(other)))
    theirs = {**form_with(login["body"], "/login"), "username": OTHER, "password": OTHER_PASSWORD}
    issued_code(services, other.post("/login", theirs))
    stolen = {**fields, "csrf_token": other.jar[services.flow.cookies.name("csrf")]}
    assert other.post(passkey_offer.OFFER_PATH, {**stolen, "action": "later"})["statusCode"] == 400
    # A registration for another user handle than the one the challenge vouches for: refused.
    made = SoftPasskey("auth.example.com").create(creation, origin=RP.origin)
    wrong = browser.post(
        passkey_offer.OFFER_PATH, {**fields, "credential": made, "user_handle": "x" * 43}
    )
    assert wrong["statusCode"] == 200 and passkey_offer.NOT_ADDED in unescape(wrong["body"])
    assert services.passkeys.of_user(user(services).sub) == []
    # A sign-in more than ten minutes old adds nothing (as on the account page; the request
    # itself expires by then too).
    session_hash = token_hash(next(v for k, v in browser.jar.items() if "session" in k))
    session = services.grants.get_session(session_hash)
    assert session is not None
    window_ms = (constants.REAUTHENTICATION_WINDOW + 1) * 1000
    services.grants.put_session(replace(session, signed_in_ms=session.signed_in_ms - window_ms))
    fresh = form_with(wrong["body"], passkey_offer.OFFER_PATH, action="later")
    late = browser.post(passkey_offer.OFFER_PATH, {**fresh, "action": "add", "credential": made})
    assert passkey_offer.TOO_LATE in unescape(late["body"])
    assert 'id="passkey-create"' not in late["body"]
    assert services.passkeys.of_user(user(services).sub) == []


def test_k8_a_user_with_a_passkey_or_a_second_step_is_not_offered_one(
    services: Components, clock: FixedClock
) -> None:
    secret, _ = enrolled(services, clock)
    asked = sign_in_saying(MemoryBrowser(services), "1")
    assert "Two-step verification" in asked["body"] and "Sign in faster" not in asked["body"]
    browser = MemoryBrowser(services)
    asked = sign_in_saying(browser, "1")
    fields = form_with(asked["body"], constants.SECOND_FACTOR_PATH, method="otp")
    clock.advance(totp.STEP_SECONDS)
    done = browser.post(
        constants.SECOND_FACTOR_PATH, {**fields, "code": pyotp.TOTP(secret).at(clock.now())}
    )
    assert issued_code(services, done).acr == constants.ACR_MFA  # straight on, no offer
