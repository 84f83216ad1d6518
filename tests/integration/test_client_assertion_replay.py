"""private_key_jwt through the token function's Lambda handler, on DynamoDB (moto): an
assertion authenticates once across containers (SECURITY E11), and no assertion reaches the
logs (H3)."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import urlencode

import pytest

import token_handler
from oauth_core.config import Settings
from oauth_core.http.request import HttpRequest
from oauth_core.wiring import aws_components, endpoints_for
from tests.integration.conftest import aws_registry, body_of, invoke
from tests.signing_clients import Signer, assertion_form
from tests.support import load_event, respond

SIGNER = Signer("integration-1")
RSA_SIGNER = Signer("integration-rsa", alg="RS256")  # its JWK carries key_ops, a list
TOKEN_ENDPOINT = "https://auth.example.com/token"


@pytest.fixture
def signer_client(aws: Settings) -> str:
    aws_registry(aws).create(
        {
            "client_id": "signer",
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [SIGNER.public_jwk, RSA_SIGNER.public_jwk]},
            "grant_types": ["client_credentials"],
            "scope": "read:data",
        }
    )
    return "signer"


def token_event(assertion: str) -> dict[str, Any]:
    event = load_event("token_client_credentials")
    del event["headers"]["authorization"]
    event["body"] = urlencode(assertion_form(assertion, grant_type="client_credentials"))
    return event


def test_e11_an_assertion_used_in_one_container_is_refused_in_another(
    aws: Settings, signer_client: str
) -> None:
    assertion = SIGNER.assertion(signer_client, TOKEN_ENDPOINT)
    first = invoke(token_handler, token_event(assertion))
    assert first["statusCode"] == 200, first["body"]
    # Another container: its own caches and stores, the same grants table.
    other = endpoints_for("token", aws_components(aws))["token"]
    replayed = respond(other, HttpRequest.from_apigw_v2(token_event(assertion)))
    assert replayed.status_code == 401
    assert json.loads(replayed.body) == {
        "error": "invalid_client",
        "error_description": "the client assertion was used before",
    }
    # The first container refuses it again too; a fresh assertion works in the other.
    again = invoke(token_handler, token_event(assertion))
    assert again["statusCode"] == 401 and body_of(again)["error"] == "invalid_client"
    fresh = RSA_SIGNER.assertion(signer_client, TOKEN_ENDPOINT)
    assert respond(other, HttpRequest.from_apigw_v2(token_event(fresh))).status_code == 200


def test_h3_no_assertion_in_logs(
    aws: Settings,
    signer_client: str,
    log_output: io.StringIO,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = SIGNER.assertion(signer_client, TOKEN_ENDPOINT)
    wrong_audience = SIGNER.assertion(signer_client, "https://elsewhere.example/token")
    for assertion in (good, good, wrong_audience, "not.a.jwt"):
        invoke(token_handler, token_event(assertion))
    captured = capsys.readouterr()
    output = log_output.getvalue() + captured.out + captured.err
    assert "assertion_replayed" in output and "wrong_audience" in output  # audited...
    for assertion in (good, wrong_audience):
        for part in assertion.split("."):
            assert part not in output  # ...but never a part of an assertion
