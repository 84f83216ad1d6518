"""Single-use values (assertion and proof `jti`s, pushed requests) in DynamoDB's own
conditions (moto): a second container that sees the same value is refused, one that sees it
after it expired is not."""

from __future__ import annotations

import pytest

from oauth_core.clock import FixedClock
from oauth_core.config import Settings
from oauth_core.storage.dynamodb_grants import DynamoGrantStore
from oauth_core.storage.memory import MemoryGrantStore

pytestmark = pytest.mark.usefixtures("aws")
NOW = 1_800_000_000


@pytest.mark.parametrize("kind", ["dynamodb", "memory"])
def test_p2_a_value_is_used_once_across_containers_until_it_expires(
    aws: Settings, kind: str
) -> None:
    clock = FixedClock(NOW)
    if kind == "dynamodb":
        first, second = (DynamoGrantStore(aws.grants_table, clock=clock) for _ in range(2))
    else:
        first = second = MemoryGrantStore(clock=clock)  # type: ignore[assignment]
    assert first.use_once("assertion#abc", NOW + 60)
    assert not second.use_once("assertion#abc", NOW + 60)
    assert not first.use_once("assertion#abc", NOW + 120)
    assert second.use_once("assertion#other", NOW + 60)
    clock.advance(61)  # expired; DynamoDB's TTL may not have deleted it yet
    assert second.use_once("assertion#abc", NOW + 200)
    assert not first.use_once("assertion#abc", NOW + 200)
