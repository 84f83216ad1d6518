"""RFC 8707 resource indicators over HTTP (SECURITY rows A15 and E10): `resource` chooses the
audience of access tokens at /authorize and /token; an unknown, malformed or ungranted resource
is `invalid_target`; a token carries only its APIs' scopes; a refresh may narrow the audience
to some of the grant's APIs, never widen it; and the bundled API refuses a token for another."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import (
    WEB,
    WEB_REDIRECT,
    Browser,
    authorize_params,
    get_code,
    pkce_pair,
    query_of,
)
from tests.e2e.test_security_client_credentials import oauthctl

ORDERS = "https://orders.rfc8707.example"
SERVICE = "rfc8707-service"


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


@pytest.fixture(scope="module")
def orders_api(stack: LocalStack) -> str:
    for command in (
        ("apis", "create", ORDERS, "--description", "Orders"),
        ("scopes", "create", "orders:read", "--description", "See your orders",
         "--audience", ORDERS),
    ):  # fmt: skip
        made = oauthctl(stack, *command)
        assert made.returncode == 0, made.stderr
    # Every function's copy of the registry is at most REGISTRY_CACHE_TTL (2 s here) old: one
    # read before the API existed expires by then.
    time.sleep(2.2)
    return ORDERS


@pytest.fixture(scope="module")
def service(stack: LocalStack, orders_api: str) -> tuple[str, str]:
    made = oauthctl(
        stack, "clients", "create", SERVICE, "--grant-type", "client_credentials",
        "--scope", "read:data orders:read",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return SERVICE, json.loads(made.stdout)["client_secret"]


def client_token(
    stack: LocalStack, service: tuple[str, str], *resources: str, scope: str | None = None
) -> requests.Response:
    data: list[tuple[str, str]] = [("grant_type", "client_credentials")]
    data += [("resource", r) for r in resources]
    if scope:
        data.append(("scope", scope))
    return requests.post(f"{stack.issuer}/token", data=data, auth=service, timeout=10)


def test_e10_without_resource_the_audiences_are_those_of_the_scopes(
    stack: LocalStack, service: tuple[str, str]
) -> None:
    body = client_token(stack, service).json()
    claims = claims_of(body["access_token"])
    assert sorted(claims["aud"]) == sorted([f"{stack.issuer}/resource", ORDERS])
    assert body["scope"] == "orders:read read:data"


def test_e10_a_resource_selects_the_audience_and_its_scopes(
    stack: LocalStack, service: tuple[str, str]
) -> None:
    body = client_token(stack, service, ORDERS).json()
    claims = claims_of(body["access_token"])
    assert claims["aud"] == ORDERS and body["scope"] == "orders:read"
    # The bundled API is not this token's audience: refused.
    called = requests.get(
        f"{stack.issuer}/resource",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert called.status_code == 401
    both = claims_of(
        client_token(stack, service, ORDERS, f"{stack.issuer}/resource").json()["access_token"]
    )
    assert sorted(both["aud"]) == sorted([ORDERS, f"{stack.issuer}/resource"])


@pytest.mark.parametrize(
    "resource",
    [
        "https://unknown.rfc8707.example",
        f"{ORDERS}#fragment",
        "/relative/path",
        "orders",
        "https://" + "x" * 600 + ".example",
    ],
)
def test_e10_unknown_or_malformed_resource_is_invalid_target(
    stack: LocalStack, service: tuple[str, str], resource: str
) -> None:
    answer = client_token(stack, service, resource)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_target"


def test_a15_authorize_with_an_unknown_resource_redirects_invalid_target(
    stack: LocalStack, orders_api: str
) -> None:
    browser = Browser(stack)
    params = authorize_params(
        WEB, WEB_REDIRECT, pkce_pair()[1], resource="https://unknown.rfc8707.example"
    )
    answer = browser.authorize(**params)
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith(WEB_REDIRECT) and query_of(location)["error"] == "invalid_target"


def test_a15_e10_the_grant_is_bound_to_its_resources_across_refresh(
    stack: LocalStack, orders_api: str
) -> None:
    made = oauthctl(
        stack, "clients", "create", "rfc8707-web", "--redirect-uri", WEB_REDIRECT,
        "--grant-type", "authorization_code", "--grant-type", "refresh_token",
        "--scope", "openid offline_access read:data orders:read",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    web = ("rfc8707-web", json.loads(made.stdout)["client_secret"])
    code = get_code(
        stack,
        client_id=web[0],
        redirect_uri=WEB_REDIRECT,
        scope="openid offline_access orders:read read:data",
        resource=ORDERS,
    )

    def token(**data: str) -> requests.Response:
        return requests.post(f"{stack.issuer}/token", data=data, auth=web, timeout=10)

    tokens = token(
        grant_type="authorization_code", code=code.code, redirect_uri=WEB_REDIRECT,
        code_verifier=code.verifier,
    ).json()  # fmt: skip
    assert claims_of(tokens["access_token"])["aud"] == ORDERS
    assert tokens["scope"] == "offline_access openid orders:read"

    def refreshed(**extra: str) -> requests.Response:
        return token(grant_type="refresh_token", refresh_token=tokens["refresh_token"], **extra)

    widened = refreshed(resource=f"{stack.issuer}/resource")
    assert widened.status_code == 400 and widened.json()["error"] == "invalid_target"
    again = refreshed(resource=ORDERS)
    assert again.status_code == 200, again.text
    assert claims_of(again.json()["access_token"])["aud"] == ORDERS


def test_e10_rfc9728_the_api_says_where_its_metadata_is_and_who_issues_for_it(
    stack: LocalStack,
) -> None:
    refused = requests.get(f"{stack.issuer}/resource", timeout=10)
    assert refused.status_code == 401
    challenge = refused.headers["www-authenticate"]
    assert "error=" not in challenge  # F1: no credentials, no error attribute
    url = challenge.split('resource_metadata="', 1)[1].split('"', 1)[0]
    assert url == f"{stack.issuer}/.well-known/oauth-protected-resource/resource"
    metadata = requests.get(url, timeout=10).json()
    assert metadata["resource"] == f"{stack.issuer}/resource"
    assert metadata["authorization_servers"] == [stack.issuer]
    assert set(metadata["scopes_supported"]) == {"read:data", "write:data"}
    assert metadata["bearer_methods_supported"] == ["header"]
    # The issuer it names publishes the metadata a client needs next (RFC 8414).
    issuer = requests.get(f"{stack.issuer}/.well-known/oauth-authorization-server", timeout=10)
    assert issuer.json()["issuer"] == stack.issuer


def test_e10_an_apis_lifetime_and_algorithm_shape_its_tokens(
    stack: LocalStack, service: tuple[str, str]
) -> None:
    ledger = "https://ledger.rfc8707.example"
    for command in (
        ("apis", "create", ledger, "--access-token-ttl", "120", "--signing-alg", "RS256"),
        ("scopes", "create", "ledger:read", "--description", "Read the ledger",
         "--audience", ledger),
        ("clients", "update", SERVICE, "--scope", "read:data orders:read ledger:read"),
    ):  # fmt: skip
        done = oauthctl(stack, *command)
        assert done.returncode == 0, done.stderr
    time.sleep(2.2)  # the registry and client caches (2 s here)
    body = client_token(stack, service, ledger).json()
    claims = claims_of(body["access_token"])
    header = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[0] + "=="))
    assert header["alg"] == "RS256" and claims["aud"] == ledger
    assert claims["exp"] - claims["iat"] == 120 == body["expires_in"]
    mixed = client_token(stack, service, ledger, ORDERS)
    assert mixed.status_code == 400 and mixed.json()["error"] == "invalid_target"


def test_e10_no_token_names_an_api_it_carries_no_scope_of(
    stack: LocalStack, service: tuple[str, str]
) -> None:
    """The red team got a token with aud = an API and none of its scopes (an API checking only
    iss, aud and sub would have taken it): now that request is invalid_target."""
    refused = client_token(stack, service, ORDERS, scope="read:data")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_target"
    # Without resource, the audience is only the APIs the granted scopes reach.
    body = client_token(stack, service, scope="read:data").json()
    assert claims_of(body["access_token"])["aud"] == f"{stack.issuer}/resource"
