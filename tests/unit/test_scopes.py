"""Scopes as a registry: what may be given, what discovery advertises, what users are asked."""

from __future__ import annotations

from typing import Any

import pytest

from oauth_core.admin.catalog import InvalidScopeDefinition, ScopeInUse
from oauth_core.admin.registry import InvalidClientMetadata
from oauth_core.catalog import BUILTIN_NAMES, Catalog, ScopeDefinition
from oauth_core.endpoints.discovery import DiscoveryEndpoints
from oauth_core.wiring import Components
from tests.support import form_request

ORDERS = {"name": "orders:read", "description": "See your orders"}


def test_a_scope_is_registered_with_a_key_and_asked_for_by_default(services: Components) -> None:
    orders_api = {**ORDERS, "audience": "https://api.example.com/orders"}
    with pytest.raises(InvalidScopeDefinition, match="not a registered API"):
        services.scope_admin.create(orders_api)
    services.api_admin.create("https://api.example.com/orders")
    made = services.scope_admin.create(orders_api)
    assert made.description_key == "scope.orders_read"
    assert made.consent is True and made.audience == "https://api.example.com/orders"
    assert services.catalog.catalog().scopes["orders:read"] == made


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "has space", "description": "x"}, "name"),
        ({"name": 'quote"', "description": "x"}, "name"),
        ({"name": "a" * 129, "description": "x"}, "name"),
        ({"name": "ok"}, "description"),
        ({"name": "ok", "description": "   "}, "description"),
        ({"name": "ok", "description": "two\nlines"}, "description"),
        ({"name": "ok", "description": "x" * 201}, "description"),
        ({"name": "ok", "description": "x", "description_key": "Has Caps"}, "description_key"),
        ({"name": "ok", "description": "x", "consent": "yes"}, "consent"),
        ({"name": "ok", "description": "x", "audience": "http://api.example.com"}, "audience"),
        ({"name": "ok", "description": "x", "audience": "not a url"}, "audience"),
        ({"name": "ok", "description": "x", "colour": "red"}, "colour"),
        ({"name": "openid", "description": "x"}, "name"),
    ],
)
def test_a_bad_scope_is_refused_naming_the_field(
    services: Components, data: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidScopeDefinition) as refused:
        services.scope_admin.create(data)
    assert refused.value.field == field


def test_a_scope_is_registered_once(services: Components) -> None:
    services.scope_admin.create(ORDERS)
    with pytest.raises(InvalidScopeDefinition, match="already registered"):
        services.scope_admin.create(ORDERS)


def test_built_in_scopes_cannot_be_changed_or_deleted(services: Components) -> None:
    for name in BUILTIN_NAMES:
        with pytest.raises(InvalidScopeDefinition, match="built in"):
            services.scope_admin.update(name, {"description": "mine now"})
        with pytest.raises(InvalidScopeDefinition, match="built in"):
            services.scope_admin.delete(name)


def test_updating_keeps_what_is_not_changed(services: Components) -> None:
    made = services.scope_admin.create(ORDERS)
    updated = services.scope_admin.update("orders:read", {"consent": False})
    assert updated.description == "See your orders" and updated.consent is False
    assert updated.created_at == made.created_at
    with pytest.raises(LookupError):
        services.scope_admin.update("nope", {"consent": False})


def test_a_client_may_be_given_only_registered_scopes(services: Components) -> None:
    client = {"client_id": "c1", "grant_types": ["client_credentials"], "scope": "admin:all"}
    with pytest.raises(InvalidClientMetadata, match="admin:all is not registered"):
        services.registry.create(client)
    assert services.registry.get("c1") is None
    services.scope_admin.create({"name": "admin:all", "description": "Administer everything"})
    assert services.registry.create(client).client.scope == "admin:all"


def test_a_scope_a_client_is_given_cannot_be_deleted(services: Components) -> None:
    services.scope_admin.create(ORDERS)
    services.registry.create(
        {"client_id": "shop", "grant_types": ["client_credentials"], "scope": "orders:read"}
    )
    with pytest.raises(ScopeInUse, match="shop"):
        services.scope_admin.delete("orders:read")
    services.registry.update("shop", {"scope": "read:data"})
    services.scope_admin.delete("orders:read")
    assert "orders:read" not in services.catalog.catalog().scopes


def test_discovery_advertises_exactly_the_known_scopes(services: Components) -> None:
    discovery = DiscoveryEndpoints(
        services.settings, services.published_keys, ["client_credentials"], services.catalog
    )

    def advertised() -> list[str]:
        document = discovery.openid_configuration(form_request({}, method="GET")).json()
        metadata = discovery.metadata(form_request({}, method="GET")).json()
        assert document["scopes_supported"] == metadata["scopes_supported"]
        return list(document["scopes_supported"])

    assert advertised() == sorted(BUILTIN_NAMES)
    services.scope_admin.create(ORDERS)
    assert advertised() == sorted({*BUILTIN_NAMES, "orders:read"})


def test_only_scopes_that_need_consent_are_asked_for() -> None:
    catalog = Catalog.of(
        [
            ScopeDefinition("quiet", "Unasked", "scope.quiet", consent=False),
            ScopeDefinition("loud", "Asked", "scope.loud"),
        ]
    )
    assert catalog.asked({"quiet", "loud", "openid", "unknown"}) == {"loud", "openid", "unknown"}
    assert catalog.description("loud") == "Asked"
    assert catalog.description("unknown") == "unknown"
    # A registered scope cannot shadow a built-in one.
    shadow = Catalog.of([ScopeDefinition("openid", "Mine", "scope.mine", consent=False)])
    assert shadow.scopes["openid"].builtin and shadow.asked({"openid"}) == {"openid"}


def test_the_consent_page_says_what_registered_scopes_mean(services: Components) -> None:
    from dataclasses import replace

    from oauth_core.models import PendingAuthorization

    services.scope_admin.create(ORDERS)
    services.scope_admin.create({"name": "ping", "description": "Ping", "consent": False})
    pending = PendingAuthorization(
        request_id="r",
        client_id="c",
        redirect_uri="https://app.example.com/cb",
        scope="openid orders:read ping offline_access",
        state="s",
        nonce=None,
        code_challenge="x" * 43,
        prompt=(),
        max_age=None,
        login_hint=None,
        expires_at=0,
    )
    asked, offline = services.flow.consent_asks(pending)
    assert asked == ["Confirm who you are", "See your orders"]  # ping is not asked for
    assert offline is True
    assert services.flow.consent_asks(replace(pending, scope="ping"))[0] == []
