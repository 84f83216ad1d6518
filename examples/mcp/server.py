"""A small MCP server (the `mcp` SDK, streamable HTTP) whose tools need this server's tokens.

It is an OAuth resource server of its own, registered as an API (RFC 8707) whose identifier is
its MCP endpoint's URL, `<scheme>://<host>:<port>/mcp`:

- every request to `/mcp` needs a bearer token, verified with this project's verifier
  (oauth_core.tokens.bearer): signature against the issuer's JWKS, algorithm pinned to the
  key's, `iss` the issuer, `aud` this server's identifier, `typ` at+jwt, `exp`; and not revoked
  (the issuer's `/revocations`, re-read every `--revocation-refresh` seconds, SECURITY F7);
- and the scope `--scope` (default `mcp:tools`): without it, 403 `insufficient_scope`;
- a request without a valid token gets 401 with `WWW-Authenticate: Bearer ...,
  resource_metadata="<scheme>://<host>:<port>/.well-known/oauth-protected-resource/mcp"`, its
  RFC 9728 metadata: `resource` (the identifier), `authorization_servers` ([the issuer]),
  `scopes_supported` ([the scope]). An MCP client finds the authorization server there, then
  its RFC 8414 metadata, registers (RFC 7591), and runs the code flow with PKCE and `resource`.
- When the issuer's keys or revocations cannot be read, requests fail (500): a token that
  might be revoked is never accepted, and a client is not sent to sign in again for it.

Tools: `whoami` (the token's `sub`, `client_id`, `scope` and `aud`) and `add(a, b)`.

Against `make serve` (the issuer http://127.0.0.1:8000; its "local AWS" endpoint is printed
in its banner). API identifiers are https URLs (`oauthctl apis create` refuses others), and an
MCP client accepts metadata only for the origin it connected to, so the server serves https,
with a certificate for 127.0.0.1 that your MCP client trusts:

    export AWS_ENDPOINT_URL=http://127.0.0.1:<local AWS port>
    .venv/bin/oauthctl apis create https://127.0.0.1:8100/mcp --description "The MCP example"
    .venv/bin/oauthctl scopes create mcp:tools --description "Use the MCP example's tools" \
        --audience https://127.0.0.1:8100/mcp
    .venv/bin/python -m examples.mcp.server --issuer http://127.0.0.1:8000 --port 8100 \
        --certfile cert.pem --keyfile key.pem

then point the MCP client at https://127.0.0.1:8100/mcp (the host exactly as in the
identifier). For the client to register itself, the stack needs open registration with the
scope on its list: `CLIENT_REGISTRATION=open REGISTRATION_SCOPES="offline_access mcp:tools"
make serve`. Without `--certfile` it serves plain http, and its identifier is
http://127.0.0.1:8100/mcp: usable once loopback http identifiers can be registered.
tests/e2e/test_mcp.py runs all of this with the `mcp` SDK's own client.
"""

from __future__ import annotations

import argparse
import ipaddress
from dataclasses import dataclass
from typing import Any

import anyio
import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette

from oauth_core.constants import REVOCATION_REFRESH_SECONDS, REVOCATIONS_PATH
from oauth_core.errors import BearerError
from oauth_core.tokens.bearer import AccessTokenVerifier, JwksCache, fetch_json_over_http
from oauth_core.tokens.revocation_list import RevocationList

DEFAULT_SCOPE = "mcp:tools"
MCP_PATH = "/mcp"


@dataclass(frozen=True)
class Config:
    issuer: str  # the authorization server: tokens' `iss`, the PRM's authorization server
    resource: str  # this server's identifier: tokens' `aud`, the PRM's `resource`
    scope: str = DEFAULT_SCOPE
    revocation_refresh: float = REVOCATION_REFRESH_SECONDS

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"

    @property
    def revocations_uri(self) -> str:
        return f"{self.issuer}{REVOCATIONS_PATH}"


class ProjectTokenVerifier:
    """The SDK's TokenVerifier, by this project's AccessTokenVerifier and RevocationList."""

    def __init__(self, config: Config, verifier: AccessTokenVerifier | None = None):
        self._config = config
        self._verifier = verifier or AccessTokenVerifier(
            JwksCache(),
            revocations=RevocationList(fetch_json_over_http, config.revocation_refresh),
        )

    async def verify_token(self, token: str) -> AccessToken | None:
        """The token's grant, or None (401) when it is not a valid token for this server.
        A JWKS or revocation list that cannot be read raises (TemporarilyUnavailable)."""
        try:
            # The verifier reads the issuer with urllib: off the event loop.
            claims = await anyio.to_thread.run_sync(self._claims, token)
        except BearerError:
            return None
        return AccessToken(
            token=token,
            client_id=str(claims["client_id"]),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=int(claims["exp"]),
            # `aud` was checked to name this server: the SDK compares this with its own URL.
            resource=self._config.resource,
            subject=str(claims["sub"]),
            claims=claims,
        )

    def _claims(self, token: str) -> dict[str, Any]:
        return self._verifier.verify(
            token,
            issuer=self._config.issuer,
            audience=self._config.resource,
            jwks_uri=self._config.jwks_uri,
            revocations_uri=self._config.revocations_uri,
        )


def build_server(config: Config, verifier: AccessTokenVerifier | None = None) -> MCPServer:
    server: MCPServer = MCPServer(
        "oauth-serverless example",
        token_verifier=ProjectTokenVerifier(config, verifier),
        # As strings, validated by the model: it keeps a path-less issuer without a trailing
        # slash, so the metadata names the issuer exactly as the issuer names itself.
        auth=AuthSettings.model_validate(
            {
                "issuer_url": config.issuer,
                "resource_server_url": config.resource,
                "required_scopes": [config.scope],
                "validate_token_resource": True,
            }
        ),
    )

    @server.tool()
    def whoami() -> dict[str, Any]:
        """Who the access token speaks for: its sub, client_id, scope and aud."""
        token = get_access_token()
        claims = (token.claims if token else None) or {}
        return {key: claims.get(key) for key in ("sub", "client_id", "scope", "aud")}

    @server.tool()
    def add(a: int, b: int) -> int:
        """The sum of two integers."""
        return a + b

    return server


def build_app(config: Config, host: str = "127.0.0.1") -> Starlette:
    """The ASGI app: `/mcp` (streamable HTTP, behind the token check) and the RFC 9728
    metadata at /.well-known/oauth-protected-resource/mcp."""
    return build_server(config).streamable_http_app(streamable_http_path=MCP_PATH, host=host)


def _url_host(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.mcp.server", description=__doc__)
    parser.add_argument("--issuer", required=True, help="the authorization server's issuer")
    parser.add_argument("--host", default="127.0.0.1", help="listen here (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--scope", default=DEFAULT_SCOPE, help="the scope every call needs")
    parser.add_argument(
        "--resource",
        help="this server's identifier (default <scheme>://<host>:<port>/mcp); "
        "set it to the URL clients use when that is another",
    )
    parser.add_argument("--certfile", help="serve https with this certificate (PEM)")
    parser.add_argument("--keyfile", help="and this private key (PEM)")
    parser.add_argument(
        "--revocation-refresh",
        type=float,
        default=REVOCATION_REFRESH_SECONDS,
        help=f"seconds between reads of the issuer's revocations (default "
        f"{REVOCATION_REFRESH_SECONDS})",
    )
    args = parser.parse_args(argv)
    if bool(args.certfile) != bool(args.keyfile):
        parser.error("--certfile and --keyfile go together")
    scheme = "https" if args.certfile else "http"
    config = Config(
        issuer=args.issuer.rstrip("/"),
        resource=args.resource or f"{scheme}://{_url_host(args.host)}:{args.port}{MCP_PATH}",
        scope=args.scope,
        revocation_refresh=args.revocation_refresh,
    )
    print(f"MCP server {config.resource} (tokens of {config.issuer}, scope {config.scope})")
    uvicorn.run(
        build_app(config, args.host),
        host=args.host,
        port=args.port,
        ssl_certfile=args.certfile,
        ssl_keyfile=args.keyfile,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
