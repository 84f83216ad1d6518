"""Registered scopes in DynamoDB (moto): stored by kind and name, read with one Query, and
cached per container."""

from __future__ import annotations

import pytest

from oauth_core.catalog import ApiDefinition, AttributeDefinition, ScopeDefinition
from oauth_core.config import Settings
from oauth_core.errors import ConditionFailed
from oauth_core.storage.cache import CachedCatalog
from oauth_core.storage.dynamodb_registry import DynamoCatalogStore
from oauth_core.wiring import aws_components

ORDERS = ScopeDefinition(
    "orders:read", "See your orders", "scope.orders_read", audience="https://api.example.com"
)


def test_scopes_round_trip_through_the_registry_table(aws: Settings) -> None:
    store = DynamoCatalogStore(aws.registry_table)
    store.put(ORDERS, must_not_exist=True)
    with pytest.raises(ConditionFailed):
        store.put(ORDERS, must_not_exist=True)
    quiet = ScopeDefinition("ping", "Check that the app is up", "scope.ping", consent=False)
    store.put(quiet)
    store.put(ApiDefinition("https://api.example.com", groups_claim="roles"))
    store.put(AttributeDefinition("department", "string", claim="dept"))
    assert store.get(ScopeDefinition, "orders:read") == ORDERS
    assert store.get(ApiDefinition, "orders:read") is None  # another kind, same name
    assert [s.name for s in store.list(ScopeDefinition)] == ["orders:read", "ping"]
    catalog = store.catalog()  # one Query: every kind
    assert catalog.scopes["ping"].consent is False
    assert catalog.groups_claim("https://api.example.com") == "roles"
    assert catalog.attribute_claims() == {"department": "dept"}
    assert store.delete(ScopeDefinition, "ping") is True
    assert store.delete(ScopeDefinition, "ping") is False
    assert store.get(ScopeDefinition, "ping") is None


def test_the_catalog_is_read_once_per_cache_lifetime(aws: Settings) -> None:
    store = DynamoCatalogStore(aws.registry_table)
    clock = [0.0]
    cached = CachedCatalog(store, ttl=60, monotonic=lambda: clock[0])
    assert "orders:read" not in cached.catalog().scopes
    store.put(ORDERS)
    assert "orders:read" not in cached.catalog().scopes  # within the lifetime: as read
    clock[0] += 60
    assert "orders:read" in cached.catalog().scopes


def test_clients_against_aws_are_held_to_the_registry(aws: Settings) -> None:
    components = aws_components(aws, cached=False)
    components.scope_admin.create({"name": "orders:read", "description": "See your orders"})
    made = components.registry.create(
        {"client_id": "shop", "grant_types": ["client_credentials"], "scope": "orders:read"}
    )
    assert made.client.scope == "orders:read"
