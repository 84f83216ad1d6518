"""The Lambda authorizer in front of another team's API, end to end: a local stack serving the
example API (examples/protected_api, LOCAL_GATEWAY_ROUTES) behind the authorizer function, an
API and its scopes registered with oauthctl, tokens asked for it with `resource` (RFC 8707).
Allowed with the route's scope; refused without a token (API Gateway's 401), in the query
string, for another API, forged, without the scope, or revoked (403) - the F rows as an
authorizer holds them (docs/integrate.md, "Protect your own API")."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from examples.protected_api.routes import AUDIENCE
from tests.e2e.conftest import LocalStack, local_stack
from tests.e2e.test_security_client_credentials import oauthctl

ROOT = Path(__file__).resolve().parents[2]
ROUTES_FILE = ROOT / "examples" / "protected_api" / "local_routes.json"
ORDERS = AUDIENCE  # the example API's identifier, https://orders.example.com
BILLING = "https://billing.example.com"
CLIENT = "orders-service"
# Revoked tokens: the authorizer's list (REVOCATION_REFRESH_SECONDS=1 here), the token
# function's copy (1 s) and the local gateway's cache of answers (2 s, local_routes.json); and
# the scheduling slack of a test.
BOUND = 4.0
SLACK = 4.0


@pytest.fixture(scope="module")
def orders_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack of its own: the shared one serves no other API."""
    env = {"LOCAL_GATEWAY_ROUTES": str(ROUTES_FILE)}
    with local_stack(tmp_path_factory, "local-stack-authorizer", env) as running:
        yield running


@pytest.fixture(scope="module")
def client(orders_stack: LocalStack) -> tuple[str, str]:
    stack = orders_stack
    for command in (
        ("apis", "create", ORDERS, "--description", "Orders"),
        ("apis", "create", BILLING, "--description", "Billing"),
        ("scopes", "create", "orders:read", "--description", "See orders", "--audience", ORDERS),
        ("scopes", "create", "orders:write", "--description", "Place orders",
         "--audience", ORDERS),
        ("scopes", "create", "billing:read", "--description", "See bills", "--audience", BILLING),
    ):  # fmt: skip
        made = oauthctl(stack, *command)
        assert made.returncode == 0, made.stderr
    made = oauthctl(
        stack, "clients", "create", CLIENT, "--grant-type", "client_credentials",
        "--scope", "orders:read orders:write billing:read read:data",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    # The token function's copy of the registry is at most REGISTRY_CACHE_TTL (2 s here) old.
    time.sleep(2.2)
    return CLIENT, json.loads(made.stdout)["client_secret"]


def token(stack: LocalStack, client: tuple[str, str], resource: str, scope: str) -> str:
    answer = requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "client_credentials", "resource": resource, "scope": scope},
        auth=client,
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def orders(
    stack: LocalStack,
    access_token: str | None,
    method: str = "GET",
    query: str = "",
    scheme: str = "Bearer",
) -> requests.Response:
    headers = {"Authorization": f"{scheme} {access_token}"} if access_token else {}
    url = f"{stack.issuer}/orders" + (f"?{query}" if query else "")
    return requests.request(method, url, headers=headers, timeout=10)


FORBIDDEN = {"message": "Forbidden"}


def test_f3_the_routes_scope_is_allowed_and_the_backend_gets_who_called(
    orders_stack: LocalStack, client: tuple[str, str]
) -> None:
    reader = token(orders_stack, client, ORDERS, "orders:read")
    listed = orders(orders_stack, reader)
    assert listed.status_code == 200, listed.text
    assert listed.json()["caller"] == {"sub": CLIENT, "client_id": CLIENT, "scope": "orders:read"}
    # POST /orders needs orders:write: a reader is refused, a writer is not.
    assert orders(orders_stack, reader, "POST").status_code == 403
    assert orders(orders_stack, reader, "POST").json() == FORBIDDEN
    writer = token(orders_stack, client, ORDERS, "orders:write")
    assert orders(orders_stack, writer, "POST").status_code == 201
    assert orders(orders_stack, writer).status_code == 403


def test_f1_no_token_is_api_gateways_401_and_another_scheme_403(
    orders_stack: LocalStack, client: tuple[str, str]
) -> None:
    missing = orders(orders_stack, None)
    assert missing.status_code == 401
    assert missing.json() == {"message": "Unauthorized"}
    reader = token(orders_stack, client, ORDERS, "orders:read")
    assert orders(orders_stack, reader, scheme="Basic").status_code == 403


def test_f2_a_forged_or_malformed_token_is_refused(
    orders_stack: LocalStack, client: tuple[str, str]
) -> None:
    reader = token(orders_stack, client, ORDERS, "orders:read")
    head, payload, signature = reader.split(".")
    forged = f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert orders(orders_stack, forged).json() == FORBIDDEN
    assert orders(orders_stack, "not-a-jwt").status_code == 403


def test_f4_a_token_in_the_query_string_is_refused(
    orders_stack: LocalStack, client: tuple[str, str]
) -> None:
    reader = token(orders_stack, client, ORDERS, "orders:read")
    assert orders(orders_stack, reader, query=f"access_token={reader}").status_code == 403
    # Without the header API Gateway does not even ask the authorizer.
    only_query = requests.get(f"{orders_stack.issuer}/orders?access_token={reader}", timeout=10)
    assert only_query.status_code == 401


def test_f5_the_scheme_is_case_insensitive(
    orders_stack: LocalStack, client: tuple[str, str]
) -> None:
    reader = token(orders_stack, client, ORDERS, "orders:read")
    assert orders(orders_stack, reader, scheme="bearer").status_code == 200


def test_f6_a_token_for_another_api_is_refused(
    orders_stack: LocalStack, client: tuple[str, str]
) -> None:
    # The issuer never puts this API's scopes in a token for another API, so here the scope
    # check refuses too; tests/unit/test_authorizer.py's F6 tests hold the audience check alone
    # (tokens with this API's scope, signed by the issuer's keys, for another audience).
    billing = token(orders_stack, client, BILLING, "billing:read")
    assert orders(orders_stack, billing).json() == FORBIDDEN
    built_in = token(orders_stack, client, f"{orders_stack.issuer}/resource", "read:data")
    assert orders(orders_stack, built_in).json() == FORBIDDEN
    # That token is good where it is meant to be: the bundled API takes it.
    bundled = requests.get(
        f"{orders_stack.issuer}/resource",
        headers={"Authorization": f"Bearer {built_in}"},
        timeout=10,
    )
    assert bundled.status_code == 200


def test_f7_a_revoked_token_is_refused_within_the_bound(
    orders_stack: LocalStack, client: tuple[str, str]
) -> None:
    revoked, kept = (token(orders_stack, client, ORDERS, "orders:read") for _ in range(2))
    assert orders(orders_stack, revoked).status_code == 200  # and its allow is cached
    answer = requests.post(
        f"{orders_stack.issuer}/revoke",
        data={"token": revoked, "token_type_hint": "access_token"},
        auth=client,
        timeout=10,
    )
    assert answer.status_code == 200
    since = time.monotonic()
    refused_after = None
    while time.monotonic() - since < BOUND + SLACK:
        if orders(orders_stack, revoked).status_code == 403:
            refused_after = time.monotonic() - since
            break
        time.sleep(0.2)
    assert refused_after is not None, "the revoked token was still allowed"
    assert orders(orders_stack, kept).status_code == 200
