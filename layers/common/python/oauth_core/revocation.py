"""Revocation that reaches APIs (SECURITY F7), without a storage read per API request.

A revocation is an id: the hash of a revoked access token's `jti`, or of a revoked grant's id
(every access token of a user's grant carries it as `grant_id`). The grants table keeps each id
until every token it can stop has expired, in a few items per six hours of expiry (a string set
each, sharded by the id's first digit so that no item nears DynamoDB's size limit); the token
function publishes the ids still in force at /revocations (read with one BatchGetItem, kept
a few seconds), and a resource server re-reads that list every REVOCATION_REFRESH_SECONDS.
A token revoked is refused within REVOCATION_REFRESH_SECONDS + REVOCATION_SERVER_CACHE_SECONDS.

Ids are hashes, truncated to 96 bits: the published list names no token and no grant, and a
chance collision (one in 2^96 per pair) would refuse a token, never accept one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from oauth_core.constants import (
    MAX_ACCESS_TOKEN_TTL,
    REVOCATION_REFRESH_SECONDS,
    REVOCATION_SERVER_CACHE_SECONDS,
)

BUCKET_SECONDS = 6 * 3600
# 16 items per six hours of expiry (80 keys: one BatchGetItem reads them all), each far from
# DynamoDB's 400 KB item limit at the rate RFC 7009 revocations are allowed per client.
SHARDS = 16
ID_LENGTH = 24  # hex digits: 96 bits
KIND_ACCESS_TOKEN = "jti"
KIND_GRANT = "grant"
KEY_PREFIX = "revoked#"


def revocation_id(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:ID_LENGTH]


def ids_of(claims: Mapping[str, Any]) -> set[str]:
    """The revocation ids that would stop a token with these claims."""
    ids = {revocation_id(KIND_ACCESS_TOKEN, str(claims.get("jti", "")))}
    grant_id = claims.get("grant_id")
    if isinstance(grant_id, str) and grant_id:
        ids.add(revocation_id(KIND_GRANT, grant_id))
    return ids


def worth_publishing(expires_at: int, now: int) -> bool:
    """Whether a revoked access token outlives the time APIs take to learn of it: one that
    expires sooner needs no entry (and cannot be used to fill the list)."""
    return expires_at - now > REVOCATION_REFRESH_SECONDS + REVOCATION_SERVER_CACHE_SECONDS


def grant_revocation_until(now: int) -> int:
    """How long a grant's revocation must be kept: its last access token expires by then."""
    return now + MAX_ACCESS_TOKEN_TTL


def item_key(rid: str, until: int) -> str:
    return f"{KEY_PREFIX}{until // BUCKET_SECONDS}#{int(rid[0], 16) % SHARDS}"


def purge_at(key: str) -> int:
    """When an item's ids have all expired: the end of its six hours."""
    bucket = int(key.removeprefix(KEY_PREFIX).split("#", 1)[0])
    return (bucket + 1) * BUCKET_SECONDS


def keys_in_force(now: int) -> list[str]:
    """Every item that may hold an id still in force at `now` (one BatchGetItem's worth)."""
    first, last = now // BUCKET_SECONDS, (now + MAX_ACCESS_TOKEN_TTL) // BUCKET_SECONDS
    return [f"{KEY_PREFIX}{b}#{s}" for b in range(first, last + 1) for s in range(SHARDS)]
