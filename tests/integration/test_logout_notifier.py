"""The logout notifier function as Lambda runs it (functions/logout_notifier), AWS answered by
moto: it reads the client and the signing keys itself, and POSTs a logout token an app verifies
with the server's published keys. Loopback is allowed only because the issuer is a local one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt
import pytest

from oauth_core import constants
from oauth_core.config import Settings
from oauth_core.keys import KeySet
from oauth_core.models import LogoutNotice, session_client_entry
from tests.integration.conftest import aws_registry

ISSUER = "http://127.0.0.1:8000"


@pytest.fixture
def app() -> Iterator[tuple[str, list[dict[str, list[str]]]]]:
    received: list[dict[str, list[str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
            received.append(parse_qs(body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/bc", received
    finally:
        server.shutdown()


def notify(settings: Settings, url: str, issuer: str) -> dict[str, int]:
    client = (
        aws_registry(settings)
        .create(
            {
                "client_id": "notified",
                "token_endpoint_auth_method": "none",
                "redirect_uris": ["https://app.example/cb"],
                "backchannel_logout_uri": url,
            }
        )
        .client
    )
    entry = session_client_entry(client.client_id, client.registration_id)
    event = {"notices": [LogoutNotice(issuer, "sub-1", "sid-1", (entry,)).to_item()]}
    import logout_notifier_handler

    return logout_notifier_handler.logout_notifier()(event)


def test_l4_the_notifier_function_signs_with_the_stored_keys_and_posts_to_the_app(
    aws: Settings,
    monkeypatch: pytest.MonkeyPatch,
    session_keys: KeySet,
    app: tuple[str, list[dict[str, list[str]]]],
) -> None:
    monkeypatch.setenv(constants.ENV_ISSUER, ISSUER)  # a local stack: loopback may be called
    url, received = app
    assert notify(aws, url, ISSUER) == {"delivered": 1, "failed": 0}
    ((token,),) = [form["logout_token"] for form in received]
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in session_keys.public_jwks()["keys"] if k["kid"] == kid)
    claims = jwt.decode(
        token, jwt.PyJWK.from_dict(key).key, algorithms=["RS256"], audience="notified",
        issuer=ISSUER,
    )  # fmt: skip
    assert (claims["sub"], claims["sid"]) == ("sub-1", "sid-1")


def test_l4_the_deployed_notifier_calls_no_loopback_address(
    aws: Settings, app: tuple[str, list[dict[str, list[str]]]]
) -> None:
    url, received = app
    assert notify(aws, url, "https://id.example.com") == {"delivered": 0, "failed": 1}
    assert received == []
