"""SECURITY G2, G7 and G8 held on the ways to sign in that issue 16 added, on the in-memory
stack: a passkey alone, a password then an authenticator app's code, a password then a passkey.
Each gives the browser a new session id with the G2 cookie attributes; wrong second factors from
one source never stop the right one from another (G7); and `prompt=login` is met only by a
sign-in newer than the request, whose time the code carries as `auth_time` (G8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from oauth_core import constants
from oauth_core.clock import FixedClock
from oauth_core.wiring import Components
from tests.unit.second_factor_support import (
    APP_REDIRECT,
    OTHER_SOURCE,
    MemoryBrowser,
    authorize,
    build,
    issued_code,
    location,
    password_step,
)
from tests.unit.test_passkey_second_factor import (
    form_with,
    options_in,
    passkey_answer,
    with_passkey,
)
from tests.unit.test_passkeys import RP
from tests.unit.test_second_factor import code_now, enrolled

MFA = {"acr_values": constants.ACR_MFA}
SignIn = Callable[[MemoryBrowser, dict[str, str]], dict[str, Any]]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_800_000_000)


@pytest.fixture
def services(clock: FixedClock) -> Components:
    return build(clock)


def _session_cookie(answer: dict[str, Any]) -> str:
    (cookie,) = [c for c in answer.get("cookies", []) if c.split("=", 1)[0].endswith("session")]
    return cookie


def _by_passkey_alone(services: Components, clock: FixedClock) -> SignIn:
    key = with_passkey(services, counts=False)

    def sign_in(browser: MemoryBrowser, extra: dict[str, str]) -> dict[str, Any]:
        login = browser.get(location(authorize(browser, **extra)))
        answer = key.get(options_in(login["body"]), origin=RP.origin)
        return browser.post(
            "/login/passkey", {**form_with(login["body"], "/login"), "credential": answer}
        )

    return sign_in


def _by_password_and_code(services: Components, clock: FixedClock) -> SignIn:
    secret, _ = enrolled(services, clock)

    def sign_in(browser: MemoryBrowser, extra: dict[str, str]) -> dict[str, Any]:
        asked = password_step(browser, **extra)
        clock.advance(30)  # each code is of a time step of its own (M2: one use each)
        fields = form_with(asked["body"], constants.SECOND_FACTOR_PATH, method="otp")
        return browser.post(
            constants.SECOND_FACTOR_PATH, {**fields, "code": code_now(secret, clock)}
        )

    return sign_in


def _by_password_and_passkey(services: Components, clock: FixedClock) -> SignIn:
    key = with_passkey(services, counts=False)

    def sign_in(browser: MemoryBrowser, extra: dict[str, str]) -> dict[str, Any]:
        asked = password_step(browser, **{**MFA, **extra})
        return browser.post(constants.SECOND_FACTOR_PATH, passkey_answer(asked, key))

    return sign_in


WAYS = pytest.mark.parametrize(
    "way", [_by_passkey_alone, _by_password_and_code, _by_password_and_passkey]
)


@WAYS
def test_g2_each_new_way_to_sign_in_gives_a_new_session_id(
    services: Components, clock: FixedClock, way: Callable[..., SignIn]
) -> None:
    sign_in = way(services, clock)
    browser = MemoryBrowser(services)
    first = sign_in(browser, {})
    cookie = _session_cookie(first)
    for attribute in ("HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie, cookie
    before = cookie.split(";", 1)[0]
    issued_code(services, first)
    clock.advance(60)
    again = sign_in(browser, {"prompt": "login"})  # the same browser signs in once more
    after = _session_cookie(again).split(";", 1)[0]
    assert after != before, "a sign-in must not keep the session id the browser had"


@WAYS
def test_g8_prompt_login_is_met_only_by_a_new_sign_in_whose_time_the_code_carries(
    services: Components, clock: FixedClock, way: Callable[..., SignIn]
) -> None:
    sign_in = way(services, clock)
    browser = MemoryBrowser(services)
    first = issued_code(services, sign_in(browser, {}))
    clock.advance(300)
    # With a live session, prompt=login still asks for a sign-in: no code straight away.
    asked = authorize(browser, prompt="login")
    assert not location(asked).startswith(APP_REDIRECT), location(asked)
    code = issued_code(services, sign_in(browser, {"prompt": "login"}))
    assert code.auth_time > first.auth_time
    assert code.auth_time >= clock.now() - 30  # this sign-in's time (a code step may add 30 s)


def test_g7_wrong_second_factors_from_one_source_never_stop_the_right_one_from_another(
    services: Components, clock: FixedClock
) -> None:
    secret, _ = enrolled(services, clock)
    attacker = MemoryBrowser(services)
    page = password_step(attacker)
    for _ in range(services.settings.max_failures + 2):
        fields = form_with(page["body"], constants.SECOND_FACTOR_PATH, method="otp")
        page = attacker.post(constants.SECOND_FACTOR_PATH, {**fields, "code": "000000"})
        if page["statusCode"] == 429:
            break
    assert page["statusCode"] == 429  # that source waits
    clock.advance(30)
    user = MemoryBrowser(services, source=OTHER_SOURCE)
    asked = password_step(user)
    fields = form_with(asked["body"], constants.SECOND_FACTOR_PATH, method="otp")
    done = user.post(constants.SECOND_FACTOR_PATH, {**fields, "code": code_now(secret, clock)})
    assert issued_code(services, done).amr == ("pwd", "otp", "mfa")
