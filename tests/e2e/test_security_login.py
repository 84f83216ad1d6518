"""SECURITY.md rows G1-G6: the sign-in pages and browser hardening, over HTTP."""

from __future__ import annotations

import statistics
import time

import jwt
import pytest
import requests

from oauth_core.http.routes import ROUTES
from tests.e2e.conftest import LocalStack
from tests.e2e.flows import (
    PASSWORD,
    SPA_REDIRECT,
    USER,
    Browser,
    authorize_params,
    exchange,
    form_fields,
    get_code,
    pkce_pair,
    query_of,
)


def login_location(browser: Browser, **extra: str) -> str:
    response = browser.authorize(**authorize_params(challenge=pkce_pair()[1], **extra))
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/login?request_id=")
    return location


def login_form(browser: Browser, **extra: str) -> dict[str, str]:
    page = browser.get(login_location(browser, **extra))
    return form_fields(page.text)


def create_user(stack: LocalStack, username: str) -> str:
    from oauthctl.admin import Admin

    Admin.connect(endpoint_url=stack.aws_endpoint).users().create(
        username, "the-right-password", replace_existing=True
    )
    return username


@pytest.fixture(scope="module")
def lockout_user(stack: LocalStack) -> str:
    return create_user(stack, "lockout-user")


@pytest.mark.parametrize("csrf", [None, "", "forged-token-value-0123456789"])
def test_g1_post_login_without_valid_csrf_is_403(stack: LocalStack, csrf: str | None) -> None:
    browser = Browser(stack)
    fields = login_form(browser)
    data = {"request_id": fields["request_id"], "username": "demo", "password": "demo-password"}
    if csrf is not None:
        data["csrf_token"] = csrf
    response = browser.post("/login", data)
    assert response.status_code == 403
    assert "Location" not in response.headers


def test_g1_cross_site_post_without_the_cookie_is_403(stack: LocalStack) -> None:
    fields = login_form(Browser(stack))
    attacker = requests.post(
        f"{stack.issuer}/login",
        data={**fields, "username": "demo", "password": "demo-password"},
        allow_redirects=False,
        timeout=10,
    )
    assert attacker.status_code == 403


def test_g2_session_cookie_flags_and_fresh_id_at_each_sign_in(stack: LocalStack) -> None:
    browser = Browser(stack)
    response = browser.sign_in(login_location(browser))
    assert response.status_code == 303
    set_cookie = response.headers["Set-Cookie"]
    assert set_cookie.startswith("session=")  # plain-http loopback: no __Host- prefix, no Secure
    attributes = [part.strip() for part in set_cookie.split(";")]
    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
    assert "Path=/" in attributes
    first = browser.http.cookies.get("session")
    again = browser.sign_in(login_location(browser, prompt="login"))
    assert again.status_code == 303
    second = browser.http.cookies.get("session")
    assert first and second and first != second
    # The old session id no longer signs anyone in.
    stale = Browser(stack)
    stale.http.cookies.set("session", first)
    silent = stale.authorize(**authorize_params(challenge=pkce_pair()[1], prompt="none"))
    assert query_of(silent.headers["Location"])["error"] == "login_required"


def assert_hardened(response: requests.Response) -> None:
    assert response.headers["Content-Type"].startswith("text/html")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_g3_html_pages_send_security_headers(stack: LocalStack) -> None:
    browser = Browser(stack)
    location = login_location(browser, prompt="consent")
    assert_hardened(browser.get(location))
    consent = browser.sign_in(location)
    assert_hardened(browser.get(consent.headers["Location"]))
    assert_hardened(browser.get("/logout"))
    assert_hardened(browser.get("/login?request_id=unknown"))
    assert_hardened(Browser(stack).authorize(client_id="nobody"))
    failed = Browser(stack)
    assert_hardened(failed.post("/login", {"request_id": "x", "csrf_token": "y"}))


def test_g4_redirects_after_post_are_303(stack: LocalStack) -> None:
    browser = Browser(stack)
    location = login_location(browser, prompt="consent")
    signed_in = browser.sign_in(location)
    assert signed_in.status_code == 303
    consent = browser.decide(signed_in.headers["Location"])
    assert consent.status_code == 303
    assert consent.headers["Location"].startswith(SPA_REDIRECT)


def test_g5_login_resumes_only_by_opaque_request_id(stack: LocalStack) -> None:
    browser = Browser(stack)
    location = login_location(browser)
    evil = "https://evil.example.com/steal"
    page = browser.get(f"{location}&redirect_uri={evil}&return_to={evil}&next={evil}")
    fields = form_fields(page.text)
    assert evil not in page.text
    response = browser.post(
        "/login",
        {
            **fields,
            "username": "demo",
            "password": "demo-password",
            "return_to": evil,
            "redirect_uri": evil,
        },
    )
    final = browser.until_client(response)
    assert final.headers["Location"].startswith(SPA_REDIRECT)
    unknown = browser.get("/login?request_id=made-up-id")
    assert unknown.status_code == 400
    assert "Location" not in unknown.headers


def test_g6_repeated_failures_per_account_are_refused_with_retry_after(
    stack: LocalStack, lockout_user: str
) -> None:
    browser = Browser(stack)
    statuses = []
    for _ in range(12):
        fields = login_form(browser)
        response = browser.post("/login", {**fields, "username": lockout_user, "password": "wrong"})
        statuses.append(response.status_code)
    assert statuses[0] == 200
    assert statuses[-1] == 429
    fields = login_form(browser)
    locked = browser.post(
        "/login", {**fields, "username": lockout_user, "password": "the-right-password"}
    )
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0


def test_g6_unknown_user_and_wrong_password_look_the_same(stack: LocalStack) -> None:
    def attempt(username: str) -> tuple[str, float]:
        browser = Browser(stack)
        fields = login_form(browser)
        started = time.perf_counter()
        response = browser.post(
            "/login", {**fields, "username": username, "password": "wrong-password"}
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 200
        message = response.text.split('role="alert"')[1].split("</p>")[0]
        return message, elapsed

    # Interleaved, so that load from the other test worker falls on both alike; the work itself
    # (one Argon2id verification each) is counted in the integration test.
    existing = create_user(stack, "g6-timing-user")  # its failures lock out no one else
    pairs = [(attempt(f"nobody-{i}"), attempt(existing)) for i in range(5)]
    unknown = [u for u, _ in pairs]
    wrong = [w for _, w in pairs]
    assert {m for m, _ in unknown} == {m for m, _ in wrong}
    unknown_time = statistics.median(t for _, t in unknown)
    wrong_time = statistics.median(t for _, t in wrong)
    # Both pay one Argon2id verification; neither is a fast path.
    assert 0.5 < unknown_time / wrong_time < 2.0, (unknown_time, wrong_time)


def signed_in_browser(stack: LocalStack) -> Browser:
    browser = Browser(stack)
    final = browser.until_client(browser.authorize(**authorize_params(challenge=pkce_pair()[1])))
    assert "code=" in final.headers["Location"]
    return browser


def old_sign_in_time(stack: LocalStack, browser: Browser) -> int:
    tokens = exchange(stack, get_code(stack, browser=browser)).json()
    return int(jwt.decode(tokens["id_token"], options={"verify_signature": False})["auth_time"])


@pytest.mark.parametrize("fresh", [{"prompt": "login"}, {"max_age": "0"}])
def test_g8_consent_step_cannot_skip_a_required_sign_in(
    stack: LocalStack, fresh: dict[str, str]
) -> None:
    """The reported bypass: /authorize?prompt=login sends the browser to sign in; opening
    /consent with the same request id instead, and allowing, must not give a code."""
    browser = signed_in_browser(stack)
    time.sleep(1.1)  # auth_time is in whole seconds: the old sign-in must be visibly older
    response = browser.authorize(**authorize_params(challenge=pkce_pair()[1], **fresh))
    login = response.headers["Location"]
    assert login.startswith("/login?request_id=")
    consent = "/consent?" + login.split("?", 1)[1]
    page = browser.get(consent)
    assert page.status_code == 303
    assert page.headers["Location"].startswith("/login?")
    fields = form_fields(browser.get(login).text)
    forged = browser.post("/consent", {**fields, "decision": "allow"})
    assert forged.status_code == 303
    assert forged.headers["Location"].startswith("/login?")  # still no code


@pytest.mark.parametrize("fresh", [{"prompt": "login"}, {"max_age": "0"}])
def test_g8_the_code_carries_the_new_sign_in_as_auth_time(
    stack: LocalStack, fresh: dict[str, str]
) -> None:
    browser = signed_in_browser(stack)
    before = old_sign_in_time(stack, browser)
    time.sleep(1.1)
    prompt = " ".join(("consent", fresh.get("prompt", ""))).strip()
    result = get_code(stack, browser=browser, **{**fresh, "prompt": prompt})
    tokens = exchange(stack, result).json()
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["auth_time"] > before


def test_g8_max_age_is_honoured_on_the_consent_step_too(stack: LocalStack) -> None:
    browser = signed_in_browser(stack)
    time.sleep(2.1)
    response = browser.authorize(
        **authorize_params(challenge=pkce_pair()[1], prompt="consent", max_age="1")
    )
    assert response.headers["Location"].startswith("/login?")
    # A younger sign-in that satisfies max_age goes straight to consent.
    ok = browser.authorize(
        **authorize_params(challenge=pkce_pair()[1], prompt="consent", max_age="3600")
    )
    assert ok.headers["Location"].startswith("/consent?")


def test_a14_a_changed_or_made_up_request_handle_is_an_error_page(stack: LocalStack) -> None:
    browser = Browser(stack)
    location = login_location(browser)
    handle = location.split("request_id=", 1)[1]
    changed = handle[:40] + ("A" if handle[40] != "A" else "B") + handle[41:]
    for bad in (changed, handle[::-1], "A" * 200):
        page = browser.get(f"/login?request_id={bad}")
        assert page.status_code == 400
        assert "Location" not in page.headers


def test_a14_a_request_completes_once(stack: LocalStack) -> None:
    browser = Browser(stack)
    location = login_location(browser, prompt="consent")
    consent = browser.sign_in(location).headers["Location"]
    fields = form_fields(browser.get(consent).text)
    first = browser.post("/consent", {**fields, "decision": "allow"})
    assert "code=" in first.headers["Location"]
    again = browser.post("/consent", {**fields, "decision": "allow"})
    assert again.status_code == 400
    assert "Location" not in again.headers


def test_g8_max_age_zero_asks_for_a_sign_in_even_in_the_same_second(stack: LocalStack) -> None:
    """OIDC Core: max_age=0 is prompt=login. A sign-in made the same second must not pass
    for one made for this request."""
    browser = signed_in_browser(stack)
    for extra in ({"max_age": "0"}, {"max_age": "0", "prompt": "consent"}):
        response = browser.authorize(**authorize_params(challenge=pkce_pair()[1], **extra))
        assert response.headers["Location"].startswith("/login?"), extra
    silent = browser.authorize(
        **authorize_params(challenge=pkce_pair()[1], max_age="0", prompt="none")
    )
    assert query_of(silent.headers["Location"])["error"] == "login_required"


# Issue 15 and 16 added pages and forms (second factor, passkeys, federation, logout): every
# route of the page functions is held to G1 and G3 from the route table, so a new one is too.
PAGE_POSTS = [
    r.path
    for r in ROUTES
    if r.function in ("login", "authorize") and r.method == "POST" and r.path != "/logout"
]
PAGE_GETS = [
    r.path
    for r in ROUTES
    if r.function in ("login", "authorize") and r.method == "GET" and r.path != "/passkeys.js"
]


@pytest.mark.parametrize("path", PAGE_POSTS)
def test_g1_every_form_of_the_page_functions_needs_its_csrf_token(
    stack: LocalStack, path: str
) -> None:
    """A cross-site POST (no CSRF cookie, no token) acts on nothing: 403, with the G3 headers.
    (/logout's POST may come from an app, OpenID Connect RP-Initiated Logout: L3 holds it.)"""
    answer = requests.post(
        f"{stack.issuer}{path}",
        data={"request_id": "x", "username": USER, "password": PASSWORD, "credential": "{}"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 403, (path, answer.status_code, answer.text[:200])
    assert_hardened(answer)


@pytest.mark.parametrize("path", PAGE_GETS)
def test_g3_every_page_route_answers_with_the_hardening_headers(
    stack: LocalStack, path: str
) -> None:
    """Whatever a page route answers to a bare request (a page, an error page, a redirect to
    the sign-in), never a 5xx, and an HTML answer carries the G3 headers."""
    answer = requests.get(f"{stack.issuer}{path}", allow_redirects=False, timeout=10)
    assert answer.status_code < 500, (path, answer.status_code)
    if answer.headers.get("Content-Type", "").startswith("text/html"):
        assert_hardened(answer)
