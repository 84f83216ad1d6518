"""Pushed authorization requests (RFC 9126) in the grants table (moto) and in memory: taken
once, in one conditional delete, so a second container that is handed the same request_uri gets
nothing; never by another client; never once expired (DynamoDB's TTL may not have deleted it)."""

from __future__ import annotations

import threading

import pytest

from oauth_core.clock import FixedClock
from oauth_core.config import Settings
from oauth_core.models import PushedRequest
from oauth_core.ports import GrantStore
from oauth_core.storage.dynamodb_grants import DynamoGrantStore
from oauth_core.storage.memory import MemoryGrantStore

pytestmark = pytest.mark.usefixtures("aws")
NOW = 1_800_000_000
PARAMETERS = {
    "client_id": ["web"],
    "state": ['a "quoted" state'],
    "nonce": [""],
    "resource": ["https://a.example", "https://b.example"],
}


def pushed(request_hash: str = "h1", client_id: str = "web") -> PushedRequest:
    return PushedRequest(request_hash, client_id, "reg-1", PARAMETERS, NOW + 60)


def stores(aws: Settings, kind: str, clock: FixedClock) -> tuple[GrantStore, GrantStore]:
    if kind == "dynamodb":
        return DynamoGrantStore(aws.grants_table, clock=clock), DynamoGrantStore(
            aws.grants_table, clock=clock
        )
    memory = MemoryGrantStore(clock=clock)
    return memory, memory


@pytest.mark.parametrize("kind", ["dynamodb", "memory"])
def test_a18_a_pushed_request_is_taken_once_across_containers(aws: Settings, kind: str) -> None:
    first, second = stores(aws, kind, FixedClock(NOW))
    first.put_pushed_request(pushed())
    taken = second.take_pushed_request("h1", "web", NOW)
    assert taken == pushed() and taken.parameters == PARAMETERS
    assert first.take_pushed_request("h1", "web", NOW) is None
    assert second.take_pushed_request("h1", "web", NOW) is None


@pytest.mark.parametrize("kind", ["dynamodb", "memory"])
def test_a18_of_containers_taking_one_request_at_once_exactly_one_gets_it(
    aws: Settings, kind: str
) -> None:
    clock = FixedClock(NOW)
    store, _ = stores(aws, kind, clock)
    store.put_pushed_request(pushed())
    # Each a container of its own on DynamoDB; in memory, one store is every container.
    containers = [stores(aws, kind, clock)[0] if kind == "dynamodb" else store for _ in range(6)]
    results: list[PushedRequest | None] = []
    start = threading.Barrier(len(containers))

    def take(container: GrantStore) -> None:
        start.wait()
        results.append(container.take_pushed_request("h1", "web", NOW))

    threads = [threading.Thread(target=take, args=(c,)) for c in containers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r for r in results if r is not None] == [pushed()]


@pytest.mark.parametrize("kind", ["dynamodb", "memory"])
def test_a19_another_client_cannot_take_it_and_its_own_still_can(aws: Settings, kind: str) -> None:
    store, _ = stores(aws, kind, FixedClock(NOW))
    store.put_pushed_request(pushed())
    assert store.take_pushed_request("h1", "other", NOW) is None
    assert store.take_pushed_request("h1", "web", NOW) == pushed()


@pytest.mark.parametrize("kind", ["dynamodb", "memory"])
def test_a18_an_expired_request_is_not_taken(aws: Settings, kind: str) -> None:
    store, _ = stores(aws, kind, FixedClock(NOW))
    store.put_pushed_request(pushed())
    assert store.take_pushed_request("h1", "web", NOW + 60) is None
    assert store.take_pushed_request("unknown", "web", NOW) is None
