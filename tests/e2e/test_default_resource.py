"""A client's default resource over HTTP (RFC 8707, row E10): registered with oauthctl, it is
the audience of the client's tokens when a request names no `resource`; naming another
registered API still works."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.test_security_client_credentials import oauthctl
from tests.e2e.test_security_resource_indicators import claims_of

ORDERS = "https://orders.default-resource.example"
SERVICE = "default-resource-service"


@pytest.fixture(scope="module")
def service(stack: LocalStack) -> tuple[str, str]:
    for command in (
        ("apis", "create", ORDERS),
        ("scopes", "create", "orders:dr", "--description", "See orders", "--audience", ORDERS),
    ):
        made = oauthctl(stack, *command)
        assert made.returncode == 0, made.stderr
    made = oauthctl(
        stack, "clients", "create", SERVICE, "--grant-type", "client_credentials",
        "--scope", "read:data orders:dr", "--default-resource", ORDERS,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    time.sleep(2.2)  # the functions' copies of the registry and clients (2 s here)
    return SERVICE, json.loads(made.stdout)["client_secret"]


def token(stack: LocalStack, service: tuple[str, str], *resources: str) -> dict[str, str]:
    data = [("grant_type", "client_credentials")] + [("resource", r) for r in resources]
    response = requests.post(f"{stack.issuer}/token", data=data, auth=service, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_e10_without_resource_the_token_is_for_the_clients_default_resource(
    stack: LocalStack, service: tuple[str, str]
) -> None:
    shown = oauthctl(stack, "clients", "show", SERVICE)
    assert json.loads(shown.stdout)["default_resource"] == ORDERS
    body = token(stack, service)
    assert claims_of(body["access_token"])["aud"] == ORDERS
    assert body["scope"] == "orders:dr"


def test_e10_a_client_with_a_default_resource_may_still_name_another_api(
    stack: LocalStack, service: tuple[str, str]
) -> None:
    body = token(stack, service, f"{stack.issuer}/resource")
    assert claims_of(body["access_token"])["aud"] == f"{stack.issuer}/resource"
    assert body["scope"] == "read:data"


def test_e10_a_default_resource_must_be_a_registered_api(stack: LocalStack) -> None:
    refused = oauthctl(
        stack, "clients", "create", "default-resource-unknown", "--grant-type",
        "client_credentials", "--default-resource", "https://unknown.default-resource.example",
    )  # fmt: skip
    assert refused.returncode == 2
    assert "default_resource" in refused.stderr
