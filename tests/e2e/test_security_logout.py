"""SECURITY L1-L5 over HTTP: RP-Initiated Logout at /logout and Back-Channel Logout, received by
apps played by a loopback HTTP server here; each logout token is verified with PyJWT against the
server's published JWKS, as an app would."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

import jwt
import pytest
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import Browser, CodeResult, get_code, pkce_pair, query_of
from tests.e2e.test_account_page import account_sign_in, form_for, new_user
from tests.e2e.test_security_client_credentials import oauthctl

PASSWORD = "account page password 1"
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# How long the asynchronous notifier may take to reach an app on a busy test machine.
DELIVERY_WAIT = 30.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    form: dict[str, list[str]]


@dataclass
class Apps:
    """A loopback HTTP server playing the apps' back-channel logout endpoints: it records every
    POST; a path under /hang/ holds its request until `release` is set."""

    base: str
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)

    def to(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int = 1) -> list[Received]:
        deadline = time.monotonic() + DELIVERY_WAIT
        while len(self.to(path)) < count:
            assert time.monotonic() < deadline, f"nothing was POSTed to {path}"
            time.sleep(0.05)
        return self.to(path)

    def token_for(self, path: str, sid: str) -> str:
        """The logout token POSTed to `path` that names the session `sid` (waiting for it)."""
        deadline = time.monotonic() + DELIVERY_WAIT
        while True:
            for received in self.to(path):
                (token,) = received.form["logout_token"]
                if jwt.decode(token, options={"verify_signature": False}).get("sid") == sid:
                    return token
            assert time.monotonic() < deadline, f"no logout token for {sid} at {path}"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def apps() -> Iterator[Apps]:
    server_apps: Apps

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length).decode()
            server_apps.received.append(
                Received(self.path, dict(self.headers.items()), parse_qs(body))
            )
            server_apps.arrived.set()
            if self.path.startswith("/hang/"):
                server_apps.release.wait(60)
            if self.path.startswith("/moved/"):
                self.send_response(302)
                self.send_header("Location", "/elsewhere/")
            elif self.path.startswith("/refuses/"):
                self.send_response(400)
            else:
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server_apps = Apps(f"http://127.0.0.1:{server.server_address[1]}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server_apps
    finally:
        server_apps.release.set()
        server.shutdown()


REGISTERED: set[tuple[str, str]] = set()


def register(stack: LocalStack, client_id: str, apps: Apps, backchannel: str | None) -> None:
    """A first-party public client (no consent page) with a post-logout redirect URI and,
    unless None, a back-channel logout URI (a path on `apps`, or a whole URL). Once per stack:
    registered again, it would be a new registration, which the functions' client caches
    (two seconds here) would not all know yet."""
    from oauthctl.admin import Admin

    if (stack.issuer, client_id) in REGISTERED:
        return
    REGISTERED.add((stack.issuer, client_id))

    metadata: dict[str, Any] = {
        "client_id": client_id,
        "client_name": f"App {client_id}",
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code"],
        "redirect_uris": [f"{apps.base}/{client_id}/callback"],
        "post_logout_redirect_uris": [f"{apps.base}/{client_id}/bye"],
        "scope": "openid profile",
        "first_party": True,
    }
    if backchannel is not None:
        url = backchannel if "://" in backchannel else f"{apps.base}{backchannel}"
        metadata["backchannel_logout_uri"] = url
    Admin.connect(endpoint_url=stack.aws_endpoint).clients().create(metadata, replace=True)


@dataclass
class SignedIn:
    browser: Browser
    id_token: str
    claims: dict[str, Any]


def sign_in(
    stack: LocalStack,
    client_id: str,
    apps: Apps,
    browser: Browser | None = None,
    username: str = "demo",
    password: str = "demo-password",
) -> SignedIn:
    """The code flow for `client_id` in `browser` (signing in if it must); its ID token."""
    redirect_uri = f"{apps.base}/{client_id}/callback"
    code: CodeResult = get_code(
        stack,
        client_id=client_id,
        redirect_uri=redirect_uri,
        browser=browser,
        username=username,
        password=password,
        scope="openid profile",
        nonce=secrets.token_urlsafe(8),
    )
    tokens = requests.post(
        f"{stack.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code.code,
            "redirect_uri": redirect_uri,
            "code_verifier": code.verifier,
            "client_id": client_id,
        },
        timeout=10,
    )
    assert tokens.status_code == 200, tokens.text
    id_token = tokens.json()["id_token"]
    return SignedIn(
        code.browser, id_token, jwt.decode(id_token, options={"verify_signature": False})
    )


def logout(browser: Browser, **params: str) -> requests.Response:
    return browser.get(f"/logout?{urlencode(params)}")


def still_signed_in(stack: LocalStack, browser: Browser, client_id: str, apps: Apps) -> bool:
    """Whether the browser's session still answers /authorize without a sign-in."""
    answer = browser.authorize(
        client_id=client_id,
        redirect_uri=f"{apps.base}/{client_id}/callback",
        response_type="code",
        scope="openid",
        code_challenge=pkce_pair()[1],
        code_challenge_method="S256",
    )
    assert answer.status_code == 303, answer.text
    return not answer.headers["Location"].startswith("/login")


def session_cleared(response: requests.Response) -> bool:
    return any(
        c.startswith("session=;") and "Max-Age=0" in c
        for c in response.raw.headers.getlist("Set-Cookie")
    )


def verified_logout_token(stack: LocalStack, token: str, client_id: str) -> dict[str, Any]:
    """The logout token as an app verifies it (Back-Channel Logout 1.0 2.6)."""
    assert jwt.get_unverified_header(token)["typ"] == "logout+jwt"
    key = jwt.PyJWKClient(f"{stack.issuer}/.well-known/jwks.json").get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=["RS256", "ES256"],
        audience=client_id,
        issuer=stack.issuer,
        options={"require": ["iss", "aud", "iat", "exp", "jti", "events", "sid", "sub"]},
    )
    assert claims["events"] == {LOGOUT_EVENT: {}}
    assert "nonce" not in claims
    assert 0 < claims["exp"] - claims["iat"] <= 120
    return claims


def server_log(stack: LocalStack) -> str:
    return stack.output.read_text(errors="replace")


def wait_for_log(stack: LocalStack, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + DELIVERY_WAIT
    while True:
        for line in server_log(stack).splitlines():
            if line.startswith("{"):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if wanted(record):
                    return dict(record)
        assert time.monotonic() < deadline, "the log line never came"
        time.sleep(0.1)


def not_delivered(client_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda r: (
        r.get("message") == "back-channel logout not delivered" and r.get("client_id") == client_id
    )


# --- metadata ------------------------------------------------------------------------------------


def test_the_discovery_document_names_the_end_session_endpoint(stack: LocalStack) -> None:
    document = requests.get(f"{stack.issuer}/.well-known/openid-configuration", timeout=10).json()
    assert document["end_session_endpoint"] == f"{stack.issuer}/logout"
    assert document["backchannel_logout_supported"] is True
    assert document["backchannel_logout_session_supported"] is True
    assert "frontchannel_logout_supported" not in document


# --- L5: the app's own ID token signs out at once; the session and its sid end for all apps ------


def test_l5_an_id_token_hint_of_this_session_signs_out_at_once_and_returns_with_state(
    stack: LocalStack, apps: Apps
) -> None:
    register(stack, "l5-app", apps, "/l5-app/backchannel")
    signed_in = sign_in(stack, "l5-app", apps)
    sid = signed_in.claims["sid"]
    assert isinstance(sid, str) and len(sid) >= 22
    state = "s t~a%t/e"  # visible ASCII, given back byte for byte
    answer = logout(
        signed_in.browser,
        id_token_hint=signed_in.id_token,
        post_logout_redirect_uri=f"{apps.base}/l5-app/bye",
        state=state,
    )
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith(f"{apps.base}/l5-app/bye?")
    assert query_of(answer.headers["Location"]) == {"state": state}
    assert session_cleared(answer)
    assert not still_signed_in(stack, signed_in.browser, "l5-app", apps)
    # The session's sid ends for the app too: the logout token names it.
    (received,) = apps.wait_for("/l5-app/backchannel")
    assert received.headers["Content-Type"] == "application/x-www-form-urlencoded"
    claims = verified_logout_token(stack, received.form["logout_token"][0], "l5-app")
    assert claims["sid"] == sid and claims["sub"] == signed_in.claims["sub"]


def test_l5_a_sign_out_tells_every_app_the_session_signed_into_once_each(
    stack: LocalStack, apps: Apps
) -> None:
    register(stack, "l5-first", apps, "/l5-first/backchannel")
    register(stack, "l5-second", apps, "/l5-second/backchannel")
    register(stack, "l5-silent", apps, None)  # registered no back-channel URI: not told
    first = sign_in(stack, "l5-first", apps)
    second = sign_in(stack, "l5-second", apps, first.browser)  # the same session: no password
    sign_in(stack, "l5-second", apps, first.browser)  # signed into twice, told once
    sign_in(stack, "l5-silent", apps, first.browser)
    assert first.claims["sid"] == second.claims["sid"]
    # The server's own sign-out page: asked, then confirmed (the form's CSRF token).
    page = first.browser.get("/logout")
    assert page.status_code == 200
    done = first.browser.post("/logout", form_for(page.text, "/logout"))
    assert done.status_code == 200 and "You have been signed out" in done.text
    for client_id in ("l5-first", "l5-second"):
        token = apps.token_for(f"/{client_id}/backchannel", first.claims["sid"])
        assert verified_logout_token(stack, token, client_id)["sub"] == first.claims["sub"]


def test_l5_sign_out_everywhere_and_an_operator_ending_sessions_tell_the_apps(
    stack: LocalStack, apps: Apps
) -> None:
    user = "logout-everywhere"
    new_user(stack, user)
    register(stack, "l5-everywhere", apps, "/l5-everywhere/backchannel")
    path = "/l5-everywhere/backchannel"
    # Signed in on the account page, then into the app in the same session.
    browser = Browser(stack)
    page = account_sign_in(browser, user)
    on_page = sign_in(stack, "l5-everywhere", apps, browser)
    done = browser.post("/account", form_for(page, "/account", action="sign_out_everywhere"))
    assert done.status_code == 303
    token = apps.token_for(path, on_page.claims["sid"])
    assert verified_logout_token(stack, token, "l5-everywhere")["sub"] == on_page.claims["sub"]

    # Another browser's session, ended by the operator.
    by_operator = sign_in(stack, "l5-everywhere", apps, username=user, password=PASSWORD)
    assert by_operator.claims["sid"] != on_page.claims["sid"]
    ended = oauthctl(stack, "sessions", "end", user)
    assert ended.returncode == 0, ended.stderr
    assert "ended 1 session" in ended.stdout and "1 app told" in ended.stdout
    token = apps.token_for(path, by_operator.claims["sid"])
    assert verified_logout_token(stack, token, "l5-everywhere")["sub"] == on_page.claims["sub"]


# --- L1: post_logout_redirect_uri, exactly, for the named client only -----------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "{base}/l1-app/bye/",
        "{base}/l1-app/BYE",
        "{base}/l1-app/bye?x=1",
        "{base}/l1-app/bye#f",
        "{base}/l1-other/bye",  # registered, but by another client
        "https://evil.example/bye",
    ],
)
def test_l1_a_return_address_not_registered_for_the_hinted_client_is_an_error_page(
    stack: LocalStack, apps: Apps, variant: str
) -> None:
    register(stack, "l1-app", apps, None)
    register(stack, "l1-other", apps, None)
    signed_in = sign_in(stack, "l1-app", apps)
    uri = variant.format(base=apps.base)
    for params in (
        {"id_token_hint": signed_in.id_token, "post_logout_redirect_uri": uri},
        {"client_id": "l1-app", "post_logout_redirect_uri": uri},
    ):
        answer = logout(signed_in.browser, **params, state="x")
        assert answer.status_code == 400
        assert "Location" not in answer.headers
        assert "This sign-out link does not work" in answer.text
    assert still_signed_in(stack, signed_in.browser, "l1-app", apps)  # nothing was ended


def test_l1_a_return_address_with_no_client_named_is_an_error_page(
    stack: LocalStack, apps: Apps
) -> None:
    register(stack, "l1-app", apps, None)
    answer = Browser(stack).get(
        f"/logout?{urlencode({'post_logout_redirect_uri': f'{apps.base}/l1-app/bye'})}"
    )
    assert answer.status_code == 400 and "Location" not in answer.headers


# --- L2: a hint not issued here is not trusted --------------------------------------------------


def forged(claims: dict[str, Any], kid: str) -> str:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})


def test_l2_hints_not_issued_here_are_refused_without_a_redirect_or_a_sign_out(
    stack: LocalStack, apps: Apps
) -> None:
    register(stack, "l2-app", apps, None)
    register(stack, "l2-other", apps, None)
    signed_in = sign_in(stack, "l2-app", apps)
    kid = jwt.get_unverified_header(signed_in.id_token)["kid"]
    header, _, signature = signed_in.id_token.split(".")
    other_payload = jwt.utils.base64url_encode(
        json.dumps({**signed_in.claims, "sub": "someone-else"}).encode()
    ).decode()
    access_token = requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "client_credentials", "scope": "read:data"},
        auth=("demo-service", stack.client_secret("demo-service")),
        timeout=10,
    ).json()["access_token"]
    bye = f"{apps.base}/l2-app/bye"
    for hint, client_id in (
        (forged(signed_in.claims, kid), None),  # another key, under our key's kid
        (forged({**signed_in.claims, "iss": "https://evil.example"}, kid), None),
        (f"{header}.{other_payload}.{signature}", None),  # a changed claim
        (access_token, None),  # ours, but no ID token
        ("not-a-jwt", None),
        (signed_in.id_token, "l2-other"),  # the hint's aud is not this client_id
    ):
        params = {"id_token_hint": hint, "post_logout_redirect_uri": bye, "state": "x"}
        if client_id:
            params["client_id"] = client_id
        answer = logout(signed_in.browser, **params)
        assert answer.status_code == 400, hint
        assert "Location" not in answer.headers
        assert not session_cleared(answer)
    assert still_signed_in(stack, signed_in.browser, "l2-app", apps)


def test_l2_the_apps_own_hint_with_its_client_id_is_trusted(stack: LocalStack, apps: Apps) -> None:
    """The control of the refusals above (an expired hint is accepted too, by design: see
    unit/test_end_session.py)."""
    register(stack, "l2-app", apps, None)
    signed_in = sign_in(stack, "l2-app", apps)
    answer = logout(signed_in.browser, id_token_hint=signed_in.id_token, client_id="l2-app")
    assert answer.status_code == 200 and "You have been signed out" in answer.text


# --- L3: without a valid hint of this session, the user is asked; forged POSTs are refused --------


def test_l3_no_hint_or_a_stale_one_asks_the_user_on_a_hardened_page(
    stack: LocalStack, apps: Apps
) -> None:
    register(stack, "l3-app", apps, "/l3-app/backchannel")
    earlier = sign_in(stack, "l3-app", apps)  # a session of its own, ended next
    assert logout(earlier.browser, id_token_hint=earlier.id_token).status_code == 200
    signed_in = sign_in(stack, "l3-app", apps)
    bye = f"{apps.base}/l3-app/bye"
    for params in (
        {"client_id": "l3-app", "post_logout_redirect_uri": bye, "state": "st"},
        {"id_token_hint": earlier.id_token, "post_logout_redirect_uri": bye, "state": "st"},
    ):
        page = logout(signed_in.browser, **params)
        assert page.status_code == 200 and "App l3-app" in page.text
        assert "asks you to sign out" in page.text
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        # Chrome applies form-action to the redirect after the POST: the app's origin is in it.
        assert apps.base in page.headers["Content-Security-Policy"].split("form-action")[1]
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert still_signed_in(stack, signed_in.browser, "l3-app", apps)
    # An app's POST without a valid hint is the same question, not a sign-out.
    asked = signed_in.browser.post("/logout", {"client_id": "l3-app"})
    assert asked.status_code == 200 and "asks you to sign out" in asked.text
    # A forged POST of the form, without the CSRF cookie's token: refused.
    fields = form_for(page.text, "/logout")
    forged_post = signed_in.browser.post("/logout", {**fields, "csrf_token": "x" * 43})
    assert forged_post.status_code == 403
    assert still_signed_in(stack, signed_in.browser, "l3-app", apps)
    # The user says yes: signed out, sent back with the state.
    done = signed_in.browser.post("/logout", fields)
    assert done.status_code == 303
    assert done.headers["Location"] == f"{bye}?state=st"
    assert not still_signed_in(stack, signed_in.browser, "l3-app", apps)
    token = apps.token_for("/l3-app/backchannel", signed_in.claims["sid"])
    assert verified_logout_token(stack, token, "l3-app")["sub"] == signed_in.claims["sub"]


def test_l3_the_confirmation_form_is_checked_again_when_it_comes_back(
    stack: LocalStack, apps: Apps
) -> None:
    register(stack, "l3-app", apps, None)
    signed_in = sign_in(stack, "l3-app", apps)
    page = logout(signed_in.browser, client_id="l3-app")
    fields = form_for(page.text, "/logout")
    changed = {**fields, "post_logout_redirect_uri": "https://evil.example/"}
    answer = signed_in.browser.post("/logout", changed)
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert still_signed_in(stack, signed_in.browser, "l3-app", apps)


# --- L4: logout tokens go only where the rules allow, and never hold the user up ----------------


def test_l4_an_app_that_hangs_does_not_hold_up_the_sign_out(stack: LocalStack, apps: Apps) -> None:
    register(stack, "l4-hangs", apps, "/hang/l4")
    signed_in = sign_in(stack, "l4-hangs", apps)
    apps.release.clear()
    answer = logout(
        signed_in.browser,
        id_token_hint=signed_in.id_token,
        post_logout_redirect_uri=f"{apps.base}/l4-hangs/bye",
    )
    # Answered before the notifier gave up on the app (a synchronous sign-out would have
    # waited for that, and logged it first).
    assert answer.status_code == 303
    assert "back-channel logout not delivered" not in server_log(stack).split("l4-hangs")[-1]
    apps.wait_for("/hang/l4")
    # The app holds each POST until released: the notifier gives up on it after its deadline
    # and one retry, and logs that, without the token.
    record = wait_for_log(stack, not_delivered("l4-hangs"))
    apps.release.set()
    assert "could not be reached" in record["reason"]
    assert len(apps.to("/hang/l4")) == 2  # the first attempt and one retry
    (first, *_) = apps.to("/hang/l4")
    assert first.form["logout_token"][0] not in server_log(stack)


@pytest.mark.parametrize(
    ("client_id", "backchannel", "reason"),
    [
        ("l4-private", "https://10.0.0.1/logout", "non-public address"),
        ("l4-metadata", "https://169.254.169.254/latest", "non-public address"),
        ("l4-moved", "/moved/l4", "answered 302"),
        ("l4-refuses", "/refuses/l4", "answered 400"),
    ],
)
def test_l4_logout_tokens_go_only_where_the_outbound_rules_allow_and_follow_no_redirect(
    stack: LocalStack, apps: Apps, client_id: str, backchannel: str, reason: str
) -> None:
    register(stack, client_id, apps, backchannel)
    signed_in = sign_in(stack, client_id, apps)
    answer = logout(signed_in.browser, id_token_hint=signed_in.id_token)
    assert answer.status_code == 200 and "You have been signed out" in answer.text
    record = wait_for_log(stack, not_delivered(client_id))
    assert reason in record["reason"]
    assert apps.to("/elsewhere/") == []  # the redirect was not followed
    if backchannel.startswith("/"):
        assert len(apps.to(backchannel)) == 1  # a 3xx or 4xx answer is not tried again
