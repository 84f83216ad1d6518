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


class FailingFetch:
    def __init__(self, keys: KeySet):
        self.keys = keys
        self.calls = 0
        self.failing = False

    def __call__(self, uri: str) -> dict[str, Any]:
        self.calls += 1
        if self.failing:
            raise OSError("the issuer does not answer")
        return self.keys.public_jwks()


def test_a_failed_jwks_fetch_is_not_retried_by_every_request(session_keys: KeySet) -> None:
    fetch = FailingFetch(session_keys)
    fetch.failing = True
    clock = [0.0]
    cache = JwksCache(fetch, max_age=300, min_refetch_interval=10, monotonic=lambda: clock[0])
    kid = session_keys.current("ES256").kid
    for _ in range(50):
        with pytest.raises(LookupError):
            cache.key(URI, kid)
    assert fetch.calls == 1
    clock[0] += 10
    fetch.failing = False
    assert cache.key(URI, kid) is not None
    assert fetch.calls == 2


def test_keys_fetched_lately_still_verify_while_the_issuer_cannot_answer(
    session_keys: KeySet,
) -> None:
    fetch = FailingFetch(session_keys)
    clock = [0.0]
    cache = JwksCache(fetch, max_age=300, min_refetch_interval=10, monotonic=lambda: clock[0])
    kid = session_keys.current("ES256").kid
    assert cache.key(URI, kid) is not None
    fetch.failing = True
    clock[0] += 20
    assert cache.key(URI, "unknown") is None  # a re-fetch was tried, failed: the kid is unknown
    assert cache.key(URI, kid) is not None
    assert fetch.calls == 2
    clock[0] += 300  # past max_age: no keys to trust any longer
    with pytest.raises(LookupError):
        cache.key(URI, kid)


@pytest.mark.parametrize("alg", [["ES256"], {"a": 1}, 256, None, True])
def test_an_algorithm_that_is_not_a_string_is_an_invalid_token_not_a_500(
    session_keys: KeySet, alg: Any
) -> None:
    import base64
    import json

    header = base64.urlsafe_b64encode(
        json.dumps({"alg": alg, "kid": "k", "typ": "at+jwt"}).encode()
    ).rstrip(b"=")
    token = f"{header.decode()}.e30.c2ln"
    verifier = AccessTokenVerifier(JwksCache(CountingFetch(session_keys)))
    with pytest.raises(InvalidToken, match="accepted algorithm"):
        verifier.verify(token, issuer="https://issuer.example", audience="api", jwks_uri=URI)


def test_a_published_key_whose_algorithm_is_not_a_string_is_skipped(session_keys: KeySet) -> None:
    jwks = session_keys.public_jwks()
    odd = {**jwks["keys"][0], "alg": ["ES256"], "kid": "odd"}
    cache = JwksCache(lambda uri: {"keys": [odd, *jwks["keys"]]})
    assert cache.key(URI, "odd") is None
    assert cache.key(URI, session_keys.current("ES256").kid) is not None
