"""MCP end to end (issue 14, item 7): the `mcp` SDK's own OAuth client, unadapted, against the
example MCP server (examples/mcp/server.py) protected by this authorization server.

The client finds the authorization server through the MCP server's RFC 9728 metadata (named
in its 401), reads the RFC 8414 metadata, registers (RFC 7591) or uses a pre-registered client,
runs the code flow with PKCE and `resource` (RFC 8707) while the demo user signs in and
consents in a scripted browser, and calls the server's tools with the token it got. The server
verifies each token with this project's verifier (iss, aud = its identifier, typ, algorithms,
revocations) and refuses tokens for other APIs, without its scope, or revoked.

Two MCP servers, each an API of its own: over https (a throw-away CA's certificate, trusted by
the client), so its identifier is an https URL, and over plain http on loopback, as
`python -m examples.mcp.server` runs against `make serve`.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.conftest import LocalStack, local_stack
from tests.e2e.flows import Browser, authorize_params, get_code, pkce_pair, query_of, service_token
from tests.e2e.mcp_support import (
    REDIRECT_URI,
    McpServer,
    MemoryStorage,
    SignInAndConsent,
    free_port,
    make_tls,
    preregistered,
    run_sdk_client,
    running_mcp_server,
)
from tests.e2e.test_security_client_credentials import oauthctl

# One stack and its MCP servers for the module: its tests run on one worker.
pytestmark = pytest.mark.xdist_group("mcp")

SCOPES = {"https": "mcp-tls:tools", "http": "mcp:tools"}


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims["aud"]
    return [aud] if isinstance(aud, str) else list(aud)


@pytest.fixture(scope="module")
def mcp_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack of its own: the APIs and scopes registered here stay out of the others'. Open
    registration, whose clients may have the MCP servers' scopes (the SDK asks for them: the
    scopes_supported of their metadata, and offline_access, which the issuer supports)."""
    registration = {
        "CLIENT_REGISTRATION": "open",
        "REGISTRATION_SCOPES": " ".join(["offline_access", *SCOPES.values()]),
    }
    with local_stack(tmp_path_factory, "local-stack-mcp", registration) as running:
        yield running


@pytest.fixture(scope="module", params=["https", "http"])
def mcp_server(
    request: pytest.FixtureRequest, mcp_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[McpServer]:
    """The example MCP server on a free loopback port, registered as an API with its scope."""
    scheme: str = request.param
    scope = SCOPES[scheme]
    directory = tmp_path_factory.mktemp(f"mcp-{scheme}")
    port = free_port()
    identifier = f"{scheme}://127.0.0.1:{port}/mcp"
    api = oauthctl(mcp_stack, "apis", "create", identifier, "--description", "The MCP example")
    assert api.returncode == 0, api.stderr
    made = oauthctl(
        mcp_stack, "scopes", "create", scope, "--description", "Use the MCP example's tools",
        "--audience", identifier,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    # Every function's copy of the registry is at most REGISTRY_CACHE_TTL (2 s here) old.
    time.sleep(2.2)
    tls = make_tls(directory) if scheme == "https" else None
    with running_mcp_server(mcp_stack.issuer, port, scope, directory / "mcp.log", tls) as server:
        yield server


@pytest.fixture(scope="module")
def host_client(mcp_stack: LocalStack, mcp_server: McpServer) -> str:
    """A native public client an operator registered, for the SDK's pre-registered path."""
    client_id = "mcp-host-" + urlsplit(mcp_server.url).scheme
    made = oauthctl(
        mcp_stack, "clients", "create", client_id, "--name", "An MCP host",
        "--application-type", "native", "--redirect-uri", REDIRECT_URI,
        "--grant-type", "authorization_code", "--grant-type", "refresh_token",
        "--auth-method", "none", "--scope", f"{mcp_server.scope} offline_access",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return client_id


def check_client_run(
    stack: LocalStack,
    server: McpServer,
    storage: MemoryStorage,
    consent: SignInAndConsent,
    registration_endpoint: str | None = None,
) -> None:
    """The SDK's client discovered, (registered,) authorized and called the tools, as the
    specs say."""
    run = run_sdk_client(server, storage, consent)
    assert run.total == 42
    # The token it got is for this MCP server, with its scope, for the client that asked.
    assert storage.tokens is not None and storage.client_info is not None
    claims = claims_of(storage.tokens.access_token)
    assert audiences(claims) == [server.url]
    assert server.scope in claims["scope"].split()
    assert claims["client_id"] == storage.client_info.client_id
    # The server saw that token.
    assert run.whoami == {
        "sub": claims["sub"],
        "client_id": storage.client_info.client_id,
        "scope": claims["scope"],
        "aud": claims["aud"],
    }
    # One sign-in, asking for this server as the resource, with its scope and S256 PKCE.
    assert len(consent.authorization_urls) == 1
    asked = parse_qs(urlsplit(consent.authorization_urls[0]).query)
    assert urlsplit(consent.authorization_urls[0]).path == "/authorize"
    assert asked["resource"] == [server.url]
    assert server.scope in asked["scope"][0].split()
    assert asked["code_challenge_method"] == ["S256"]
    # RFC 9728 from the 401's resource_metadata, RFC 8414, RFC 7591 (or not: pre-registered),
    # the token endpoint (the authorization request went to the browser), then the MCP server
    # again, with the token: never refused again.
    seen = run.exchanges
    registration = [("POST", registration_endpoint, 201)] if registration_endpoint else []
    assert seen[: 4 + len(registration)] == [
        ("POST", server.url, 401),
        ("GET", server.metadata_url, 200),
        ("GET", f"{stack.issuer}/.well-known/oauth-authorization-server", 200),
        *registration,
        ("POST", f"{stack.issuer}/token", 200),
    ], seen
    rest = seen[4 + len(registration) :]
    assert rest, seen
    assert all(url == server.url and status < 400 for _, url, status in rest), seen


def test_the_mcp_sdk_client_authorizes_with_a_preregistered_client(
    mcp_stack: LocalStack, mcp_server: McpServer, host_client: str
) -> None:
    storage = MemoryStorage(client_info=preregistered(host_client))
    consent = SignInAndConsent(Browser(mcp_stack))
    check_client_run(mcp_stack, mcp_server, storage, consent)
    assert storage.client_info is not None and storage.client_info.client_id == host_client


def test_the_mcp_sdk_client_registers_itself_and_authorizes(
    mcp_stack: LocalStack, mcp_server: McpServer
) -> None:
    metadata = requests.get(
        f"{mcp_stack.issuer}/.well-known/oauth-authorization-server", timeout=10
    ).json()
    assert "registration_endpoint" in metadata, "the MCP stack runs with registration open"
    storage = MemoryStorage()
    consent = SignInAndConsent(Browser(mcp_stack))
    check_client_run(mcp_stack, mcp_server, storage, consent, metadata["registration_endpoint"])
    # It registered at the advertised endpoint (RFC 7591), as the public client it asked to be.
    assert storage.client_info is not None and storage.client_info.client_id
    assert storage.client_info.token_endpoint_auth_method == "none"
    assert storage.client_info.client_secret is None


# The example server's own checks, with tokens got over plain HTTP.


def mcp_initialize(server: McpServer, token: str) -> requests.Response:
    """An MCP initialize request with this bearer token."""
    return requests.post(
        server.url,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        },
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/event-stream",
        },
        verify=server.verify,
        timeout=10,
    )


def user_tokens(stack: LocalStack, server: McpServer, client_id: str, scope: str) -> dict[str, Any]:
    """The demo user's tokens for this client and this server, with `scope`."""
    code = get_code(stack, client_id, REDIRECT_URI, scope=scope, resource=server.url)
    answer = requests.post(
        f"{stack.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code.code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": code.verifier,
            "client_id": client_id,
            "resource": server.url,
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_the_mcp_server_publishes_its_metadata_and_names_it_in_its_challenge(
    mcp_stack: LocalStack, mcp_server: McpServer
) -> None:
    challenge = mcp_initialize(mcp_server, "not-a-token")
    assert challenge.status_code == 401
    www_authenticate = challenge.headers["WWW-Authenticate"]
    assert f'resource_metadata="{mcp_server.metadata_url}"' in www_authenticate
    metadata = requests.get(mcp_server.metadata_url, timeout=10, verify=mcp_server.verify).json()
    assert metadata["resource"] == mcp_server.url
    assert metadata["authorization_servers"] == [mcp_stack.issuer]
    assert metadata["scopes_supported"] == [mcp_server.scope]


def test_the_mcp_server_refuses_other_apis_tokens_unscoped_tokens_and_revoked_ones(
    mcp_stack: LocalStack, mcp_server: McpServer, host_client: str
) -> None:
    # A token of this issuer's for another API (the built-in one): not for this server.
    other = service_token(mcp_stack)
    assert audiences(claims_of(other)) == [f"{mcp_stack.issuer}/resource"]
    assert mcp_initialize(mcp_server, other).status_code == 401

    # For this server but without its scope: the issuer makes no such token (a token names no
    # API it carries no scope of), so the request is refused with invalid_target.
    browser = Browser(mcp_stack)
    asked = browser.authorize(
        **authorize_params(
            host_client, REDIRECT_URI, pkce_pair()[1], scope="offline_access",
            resource=mcp_server.url,
        )
    )  # fmt: skip
    assert query_of(asked.headers["Location"])["error"] == "invalid_target"

    # With it: accepted, until its grant is revoked (the server reads /revocations every
    # second here, and the stack refreshes its list as often).
    tokens = user_tokens(mcp_stack, mcp_server, host_client, f"{mcp_server.scope} offline_access")
    assert mcp_initialize(mcp_server, tokens["access_token"]).status_code == 200
    revoked = requests.post(
        f"{mcp_stack.issuer}/revoke",
        data={"token": tokens["refresh_token"], "client_id": host_client},
        timeout=10,
    )
    assert revoked.status_code == 200, revoked.text
    deadline = time.monotonic() + 15
    while (status := mcp_initialize(mcp_server, tokens["access_token"]).status_code) == 200:
        assert time.monotonic() < deadline, "a revoked token still works"
        time.sleep(0.25)
    assert status == 401
