"""Introspection per API over HTTP (row H5): a client an API lists (oauthctl apis update
--introspecting-client) sees that API's tokens active and another API's `{"active": false}`."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.test_security_client_credentials import oauthctl

API_A = "https://a.api-introspection.example"
API_B = "https://b.api-introspection.example"


def create_client(stack: LocalStack, client_id: str, scope: str) -> tuple[str, str]:
    made = oauthctl(
        stack, "clients", "create", client_id, "--grant-type", "client_credentials",
        "--scope", scope,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return client_id, json.loads(made.stdout)["client_secret"]


@pytest.fixture(scope="module")
def clients(stack: LocalStack) -> dict[str, tuple[str, str]]:
    for command in (
        ("apis", "create", API_A),
        ("apis", "create", API_B),
        ("scopes", "create", "a:read", "--description", "A", "--audience", API_A),
        ("scopes", "create", "b:read", "--description", "B", "--audience", API_B),
        ("apis", "update", API_A, "--introspecting-client", "a-rs"),
    ):
        done = oauthctl(stack, *command)
        assert done.returncode == 0, done.stderr
    made = {
        "issuer": create_client(stack, "api-introspection-service", "a:read b:read"),
        "a-rs": create_client(stack, "a-rs", "read:data"),
    }
    time.sleep(2.2)  # the functions' copies of the registry and clients (2 s here)
    return made


def access_token(stack: LocalStack, client: tuple[str, str], resource: str) -> str:
    response = requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "client_credentials", "resource": resource},
        auth=client,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def introspect(stack: LocalStack, token: str, client: tuple[str, str]) -> dict[str, object]:
    response = requests.post(
        f"{stack.issuer}/introspect", data={"token": token}, auth=client, timeout=10
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_h5_a_client_an_api_lists_sees_its_tokens_and_not_another_apis(
    stack: LocalStack, clients: dict[str, tuple[str, str]]
) -> None:
    shown = json.loads(oauthctl(stack, "apis", "show", API_A).stdout)
    assert shown["introspecting_clients"] == ["a-rs"]
    for_a = access_token(stack, clients["issuer"], API_A)
    for_b = access_token(stack, clients["issuer"], API_B)
    answer = introspect(stack, for_a, clients["a-rs"])
    assert answer["active"] is True
    assert answer["aud"] == API_A
    assert introspect(stack, for_b, clients["a-rs"]) == {"active": False}
    # The tokens' own client still sees both.
    assert introspect(stack, for_b, clients["issuer"])["active"] is True
