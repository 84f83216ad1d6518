"""A client's default resource (RFC 8707, row E10) and the clients an API lets introspect its
tokens (row H5): the rules, the registry and the introspection endpoint, in memory."""

from __future__ import annotations

import time
from typing import Any

import pytest

from oauth_core import constants
from oauth_core.admin.catalog import InvalidDefinition
from oauth_core.admin.registry import InvalidClientMetadata
from oauth_core.catalog import ApiDefinition, Catalog, ScopeDefinition
from oauth_core.clock import FixedClock
from oauth_core.endpoints.introspect import IntrospectionEndpoint
from oauth_core.errors import InvalidTarget
from oauth_core.models import Client
from oauth_core.rules import resource_indicators
from oauth_core.wiring import Components
from tests.support import ISSUER, basic, form_request, respond

ORDERS = "https://orders.example.com"
BILLING = "https://billing.example.com"
BUILTIN = f"{ISSUER}/resource"
SECRET = "a-secret-of-at-least-32-characters-0123456789"


def catalog() -> Catalog:
    return Catalog.of(
        [
            ApiDefinition(ORDERS),
            ApiDefinition(BILLING),
            ScopeDefinition("orders:read", "See orders", "scope.orders", audience=ORDERS),
            ScopeDefinition("billing:read", "See bills", "scope.billing", audience=BILLING),
        ]
    )


SCOPES = frozenset({"openid", "orders:read", "billing:read", "read:data"})


# --- the default resource: the rule ---------------------------------------------------------


def test_e10_without_resource_the_audience_is_the_clients_default() -> None:
    audiences = resource_indicators.select(catalog(), BUILTIN, (), SCOPES, default_resource=BILLING)
    assert audiences == (BILLING,)
    # Only that API's scopes, and OpenID Connect's.
    kept = resource_indicators.scopes_for(catalog(), BUILTIN, SCOPES, audiences)
    assert kept == {"openid", "billing:read"}


def test_e10_without_a_default_the_audiences_are_still_those_of_the_scopes() -> None:
    audiences = resource_indicators.select(catalog(), BUILTIN, (), SCOPES)
    assert audiences == tuple(sorted([BILLING, ORDERS, BUILTIN]))


def test_e10_a_named_resource_or_the_grants_audience_comes_before_the_default() -> None:
    named = resource_indicators.select(
        catalog(), BUILTIN, (ORDERS,), SCOPES, default_resource=BILLING
    )
    assert named == (ORDERS,)
    # A code redemption or refresh keeps to the grant's APIs, whatever the default says now.
    granted = resource_indicators.select(
        catalog(), BUILTIN, (), SCOPES, (ORDERS,), default_resource=BILLING
    )
    assert granted == (ORDERS,)


def test_e10_a_default_resource_whose_api_is_gone_is_invalid_target() -> None:
    with pytest.raises(InvalidTarget):
        resource_indicators.select(
            catalog(), BUILTIN, (), SCOPES, default_resource="https://gone.example.com"
        )


def test_e10_client_credentials_targets_take_the_default_resource(services: Components) -> None:
    services.api_admin.create(ORDERS)
    services.scope_admin.create(
        {"name": "orders:read", "description": "See orders", "audience": ORDERS}
    )
    audiences, scopes = services.token_issuer.targets(
        ISSUER, None, frozenset({"read:data", "orders:read"}), default_resource=ORDERS
    )
    assert (audiences, scopes) == ((ORDERS,), frozenset({"orders:read"}))
    # Naming another registered API still works.
    audiences, scopes = services.token_issuer.targets(
        ISSUER, BUILTIN, frozenset({"read:data", "orders:read"}), default_resource=ORDERS
    )
    assert (audiences, scopes) == ((BUILTIN,), frozenset({"read:data"}))


# --- the default resource: registering it ---------------------------------------------------


def service(**extra: Any) -> dict[str, Any]:
    return {
        "client_id": "orders-service",
        "client_secret": SECRET,
        "grant_types": [constants.GRANT_CLIENT_CREDENTIALS],
        "scope": "read:data",
        **extra,
    }


def test_a_default_resource_must_be_a_registered_api(services: Components) -> None:
    with pytest.raises(InvalidClientMetadata) as refused:
        services.registry.create(service(default_resource=ORDERS))
    assert refused.value.field == "default_resource"
    with pytest.raises(InvalidClientMetadata) as malformed:
        services.registry.create(service(default_resource="orders"))
    assert malformed.value.field == "default_resource"
    services.api_admin.create(ORDERS)
    made = services.registry.create(service(default_resource=ORDERS)).client
    assert made.default_resource == ORDERS
    stored = services.registry.get("orders-service")
    assert stored is not None and stored.default_resource == ORDERS
    # Cleared with an empty value; an empty one is not stored at all.
    cleared = services.registry.update("orders-service", {"default_resource": ""})
    assert cleared.default_resource == ""
    assert "default_resource" not in cleared.to_item()


def test_the_client_item_keeps_the_default_resource() -> None:
    client = Client("c", default_resource=ORDERS)
    assert client.to_item()["default_resource"] == ORDERS
    assert Client.from_item(client.to_item()) == client
    assert Client.from_item(Client("c").to_item()).default_resource == ""


# --- which clients may introspect an API's tokens ---------------------------------------------


def test_an_api_keeps_its_introspecting_clients(services: Components) -> None:
    made = services.api_admin.create(ORDERS, introspecting_clients=["orders-rs", "orders-rs"])
    assert made.introspecting_clients == ("orders-rs",)
    assert ApiDefinition.from_item(made.to_item()) == made
    updated = services.api_admin.update(ORDERS, description="Orders")
    assert updated.introspecting_clients == ("orders-rs",)  # kept when not given
    replaced = services.api_admin.update(ORDERS, introspecting_clients=["other-rs"])
    assert replaced.introspecting_clients == ("other-rs",)
    cleared = services.api_admin.update(ORDERS, introspecting_clients=[])
    assert cleared.introspecting_clients == ()
    assert "introspecting_clients" not in cleared.to_item()
    with pytest.raises(InvalidDefinition):
        services.api_admin.update(ORDERS, introspecting_clients=["https://x.example/doc"])


def register(services: Components, client_id: str, **extra: Any) -> tuple[str, str]:
    services.registry.create(
        {
            "client_id": client_id,
            "client_secret": SECRET,
            "grant_types": [constants.GRANT_CLIENT_CREDENTIALS],
            "scope": "read:data",
            **extra,
        }
    )
    return client_id, SECRET


def token_for(services: Components, *audience: str) -> str:
    client = services.registry.get("issuing-service")
    assert client is not None
    return services.token_issuer.access_token(
        issuer=ISSUER, client=client, subject=client.client_id, scope="", audience=audience
    ).token


def introspect(
    services: Components, token: str, caller: tuple[str, str], *, with_catalog: bool = True
) -> dict[str, Any]:
    endpoint = IntrospectionEndpoint(
        services.client_auth,
        services.clients,
        services.grants,
        services.published_keys,
        services.settings,
        services.clock,
        catalog=services.catalog if with_catalog else None,
    )
    request = form_request(
        {"token": token}, path="/introspect", headers={"Authorization": basic(*caller)}
    )
    response = respond(endpoint.handle, request)
    assert response.status_code == 200
    return dict(response.json())


@pytest.fixture
def apis(services: Components, clock: FixedClock) -> Components:
    clock.current = int(time.time())  # introspection checks expiry against the real time
    register(services, "issuing-service")
    services.api_admin.create(ORDERS, introspecting_clients=["orders-rs"])
    services.api_admin.create(BILLING)
    return services


def test_h5_a_client_an_api_lists_sees_that_apis_tokens_and_no_others(apis: Components) -> None:
    caller = register(apis, "orders-rs")
    answer = introspect(apis, token_for(apis, ORDERS), caller)
    assert answer["active"] is True and answer["aud"] == ORDERS
    assert introspect(apis, token_for(apis, ORDERS, BILLING), caller)["active"] is True
    assert introspect(apis, token_for(apis, BILLING), caller) == {"active": False}
    assert introspect(apis, token_for(apis, BUILTIN), caller) == {"active": False}
    # Another client, listed nowhere, learns nothing of any of them.
    stranger = register(apis, "stranger")
    assert introspect(apis, token_for(apis, ORDERS), stranger) == {"active": False}


def test_h5_the_introspection_flag_covers_the_built_in_api_only(apis: Components) -> None:
    caller = register(apis, "builtin-rs", introspection=True)
    assert introspect(apis, token_for(apis, BUILTIN), caller)["active"] is True
    assert introspect(apis, token_for(apis, BUILTIN, ORDERS), caller)["active"] is True
    assert introspect(apis, token_for(apis, ORDERS), caller) == {"active": False}


def test_h5_without_the_catalog_no_api_lets_anyone_introspect(apis: Components) -> None:
    caller = register(apis, "orders-rs")
    answer = introspect(apis, token_for(apis, ORDERS), caller, with_catalog=False)
    assert answer == {"active": False}
    # A client still introspects its own tokens.
    own = introspect(apis, token_for(apis, ORDERS), ("issuing-service", SECRET))
    assert own["active"] is True
