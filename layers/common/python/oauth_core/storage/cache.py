"""Per-container caches in front of the stores, so warm requests make no AWS calls."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from oauth_core.catalog import Catalog
from oauth_core.errors import TemporarilyUnavailable
from oauth_core.keys import CURRENT, KeySet
from oauth_core.models import Client
from oauth_core.ports import (
    CatalogSource,
    ClientSecretStore,
    ClientStore,
    KeyStore,
    ProviderSecretStore,
)

T = TypeVar("T")
Monotonic = Callable[[], float]

# A cache may be asked to re-read (e.g. a secret that did not match) at most this often per key,
# so that a flood of bad guesses cannot become a flood of Secrets Manager calls.
MIN_REFRESH_INTERVAL = 2.0
NEGATIVE_TTL = 10.0


class TtlCache(Generic[T]):
    def __init__(
        self,
        ttl: float,
        monotonic: Monotonic = time.monotonic,
        ttl_for: Callable[[T], float] | None = None,
    ):
        self._ttl = ttl
        self._ttl_for = ttl_for
        self._monotonic = monotonic
        self._entries: dict[str, tuple[float, float, T]] = {}
        self._lock = threading.Lock()

    def get_or_load(self, key: str, load: Callable[[], T], *, fresh: bool = False) -> T:
        now = self._monotonic()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None:
            loaded_at, lifetime, value = entry
            age = now - loaded_at
            if age < lifetime and not (fresh and age >= MIN_REFRESH_INTERVAL):
                return value
        value = load()
        with self._lock:
            lifetime = self._ttl if self._ttl_for is None else self._ttl_for(value)
            self._entries[key] = (now, lifetime, value)
        return value

    def invalidate(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


class CachedClientStore:
    def __init__(self, inner: ClientStore, ttl: float, monotonic: Monotonic = time.monotonic):
        self._inner = inner
        self._ttl = ttl
        # Unknown ids are remembered briefly only, so a new client works almost at once.
        self._cache: TtlCache[Client | None] = TtlCache(
            ttl, monotonic, ttl_for=lambda client: ttl if client else min(ttl, NEGATIVE_TTL)
        )

    def get(self, client_id: str) -> Client | None:
        return self._cache.get_or_load(client_id, lambda: self._inner.get(client_id))

    def put(
        self, client: Client, *, must_not_exist: bool = False, replacing: str | None = None
    ) -> None:
        self._inner.put(client, must_not_exist=must_not_exist, replacing=replacing)
        self._cache.invalidate(client.client_id)

    def delete(self, client_id: str) -> bool:
        self._cache.invalidate(client_id)
        return self._inner.delete(client_id)

    def list(self) -> list[Client]:
        return self._inner.list()


class CachedSecretStore:
    def __init__(self, inner: ClientSecretStore, ttl: float, monotonic: Monotonic = time.monotonic):
        self._inner = inner
        self._cache: TtlCache[list[str]] = TtlCache(ttl, monotonic)

    def valid_secrets(
        self, client_id: str, registration_id: str = "", *, fresh: bool = False
    ) -> list[str]:
        # Per registration: a client registered anew is read afresh, not served the secrets
        # this container cached for the registration before (D8).
        return self._cache.get_or_load(
            f"{client_id}\n{registration_id}",
            lambda: self._inner.valid_secrets(client_id, registration_id),
            fresh=fresh,
        )

    def set_secret(self, client_id: str, secret: str, registration_id: str = "") -> None:
        self._inner.set_secret(client_id, secret, registration_id)
        self._cache.invalidate(f"{client_id}\n{registration_id}")

    def delete_secret(self, client_id: str) -> None:
        self._inner.delete_secret(client_id)  # cached registrations of it simply age out


# How long a client is asked to wait when there is no key to sign with yet.
NO_KEYS_RETRY_AFTER = 5


class CachedKeyStore:
    """The key set, re-read every `ttl` seconds. Only a set that can sign is remembered: an
    empty one (a stack whose first keys are not written yet, or an emptied secret) is answered
    503 temporarily_unavailable and read again on the next request, and a read that fails
    raises without leaving anything behind. Remembering either would fail every request of the
    container until the entry expired."""

    def __init__(self, inner: KeyStore, ttl: float, monotonic: Monotonic = time.monotonic):
        self._inner = inner
        self._cache: TtlCache[KeySet] = TtlCache(ttl, monotonic)

    def load(self) -> KeySet:
        return self._cache.get_or_load("keys", self._load_usable)

    def _load_usable(self) -> KeySet:
        keys = self._inner.load()
        if not any(key.status == CURRENT for key in keys.keys):
            raise TemporarilyUnavailable(
                "no signing key is available yet; retry shortly",
                headers={"Retry-After": str(NO_KEYS_RETRY_AFTER)},
            )
        return keys

    def save(self, keys: KeySet) -> None:
        self._inner.save(keys)
        self._cache.invalidate("keys")


class CachedCatalog:
    """The catalog, read at most once per `ttl` per container (one Query)."""

    def __init__(self, inner: CatalogSource, ttl: float, monotonic: Monotonic = time.monotonic):
        self._inner = inner
        self._cache: TtlCache[Catalog] = TtlCache(ttl, monotonic)

    def catalog(self) -> Catalog:
        return self._cache.get_or_load("catalog", self._inner.catalog)


class CachedProviderSecrets:
    """Upstream providers' client secrets, read at most once per `ttl` per container (a
    replaced secret reaches every container within it; `fresh` re-reads sooner, at most every
    MIN_REFRESH_INTERVAL)."""

    def __init__(
        self, inner: ProviderSecretStore, ttl: float, monotonic: Monotonic = time.monotonic
    ):
        self._inner = inner
        self._cache: TtlCache[str | None] = TtlCache(ttl, monotonic)

    def client_secret(self, provider: str, *, fresh: bool = False) -> str | None:
        return self._cache.get_or_load(
            provider, lambda: self._inner.client_secret(provider), fresh=fresh
        )

    def set_client_secret(self, provider: str, secret: str) -> None:
        self._inner.set_client_secret(provider, secret)
        self._cache.invalidate(provider)

    def delete_client_secret(self, provider: str) -> None:
        self._inner.delete_client_secret(provider)
        self._cache.invalidate(provider)
