"""SECURITY D8 in DynamoDB's own conditions (moto): a code is redeemed only if its user's state
allows its session, "sign out everywhere" included (/authorize does not read the state: the
redemption's ConditionCheck is where it holds), while a refresh of an existing grant is not
stopped by signing out everywhere."""

from __future__ import annotations

import pytest

from oauth_core.config import Settings
from oauth_core.errors import ConditionFailed
from oauth_core.models import AuthorizationCode, SubjectState, TokenFamily
from oauth_core.storage.dynamodb_grants import DynamoGrantStore
from oauth_core.storage.memory import MemoryGrantStore

pytestmark = pytest.mark.usefixtures("aws")
NOW, SIGNED_IN_MS = 1_800_000_000, 1_800_000_000_000


def code(name: str) -> AuthorizationCode:
    return AuthorizationCode(
        code_hash=name, client_id="app", redirect_uri="https://app.example/cb", scope="openid",
        code_challenge="c", nonce=None, sub="user-1", auth_time=NOW, claims={},
        expires_at=NOW + 60, signed_in_ms=SIGNED_IN_MS,
    )  # fmt: skip


def family(name: str) -> TokenFamily:
    return TokenFamily(
        family_id=name, client_id="app", sub="user-1", scope="openid", auth_time=NOW,
        claims={}, created_at=NOW, absolute_expires_at=NOW + 3600, signed_in_ms=SIGNED_IN_MS,
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["dynamodb", "memory"])
@pytest.mark.parametrize(
    ("state", "redeemed"),
    [
        (None, True),
        (SubjectState("user-1", sessions_not_before_ms=SIGNED_IN_MS - 1), True),
        (SubjectState("user-1", sessions_not_before_ms=SIGNED_IN_MS + 1), False),
        (SubjectState("user-1", not_before_ms=SIGNED_IN_MS + 1), False),
        (SubjectState("user-1", disabled=True), False),
    ],
)
def test_d8_a_code_of_an_ended_session_is_not_redeemed(
    aws: Settings, kind: str, state: SubjectState | None, redeemed: bool
) -> None:
    store = DynamoGrantStore(aws.grants_table) if kind == "dynamodb" else MemoryGrantStore()
    if state is not None:
        store.put_subject_state(state)
    store.put_code(code("code-1"), NOW + 3600)
    if redeemed:
        store.redeem_code("code-1", "attempt", NOW, family("family-1"), None)
        assert store.get_family("family-1") is not None
    else:
        with pytest.raises(ConditionFailed):
            store.redeem_code("code-1", "attempt", NOW, family("family-1"), None)
        assert store.get_family("family-1") is None


@pytest.mark.parametrize("kind", ["dynamodb", "memory"])
def test_a16_an_initial_access_token_is_spent_once_per_use_and_not_after_it_expires(
    aws: Settings, kind: str
) -> None:
    store = DynamoGrantStore(aws.grants_table) if kind == "dynamodb" else MemoryGrantStore()
    store.put_initial_access_token("hash-1", NOW + 60, 2)
    assert store.spend_initial_access_token("hash-1", NOW)
    assert store.spend_initial_access_token("hash-1", NOW)
    assert not store.spend_initial_access_token("hash-1", NOW)  # used up
    store.put_initial_access_token("hash-2", NOW + 60, 5)
    assert not store.spend_initial_access_token("hash-2", NOW + 60)  # expired
    assert not store.spend_initial_access_token("never-made", NOW)


@pytest.mark.parametrize("kind", ["dynamodb", "memory"])
def test_a16_renewing_a_registration_does_not_bring_back_a_deleted_client(
    aws: Settings, kind: str
) -> None:
    """A registration read racing an operator's delete must not write the client back (the
    red team's resurrection finding): the renewal replaces only that registration."""
    from dataclasses import replace

    from oauth_core.models import Client
    from oauth_core.storage.dynamodb import DynamoClientStore
    from oauth_core.storage.memory import MemoryClientStore

    store = DynamoClientStore(aws.clients_table) if kind == "dynamodb" else MemoryClientStore()
    client = Client(client_id="dyn.x", registration_id="reg-1", registered_dynamically=True)
    store.put(client, must_not_exist=True)
    store.put(replace(client, purge_at=5), replacing="reg-1")  # still there: renewed
    store.delete("dyn.x")
    with pytest.raises(ConditionFailed):
        store.put(replace(client, purge_at=9), replacing="reg-1")
    assert store.get("dyn.x") is None
    store.put(replace(client, registration_id="reg-2"), must_not_exist=True)
    with pytest.raises(ConditionFailed):
        store.put(client, replacing="reg-1")  # registered anew since: not that registration
