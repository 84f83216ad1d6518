"""The authorizer against the real issuer, in-process: tokens the token function issues (AWS
answered by moto) are allowed, its /revocations reaches the authorizer (SECURITY F7), and the
authorizer function itself loads no AWS SDK, no signing code and no HTML."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

import token_handler
from oauth_core import constants
from oauth_core.config import Settings
from oauth_core.endpoints.authorizer import (
    ENV_AUDIENCE,
    ENV_REQUIRED_SCOPES,
    Authorizer,
    AuthorizerSettings,
)
from oauth_core.tokens.bearer import JwksCache
from oauth_core.tokens.revocation_list import RevocationList
from tests.integration.conftest import body_of, invoke
from tests.support import load_event

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "https://auth.example.com"
BUILT_IN_API = f"{ISSUER}/resource"


def from_token_function(uri: str) -> dict[str, Any]:
    """The issuer's documents, as the authorizer would read them over HTTPS."""
    name = {
        f"{ISSUER}/.well-known/jwks.json": "jwks",
        f"{ISSUER}/revocations": "revocations",
    }[uri]
    document: dict[str, Any] = body_of(invoke(token_handler, load_event(name)))
    return document


def authorizer(*scopes: str) -> Authorizer:
    settings = AuthorizerSettings(
        issuer=ISSUER, audience=BUILT_IN_API, required_scopes=frozenset(scopes)
    )
    # refresh=0: every call reads the list again (the issuer keeps its own copy 5 s at most).
    return Authorizer.from_settings(
        settings, JwksCache(from_token_function), RevocationList(from_token_function, refresh=0)
    )


def issued_token(scope: str = "read:data") -> str:
    body = f"grant_type=client_credentials&scope={urllib.parse.quote(scope)}"
    answer = invoke(token_handler, load_event("token_client_credentials", body=body))
    assert answer["statusCode"] == 200, answer
    return str(body_of(answer)["access_token"])


def request(token: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeKey": "GET /orders",
        "rawPath": "/orders",
        "rawQueryString": "",
        "headers": {"authorization": f"Bearer {token}"},
        "requestContext": {"http": {"method": "GET", "path": "/orders"}},
    }


def test_f3_tokens_the_issuer_issues_are_allowed_with_the_routes_scopes_only(aws: Settings) -> None:
    token = issued_token("read:data")
    assert authorizer("read:data")(request(token), None) == {
        "isAuthorized": True,
        "context": {"sub": "svc", "client_id": "svc", "scope": "read:data"},
    }
    assert authorizer("write:data")(request(token), None) == {"isAuthorized": False}


def test_f7_a_token_revoked_at_the_issuer_is_denied_by_the_authorizer(aws: Settings) -> None:
    guard = authorizer("read:data")
    token, other = issued_token(), issued_token()
    assert guard(request(token), None)["isAuthorized"] is True
    revoked = invoke(
        token_handler,
        load_event("revoke", body=f"token={token}&token_type_hint=access_token"),
    )
    assert revoked["statusCode"] == 200
    # The issuer's token function keeps the list it read for a few seconds: a new container.
    token_handler.lambda_handler.reset()
    assert guard(request(token), None) == {"isAuthorized": False}
    assert guard(request(other), None)["isAuthorized"] is True


CHILD = r"""
import json, sys
sys.path[:0] = [{code!r}]
import authorizer_handler
answers = [
    authorizer_handler.lambda_handler(json.loads(event), None) for event in {events!r}
]
loaded = sorted(
    m for m in sys.modules if m in {forbidden!r} or m.startswith("oauth_core.storage")
)
print(json.dumps({{"answers": answers, "loaded": loaded}}))
"""


def test_the_authorizer_function_loads_no_aws_sdk_no_signing_code_and_no_html() -> None:
    forbidden = [
        # (Powertools, if loaded, imports the bare botocore package for its user agent.)
        "boto3",
        "botocore.session",
        "botocore.client",
        "oauth_core.wiring",
        "oauth_core.http.pages",
        "oauth_core.keys",
        "oauth_core.tokens.jws",
        "oauth_core.tokens.issuer",
        "oauth_core.tokens.access_token",
        "oauth_core.tokens.id_token",
    ]
    events = [json.dumps(request("not-a-jwt")), json.dumps({**request("x"), "headers": {}})]
    script = CHILD.format(
        code=str(ROOT / "functions" / "authorizer"), events=events, forbidden=forbidden
    )
    env = {
        "POWERTOOLS_METRICS_DISABLED": "true",
        constants.ENV_ISSUER: ISSUER,
        ENV_AUDIENCE: "https://orders.example.com",
        ENV_REQUIRED_SCOPES: "orders:read",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["answers"] == [{"isAuthorized": False}] * 2
    assert outcome["loaded"] == []


@pytest.mark.parametrize("missing", [constants.ENV_ISSUER, ENV_AUDIENCE])
def test_the_authorizer_function_without_its_settings_fails_to_start(missing: str) -> None:
    env = {
        constants.ENV_ISSUER: ISSUER,
        ENV_AUDIENCE: "https://orders.example.com",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    del env[missing]
    code = f"import sys; sys.path[:0] = [{str(ROOT / 'functions' / 'authorizer')!r}]; " + (
        "import authorizer_handler"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert result.returncode != 0
    assert missing in result.stderr
