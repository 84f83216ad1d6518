"""The passkeys table in DynamoDB's own conditions (moto), as the in-memory store has them: a
credential id is kept once, the counter moves only from the value read (K3), a suspended
passkey never moves again, and only its owner removes one (K5)."""

from __future__ import annotations

import pytest

from oauth_core.config import Settings
from oauth_core.models import Passkey
from oauth_core.storage.dynamodb_passkeys import DynamoPasskeyStore
from oauth_core.storage.memory_passkeys import MemoryPasskeyStore

pytestmark = pytest.mark.usefixtures("aws")


def passkey(credential_id: str, sub: str = "sub-a", created_at: int = 100) -> Passkey:
    return Passkey(
        credential_id=credential_id,
        sub=sub,
        username="alice",
        user_handle="handle",
        public_key="pQECAyYgAQ",
        sign_count=0,
        name="Phone",
        created_at=created_at,
        transports=("hybrid", "internal"),
        backup_eligible=True,
        aaguid="ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
    )


def stores(aws: Settings, kind: str) -> DynamoPasskeyStore | MemoryPasskeyStore:
    return DynamoPasskeyStore(aws.passkeys_table) if kind == "dynamodb" else MemoryPasskeyStore()


@pytest.mark.parametrize("kind", ["dynamodb", "memory"])
def test_k3_the_counter_moves_only_from_the_value_read_and_never_once_suspended(
    aws: Settings, kind: str
) -> None:
    store = stores(aws, kind)
    assert store.add(passkey("cred-1"))
    assert not store.add(passkey("cred-1", sub="sub-b"))  # a credential id is kept once
    assert store.record_use("cred-1", 0, 5, True, 200)
    assert not store.record_use("cred-1", 0, 6, True, 201)  # another sign-in moved it first
    found = store.get("cred-1")
    assert found is not None
    assert (found.sign_count, found.backed_up, found.last_used_at) == (5, True, 200)
    assert found.transports == ("hybrid", "internal") and found.sub == "sub-a"
    store.suspend("cred-1", 300)
    assert not store.record_use("cred-1", 5, 9, True, 301)
    suspended = store.get("cred-1")
    assert suspended is not None and suspended.suspended_at == 300 and suspended.sign_count == 5
    assert not store.record_use("missing", 0, 1, False, 1)
    store.suspend("missing", 1)  # nothing to suspend: no error, no item
    assert store.get("missing") is None


@pytest.mark.parametrize("kind", ["dynamodb", "memory"])
def test_k5_a_users_passkeys_are_listed_and_only_the_owner_removes_one(
    aws: Settings, kind: str
) -> None:
    store = stores(aws, kind)
    store.add(passkey("cred-2", created_at=200))
    store.add(passkey("cred-1", created_at=100))
    store.add(passkey("cred-b", sub="sub-b"))
    assert [p.credential_id for p in store.of_user("sub-a")] == ["cred-1", "cred-2"]
    assert not store.remove("cred-b", "sub-a")
    assert store.get("cred-b") is not None
    assert store.remove("cred-1", "sub-a")
    assert not store.remove("cred-1", "sub-a")
    assert [p.credential_id for p in store.of_user("sub-a")] == ["cred-2"]
