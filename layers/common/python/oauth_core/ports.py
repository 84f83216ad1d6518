"""Storage ports: the small interfaces oauth_core talks to. Adapters live in oauth_core.storage."""

from __future__ import annotations

from typing import Protocol

from oauth_core.keys import KeySet
from oauth_core.models import Client, User


class ClientStore(Protocol):
    def get(self, client_id: str) -> Client | None: ...

    def put(self, client: Client, *, must_not_exist: bool = False) -> None:
        """Write a client; with must_not_exist, raise ConditionFailed if the id is taken."""
        ...

    def delete(self, client_id: str) -> bool: ...

    def list(self) -> list[Client]: ...


class ClientSecretStore(Protocol):
    def valid_secrets(self, client_id: str, *, fresh: bool = False) -> list[str]:
        """The secrets that authenticate `client_id` now: current, plus previous within grace.

        `fresh` asks a caching store to re-read (it may decline if it read very recently).
        """
        ...

    def set_secret(self, client_id: str, secret: str) -> None:
        """Create the client's secret, or rotate to a new one (the old one becomes previous)."""
        ...

    def delete_secret(self, client_id: str) -> None: ...


class KeyStore(Protocol):
    def load(self) -> KeySet: ...

    def save(self, keys: KeySet) -> None: ...


class UserStore(Protocol):
    def get(self, username: str) -> User | None: ...

    def get_by_sub(self, sub: str) -> User | None: ...

    def put(self, user: User, *, must_not_exist: bool = False) -> None: ...

    def delete(self, username: str) -> bool: ...

    def list(self) -> list[User]: ...


def rotate_stored_keys(store: KeyStore, now: int) -> KeySet:
    """Rotate the stored key set: what `oauthctl keys rotate` and the rotation function run."""
    rotated = store.load().rotate(now)
    store.save(rotated)
    return rotated
