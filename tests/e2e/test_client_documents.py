"""SECURITY A17 over HTTP: a client named by the URL of its metadata document (as MCP clients
may be) runs the code flow with PKCE as a public client, with no registration; the metadata
says the server supports it; a document naming another URL opens nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import Browser, authorize_params, get_code, pkce_pair

REDIRECT = "http://127.0.0.1:8765/callback"


@pytest.fixture(scope="module")
def document_host() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A loopback server of client metadata documents: path -> body."""
    served: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = served.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", served
    server.shutdown()


def test_a17_the_metadata_says_documents_are_supported(stack: LocalStack) -> None:
    metadata = requests.get(f"{stack.issuer}/.well-known/oauth-authorization-server", timeout=10)
    assert metadata.json()["client_id_metadata_document_supported"] is True


def test_a17_a_client_named_by_its_document_runs_the_code_flow(
    stack: LocalStack, document_host: tuple[str, dict[str, bytes]]
) -> None:
    base, served = document_host
    client_id = f"{base}/agent.json"
    served["/agent.json"] = json.dumps(
        {"client_id": client_id, "client_name": "An agent", "redirect_uris": [REDIRECT],
         "grant_types": ["authorization_code", "refresh_token"], "scope": "openid profile"}
    ).encode()  # fmt: skip
    code = get_code(stack, client_id=client_id, redirect_uri=REDIRECT, scope="openid")
    tokens = requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "authorization_code", "code": code.code, "redirect_uri": REDIRECT,
              "code_verifier": code.verifier, "client_id": client_id},
        timeout=10,
    )  # fmt: skip
    assert tokens.status_code == 200, tokens.text
    assert "id_token" in tokens.json()


def test_a17_a_document_that_names_another_url_opens_nothing(
    stack: LocalStack, document_host: tuple[str, dict[str, bytes]]
) -> None:
    base, served = document_host
    client_id = f"{base}/impostor.json"
    served["/impostor.json"] = json.dumps(
        {"client_id": "https://trusted.example.com/client.json", "redirect_uris": [REDIRECT]}
    ).encode()
    answer = Browser(stack).authorize(
        **authorize_params(client_id, REDIRECT, pkce_pair()[1], scope="openid")
    )
    assert answer.status_code == 400 and "Location" not in answer.headers
