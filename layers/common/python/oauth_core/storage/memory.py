"""In-memory adapters: the fast fakes the unit tests run on."""

from __future__ import annotations

import threading

from oauth_core.clock import Clock, SystemClock
from oauth_core.errors import ConditionFailed
from oauth_core.keys import KeySet
from oauth_core.models import Client, User


class MemoryClientStore:
    def __init__(self) -> None:
        self._clients: dict[str, Client] = {}
        self._lock = threading.Lock()

    def get(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    def put(self, client: Client, *, must_not_exist: bool = False) -> None:
        with self._lock:
            if must_not_exist and client.client_id in self._clients:
                raise ConditionFailed(client.client_id)
            self._clients[client.client_id] = client

    def delete(self, client_id: str) -> bool:
        with self._lock:
            return self._clients.pop(client_id, None) is not None

    def list(self) -> list[Client]:
        return sorted(self._clients.values(), key=lambda c: c.client_id)


class MemorySecretStore:
    """Keeps current and previous secret per client, like Secrets Manager's staging labels."""

    def __init__(self, grace_seconds: int = 24 * 3600, clock: Clock | None = None):
        self._grace = grace_seconds
        self._clock = clock or SystemClock()
        # client_id -> (current, set_at, previous)
        self._secrets: dict[str, tuple[str, int, str | None]] = {}
        self.reads = 0

    def valid_secrets(self, client_id: str, *, fresh: bool = False) -> list[str]:
        self.reads += 1
        entry = self._secrets.get(client_id)
        if entry is None:
            return []
        current, set_at, previous = entry
        if previous is not None and self._clock.now() - set_at < self._grace:
            return [current, previous]
        return [current]

    def set_secret(self, client_id: str, secret: str) -> None:
        entry = self._secrets.get(client_id)
        previous = entry[0] if entry else None
        self._secrets[client_id] = (secret, self._clock.now(), previous)

    def delete_secret(self, client_id: str) -> None:
        self._secrets.pop(client_id, None)


class MemoryKeyStore:
    def __init__(self, keys: KeySet | None = None):
        self._keys = keys

    def load(self) -> KeySet:
        if self._keys is None:
            raise LookupError("no signing keys have been created")
        return self._keys

    def save(self, keys: KeySet) -> None:
        self._keys = keys


class MemoryUserStore:
    def __init__(self) -> None:
        self._users: dict[str, User] = {}
        self._lock = threading.Lock()

    def get(self, username: str) -> User | None:
        return self._users.get(username)

    def get_by_sub(self, sub: str) -> User | None:
        return next((u for u in self._users.values() if u.sub == sub), None)

    def put(self, user: User, *, must_not_exist: bool = False) -> None:
        with self._lock:
            if must_not_exist and user.username in self._users:
                raise ConditionFailed(user.username)
            self._users[user.username] = user

    def delete(self, username: str) -> bool:
        with self._lock:
            return self._users.pop(username, None) is not None

    def list(self) -> list[User]:
        return sorted(self._users.values(), key=lambda u: u.username)
