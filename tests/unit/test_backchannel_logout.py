"""Back-channel logout, the server's side (SECURITY L4): what a logout token is, to whom the
notifier sends it and how often, what it logs, and the POST itself under the outbound rules
(https, public addresses, loopback only on a local stack, no redirect followed)."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest

from oauth_core import observability
from oauth_core.admin.backchannel_logout import (
    BackchannelNotifier,
    InlineLogoutDispatch,
    LogoutNotices,
    registered_client,
)
from oauth_core.clock import FixedClock, SystemRandom
from oauth_core.http.outbound import FetchRefused, SafeFetcher, Unreachable
from oauth_core.keys import KeySet
from oauth_core.models import LogoutNotice, Session, session_client_entry
from oauth_core.observability import logger
from oauth_core.storage.logout_dispatch import LambdaLogoutDispatch
from oauth_core.tokens.logout_token import BACKCHANNEL_LOGOUT_EVENT, logout_token
from oauth_core.wiring import Components
from tests.support import ISSUER

URL = "https://app.example/backchannel"


class Answers:
    """A stand-in for the outbound POST: answers (a status, or an exception) in turn."""

    def __init__(self, *answers: int | Exception):
        self.answers = list(answers)
        self.posts: list[tuple[str, dict[str, str]]] = []

    def post_form(self, url: str, fields: dict[str, str]) -> int:
        self.posts.append((url, fields))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def register(services: Components, client_id: str = "bc-app", **extra: Any) -> str:
    client = services.registry.create(
        {
            "client_id": client_id,
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "redirect_uris": ["https://app.example/cb"],
            "backchannel_logout_uri": URL,
            "scope": "openid",
            **extra,
        }
    ).client
    return session_client_entry(client.client_id, client.registration_id)


def notifier(services: Components, clock: FixedClock, answers: Answers) -> BackchannelNotifier:
    return BackchannelNotifier(
        services.clients,
        services.keys,
        answers,
        clock,
        SystemRandom(),
    )


def notice(*entries: str) -> LogoutNotice:
    return LogoutNotice(ISSUER, "user-sub", "the-sid", entries)


@pytest.fixture
def metrics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(observability, "_METRICS_ON", True)


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the Powertools logger writes, as JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def counted(output: str) -> list[str]:
    return [
        json.loads(line)["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]
        for line in output.splitlines()
        if '"_aws"' in line
    ]


# --- the logout token ----------------------------------------------------------------------------


def test_l4_a_logout_token_is_typed_signed_and_carries_exactly_its_claims(
    session_keys: KeySet, clock: FixedClock
) -> None:
    key = session_keys.current("RS256")
    token = logout_token(
        issuer=ISSUER, client_id="app", sub="u", sid="s", now=clock.now(), jti="j", key=key
    )
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "kid": key.kid, "typ": "logout+jwt"}
    public = next(
        jwt.PyJWK.from_dict(k) for k in session_keys.public_jwks()["keys"] if k["kid"] == key.kid
    )
    claims = jwt.decode(
        token,
        public.key,
        algorithms=["RS256"],
        audience="app",
        issuer=ISSUER,
        options={"verify_exp": False},
    )
    assert claims == {
        "iss": ISSUER,
        "sub": "u",
        "aud": "app",
        "iat": clock.now(),
        "exp": clock.now() + 120,
        "jti": "j",
        "sid": "s",
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }


def test_l4_the_notifier_signs_as_the_clients_id_tokens_are_and_names_the_session(
    services: Components, clock: FixedClock, session_keys: KeySet
) -> None:
    entry = register(services, id_token_signed_response_alg="ES256")
    answers = Answers(200)
    assert notifier(services, clock, answers).notify([notice(entry)]) == {
        "delivered": 1,
        "failed": 0,
    }
    ((url, fields),) = answers.posts
    assert url == URL and set(fields) == {"logout_token"}
    token = fields["logout_token"]
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["aud"], claims["sub"], claims["sid"]) == ("bc-app", "user-sub", "the-sid")
    assert "nonce" not in claims


# --- to whom, how often --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "posts", "delivered"),
    [
        ((200,), 1, True),
        ((204,), 1, True),
        ((503, 200), 2, True),  # a 5xx is tried once more
        ((Unreachable("no answer"), 200), 2, True),  # so is no answer
        ((Unreachable("no answer"),), 2, False),  # and no more than once
        ((500,), 2, False),
        ((400,), 1, False),  # refused: said once is enough
        ((302,), 1, False),  # a redirect is not followed, nor tried again
        ((FetchRefused("a non-public address"),), 1, False),  # never called
    ],
)
def test_l4_each_app_gets_one_retry_for_a_failure_that_may_pass(
    services: Components,
    clock: FixedClock,
    metrics_on: None,
    capsys: pytest.CaptureFixture[str],
    log_output: io.StringIO,
    answers: tuple[int | Exception, ...],
    posts: int,
    delivered: bool,
) -> None:
    entry = register(services)
    fetcher = Answers(*answers)
    result = notifier(services, clock, fetcher).notify([notice(entry)])
    assert len(fetcher.posts) == posts
    assert result == {"delivered": int(delivered), "failed": int(not delivered)}
    output = capsys.readouterr().out
    assert counted(output) == [
        "BackchannelLogoutDelivered" if delivered else "BackchannelLogoutFailed"
    ]
    logged = log_output.getvalue()
    if not delivered:
        (line,) = [json.loads(x) for x in logged.splitlines() if "not delivered" in x]
        assert line["client_id"] == "bc-app" and line["reason"]
    assert fetcher.posts[0][1]["logout_token"] not in output + logged  # H3: never the token


def test_l4_only_registrations_that_take_back_channel_logout_are_told(
    services: Components, clock: FixedClock
) -> None:
    told = register(services, "told")
    plain = register(services, "plain", backchannel_logout_uri="")
    disabled = register(services, "disabled")
    services.registry.update("disabled", {"disabled": True})
    again = register(services, "registered-again")
    services.registry.create(
        {
            "client_id": "registered-again",
            "token_endpoint_auth_method": "none",
            "redirect_uris": ["https://app.example/cb"],
            "backchannel_logout_uri": "https://new-owner.example/bc",
        },
        replace=True,
    )
    entries = (told, plain, disabled, again, "deleted r", told)
    assert [registered_client(services.clients, e) is not None for e in entries] == [
        True, False, False, False, False, True,
    ]  # fmt: skip
    fetcher = Answers(200)
    notifier(services, clock, fetcher).notify([notice(*entries)])
    assert [url for url, _ in fetcher.posts] == [URL]  # once, and only the registration told


def test_l4_ended_sessions_are_handed_over_in_one_call_only_when_an_app_is_to_be_told(
    services: Components, clock: FixedClock
) -> None:
    entry = register(services)
    silent = register(services, "silent", backchannel_logout_uri="")
    sent: list[list[LogoutNotice]] = []

    class Dispatch:
        def send(self, notices: list[LogoutNotice]) -> None:
            sent.append(notices)

    notices = LogoutNotices(services.clients, Dispatch())
    session = Session("h", "user-sub", "u", 0, 0, signed_into=(entry, silent))
    quiet = Session("q", "user-sub", "u", 0, 0, signed_into=(silent,))
    assert notices.sessions_ended(ISSUER, [quiet]) == 0 and sent == []
    assert notices.sessions_ended(ISSUER, [session, quiet]) == 1
    assert sent == [[LogoutNotice(ISSUER, "user-sub", session.sid, (entry,))]]


def test_l4_a_notifier_that_cannot_be_reached_is_counted_never_raised(
    services: Components, metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = register(services)

    class Unreachable:
        def send(self, notices: list[LogoutNotice]) -> None:
            raise OSError("no route")

    notices = LogoutNotices(services.clients, Unreachable())
    session = Session("h", "user-sub", "u", 0, 0, signed_into=(entry,))
    assert notices.sessions_ended(ISSUER, [session]) == 0
    assert counted(capsys.readouterr().out) == ["BackchannelLogoutNotSent"]


def test_l4_the_login_function_hands_them_over_as_one_asynchronous_invocation() -> None:
    calls: list[dict[str, Any]] = []

    class Lambda:
        def invoke(self, **call: Any) -> dict[str, Any]:
            calls.append(call)
            return {"StatusCode": 202}

    LambdaLogoutDispatch("notifier-fn", Lambda()).send([notice("a r"), notice("b r")])
    (call,) = calls
    assert call["FunctionName"] == "notifier-fn"
    assert call["InvocationType"] == "Event"  # queued by Lambda: nothing waits for the apps
    event = json.loads(call["Payload"])
    assert [LogoutNotice.from_item(n) for n in event["notices"]] == [notice("a r"), notice("b r")]


def test_the_notifier_takes_its_event_as_the_lambda_handler(
    services: Components, clock: FixedClock
) -> None:
    entry = register(services)
    fetcher = Answers(200)
    handler = notifier(services, clock, fetcher)
    assert handler({"notices": [notice(entry).to_item()]}) == {"delivered": 1, "failed": 0}
    assert handler({}) == {"delivered": 0, "failed": 0}


def test_an_operator_waits_for_the_notifier_inline(services: Components, clock: FixedClock) -> None:
    entry = register(services)
    fetcher = Answers(200)
    InlineLogoutDispatch(notifier(services, clock, fetcher)).send([notice(entry)])
    assert len(fetcher.posts) == 1


# --- the POST under the outbound rules ---------------------------------------------------------


class Receiver:
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], dict[str, list[str]]]] = []
        self.release = threading.Event()


@pytest.fixture
def receiver() -> Iterator[tuple[str, Receiver]]:
    seen = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
            seen.posts.append((self.path, dict(self.headers.items()), parse_qs(body)))
            if self.path == "/hang":
                seen.release.wait(30)
            self.send_response(302 if self.path == "/moved" else 200)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        seen.release.set()
        server.shutdown()


def test_l4_the_post_is_a_form_and_a_redirect_is_answered_not_followed(
    receiver: tuple[str, Receiver],
) -> None:
    base, seen = receiver
    fetcher = SafeFetcher(allow_loopback=True, timeout=5)
    assert fetcher.post_form(f"{base}/bc", {"logout_token": "a.b.c"}) == 200
    assert fetcher.post_form(f"{base}/moved", {"logout_token": "a.b.c"}) == 302
    assert [path for path, _, _ in seen.posts] == ["/bc", "/moved"]  # never /elsewhere
    _, headers, form = seen.posts[0]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form == {"logout_token": ["a.b.c"]}


def test_l4_an_app_that_does_not_answer_in_time_is_unreachable(
    receiver: tuple[str, Receiver],
) -> None:
    base, seen = receiver
    with pytest.raises(Unreachable):
        SafeFetcher(allow_loopback=True, timeout=0.5).post_form(f"{base}/hang", {"x": "y"})
    seen.release.set()


@pytest.mark.parametrize(
    ("url", "resolves_to"),
    [
        ("http://app.example/bc", "93.184.216.34"),  # plain http
        ("https://internal.example/bc", "10.0.0.7"),
        ("https://metadata.example/bc", "169.254.169.254"),
        ("https://loopback.example/bc", "127.0.0.1"),  # loopback: only on a local stack
        ("https://mapped.example/bc", "::ffff:10.0.0.7"),
        ("https://user:pass@app.example/bc", "93.184.216.34"),
    ],
)
def test_l4_urls_this_server_does_not_call_are_refused_before_any_connection(
    url: str, resolves_to: str
) -> None:
    fetcher = SafeFetcher(resolve=lambda host, port: [resolves_to], timeout=0.5)
    with pytest.raises(FetchRefused) as refused:
        fetcher.post_form(url, {"logout_token": "t"})
    assert not isinstance(refused.value, Unreachable)  # refused, not tried
