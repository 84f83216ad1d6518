"""The MCP end-to-end tests' tools: the example MCP server (examples/mcp/server.py) as a child
process on a free loopback port, and the `mcp` SDK's own OAuth client as an MCP host runs it.

The client is the SDK's, used as documented: OAuthClientProvider (an httpx2 Auth) on the
httpx2 client of streamable_http_client, a TokenStorage, and a redirect handler and callback
handler, the two things an application supplies. Ours are a person in a browser: the handler
opens the authorization URL in the scripted Browser (tests/e2e/flows.py), which signs in and
consents on our pages; the callback hands back the code, state and iss of the redirect."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2
import requests
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)
from pydantic import AnyUrl

from tests.deployed.https import Certificates, make_certificates
from tests.e2e.flows import Browser, query_of

ROOT = Path(__file__).resolve().parents[2]
# Where the client says its user comes back: nothing listens, the Browser stops at the redirect.
REDIRECT_URI = "http://127.0.0.1:8765/callback"
CLIENT_TIMEOUT = 60  # seconds for a whole client run: discovery, sign-in, tool calls


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_tls(directory: Path) -> Certificates:
    """A throw-away CA and a certificate for 127.0.0.1 (the deployed suite's own maker)."""
    return make_certificates(directory)


@dataclass(frozen=True)
class McpServer:
    url: str  # the MCP endpoint, and the server's identifier (RFC 8707)
    scope: str
    log: Path
    cafile: Path | None = None  # over https: the CA a client trusts to reach it

    @property
    def metadata_url(self) -> str:
        """Its RFC 9728 metadata: the well-known path inserted before the endpoint's path."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}/.well-known/oauth-protected-resource{parts.path}"

    @property
    def verify(self) -> str | bool:
        """For requests."""
        return str(self.cafile) if self.cafile else True

    def ssl_context(self) -> ssl.SSLContext | bool:
        """For httpx2."""
        return ssl.create_default_context(cafile=str(self.cafile)) if self.cafile else True


@contextmanager
def running_mcp_server(
    issuer: str,
    port: int,
    scope: str,
    log: Path,
    tls: Certificates | None = None,
    revocation_refresh: float = 1,
) -> Iterator[McpServer]:
    """`python -m examples.mcp.server` on 127.0.0.1:port, until its metadata answers (20 s)."""
    scheme = "https" if tls else "http"
    command = [
        sys.executable, "-m", "examples.mcp.server", "--issuer", issuer, "--port", str(port),
        "--scope", scope, "--revocation-refresh", str(revocation_refresh),
    ]  # fmt: skip
    if tls:
        command += ["--certfile", str(tls.cert_file), "--keyfile", str(tls.key_file)]
    server = McpServer(f"{scheme}://127.0.0.1:{port}/mcp", scope, log, tls.ca_file if tls else None)
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, f"the MCP server exited: {log.read_text()}"
            try:
                answer = requests.get(server.metadata_url, timeout=2, verify=server.verify)
                if answer.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"the MCP server did not start: {log.read_text()}"
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class MemoryStorage:
    """The SDK's TokenStorage, in memory; a pre-registered client starts with its client_info."""

    client_info: OAuthClientInformationFull | None = None
    tokens: OAuthToken | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@dataclass
class SignInAndConsent:
    """The redirect and callback handlers: the demo user signs in and allows, in a Browser."""

    browser: Browser
    authorization_urls: list[str] = field(default_factory=list)
    _redirect: dict[str, str] | None = None

    async def redirect_handler(self, authorization_url: str) -> None:
        self.authorization_urls.append(authorization_url)
        # requests blocks: off the event loop, as a person's browser would be.
        self._redirect = await anyio.to_thread.run_sync(self._sign_in, authorization_url)

    def _sign_in(self, authorization_url: str) -> dict[str, str]:
        final = self.browser.until_client(self.browser.get(authorization_url))
        assert final.status_code == 303, final.text
        location = final.headers["Location"]
        assert location.startswith(REDIRECT_URI + "?"), location
        return query_of(location)

    async def callback_handler(self) -> AuthorizationCodeResult:
        redirect, self._redirect = self._redirect, None
        assert redirect is not None, "the callback came before the redirect"
        assert "code" in redirect, redirect  # an error response: the test shows it
        return AuthorizationCodeResult(
            code=redirect["code"], state=redirect.get("state"), iss=redirect.get("iss")
        )


def client_metadata(client_name: str = "MCP SDK client (test)") -> OAuthClientMetadata:
    """What an MCP host registers: a native public client with a loopback redirect URI."""
    return OAuthClientMetadata(
        client_name=client_name,
        redirect_uris=[AnyUrl(REDIRECT_URI)],
        token_endpoint_auth_method="none",
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
    )


def preregistered(client_id: str) -> OAuthClientInformationFull:
    """What the SDK keeps of a client an operator registered for it (no registration then)."""
    metadata = client_metadata().model_dump(mode="json", exclude_none=True)
    return OAuthClientInformationFull.model_validate({**metadata, "client_id": client_id})


@dataclass
class ClientRun:
    whoami: dict[str, Any]
    total: int
    exchanges: list[tuple[str, str, int]]  # each request the client sent: method, URL, status


async def _use_tools(server: McpServer, provider: OAuthClientProvider) -> ClientRun:
    exchanges: list[tuple[str, str, int]] = []

    async def record(response: httpx2.Response) -> None:
        request = response.request
        exchanges.append(
            (request.method, str(request.url.copy_with(query=None)), response.status_code)
        )

    async with (
        httpx2.AsyncClient(
            auth=provider,
            verify=server.ssl_context(),
            timeout=httpx2.Timeout(15),
            event_hooks={"response": [record]},
        ) as http,
        streamable_http_client(server.url, http_client=http) as (read, write),
        ClientSession(read, write, read_timeout_seconds=15) as session,
    ):
        await session.initialize()
        whoami = await session.call_tool("whoami", {})
        total = await session.call_tool("add", {"a": 2, "b": 40})
    assert not whoami.is_error, whoami
    assert not total.is_error, total
    assert whoami.structured_content is not None, whoami
    assert total.structured_content is not None, total
    return ClientRun(
        dict(whoami.structured_content), int(total.structured_content["result"]), exchanges
    )


def run_sdk_client(
    server: McpServer, storage: MemoryStorage, consent: SignInAndConsent
) -> ClientRun:
    """Connect the SDK's client to the MCP server, authorize, and call both tools."""
    provider = OAuthClientProvider(
        server_url=server.url,
        client_metadata=client_metadata(),
        storage=storage,
        redirect_handler=consent.redirect_handler,
        callback_handler=consent.callback_handler,
    )

    async def bounded() -> ClientRun:
        with anyio.fail_after(CLIENT_TIMEOUT):
            return await _use_tools(server, provider)

    # In a thread of its own: an event loop may already run in this one (Playwright's sync API,
    # in a browser test the same worker ran before), and anyio starts no second one there.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, bounded).result()
