"""The DynamoDB failure buckets apply the same arithmetic as oauth_core.rate_limit (which the
in-memory adapter runs directly): the same failures at the same times give the same buckets."""

from __future__ import annotations

import random

from oauth_core.config import Settings
from oauth_core.rate_limit import Limit
from oauth_core.storage.dynamodb_grants import DynamoRateLimiter
from oauth_core.storage.memory import MemoryRateLimiter


def test_dynamodb_buckets_match_the_reference_arithmetic(aws: Settings) -> None:
    dynamo, memory = DynamoRateLimiter(aws.grants_table), MemoryRateLimiter()
    limit = Limit(burst=4, window=20)
    rng = random.Random(7)
    now = 1_700_000_000_000
    for _ in range(160):
        now += rng.choice((0, 0, 500, 1000, 4000, 9000, 30000))
        key = rng.choice(("a", "b"))
        if rng.random() < 0.2:
            dynamo.give_back(key, now, limit)
            memory.give_back(key, now, limit)
        assert dynamo.take(key, now, limit) == memory.take(key, now, limit)
