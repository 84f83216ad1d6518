"""A backend microservice that calls the protected API as itself (OAuth 2.0 Client Credentials).

- Its client secret lives in AWS Secrets Manager, not in code or configuration: the service's
  role may read its one secret (`<ClientSecretPrefix><client_id>`), and nothing else may.
- Tokens come from Authlib's OAuth2Session, are cached until shortly before they expire, and a
  401 from the API (a key rotation, a revoked token) gets one retry with a fresh token.

Run against the local stack:  AWS_ENDPOINT_URL=<local AWS> python -m examples.service.service
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests
from authlib.integrations.requests_client import OAuth2Session

EXPIRY_MARGIN = 30  # seconds before expiry at which a cached token is replaced


def read_client_secret(secret_id: str, secretsmanager: Any = None) -> str:
    """The client secret, from Secrets Manager (JSON {"client_secret": ...})."""
    client = secretsmanager or boto3.client("secretsmanager")
    value = json.loads(client.get_secret_value(SecretId=secret_id)["SecretString"])
    return str(value["client_secret"])


@dataclass
class ApiClient:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str = "read:data"
    _session: OAuth2Session | None = field(default=None, repr=False)
    _expires_at: float = 0.0
    tokens_fetched: int = 0

    def _token_endpoint(self) -> str:
        metadata = requests.get(f"{self.issuer}/.well-known/oauth-authorization-server", timeout=5)
        metadata.raise_for_status()
        return str(metadata.json()["token_endpoint"])

    def _fresh_session(self) -> OAuth2Session:
        session = OAuth2Session(
            self.client_id,
            self.client_secret,
            token_endpoint_auth_method="client_secret_basic",
            scope=self.scope,
        )
        token = session.fetch_token(self._token_endpoint(), grant_type="client_credentials")
        self._expires_at = time.time() + int(token["expires_in"])
        self.tokens_fetched += 1
        return session

    def session(self, *, renew: bool = False) -> OAuth2Session:
        if renew or self._session is None or time.time() > self._expires_at - EXPIRY_MARGIN:
            self._session = self._fresh_session()
        return self._session

    def get(self, path: str) -> requests.Response:
        response = self.session().get(f"{self.issuer}{path}", timeout=10)
        if response.status_code == 401:  # the token may have been revoked or its key retired
            response = self.session(renew=True).get(f"{self.issuer}{path}", timeout=10)
        return response


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issuer", default=os.environ.get("OAUTH_ISSUER", "http://127.0.0.1:8000"))
    parser.add_argument("--client-id", default="demo-service")
    parser.add_argument("--secret-id", help="default: oauth/clients/<client-id>")
    parser.add_argument("--scope", default="read:data")
    args = parser.parse_args(argv)
    if "127.0.0.1" in os.environ.get("AWS_ENDPOINT_URL", ""):
        # The local stack's moto takes any credentials; a real deployment uses the role's.
        for name, value in (
            ("AWS_ACCESS_KEY_ID", "local"),
            ("AWS_SECRET_ACCESS_KEY", "local"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ):
            os.environ.setdefault(name, value)
    secret = read_client_secret(args.secret_id or f"oauth/clients/{args.client_id}")
    api = ApiClient(args.issuer, args.client_id, secret, scope=args.scope)
    response = api.get("/resource")
    print(json.dumps({"status": response.status_code, "body": response.json()}, indent=2))
    return 0 if response.ok else 1


if __name__ == "__main__":
    sys.exit(main())
