from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import token_handler
from oauth_core.config import Settings
from oauth_core.observability import logger
from oauth_core.storage import aws as aws_clients
from tests.integration.conftest import body_of, invoke
from tests.support import SERVICE_SECRET, load_event


def test_client_credentials_event_gets_a_token(aws: Settings) -> None:
    result = invoke(token_handler, load_event("token_client_credentials"))
    assert result["statusCode"] == 200
    assert result["headers"]["Cache-Control"] == "no-store"
    assert result["headers"]["Pragma"] == "no-cache"
    body = body_of(result)
    assert body["scope"] == "read:data"
    assert body["token_type"] == "Bearer"


def test_get_token_is_invalid_request(aws: Settings) -> None:
    result = invoke(token_handler, load_event("token_get"))
    assert result["statusCode"] == 400
    assert body_of(result)["error"] == "invalid_request"


def test_metadata_lists_only_what_exists(aws: Settings) -> None:
    document = body_of(invoke(token_handler, load_event("metadata")))
    assert document["issuer"] == "https://auth.example.com"
    assert document["token_endpoint"] == "https://auth.example.com/token"
    assert document["jwks_uri"] == "https://auth.example.com/.well-known/jwks.json"
    assert "client_credentials" in document["grant_types_supported"]
    assert "password" not in document["grant_types_supported"]
    assert "implicit" not in document["grant_types_supported"]


def test_issuer_comes_from_the_request_context_not_the_host_header(aws: Settings) -> None:
    event = load_event(
        "metadata", headers={"host": "evil.example.com", "x-forwarded-host": "evil.example.com"}
    )
    assert body_of(invoke(token_handler, event))["issuer"] == "https://auth.example.com"


def test_jwks_publishes_public_keys_only(aws: Settings) -> None:
    jwks = body_of(invoke(token_handler, load_event("jwks")))
    assert {k["alg"] for k in jwks["keys"]} == {"ES256", "RS256"}
    assert all("d" not in k for k in jwks["keys"])


def test_warm_client_credentials_makes_no_aws_calls(aws: Settings) -> None:
    calls: list[str] = []

    def count(**kwargs: Any) -> None:
        calls.append(kwargs["event_name"])

    invoke(token_handler, load_event("token_client_credentials"))  # cold: fills the caches
    for service in ("dynamodb", "secretsmanager"):
        aws_clients.client(service).meta.events.register("before-call", count)
    for _ in range(3):
        assert invoke(token_handler, load_event("token_client_credentials"))["statusCode"] == 200
    assert calls == []


def test_metrics_count_tokens_per_grant_type(
    aws: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke(token_handler, load_event("token_client_credentials"))
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(
        blob.get("TokenIssued") == [1.0] or blob.get("TokenIssued") == 1.0
        for blob in emf
        if blob.get("grant_type") == "client_credentials"
    ), emf


@pytest.fixture
def debug_logs() -> Iterator[None]:
    """At DEBUG, so that the client-credentials issuance line is written too."""
    level = logger.log_level
    logger.setLevel("DEBUG")
    try:
        yield
    finally:
        logger.setLevel(level)


def test_h3_no_secret_or_token_in_logs(
    aws: Settings, log_output: io.StringIO, capsys: pytest.CaptureFixture[str], debug_logs: None
) -> None:
    event = load_event("token_client_credentials")
    result = invoke(token_handler, event)
    token = body_of(result)["access_token"]
    bad = load_event("token_client_credentials", headers={"authorization": "Basic c3ZjOndyb25n"})
    invoke(token_handler, bad)
    captured = capsys.readouterr()
    output = log_output.getvalue() + captured.out + captured.err
    assert "token issued" in output
    assert f'"correlation_id":"{event["requestContext"]["requestId"]}"' in output
    for needle in (
        SERVICE_SECRET,
        token,
        event["headers"]["authorization"],
        "c3ZjOndyb25n",
        "wrong",
    ):
        assert needle not in output


def test_h4_dynamodb_failure_is_5xx_oauth_json(aws: Settings) -> None:
    boto3.client("dynamodb").delete_table(TableName=aws.clients_table)
    result = invoke(token_handler, load_event("token_client_credentials"))
    assert 500 <= result["statusCode"] < 600
    assert result["headers"]["Cache-Control"] == "no-store"
    assert result["headers"]["Pragma"] == "no-cache"
    assert body_of(result)["error"] in ("server_error", "temporarily_unavailable")
    assert "Traceback" not in result["body"]


def test_h4_secrets_manager_failure_is_5xx_oauth_json(aws: Settings) -> None:
    boto3.client("secretsmanager").delete_secret(
        SecretId=aws.signing_keys_secret, ForceDeleteWithoutRecovery=True
    )
    result = invoke(token_handler, load_event("token_client_credentials"))
    assert 500 <= result["statusCode"] < 600
    assert body_of(result)["error"] in ("server_error", "temporarily_unavailable")
    assert result["headers"]["Cache-Control"] == "no-store"


def test_h1_revocation_storage_failure_is_5xx_never_a_false_200(aws: Settings) -> None:
    boto3.client("dynamodb").delete_table(TableName=aws.grants_table)
    result = invoke(token_handler, load_event("revoke"))
    assert 500 <= result["statusCode"] < 600
    assert body_of(result)["error"] in ("server_error", "temporarily_unavailable")
    assert result["headers"]["Cache-Control"] == "no-store"


def test_h2_introspection_of_unknown_token_says_inactive_only(aws: Settings) -> None:
    result = invoke(token_handler, load_event("introspect"))
    assert result["statusCode"] == 200
    assert body_of(result) == {"active": False}
