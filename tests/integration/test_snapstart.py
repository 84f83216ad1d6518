"""SnapStart (`-c snap_start=true`): what the before-snapshot hook leaves in the snapshot, and
what every restored container draws again. The hooks are registered through Lambda's own
`snapshot_restore_py` API and run here as the runtime runs them."""

from __future__ import annotations

import json
import random
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import snapshot_restore_py

from oauth_core.config import Settings
from oauth_core.http.dispatch import FunctionHandler
from oauth_core.storage import aws as aws_clients
from oauth_core.wiring import SNAP_START, serve
from tests.integration.conftest import body_of, invoke
from tests.support import load_event


def run_hooks(registered: list[Any]) -> None:
    for function, args, kwargs in registered:
        function(*args, **kwargs)


@pytest.fixture
def snap_start(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", SNAP_START)
    before, after = (
        snapshot_restore_py.get_before_snapshot(),
        snapshot_restore_py.get_after_restore(),
    )
    before.clear()
    after.clear()
    yield
    before.clear()
    after.clear()


class AwsCalls:
    """Every AWS API call made by a client of the functions' shared session."""

    def __init__(self) -> None:
        # A fresh container: no session or client yet (the fixture made its own to set up).
        aws_clients.client.cache_clear()
        aws_clients._session.cache_clear()
        self.made: list[str] = []
        session = aws_clients._session()._session  # botocore's: clients made now inherit this
        session.register("before-call", self._seen)

    def _seen(self, model: Any, **_: Any) -> None:
        self.made.append(model.name)


class Module:
    """A handler module as the runtime imports it: `lambda_handler = serve(name)`."""

    def __init__(self, name: str):
        self.__name__ = f"{name}_handler"
        self.lambda_handler: FunctionHandler = serve(name)


def test_no_hooks_without_snap_start(aws: Settings) -> None:
    snapshot_restore_py.get_before_snapshot().clear()
    serve("token")
    assert snapshot_restore_py.get_before_snapshot() == []


@pytest.mark.usefixtures("snap_start")
def test_the_snapshot_holds_code_and_clients_but_nothing_read_or_drawn(aws: Settings) -> None:
    calls = AwsCalls()
    token = Module("token")
    assert aws_clients.client.cache_info().currsize == 0
    run_hooks(snapshot_restore_py.get_before_snapshot())
    # Imported and built: the SDK clients the function uses exist...
    clients = {service: aws_clients.client(service) for service in ("dynamodb", "secretsmanager")}
    assert aws_clients.client.cache_info().currsize == 2
    # ...and nothing was asked of AWS: no client record, secret or key is in the snapshot.
    assert calls.made == []
    built = token.lambda_handler.endpoints

    run_hooks(snapshot_restore_py.get_after_restore())
    served = invoke(token, load_event("token_client_credentials"))
    assert served["statusCode"] == 200
    # The restored container built its own endpoints (caches, buckets, keys loaded now)...
    assert token.lambda_handler.endpoints is not built
    assert "GetSecretValue" in calls.made
    # ...on the clients the snapshot kept.
    assert all(aws_clients.client(service) is clients[service] for service in clients)
    assert json.loads(served["body"])["token_type"] == "Bearer"


@pytest.mark.usefixtures("snap_start")
def test_two_containers_restored_from_one_snapshot_draw_differently(aws: Settings) -> None:
    token = Module("token")
    run_hooks(snapshot_restore_py.get_before_snapshot())
    snapshot = random.getstate()
    drawn: list[tuple[float, str]] = []
    for _ in range(2):
        random.setstate(snapshot)  # each container starts from the same memory
        run_hooks(snapshot_restore_py.get_after_restore())
        jti = _claims(body_of(invoke(token, load_event("token_client_credentials"))))["jti"]
        drawn.append((random.random(), jti))
    assert drawn[0][0] != drawn[1][0]
    assert drawn[0][1] != drawn[1][1]


@pytest.mark.usefixtures("snap_start")
def test_the_resource_function_opens_no_connection_before_the_snapshot(
    aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    resource = Module("resource")
    run_hooks(snapshot_restore_py.get_before_snapshot())
    built = resource.lambda_handler.endpoints
    assert looked_up == []  # the issuer's keys are fetched by a restored container, not here
    run_hooks(snapshot_restore_py.get_after_restore())
    assert resource.lambda_handler.endpoints is not built


def _claims(body: dict[str, Any]) -> dict[str, Any]:
    import jwt

    claims: dict[str, Any] = jwt.decode(body["access_token"], options={"verify_signature": False})
    return claims
