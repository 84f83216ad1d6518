"""Handlers called in-process with sample API Gateway events, AWS answered by moto."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

import authorize_handler
import login_handler
import resource_handler
import token_handler
from benchmarks.standin import APP_REDIRECT
from local_stack.aws import create_request_sealing_secret, create_table
from local_stack.gateway import LambdaContext
from oauth_core import constants
from oauth_core.admin.registry import ClientRegistry
from oauth_core.config import Settings
from oauth_core.keys import KeySet
from oauth_core.observability import logger
from oauth_core.storage import aws as aws_clients
from oauth_core.storage.secrets_manager import SecretsManagerKeyStore
from oauth_core.tables import ALL_TABLES
from oauth_core.tokens.bearer import JwksCache
from oauth_core.tokens.revocation_list import RevocationList
from oauth_core.wiring import aws_components, resource_endpoints
from tests.support import SERVICE_ID, SERVICE_SECRET, load_event


def _reset_handler_caches() -> None:
    aws_clients.client.cache_clear()
    aws_clients._session.cache_clear()
    reset_function_caches()


def reset_function_caches() -> None:
    """A cold start of every function (the boto3 clients, shared per process, are kept)."""
    for module in (authorize_handler, login_handler, token_handler, resource_handler):
        module.lambda_handler.reset()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, session_keys: KeySet) -> Iterator[Settings]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", constants.ENV_ISSUER):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", constants.METRICS_NAMESPACE)
    with mock_aws():
        _reset_handler_caches()
        settings = Settings.from_env()
        import boto3

        dynamodb = boto3.client("dynamodb")
        for spec in ALL_TABLES:
            create_table(dynamodb, spec, settings.table_name(spec.env_var))
        SecretsManagerKeyStore(settings.signing_keys_secret).save(session_keys)
        create_request_sealing_secret(
            boto3.client("secretsmanager"), settings.request_sealing_secret
        )
        aws_registry(settings).create(
            {
                "client_id": SERVICE_ID,
                "client_secret": SERVICE_SECRET,
                "grant_types": ["client_credentials"],
                "scope": "read:data write:data",
            }
        )
        yield settings
    _reset_handler_caches()


def aws_registry(settings: Settings) -> ClientRegistry:
    return aws_components(settings, cached=False).registry


@pytest.fixture
def registry(aws: Settings) -> ClientRegistry:
    return aws_registry(aws)


@pytest.fixture
def app_client(registry: ClientRegistry) -> None:
    """The benchmark stand-in's first-party public client (benchmarks.standin.APP_REDIRECT)."""
    registry.create(
        {
            "client_id": "app",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [APP_REDIRECT],
            "scope": "openid read:data",
            "first_party": True,
        }
    )


def invoke(module: Any, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = module.lambda_handler(event, LambdaContext(module.__name__))
    return result


def body_of(result: dict[str, Any]) -> Any:
    return json.loads(result["body"])


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything the Powertools logger writes, formatted as in CloudWatch (JSON)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def resource_via_token_handler(monkeypatch: pytest.MonkeyPatch, aws: Settings) -> None:
    """The resource function fetches the JWKS from the token function, as it would over HTTP."""

    def fetch(uri: str) -> dict[str, Any]:
        assert uri == "https://auth.example.com/.well-known/jwks.json"
        jwks: dict[str, Any] = body_of(invoke(token_handler, load_event("jwks")))
        return jwks

    def revocations(uri: str) -> dict[str, Any]:
        assert uri == "https://auth.example.com/revocations"
        listed: dict[str, Any] = body_of(invoke(token_handler, load_event("revocations")))
        return listed

    resource_handler.lambda_handler.install(
        resource_endpoints(aws, JwksCache(fetch), RevocationList(revocations, refresh=0))
    )
