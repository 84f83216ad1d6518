"""AWS calls per warm operation, counted with botocore's event hooks against moto."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from benchmarks.standin import (
    code_exchange_event,
    event,
    form_event,
    register_clients,
)

WARM_REPEATS = 5


def count_calls() -> dict[str, dict[str, float]]:
    """Operation -> {"calls": average AWS calls per warm request, ...by API name}."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    from oauth_core.observability import logger

    logger.registered_handler.setStream(open(os.devnull, "w"))  # noqa: SIM115
    with mock_aws():
        return _count()


def _count() -> dict[str, dict[str, float]]:

    import boto3

    import authorize_handler
    import resource_handler
    import token_handler
    from local_stack.aws import create_request_sealing_secret, create_table
    from oauth_core.clock import SystemClock
    from oauth_core.config import Settings
    from oauth_core.keys import KeySet
    from oauth_core.storage import aws as aws_clients
    from oauth_core.storage.secrets_manager import SecretsManagerKeyStore
    from oauth_core.tables import ALL_TABLES
    from oauth_core.tokens.bearer import JwksCache
    from oauth_core.tokens.revocation_list import RevocationList
    from oauth_core.wiring import aws_components, resource_endpoints

    settings = Settings.from_env()
    dynamodb = boto3.client("dynamodb")
    for spec in ALL_TABLES:
        create_table(dynamodb, spec, settings.table_name(spec.env_var))
    keys = KeySet.initial(SystemClock().now())
    SecretsManagerKeyStore(settings.signing_keys_secret).save(keys)
    create_request_sealing_secret(boto3.client("secretsmanager"), settings.request_sealing_secret)
    clock = SystemClock()
    register_clients(aws_components(settings, cached=False).registry)
    handlers = (token_handler, authorize_handler, resource_handler)
    for module in handlers:
        module.lambda_handler.reset()
    aws_clients.client.cache_clear()
    aws_clients._session.cache_clear()
    # The resource function fetches the JWKS over HTTP: here it reads the key set directly.
    # And the revocations: a list already fetched (refreshed every 20 s, not per request).
    resource_handler.lambda_handler.install(
        resource_endpoints(
            settings,
            JwksCache(lambda uri: keys.public_jwks()),
            RevocationList(lambda uri: {"revoked": []}, refresh=3600),
        )
    )
    try:
        return _measure(token_handler, authorize_handler, resource_handler, clock)
    finally:
        for module in handlers:
            module.lambda_handler.reset()


def _measure(
    token_handler: Any, authorize_handler: Any, resource_handler: Any, clock: Any
) -> dict[str, dict[str, float]]:
    import contextlib
    import io

    from benchmarks.warm import Context
    from oauth_core.storage import aws as aws_clients

    calls: list[str] = []
    counting = [False]

    def hook(model: Any, **_: Any) -> None:
        if counting[0]:  # preparing a request (minting a code) is not the request's cost
            calls.append(model.name)

    for service in ("dynamodb", "secretsmanager"):
        aws_clients.client(service).meta.events.register("before-call.*", hook)
    context = Context()
    from oauth_core.config import Settings
    from oauth_core.wiring import aws_components

    # Codes are minted into the same tables the token function reads.
    services = aws_components(Settings.from_env(), cached=False)

    def code_event() -> dict[str, Any]:
        return code_exchange_event(services, "read:data")

    refresh_tokens: list[str] = []

    def refresh_event() -> dict[str, Any]:
        if not refresh_tokens:
            with contextlib.redirect_stdout(io.StringIO()):
                result = token_handler.lambda_handler(code_event(), context)
            refresh_tokens.append(json.loads(result["body"])["refresh_token"])
        return form_event(
            {"grant_type": "refresh_token", "client_id": "app", "refresh_token": refresh_tokens[-1]}
        )

    def keep_refresh(result: dict[str, Any]) -> None:
        refresh_tokens.append(json.loads(result["body"])["refresh_token"])

    from benchmarks.standin import authorize_event, session_cookie

    cookie = session_cookie(services)
    token = None

    def resource_event() -> dict[str, Any]:
        nonlocal token
        if token is None:
            with contextlib.redirect_stdout(io.StringIO()):
                result = token_handler.lambda_handler(event("token_client_credentials"), context)
            token = json.loads(result["body"])["access_token"]
        return event("resource_get", headers={"authorization": f"Bearer {token}"})

    from tests.dpop_keys import DpopKey

    dpop_key = DpopKey()
    issuer = services.settings.issuer_for(
        event("token_client_credentials")["requestContext"]["domainName"]
    )
    bound = None

    def dpop_token_event() -> dict[str, Any]:
        base = event("token_client_credentials")
        proof = dpop_key.proof("POST", f"{issuer}/token")
        return {**base, "headers": {**base["headers"], "dpop": proof}}

    def dpop_resource_event() -> dict[str, Any]:
        nonlocal bound
        if bound is None:
            with contextlib.redirect_stdout(io.StringIO()):
                result = token_handler.lambda_handler(dpop_token_event(), context)
            bound = json.loads(result["body"])["access_token"]
        base = event("resource_get")
        proof = dpop_key.proof("GET", f"{issuer}/resource", access_token=bound)
        return {**base, "headers": {**base["headers"], "authorization": f"DPoP {bound}",
                                    "dpop": proof}}  # fmt: skip

    operations: dict[
        str, tuple[Any, Callable[[], dict[str, Any]], Callable[[dict[str, Any]], None] | None]
    ] = {
        "client_credentials": (token_handler, lambda: event("token_client_credentials"), None),
        "authorization_code": (token_handler, code_event, None),
        "refresh_token": (token_handler, refresh_event, keep_refresh),
        "authorize (signed in)": (
            authorize_handler,
            lambda: authorize_event(cookie=cookie),
            None,
        ),
        "authorize (to sign-in)": (
            authorize_handler,
            lambda: authorize_event(),
            None,
        ),
        "resource call": (resource_handler, resource_event, None),
        "client_credentials (DPoP)": (token_handler, dpop_token_event, None),
        "resource call (DPoP)": (resource_handler, dpop_resource_event, None),
        "JWKS": (token_handler, lambda: event("jwks"), None),
        "metadata": (token_handler, lambda: event("metadata"), None),
    }
    counts: dict[str, dict[str, float]] = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for name, (module, make, after) in operations.items():
            result = module.lambda_handler(make(), context)  # warm the container first
            if after:
                after(result)
            calls.clear()
            for _ in range(WARM_REPEATS):
                item = make()
                counting[0] = True
                result = module.lambda_handler(item, context)
                counting[0] = False
                assert result["statusCode"] < 400, (name, result)
                if after:
                    after(result)
            by_api: dict[str, float] = {}
            for api in calls:
                by_api[api] = by_api.get(api, 0) + 1 / WARM_REPEATS
            counts[name] = {"calls": len(calls) / WARM_REPEATS, **by_api}
    return counts
