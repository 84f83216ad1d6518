"""The second-factor step on the in-memory stores, with a fixed clock: TOTP codes (pyotp computes
what an authenticator app would show), recovery codes, the sealed mark, the guessing limits,
step-up and the `acr`/`amr` of the codes issued (SECURITY M1-M6)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import pyotp
import pytest

from oauth_core import constants
from oauth_core.clock import FixedClock
from oauth_core.rules import assurance, recovery_codes, totp
from oauth_core.rules.hashing import token_hash
from oauth_core.storage.memory import MemoryFactorStore
from oauth_core.wiring import Components
from tests.support import ISSUER, form_fields, query_of
from tests.unit.second_factor_support import (
    APP,
    OTHER_SOURCE,
    PASSWORD,
    STRICT,
    USER,
    MemoryBrowser,
    authorize,
    build,
    codes_shown,
    issued_code,
    location,
    password_step,
    secret_shown,
)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_800_000_000)  # a time step's start: codes change 30 s from here


@pytest.fixture
def services(clock: FixedClock) -> Components:
    return build(clock)


def enrolled(services: Components, clock: FixedClock) -> tuple[str, list[str]]:
    """USER with an authenticator app (set up at a sign-in for STRICT): its secret, and the
    recovery codes shown."""
    browser = MemoryBrowser(services)
    enrol = password_step(browser, STRICT)
    assert "Set up an authenticator app" in enrol["body"]
    secret = secret_shown(enrol["body"])
    fields = {**form_fields(enrol["body"]), "code": pyotp.TOTP(secret).at(clock.now())}
    saved = browser.post("/login/second-factor", fields)
    assert saved["statusCode"] == 200, saved["body"]
    clock.advance(totp.STEP_SECONDS)  # the code just used is spent: the next one is another
    return secret, codes_shown(saved["body"])


def code_now(secret: str, clock: FixedClock) -> str:
    return str(pyotp.TOTP(secret).at(clock.now()))


# --- the rules ------------------------------------------------------------------------------


def test_totp_codes_are_rfc_6238s() -> None:
    # RFC 6238 Appendix B, SHA-1, the last six digits of its eight: T = 59 s and 1111111109 s.
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp.code_at(secret, 59 // 30) == "287082"
    assert totp.code_at(secret, 1111111109 // 30) == "081804"
    assert totp.matching_step(secret, "287082", 59) == 1
    assert totp.matching_step(secret, "287082", 59 + 30) == 1  # a step of drift either way
    assert totp.matching_step(secret, "287082", 59 + 60) is None
    assert totp.matching_step(secret, "287082", 59, after_step=1) is None


def test_a_new_secret_is_160_random_bits_in_base32(services: Components) -> None:
    secrets = {totp.new_secret(services.random) for _ in range(20)}
    assert len(secrets) == 20
    assert all(totp.is_secret(s) and len(s) == 32 for s in secrets)
    uri = totp.provisioning_uri(secrets.pop(), "ann@example.com", "auth.example.com")
    assert uri.startswith("otpauth://totp/auth.example.com:ann@example.com?secret=")
    assert "issuer=auth.example.com" in uri and "digits=6" in uri and "period=30" in uri


def test_acr_values_and_policies_make_the_requirement() -> None:
    assert assurance.required(None, client_requires_mfa=False, stack_requires_mfa=False) == ""
    mfa = constants.ACR_MFA
    assert assurance.required(mfa, client_requires_mfa=False, stack_requires_mfa=False) == mfa
    # Values in order of preference: any one does, so the weakest known one is what is needed.
    either = f"{mfa} {constants.ACR_PASSWORD}"
    assert assurance.required(either, client_requires_mfa=False, stack_requires_mfa=False) == ""
    assert assurance.required("unknown", client_requires_mfa=False, stack_requires_mfa=False) == ""
    assert assurance.required(None, client_requires_mfa=True, stack_requires_mfa=False) == mfa
    assert assurance.required(None, client_requires_mfa=False, stack_requires_mfa=True) == mfa
    assert assurance.satisfies("", "") and not assurance.satisfies("", mfa)
    assert not assurance.satisfies(constants.ACR_PASSWORD, mfa) and assurance.satisfies(mfa, mfa)


# --- M1: a TOTP code works once -----------------------------------------------------------


def test_m1_a_totp_code_is_refused_the_second_time_within_its_window(
    services: Components, clock: FixedClock
) -> None:
    secret, _ = enrolled(services, clock)
    code = code_now(secret, clock)
    first = MemoryBrowser(services)
    asked = password_step(first)
    assert "Two-step verification" in asked["body"]
    done = first.post("/login/second-factor", {**form_fields(asked["body"]), "code": code})
    assert issued_code(services, done).amr == assurance.OTP_AMR
    # The same code, in its own 30 seconds, after another right password: refused.
    second = MemoryBrowser(services)
    asked = password_step(second)
    again = second.post("/login/second-factor", {**form_fields(asked["body"]), "code": code})
    assert again["statusCode"] == 200 and "That code is not right" in again["body"]
    # So is the code of the step before (older than the one used); the next step's works.
    earlier = str(pyotp.TOTP(secret).at(clock.now() - 30))
    older = second.post("/login/second-factor", {**form_fields(asked["body"]), "code": earlier})
    assert "That code is not right" in older["body"]
    clock.advance(totp.STEP_SECONDS)
    fresh = second.post(
        "/login/second-factor", {**form_fields(asked["body"]), "code": code_now(secret, clock)}
    )
    assert issued_code(services, fresh).acr == constants.ACR_MFA


def test_m1_two_containers_taking_one_code_let_one_through(
    services: Components, clock: FixedClock
) -> None:
    secret, _ = enrolled(services, clock)
    factors = services.factors.get(services.user_directory.get(USER).sub)  # type: ignore[union-attr]
    assert factors is not None
    step = totp.time_step(clock.now())
    store = services.factors
    assert isinstance(store, MemoryFactorStore)
    assert store.use_step(factors.sub, secret, step)
    assert not store.use_step(factors.sub, secret, step)
    assert not store.use_step(factors.sub, secret, step - 1)
    assert not store.use_step(factors.sub, "AAAA" * 8, step + 1)  # a secret replaced meanwhile


# --- M2: recovery codes -------------------------------------------------------------------


def test_m2_a_recovery_code_signs_in_once_and_only_its_hash_is_kept(
    services: Components, clock: FixedClock
) -> None:
    _, codes = enrolled(services, clock)
    assert len(codes) == recovery_codes.COUNT == len(set(codes))
    sub = services.user_directory.get(USER).sub  # type: ignore[union-attr]
    stored = services.factors.get(sub)
    assert stored is not None
    assert stored.recovery_codes == {recovery_codes.code_hash(sub, c) for c in codes}
    assert not any(c.replace("-", "") in repr(stored) for c in codes)
    browser = MemoryBrowser(services)
    asked = password_step(browser)
    typed = codes[0].upper().replace("-", " ")  # any case, spaces for dashes
    done = browser.post("/login/second-factor", {**form_fields(asked["body"]), "code": typed})
    assert issued_code(services, done).acr == constants.ACR_MFA
    assert len(services.factors.get(sub).recovery_codes) == recovery_codes.COUNT - 1  # type: ignore[union-attr]
    other = MemoryBrowser(services)
    asked = password_step(other)
    again = other.post("/login/second-factor", {**form_fields(asked["body"]), "code": codes[0]})
    assert "That code is not right" in again["body"]


# --- M3: guessing limits ------------------------------------------------------------------


def test_m3_wrong_codes_are_limited_per_user_and_source_not_for_other_sources(
    services: Components, clock: FixedClock
) -> None:
    secret, _ = enrolled(services, clock)
    guesser = MemoryBrowser(services)
    asked = password_step(guesser)
    fields = form_fields(asked["body"])
    wrong = "000000" if code_now(secret, clock) != "000000" else "111111"
    answers = [
        guesser.post("/login/second-factor", {**fields, "code": wrong})["statusCode"]
        for _ in range(services.settings.max_failures + 1)
    ]
    assert answers[:-1] == [200] * services.settings.max_failures
    assert answers[-1] == 429
    # From there even the right code waits: the answer tells a guesser nothing.
    right = guesser.post("/login/second-factor", {**fields, "code": code_now(secret, clock)})
    assert right["statusCode"] == 429 and "Retry-After" in right["headers"]
    # The user, from elsewhere, is not locked out.
    user = MemoryBrowser(services, source=OTHER_SOURCE)
    asked = password_step(user)
    done = user.post(
        "/login/second-factor", {**form_fields(asked["body"]), "code": code_now(secret, clock)}
    )
    assert issued_code(services, done).amr == assurance.OTP_AMR


# --- M4: the step's mark --------------------------------------------------------------------


def test_m4_the_second_step_cannot_be_entered_without_the_password_step(
    services: Components, clock: FixedClock
) -> None:
    secret, _ = enrolled(services, clock)
    browser = MemoryBrowser(services)
    login = browser.get(location(authorize(browser)))
    fields = form_fields(login["body"])  # a real handle, but no password given in it
    skipped = browser.post("/login/second-factor", {**fields, "code": code_now(secret, clock)})
    assert skipped["statusCode"] == 400 and "Sign-in expired" in skipped["body"]
    assert not any("session" in name for name in browser.jar)


def test_m4_the_mark_is_spent_once_and_by_a_new_password(
    services: Components, clock: FixedClock
) -> None:
    secret, _ = enrolled(services, clock)
    browser = MemoryBrowser(services)
    asked = password_step(browser)
    fields = form_fields(asked["body"])
    done = browser.post("/login/second-factor", {**fields, "code": code_now(secret, clock)})
    assert issued_code(services, done)
    clock.advance(totp.STEP_SECONDS)
    reused = browser.post("/login/second-factor", {**fields, "code": code_now(secret, clock)})
    assert reused["statusCode"] == 400 and "expired" in reused["body"]
    # A mark made before the password changed opens nothing after.
    other = MemoryBrowser(services)
    pending = form_fields(password_step(other)["body"])
    services.user_directory.set_password(USER, "a brand new password")
    clock.advance(totp.STEP_SECONDS)
    stale = other.post("/login/second-factor", {**pending, "code": code_now(secret, clock)})
    assert stale["statusCode"] == 400 and "expired" in stale["body"]


def test_m4_a_session_mark_is_not_taken_from_a_url_for_a_password_step(
    services: Components, clock: FixedClock
) -> None:
    enrolled(services, clock)
    browser = MemoryBrowser(services)
    asked = password_step(browser)
    handle = form_fields(asked["body"])["request_id"]
    # The password step's handle, put in a URL: refused (it is only ever a POST's answer).
    shown = browser.get(f"{constants.SECOND_FACTOR_PATH}?{urlencode({'request_id': handle})}")
    assert shown["statusCode"] == 400


# --- M5: step-up and policy -----------------------------------------------------------------


def test_m5_a_password_session_asked_for_mfa_gets_the_second_step_not_a_sign_in(
    services: Components, clock: FixedClock
) -> None:
    browser = MemoryBrowser(services)
    first = password_step(browser)  # no second factor: a password session
    first_code = issued_code(services, first)
    assert (first_code.amr, first_code.acr) == (("pwd",), constants.ACR_PASSWORD)
    clock.advance(120)
    stepped = authorize(browser, acr_values=constants.ACR_MFA)
    where = location(stepped)
    assert where.startswith(constants.SECOND_FACTOR_PATH), where  # no code, no sign-in page
    page = browser.get(where)
    # The user has no second factor and nothing requires enrolment but the request itself:
    # it is set up here, for this session (documented: enrolment, not an error).
    assert page["statusCode"] == 200 and "Set up an authenticator app" in page["body"]
    secret = secret_shown(page["body"])
    saved = browser.post(
        "/login/second-factor", {**form_fields(page["body"]), "code": code_now(secret, clock)}
    )
    assert saved["statusCode"] == 200 and len(codes_shown(saved["body"])) == 10
    done = browser.post("/login/continue", form_fields(saved["body"]))
    code = issued_code(services, done)
    assert code.amr == assurance.OTP_AMR and code.acr == constants.ACR_MFA
    assert code.auth_time == first_code.auth_time  # still the first sign-in's (M6)
    # Stepped up: the session now satisfies such requests without a second step.
    again = authorize(browser, acr_values=constants.ACR_MFA)
    assert issued_code(services, again).acr == constants.ACR_MFA


def test_m5_an_enrolled_user_with_a_password_session_gives_a_code(
    services: Components, clock: FixedClock
) -> None:
    secret, _ = enrolled(services, clock)
    browser = MemoryBrowser(services)
    signed_in = services.grants
    asked = password_step(browser)
    assert "Two-step verification" in asked["body"]
    assert not any("session" in name for name in browser.jar), "no session before the code"
    done = browser.post(
        "/login/second-factor", {**form_fields(asked["body"]), "code": code_now(secret, clock)}
    )
    assert issued_code(services, done).acr == constants.ACR_MFA
    session_id = next(v for k, v in browser.jar.items() if "session" in k)
    session = signed_in.get_session(token_hash(session_id))
    assert session is not None
    # As a session from before the user set up the app would be: a password's.
    signed_in.put_session(replace(session, amr=("pwd",), acr=constants.ACR_PASSWORD))
    clock.advance(totp.STEP_SECONDS)
    where = location(authorize(browser, STRICT))
    assert where.startswith(constants.SECOND_FACTOR_PATH)
    page = browser.get(where)
    assert "Two-step verification" in page["body"] and 'id="secret"' not in page["body"]
    done = browser.post(
        "/login/second-factor", {**form_fields(page["body"]), "code": code_now(secret, clock)}
    )
    code = issued_code(services, done)
    assert code.amr == assurance.OTP_AMR and code.auth_time == session.auth_time


def test_m5_a_client_that_requires_mfa_sends_users_without_one_to_set_it_up(
    services: Components, clock: FixedClock
) -> None:
    browser = MemoryBrowser(services)
    enrol = password_step(browser, STRICT)
    assert enrol["statusCode"] == 200 and "Set up an authenticator app" in enrol["body"]
    assert "<svg" in enrol["body"] and 'class="qr"' in enrol["body"]
    assert not any("session" in name for name in browser.jar), "no session before the code"
    fields = form_fields(enrol["body"])
    bad = browser.post("/login/second-factor", {**fields, "code": "12345"})
    assert "That code is not right" in bad["body"] and secret_shown(bad["body"])
    saved = browser.post(
        "/login/second-factor",
        {**fields, "code": code_now(secret_shown(enrol["body"]), clock)},
    )
    done = browser.post("/login/continue", form_fields(saved["body"]))
    assert issued_code(services, done).acr == constants.ACR_MFA


def test_m5_the_stack_policy_requires_it_for_every_client(clock: FixedClock) -> None:
    services = build(clock, require_mfa=True)
    browser = MemoryBrowser(services)
    enrol = password_step(browser, APP)
    assert "Set up an authenticator app" in enrol["body"]


def test_m5_prompt_none_that_needs_a_second_factor_is_interaction_required(
    services: Components, clock: FixedClock
) -> None:
    browser = MemoryBrowser(services)
    issued_code(services, password_step(browser))
    silent = authorize(browser, prompt="none", acr_values=constants.ACR_MFA)
    query = query_of(location(silent))
    assert query["error"] == "interaction_required" and "code" not in query


def test_m5_a_stepped_up_session_mark_needs_its_own_session(
    services: Components, clock: FixedClock
) -> None:
    browser = MemoryBrowser(services)
    issued_code(services, password_step(browser))  # a session of USER's
    # A password-only session elsewhere, stepping up: its URL is useless in another browser.
    services.user_directory.create("second-user", PASSWORD, {})
    other = MemoryBrowser(services)
    login = other.get(location(authorize(other)))
    fields = {**form_fields(login["body"]), "username": "second-user", "password": PASSWORD}
    issued_code(services, other.post("/login", fields))
    where = location(authorize(other, acr_values=constants.ACR_MFA))
    assert browser.get(where)["statusCode"] == 400  # another browser's session: refused
    assert other.get(where)["statusCode"] == 200


# --- M6: what the ID token says --------------------------------------------------------------


def test_m6_codes_say_how_the_user_signed_in(services: Components, clock: FixedClock) -> None:
    password_only = MemoryBrowser(services)
    code = issued_code(services, password_step(password_only))
    assert (code.amr, code.acr) == (("pwd",), constants.ACR_PASSWORD)
    secret, _ = enrolled(services, clock)
    with_app = MemoryBrowser(services)
    asked = password_step(with_app)
    done = with_app.post(
        "/login/second-factor", {**form_fields(asked["body"]), "code": code_now(secret, clock)}
    )
    code = issued_code(services, done)
    assert (code.amr, code.acr) == (("pwd", "otp", "mfa"), constants.ACR_MFA)


def test_m6_id_tokens_carry_amr_and_acr_and_discovery_lists_the_acr_values(
    services: Components, clock: FixedClock
) -> None:
    from oauth_core.endpoints.metadata import openid_configuration

    document = openid_configuration(ISSUER, ["authorization_code"], ["openid"])
    assert document["acr_values_supported"] == list(constants.ACR_VALUES_SUPPORTED)
    claims = document["claims_supported"]
    assert {"acr", "amr"} <= set(claims) and len(claims) == len(set(claims))


LAZY_CHILD = r"""
import json, sys
from oauth_core.clock import FixedClock
from tests.unit.second_factor_support import MemoryBrowser, build, password_step
browser = MemoryBrowser(build(FixedClock(1_800_000_000)))
signed_in = password_step(browser)
loaded = sorted(m for m in ("pyotp", "segno") if m in sys.modules)
print(json.dumps({"status": signed_in["statusCode"], "loaded": loaded}))
"""


def test_a_sign_in_without_a_second_factor_loads_neither_pyotp_nor_segno() -> None:
    """The login function's cold start stays lean: the libraries load where they are used."""
    root = Path(__file__).resolve().parents[2]
    paths = [str(root / "layers" / "common" / "python"), str(root)]
    env = {**os.environ, "POWERTOOLS_METRICS_DISABLED": "true", "PYTHONPATH": ":".join(paths)}
    result = subprocess.run(
        [sys.executable, "-c", LAZY_CHILD], capture_output=True, text=True, check=True, env=env,
        cwd=root,
    )  # fmt: skip
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"status": 303, "loaded": []}
