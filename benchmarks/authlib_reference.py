"""A reference client-credentials endpoint on Authlib's framework-agnostic core: the same
client, secret, key and claims as ours, signed with PyJWT like ours, so the difference is the
framework's own work."""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any

import jwt
from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload

from benchmarks.standin import SERVICE_ID, SERVICE_SECRET
from oauth_core.keys import SigningKey


class Client(ClientMixin):
    def get_client_id(self) -> str:
        return SERVICE_ID

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), SERVICE_SECRET.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"read:data", "write:data"}
        return " ".join(s for s in (scope or "").split() if s in allowed)


class Server(AuthorizationServer):
    def __init__(self, key: SigningKey, claims: dict[str, Any]):
        super().__init__(scopes_supported=["read:data", "write:data"])
        self._client = Client()
        self._key = key
        self._claims = claims
        self.register_grant(ClientCredentialsGrant)
        self.register_token_generator("default", self._generate)

    def _generate(
        self,
        grant_type: str,
        client: Any,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            **self._claims,
            "iat": now,
            "exp": now + 600,
            "jti": secrets.token_urlsafe(16),
            "scope": scope or "",
        }
        token = jwt.encode(
            claims,
            self._key.private_key,
            algorithm="ES256",
            headers={"kid": self._key.kid, "typ": "at+jwt"},
        )
        return {"access_token": token, "token_type": "Bearer", "expires_in": 600, "scope": scope}

    def query_client(self, client_id: str) -> Client | None:
        return self._client if client_id == SERVICE_ID else None

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        pass

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        oauth_request = OAuth2Request(
            "POST", "https://auth.example.com/token", headers=request["headers"]
        )
        oauth_request.payload = BasicOAuth2Payload(request["form"])
        return oauth_request

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
        return status, body, headers


def reference_endpoint(key: SigningKey, claims: dict[str, Any]) -> Callable[[], Any]:
    server = Server(key, claims)
    basic = base64.b64encode(f"{SERVICE_ID}:{SERVICE_SECRET}".encode()).decode()
    request = {
        "headers": {"Authorization": f"Basic {basic}"},
        "form": {"grant_type": "client_credentials", "scope": "read:data"},
    }

    def call() -> Any:
        status, body, _ = server.create_token_response(request)
        assert status == 200, body
        return body

    return call
