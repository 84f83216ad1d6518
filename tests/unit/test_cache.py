from __future__ import annotations

from oauth_core.models import Client
from oauth_core.storage.cache import (
    MIN_REFRESH_INTERVAL,
    NEGATIVE_TTL,
    CachedClientStore,
    CachedSecretStore,
)
from oauth_core.storage.memory import MemoryClientStore, MemorySecretStore


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_secret_cache_serves_warm_reads_and_refreshes_on_request_with_a_floor() -> None:
    inner = MemorySecretStore()
    inner.set_secret("c", "one")
    ticker = Ticker()
    cache = CachedSecretStore(inner, ttl=300, monotonic=ticker)
    assert cache.valid_secrets("c") == ["one"]
    assert cache.valid_secrets("c") == ["one"]
    assert inner.reads == 1
    # A re-read asked for within the floor is declined: guesses cannot flood the store.
    assert cache.valid_secrets("c", fresh=True) == ["one"]
    assert inner.reads == 1
    ticker.now += MIN_REFRESH_INTERVAL
    inner.set_secret("c", "two")
    assert cache.valid_secrets("c", fresh=True)[0] == "two"
    assert inner.reads == 2
    ticker.now += 301
    cache.valid_secrets("c")
    assert inner.reads == 3


def test_client_cache_forgets_unknown_ids_sooner() -> None:
    inner = MemoryClientStore()
    ticker = Ticker()
    cache = CachedClientStore(inner, ttl=60, monotonic=ticker)
    assert cache.get("new") is None
    inner.put(Client(client_id="new"))
    assert cache.get("new") is None  # remembered as unknown, briefly
    ticker.now += NEGATIVE_TTL
    assert cache.get("new") is not None
