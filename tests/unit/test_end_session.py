"""/logout (OpenID Connect RP-Initiated Logout 1.0) on the in-memory stores: which hints are
trusted (L2), where the browser may be sent (L1), when the user is asked (L3), that the session
and its sid end and the apps are handed over without waiting for them (L4, L5); and the `sid`
itself, from the session into the code and the ID token."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest

from oauth_core.admin.backchannel_logout import BackchannelNotifier, ThreadedLogoutDispatch
from oauth_core.clock import FixedClock, SystemRandom
from oauth_core.errors import CsrfRejected
from oauth_core.http.dispatch import Endpoints
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.models import (
    LogoutNotice,
    PendingAuthorization,
    Session,
    session_client_entry,
    session_sid,
)
from oauth_core.rules.hashing import token_hash
from oauth_core.tokens import access_token, id_token
from oauth_core.wiring import Components, endpoints_for
from tests.support import DOMAIN, ISSUER, form_request, pkce_pair, query_of
from tests.support import redeem_code as redeem

SESSION_ID = "s" * 43
CSRF = "c" * 43
APP, OTHER = "logout-app", "other-app"
BYE = "https://app.example/bye"


class Recorded:
    """A LogoutDispatch that keeps what it was handed."""

    def __init__(self) -> None:
        self.notices: list[LogoutNotice] = []

    def send(self, notices: list[LogoutNotice]) -> None:
        self.notices.extend(notices)


@pytest.fixture
def dispatched(services: Components) -> Recorded:
    recorded = Recorded()
    services.__dict__["logout_dispatch"] = recorded  # before anything builds the notices
    return recorded


@pytest.fixture
def pages(services: Components, dispatched: Recorded) -> Endpoints:
    for client_id in (APP, OTHER):
        services.registry.create(
            {
                "client_id": client_id,
                "client_name": f"The {client_id}",
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code"],
                "redirect_uris": ["https://app.example/cb"],
                "post_logout_redirect_uris": [BYE if client_id == APP else f"{BYE}/other"],
                "backchannel_logout_uri": "https://app.example/backchannel",
                "scope": "openid",
            }
        )
    return endpoints_for("login", services)


@pytest.fixture
def session(services: Components, clock: FixedClock, pages: Endpoints) -> Session:
    user = services.user_directory.create("logout-user", "logout user password", {})
    app = services.clients.get(APP)
    assert app is not None
    signed_in = Session(
        session_hash=token_hash(SESSION_ID),
        sub=user.sub,
        username=user.username,
        auth_time=clock.now(),
        expires_at=clock.now() + 3600,
        signed_in_ms=clock.now_ms(),
        signed_into=(session_client_entry(APP, app.registration_id),),
    )
    services.grants.put_session(signed_in)
    return signed_in


def hint(services: Components, clock: FixedClock, session: Session, **changes: Any) -> str:
    """An ID token of this server's, for APP and this session (with `changes` to its claims)."""
    key = services.keys.load().current("RS256")
    claims = {"sid": session.sid, **changes.pop("claims", {})}
    token = id_token.id_token(
        issuer=changes.pop("issuer", ISSUER),
        client_id=changes.pop("client_id", APP),
        sub=changes.pop("sub", session.sub),
        auth_time=clock.now(),
        nonce="n",
        access_token_value="an access token",
        claims={},
        now=clock.now(),
        ttl=600,
        key=key,
        sid=claims["sid"],
    )
    return token


def cookies(services: Components, *, csrf: bool = False, signed_in: bool = True) -> str:
    jar = []
    if signed_in:
        jar.append(f"{services.flow.cookies.name('session')}={SESSION_ID}")
    if csrf:
        jar.append(f"{services.flow.cookies.name('csrf')}={CSRF}")
    return "; ".join(jar)


def get(pages: Endpoints, cookie: str, **params: str) -> HttpResponse:
    request = HttpRequest(
        "GET", "/logout", {"cookie": cookie}, urlencode(params), domain_name=DOMAIN
    )
    return pages["logout_page"](request)


def post(pages: Endpoints, cookie: str, **fields: str) -> HttpResponse:
    request = HttpRequest(
        "POST",
        "/logout",
        {"cookie": cookie, "content-type": "application/x-www-form-urlencoded"},
        body=urlencode(fields).encode(),
        domain_name=DOMAIN,
    )
    return pages["logout"](request)


def signed_out(services: Components, session: Session) -> bool:
    return services.grants.get_session(session.session_hash) is None


def clears_the_session_cookie(response: HttpResponse) -> bool:
    return any(c.startswith("__Host-session=;") and "Max-Age=0" in c for c in response.cookies)


# --- the sid -----------------------------------------------------------------------------------


def test_a_sid_is_derived_one_way_from_the_session_and_names_no_secret(session: Session) -> None:
    assert session.sid == session_sid(session.session_hash)
    assert len(session.sid) == 22  # 128 bits, base64url
    assert session.sid not in (SESSION_ID, session.session_hash)
    assert session.sid != session_sid(token_hash("another session"))


def test_l5_the_code_records_the_client_once_and_the_id_token_carries_the_sid(
    services: Components, clock: FixedClock
) -> None:
    client = services.registry.create(
        {
            "client_id": "sid-app",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "redirect_uris": ["https://app.example/cb"],
            "scope": "openid read:data",
        }
    ).client
    services.grants.put_session(Session("h", "sub-1", "alice", clock.now(), clock.now() + 3600))
    verifier, challenge = pkce_pair()

    def code_now() -> str:  # as /authorize issues one: for the session as stored
        session = services.grants.get_session("h")
        assert session is not None
        pending = PendingAuthorization(
            request_id="r",
            client_id="sid-app",
            redirect_uri="https://app.example/cb",
            scope="openid",
            state=None,
            nonce=None,
            code_challenge=challenge,
            prompt=(),
            max_age=None,
            login_hint=None,
            expires_at=clock.now() + 600,
            client_registration=client.registration_id,
        )
        answer = services.flow.redirect_with_code(form_request({}), pending, session)
        return query_of(answer.headers["Location"])["code"]

    code = code_now()
    recorded = services.grants.get_session("h")
    assert recorded is not None
    assert recorded.signed_into == (session_client_entry("sid-app", client.registration_id),)
    code_now()  # a second code for the same client: recorded already, no second entry
    again = services.grants.get_session("h")
    assert again is not None and again.signed_into == recorded.signed_into
    body = redeem(services, client, "https://app.example/cb", code, verifier)
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert claims["sid"] == recorded.sid == session_sid("h")


# --- L5 and L2: the app's own ID token ------------------------------------------------------------


def test_l5_a_hint_of_this_session_signs_out_at_once_and_hands_the_apps_over(
    services: Components, clock: FixedClock, session: Session, pages: Endpoints,
    dispatched: Recorded,
) -> None:  # fmt: skip
    answer = get(
        pages,
        cookies(services),
        id_token_hint=hint(services, clock, session),
        post_logout_redirect_uri=BYE,
        state="a state",
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"{BYE}?state=a+state"
    assert clears_the_session_cookie(answer)
    assert signed_out(services, session)
    assert dispatched.notices == [
        LogoutNotice(ISSUER, session.sub, session.sid, session.signed_into)
    ]


def test_l2_an_expired_hint_is_still_a_hint(
    services: Components, clock: FixedClock, session: Session, pages: Endpoints
) -> None:
    """RP-Initiated Logout 2: the server should accept an ID token past its `exp` as a hint
    (apps keep them); it must still be ours and name this session to sign out unasked."""
    expired = hint(services, clock, session)
    clock.advance(3000)  # the ID token lived 600 s
    answer = get(pages, cookies(services), id_token_hint=expired, post_logout_redirect_uri=BYE)
    assert answer.status_code == 303 and signed_out(services, session)


@pytest.mark.parametrize(
    "changes",
    [
        {"issuer": "https://auth.example.com.evil.example"},
        {"issuer": "https://other.example"},
    ],
)
def test_l2_a_hint_for_another_issuer_is_refused(
    services: Components, clock: FixedClock, session: Session, pages: Endpoints,
    dispatched: Recorded, changes: dict[str, str],
) -> None:  # fmt: skip
    answer = get(
        pages,
        cookies(services),
        id_token_hint=hint(services, clock, session, **changes),
        post_logout_redirect_uri=BYE,
    )
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert not signed_out(services, session) and dispatched.notices == []


def test_l2_a_token_that_is_no_id_token_of_ours_is_no_hint(
    services: Components, clock: FixedClock, session: Session, pages: Endpoints
) -> None:
    key = services.keys.load().current("ES256")
    claims = {"iss": ISSUER, "sub": session.sub, "aud": APP, "iat": clock.now(), "sid": session.sid}
    for token in (
        access_token.sign({**claims, "exp": clock.now() + 60}, key, "at+jwt"),  # an access token
        access_token.sign({**claims, "exp": clock.now() + 60}, key, "logout+jwt"),
        jwt.encode(claims, "a shared secret of thirty-two bytes!", algorithm="HS256"),
        jwt.encode(claims, "", algorithm="none"),
        "x" * 9000,
    ):
        answer = get(pages, cookies(services), id_token_hint=token, client_id=APP)
        assert answer.status_code == 400, token
        assert not signed_out(services, session)


def test_l2_the_hints_audience_must_hold_the_client_id(
    services: Components, clock: FixedClock, session: Session, pages: Endpoints
) -> None:
    answer = get(
        pages,
        cookies(services),
        id_token_hint=hint(services, clock, session),
        client_id=OTHER,
        post_logout_redirect_uri=f"{BYE}/other",
    )
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert not signed_out(services, session)


# --- L1: where the browser may go -----------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"client_id": APP, "post_logout_redirect_uri": f"{BYE}/"},
        {"client_id": APP, "post_logout_redirect_uri": f"{BYE}/other"},  # OTHER's, not APP's
        {"client_id": OTHER, "post_logout_redirect_uri": BYE},
        {"client_id": "nobody", "post_logout_redirect_uri": BYE},
        {"client_id": "no such client!", "post_logout_redirect_uri": BYE},
        {"post_logout_redirect_uri": BYE},  # no client named
        {"client_id": APP, "post_logout_redirect_uri": BYE, "state": "caf\u00e9"},
        {"client_id": APP, "post_logout_redirect_uri": BYE, "state": "x" * 2049},
    ],
)
def test_l1_only_a_return_address_of_the_named_client_is_followed(
    services: Components, session: Session, pages: Endpoints, params: dict[str, str]
) -> None:
    for signed_in in (True, False):
        answer = get(pages, cookies(services, signed_in=signed_in), **params)
        assert answer.status_code == 400 and "Location" not in answer.headers
        assert "This sign-out link does not work" in answer.body
    assert not signed_out(services, session)


def test_l1_a_disabled_clients_return_address_is_not_followed(
    services: Components, session: Session, pages: Endpoints
) -> None:
    services.registry.update(APP, {"disabled": True})
    answer = get(
        pages, cookies(services, signed_in=False), client_id=APP, post_logout_redirect_uri=BYE
    )
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_l1_with_no_session_a_verified_return_address_is_followed_at_once(
    services: Components, session: Session, pages: Endpoints, dispatched: Recorded
) -> None:
    answer = get(pages, "", client_id=APP, post_logout_redirect_uri=BYE, state="s")
    assert answer.status_code == 303 and answer.headers["Location"] == f"{BYE}?state=s"
    assert dispatched.notices == []  # nothing was ended


# --- L3: asked, and the answer checked ------------------------------------------------------


def test_l3_without_a_hint_of_this_session_the_user_is_asked(
    services: Components, clock: FixedClock, session: Session, pages: Endpoints,
    dispatched: Recorded,
) -> None:  # fmt: skip
    for params in (
        {},
        {"client_id": APP, "post_logout_redirect_uri": BYE},
        {"id_token_hint": hint(services, clock, session, claims={"sid": "another-session"})},
        {"id_token_hint": hint(services, clock, session, sub="someone else")},
    ):
        answer = get(pages, cookies(services), **params)
        assert answer.status_code == 200, params
        assert 'action="/logout"' in answer.body and "csrf_token" in answer.body
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["Cache-Control"] == "no-store"
    # An app's POST without a hint of this session is the same question.
    assert post(pages, cookies(services), client_id=APP).status_code == 200
    assert not signed_out(services, session) and dispatched.notices == []


def test_l3_a_confirmation_without_its_csrf_token_is_refused(
    services: Components, session: Session, pages: Endpoints, dispatched: Recorded
) -> None:
    with pytest.raises(CsrfRejected):  # answered 403 by the page functions (G1)
        post(pages, cookies(services), csrf_token=CSRF)  # no cookie to match
    with pytest.raises(CsrfRejected):
        post(pages, cookies(services, csrf=True), csrf_token="d" * 43)
    assert not signed_out(services, session) and dispatched.notices == []


def test_l3_the_confirmed_form_signs_out_and_goes_where_it_said(
    services: Components, session: Session, pages: Endpoints, dispatched: Recorded
) -> None:
    answer = post(
        pages,
        cookies(services, csrf=True),
        csrf_token=CSRF,
        client_id=APP,
        post_logout_redirect_uri=BYE,
        state="st",
    )
    assert answer.status_code == 303 and answer.headers["Location"] == f"{BYE}?state=st"
    assert signed_out(services, session) and len(dispatched.notices) == 1
    # Its fields are checked again: a changed return address goes nowhere.
    services.grants.put_session(session)
    changed = post(
        pages,
        cookies(services, csrf=True),
        csrf_token=CSRF,
        client_id=APP,
        post_logout_redirect_uri="https://evil.example/",
    )
    assert changed.status_code == 400 and "Location" not in changed.headers


# --- L4: the apps are handed over, never waited for -----------------------------------------


class HangingApp:
    """An app whose back-channel endpoint holds every POST until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.called = threading.Event()
        self.gave_up = False

    def post_form(self, url: str, fields: dict[str, str]) -> int:
        self.called.set()
        if not self.release.wait(30):
            self.gave_up = True
        return 200


def test_l4_an_app_that_hangs_never_holds_up_the_sign_out(
    services: Components, clock: FixedClock, session: Session
) -> None:
    app = HangingApp()
    notifier = BackchannelNotifier(
        services.clients,
        services.keys,
        app,
        clock,
        SystemRandom(),
    )
    services.__dict__["logout_dispatch"] = ThreadedLogoutDispatch(notifier)
    services.__dict__.pop("logout_notices")
    pages = endpoints_for("login", services)
    answer = get(pages, cookies(services), id_token_hint=hint(services, clock, session))
    # Signed out while the app still holds its logout token.
    assert answer.status_code == 200 and signed_out(services, session)
    assert app.called.wait(10) and not app.release.is_set()
    app.release.set()
    assert not app.gave_up


def test_l4_a_notice_that_cannot_be_handed_over_still_signs_out(
    services: Components, clock: FixedClock, session: Session
) -> None:
    class Broken:
        def send(self, notices: list[LogoutNotice]) -> None:
            raise OSError("Lambda is unreachable")

    services.__dict__["logout_dispatch"] = Broken()
    services.__dict__.pop("logout_notices")
    pages = endpoints_for("login", services)
    answer = get(pages, cookies(services), id_token_hint=hint(services, clock, session))
    assert answer.status_code == 200 and signed_out(services, session)


def test_l5_the_apps_told_are_the_registrations_the_session_signed_into(
    services: Components, clock: FixedClock, session: Session, pages: Endpoints,
    dispatched: Recorded,
) -> None:  # fmt: skip
    other = services.clients.get(OTHER)
    assert other is not None
    services.grants.put_session(
        replace(
            session,
            signed_into=(
                *session.signed_into,
                session_client_entry(OTHER, "an earlier registration"),  # D8: not told
                session_client_entry("deleted-app", "r"),
                *session.signed_into,
            ),
        )
    )
    get(pages, cookies(services), id_token_hint=hint(services, clock, session))
    (notice,) = dispatched.notices
    assert notice.clients == session.signed_into
