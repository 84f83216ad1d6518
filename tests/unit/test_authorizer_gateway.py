"""The local gateway runs a Lambda authorizer in front of a route as API Gateway does (local_stack
.gateway): an identity source missing is 401 without invoking it, `isAuthorized: false` is 403,
a failure is 500, an allow hands its context to the route (requestContext.authorizer.lambda),
and answers are cached by the identity sources for the TTL. And the example API's local routes
are its CDK stack's routes."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from examples.protected_api.routes import AUDIENCE, ROUTES
from local_stack.gateway import (
    AUTHORIZER_FAILED,
    FORBIDDEN,
    UNAUTHORIZED,
    FunctionPool,
    LocalAuthorizer,
    LocalGateway,
    LocalRoutes,
    LocalRoutesError,
    authorizer_event,
    build_event,
    read_local_routes,
)
from oauth_core.http.routes import FunctionSpec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ROUTES = ROOT / "examples" / "protected_api" / "local_routes.json"


class ScriptedPool(FunctionPool):
    """An authorizer function that answers by the token it is given, and counts its calls."""

    def __init__(self) -> None:
        super().__init__(FunctionSpec("scripted", "unused", "unused"))
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        token = event["headers"].get("authorization", "")
        if token == "Bearer boom":
            raise RuntimeError("the issuer cannot be read")
        if token == "Bearer odd":
            return {"isAuthorized": "yes"}
        if token.startswith("Bearer good"):
            return {"isAuthorized": True, "context": {"sub": token[len("Bearer ") :]}}
        return {"isAuthorized": False}


def route_event(authorization: str | None = None, query: str = "") -> dict[str, Any]:
    headers = [("Host", "127.0.0.1:9"), ("Content-Type", "application/json")]
    if authorization is not None:
        headers.append(("Authorization", authorization))
    target = f"/orders?{query}" if query else "/orders"
    return build_event(
        "POST", target, headers, b'{"item": 1}', "127.0.0.1", "127.0.0.1:9", "POST /orders"
    )


def guard(ttl: float = 0.0) -> tuple[LocalAuthorizer, ScriptedPool]:
    pool = ScriptedPool()
    return LocalAuthorizer("orders", pool, ("$request.header.Authorization",), ttl), pool


def test_no_identity_source_is_401_without_invoking_the_authorizer() -> None:
    authorizer, pool = guard()
    assert authorizer.authorize(route_event()) == UNAUTHORIZED
    assert authorizer.authorize(route_event("")) == UNAUTHORIZED
    assert pool.events == []


def test_a_deny_is_403_a_failure_or_a_malformed_answer_500() -> None:
    authorizer, _ = guard()
    assert authorizer.authorize(route_event("Bearer bad")) == FORBIDDEN
    assert authorizer.authorize(route_event("Bearer boom")) == AUTHORIZER_FAILED
    assert authorizer.authorize(route_event("Bearer odd")) == AUTHORIZER_FAILED


def test_an_allow_hands_its_context_to_the_route() -> None:
    authorizer, pool = guard()
    event = route_event("Bearer good-1", query="a=1")
    assert authorizer.authorize(event) is None
    assert event["requestContext"]["authorizer"] == {"lambda": {"sub": "good-1"}}
    (sent,) = pool.events
    # API Gateway's REQUEST event, payload 2.0: the request without its body.
    assert sent["version"] == "2.0"
    assert sent["type"] == "REQUEST"
    assert sent["identitySource"] == ["Bearer good-1"]
    assert sent["routeKey"] == "POST /orders"
    assert sent["routeArn"].endswith(":local/$default/POST/orders")
    assert sent["rawQueryString"] == "a=1"
    assert "body" not in sent


def test_answers_are_cached_by_the_identity_sources_for_the_ttl(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr("local_stack.gateway.time.monotonic", lambda: now[0])
    authorizer, pool = guard(ttl=2)
    for _ in range(3):
        assert authorizer.authorize(route_event("Bearer good-1")) is None
        assert authorizer.authorize(route_event("Bearer bad")) == FORBIDDEN
    assert len(pool.events) == 2  # denies are cached too
    assert authorizer.authorize(route_event("Bearer good-2")) is None
    assert len(pool.events) == 3
    now[0] += 2
    assert authorizer.authorize(route_event("Bearer good-1")) is None
    assert len(pool.events) == 4


def test_without_a_ttl_every_request_is_authorized_again() -> None:
    authorizer, pool = guard(ttl=0)
    for _ in range(3):
        authorizer.authorize(route_event("Bearer good-1"))
    assert len(pool.events) == 3


def test_the_route_arn_and_identity_of_a_context_source() -> None:
    pool = ScriptedPool()
    authorizer = LocalAuthorizer(
        "x", pool, ("$request.header.Authorization", "$context.routeKey"), 0
    )
    authorizer.authorize(route_event("Bearer good"))
    assert pool.events[0]["identitySource"] == ["Bearer good", "POST /orders"]
    assert authorizer_event(route_event("Bearer good"), ["a"])["identitySource"] == ["a"]


# --- The routes file --------------------------------------------------------------------------


def test_the_example_api_runs_locally_with_its_stacks_routes_and_scopes() -> None:
    local = read_local_routes(EXAMPLE_ROUTES)
    served = set()
    for route in local.routes:
        assert route.authorizer is not None
        assert route.authorizer.identity_source == ("$request.header.Authorization",)
        environment = route.authorizer.pool._environment
        assert environment is not None
        assert environment["AUTHORIZER_AUDIENCE"] == AUDIENCE
        scopes = tuple(environment["AUTHORIZER_REQUIRED_SCOPES"].split())
        served.add((route.method, route.path, scopes))
        assert route.authorizer.pool.spec.code_dir == "functions/authorizer"
        assert route.function.spec.code_dir == "examples/protected_api/backend"
    assert served == set(ROUTES)


def write_routes(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "routes.json"
    path.write_text(json.dumps(document))
    return path


AUTHORIZER = {"code_dir": "functions/authorizer", "module": "authorizer_handler"}
BACKEND = {"code_dir": "examples/protected_api/backend", "module": "orders_handler"}


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({"routes": [{"route": "GET /authorize", **BACKEND}]}, "the server's own route"),
        ({"routes": [{"route": "ANY /token", **BACKEND}]}, "the server's own route"),
        ({"routes": [{"route": "GET orders", **BACKEND}]}, "<METHOD> /path"),
        ({"routes": [{"route": "GET /a", **BACKEND}] * 2}, "given twice"),
        (
            {"routes": [{"route": "GET /a", **BACKEND}, {"route": "ANY /a", **BACKEND}]},
            "given twice",
        ),
        ({"routes": [{"route": "GET /a", "code_dir": "nowhere", "module": "x"}]}, "no nowhere/x"),
        ({"routes": [{"route": "GET /a", **BACKEND, "authorizer": "x"}]}, "no authorizer 'x'"),
        ({"routes": [{"route": "GET /a", **BACKEND, "timeout": 3}]}, "unknown keys"),
        (
            {"authorizers": {"a": {**AUTHORIZER, "identity_source": ["$stageVariables.x"]}}},
            "identity sources",
        ),
        ({"authorizers": {"a": {**AUTHORIZER, "results_cache_ttl": 3601}}}, "0 to 3600"),
        ({"authorizers": {"a": {**AUTHORIZER, "environment": {"X": 1}}}}, "strings"),
    ],
)
def test_a_routes_file_that_cannot_be_served_is_refused_saying_where(
    tmp_path: Path, document: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(LocalRoutesError, match=complaint):
        read_local_routes(write_routes(tmp_path, document))


# --- Through HTTP -----------------------------------------------------------------------------

STUB_AUTHORIZER = """
import os
SCOPES = os.environ["AUTHORIZER_REQUIRED_SCOPES"]

def lambda_handler(event, context):
    token = event["headers"]["authorization"]
    if token == "Bearer boom":
        raise RuntimeError("cannot check")
    return {"isAuthorized": token == "Bearer good", "context": {"scopes": SCOPES}}
"""
ECHO = """
import json

def lambda_handler(event, context):
    body = {"authorizer": event["requestContext"].get("authorizer", {}).get("lambda"),
            "route": event["routeKey"]}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(body)}
"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("local-routes")
    (tmp_path / "stub_authorizer.py").write_text(STUB_AUTHORIZER)
    (tmp_path / "echo_backend.py").write_text(ECHO)
    code = {"code_dir": str(tmp_path)}
    document = {
        "authorizers": {
            name: {
                **code,
                "module": "stub_authorizer",
                "environment": {"AUTHORIZER_REQUIRED_SCOPES": f"orders:{name}"},
            }
            for name in ("read", "write")
        },
        "routes": [
            {"route": "GET /orders", **code, "module": "echo_backend", "authorizer": "read"},
            {"route": "POST /orders", **code, "module": "echo_backend", "authorizer": "write"},
            {"route": "GET /open", **code, "module": "echo_backend"},
        ],
    }
    local = read_local_routes(write_routes(tmp_path, document))
    running = LocalGateway("127.0.0.1", 0, local_routes=local)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    try:
        yield running.url
    finally:
        running.shutdown()


def call(url: str, method: str = "GET", token: str | None = None) -> requests.Response:
    headers = {"Authorization": token} if token else {}
    return requests.request(method, url, headers=headers, timeout=10)


def test_through_http_each_route_runs_its_authorizer_with_its_own_environment(
    gateway: str,
) -> None:
    read = call(f"{gateway}/orders", token="Bearer good")
    assert read.status_code == 200
    assert read.json() == {"authorizer": {"scopes": "orders:read"}, "route": "GET /orders"}
    write = call(f"{gateway}/orders", "POST", token="Bearer good")
    assert write.json()["authorizer"] == {"scopes": "orders:write"}
    # A function's own environment is its own: the process's is left as it was.
    assert "AUTHORIZER_REQUIRED_SCOPES" not in os.environ


@pytest.mark.parametrize(
    ("token", "status", "message"),
    [
        (None, 401, "Unauthorized"),
        ("Bearer bad", 403, "Forbidden"),
        ("Bearer boom", 500, "Internal Server Error"),
    ],
)
def test_through_http_refusals_are_api_gateways(
    gateway: str, token: str | None, status: int, message: str
) -> None:
    answer = call(f"{gateway}/orders", token=token)
    assert answer.status_code == status
    assert answer.json() == {"message": message}
    assert answer.headers["apigw-requestid"]


def test_through_http_other_routes_are_as_before(gateway: str) -> None:
    # A route without an authorizer is called as it comes, with no authorizer context.
    assert call(f"{gateway}/open").json() == {"authorizer": None, "route": "GET /open"}
    assert call(f"{gateway}/elsewhere").status_code == 404
    assert call(f"{gateway}/orders", "DELETE", token="Bearer good").status_code == 404


def test_no_routes_file_means_the_servers_routes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCAL_GATEWAY_ROUTES", raising=False)
    running = LocalGateway("127.0.0.1", 0)
    try:
        assert running.local_routes == LocalRoutes()
    finally:
        running.server.server_close()
