"""The passkey store in memory: the unit tests' stand-in for the passkeys table."""

from __future__ import annotations

import threading
from dataclasses import replace

from oauth_core.models import Passkey


class MemoryPasskeyStore:
    def __init__(self) -> None:
        self._items: dict[str, Passkey] = {}
        self._lock = threading.Lock()

    def get(self, credential_id: str) -> Passkey | None:
        return self._items.get(credential_id)

    def of_user(self, sub: str) -> list[Passkey]:
        found = [p for p in self._items.values() if p.sub == sub]
        return sorted(found, key=lambda p: (p.created_at, p.credential_id))

    def add(self, passkey: Passkey) -> bool:
        with self._lock:
            if passkey.credential_id in self._items:
                return False
            self._items[passkey.credential_id] = passkey
            return True

    def record_use(
        self, credential_id: str, old_count: int, new_count: int, backed_up: bool, now: int
    ) -> bool:
        with self._lock:
            found = self._items.get(credential_id)
            if found is None or found.sign_count != old_count or found.suspended_at:
                return False
            self._items[credential_id] = replace(
                found, sign_count=new_count, backed_up=backed_up, last_used_at=now
            )
            return True

    def suspend(self, credential_id: str, now: int) -> None:
        with self._lock:
            found = self._items.get(credential_id)
            if found is not None and not found.suspended_at:
                self._items[credential_id] = replace(found, suspended_at=now)

    def remove(self, credential_id: str, sub: str) -> bool:
        with self._lock:
            found = self._items.get(credential_id)
            if found is None or found.sub != sub:
                return False
            del self._items[credential_id]
            return True
