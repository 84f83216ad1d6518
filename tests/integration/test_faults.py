"""Faults injected at every AWS call of every grant (issue 5, SECURITY H4): throttling, service
errors and timeouts are answered 5xx OAuth JSON with the token headers (an error page in the
browser flow), and nothing is left half-written: the same request succeeds once AWS recovers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

import authorize_handler
import token_handler
from benchmarks.standin import authorize_event, code_exchange_event, form_event
from oauth_core.config import Settings
from oauth_core.storage import aws as aws_clients
from oauth_core.wiring import aws_components
from tests.integration.conftest import body_of, invoke, reset_function_caches
from tests.support import load_event

ERRORS: dict[str, Callable[[str], Exception]] = {
    "throttled": lambda op: ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}}, op
    ),
    "service_error": lambda op: ClientError(
        {"Error": {"Code": "InternalServerError", "Message": "injected"}}, op
    ),
    "timeout": lambda op: ReadTimeoutError(endpoint_url="https://injected.invalid"),
}


class Faults:
    """Counts the AWS calls a request makes and fails the chosen one."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail_at: int | None = None
        self.error = "throttled"

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise ERRORS[self.error](model.name)


@pytest.fixture
def faults(aws: Settings) -> Iterator[Faults]:
    hook = Faults()
    for service in ("dynamodb", "secretsmanager"):
        aws_clients.client(service).meta.events.register("before-call.*", hook)
    yield hook
    for service in ("dynamodb", "secretsmanager"):
        aws_clients.client(service).meta.events.unregister("before-call.*", hook)


def code_event() -> dict[str, Any]:
    return code_exchange_event(aws_components(cached=False), "openid read:data")


def refresh_event() -> dict[str, Any]:
    tokens = body_of(invoke(token_handler, code_event()))
    return form_event(
        {
            "grant_type": "refresh_token",
            "client_id": "app",
            "refresh_token": tokens["refresh_token"],
        }
    )


SCENARIOS: dict[str, Callable[[], dict[str, Any]]] = {
    "client_credentials": lambda: load_event("token_client_credentials"),
    "authorization_code": code_event,
    "refresh_token": refresh_event,
}


@pytest.mark.parametrize("error", sorted(ERRORS))
@pytest.mark.parametrize("grant", sorted(SCENARIOS))
def test_h4_fault_at_every_aws_call_of_every_grant(
    faults: Faults, app_client: None, grant: str, error: str
) -> None:
    reset_function_caches()
    event = SCENARIOS[grant]()
    reset_function_caches()  # cold caches: every AWS call the grant can make is made
    faults.calls.clear()
    assert invoke(token_handler, event)["statusCode"] == 200
    steps = list(faults.calls)
    assert {"GetItem", "GetSecretValue"} <= set(steps), steps
    if grant != "client_credentials":
        assert "TransactWriteItems" in steps, steps
    for position in range(1, len(steps) + 1):
        event = SCENARIOS[grant]()
        reset_function_caches()
        faults.calls.clear()
        faults.fail_at, faults.error = position, error
        failed = invoke(token_handler, event)
        faults.fail_at = None
        where = f"{grant}: {error} at call {position} ({steps[position - 1]})"
        assert 500 <= failed["statusCode"] < 600, (where, failed["body"])
        assert failed["headers"]["Cache-Control"] == "no-store", where
        assert failed["headers"]["Pragma"] == "no-cache", where
        assert body_of(failed)["error"] in ("server_error", "temporarily_unavailable"), where
        if error == "throttled":
            assert body_of(failed)["error"] == "temporarily_unavailable", where
        # Nothing half-written: the same request succeeds once AWS answers again.
        retried = invoke(token_handler, event)
        assert retried["statusCode"] == 200, (where, retried["body"])


@pytest.mark.parametrize("error", sorted(ERRORS))
def test_h4_fault_in_the_browser_flow_is_an_error_page(
    faults: Faults, app_client: None, error: str
) -> None:
    event = authorize_event()
    reset_function_caches()
    faults.calls.clear()
    assert invoke(authorize_handler, event)["statusCode"] == 303
    for position in range(1, len(faults.calls) + 1):
        reset_function_caches()
        faults.calls.clear()
        faults.fail_at, faults.error = position, error
        failed = invoke(authorize_handler, event)
        faults.fail_at = None
        assert 500 <= failed["statusCode"] < 600
        assert failed["headers"]["Content-Type"].startswith("text/html")
        assert "Location" not in failed["headers"]
