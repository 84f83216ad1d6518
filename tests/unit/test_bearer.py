from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from oauth_core.keys import KeySet
from oauth_core.tokens.bearer import (
    AccessTokenVerifier,
    InvalidBearerRequest,
    InvalidToken,
    JwksCache,
    MissingToken,
    bearer_token_from,
)

URI = "https://issuer.example/.well-known/jwks.json"


class CountingFetch:
    def __init__(self, keys: KeySet):
        self.keys = keys
        self.calls = 0

    def __call__(self, uri: str) -> dict[str, Any]:
        self.calls += 1
        return self.keys.public_jwks()


def test_unknown_kid_refetches_at_most_once_per_interval(session_keys: KeySet) -> None:
    fetch = CountingFetch(session_keys)
    clock = [0.0]
    cache = JwksCache(fetch, max_age=300, min_refetch_interval=10, monotonic=lambda: clock[0])
    kid = session_keys.current("ES256").kid
    assert cache.key(URI, kid) is not None
    assert cache.key(URI, "unknown-1") is None
    assert cache.key(URI, "unknown-2") is None
    assert fetch.calls == 1
    clock[0] += 10
    assert cache.key(URI, "unknown-3") is None
    assert fetch.calls == 2


def test_verifier_accepts_a_good_token(session_keys: KeySet) -> None:
    key = session_keys.current("ES256")
    now = int(time.time())
    claims = {
        "iss": "https://issuer.example",
        "sub": "s",
        "aud": "api",
        "client_id": "c",
        "scope": "read:data",
        "iat": now,
        "exp": now + 60,
        "jti": "j",
    }
    token = jwt.encode(
        claims, key.private_key, algorithm="ES256", headers={"kid": key.kid, "typ": "at+jwt"}
    )
    verifier = AccessTokenVerifier(JwksCache(CountingFetch(session_keys)))
    assert (
        verifier.verify(token, issuer="https://issuer.example", audience="api", jwks_uri=URI)["sub"]
        == "s"
    )
    with pytest.raises(InvalidToken):
        verifier.verify(token, issuer="https://issuer.example", audience="other", jwks_uri=URI)


def test_authorization_header_parsing() -> None:
    assert bearer_token_from("Bearer abc", False) == "abc"
    assert bearer_token_from("bEaReR abc", False) == "abc"
    with pytest.raises(MissingToken):
        bearer_token_from(None, False)
    with pytest.raises(MissingToken):
        bearer_token_from("Basic abc", False)
    with pytest.raises(InvalidBearerRequest):
        bearer_token_from("Bearer a b", False)
    with pytest.raises(InvalidBearerRequest):
        bearer_token_from("Bearer abc", True)
