"""DPoP proofs (RFC 9449) as oauth_core.tokens.dpop checks them: each rule of SECURITY P1, the
single use of P2 and the nonces of P5, against proofs a client library would make."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from oauth_core.clock import FixedClock
from oauth_core.errors import BearerError, InvalidDpopProof, InvalidToken
from oauth_core.storage.memory import MemoryGrantStore
from oauth_core.tokens.dpop import (
    NonceRequired,
    Nonces,
    ProofChecker,
    ProofRefused,
    SenderConstraint,
    normalized_url,
    single_proof,
)
from tests.dpop_keys import DpopKey

URL = "https://auth.example.com/token"


def now() -> int:
    """The wall clock: proofs are made with it (as clients make them), and each test's fixed
    clock starts at it (collection and a test's run may be minutes apart under xdist)."""
    return int(time.time())


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(now())


@pytest.fixture
def checker(clock: FixedClock) -> ProofChecker:
    return ProofChecker(clock, MemoryGrantStore(clock=clock).use_once)


KEY = DpopKey()


def test_p1_a_valid_proof_gives_the_thumbprint_of_its_key(checker: ProofChecker) -> None:
    for key in (KEY, DpopKey("RS256")):
        proof = checker.check(key.proof("POST", URL), method="POST", url=URL)
        assert proof.jkt == key.jkt


def hs256_with_public_key() -> str:
    """The classic confusion: an HMAC keyed with the public key's bytes."""
    payload = {"htm": "POST", "htu": URL, "iat": now(), "jti": "x"}
    header = {"typ": "dpop+jwt", "jwk": KEY.jwk}
    return jwt.encode(payload, "public-key-bytes-of-thirty-two-b", "HS256", header)


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: KEY.proof("POST", URL, header={"typ": "JWT"}), "typ"),
        (lambda: KEY.proof("POST", URL, header={"jwk": None}), "public key"),
        (lambda: KEY.proof("POST", URL, header={"jwk": {**KEY.jwk, "d": "AAAA"}}), "public key"),
        (lambda: KEY.proof("POST", URL, header={"jwk": {"kty": "oct", "k": "AAAA"}}), "key"),
        (lambda: hs256_with_public_key(), "algorithm"),
        (lambda: jwt.encode({"htm": "POST"}, "", "none", {"typ": "dpop+jwt"}), "algorithm"),
        # Signed by one key, naming another.
        (lambda: KEY.proof("POST", URL, key=ec.generate_private_key(ec.SECP256R1())), "signature"),
        (lambda: KEY.proof("GET", URL), "method"),
        (lambda: KEY.proof("POST", "https://auth.example.com/revoke"), "URL"),
        (lambda: KEY.proof("POST", "https://evil.example.com/token"), "URL"),
        (lambda: KEY.proof("POST", "http://auth.example.com/token"), "URL"),
        (lambda: KEY.proof("POST", "https://auth.example.com:8443/token"), "URL"),
        (lambda: KEY.proof("POST", URL, iat=now() - 61), "too old"),
        (lambda: KEY.proof("POST", URL, iat=now() + 6), "future"),
        (lambda: KEY.proof("POST", URL, claims={"iat": "now"}), "iat"),
        (lambda: KEY.proof("POST", URL, claims={"jti": ""}), "jti"),
        (lambda: KEY.proof("POST", URL, claims={"jti": "j" * 129}), "jti"),
        (lambda: KEY.proof("POST", URL) + "x" * 5000, "too long"),
        (lambda: "not.a.jwt", "not a JWT"),
    ],
)
def test_p1_a_proof_failing_a_check_is_refused(checker: ProofChecker, make: Any, why: str) -> None:
    with pytest.raises(ProofRefused, match=why) as refused:
        checker.check(make(), method="POST", url=URL)
    assert isinstance(refused.value, InvalidDpopProof) and refused.value.status_code == 400


@pytest.mark.parametrize(
    "htu",
    [
        "https://auth.example.com/token?x=1",
        "https://auth.example.com/token#f",
        "HTTPS://AUTH.EXAMPLE.COM/token",
        "https://auth.example.com:443/token",
    ],
)
def test_p1_htu_is_compared_normalised(checker: ProofChecker, htu: str) -> None:
    assert checker.check(KEY.proof("POST", htu), method="POST", url=URL).jkt == KEY.jkt


def test_p1_normalised_urls() -> None:
    assert normalized_url("http://127.0.0.1:8000/token") == "http://127.0.0.1:8000/token"
    assert normalized_url("https://[::1]:443/a") == "https://[::1]/a"
    assert normalized_url("https://host/TOKEN") != normalized_url("https://host/token")
    for not_a_url in ("ftp://host/x", "https:///x", "https://user@host/x", "https://h:99999/"):
        assert normalized_url(not_a_url) is None


def test_p1_exactly_one_proof_header() -> None:
    assert single_proof(None) is None
    for value in ("a.b.c, d.e.f", "", "a.b.c d.e.f"):
        with pytest.raises(ProofRefused, match="exactly one"):
            single_proof(value)


def test_p1_ath_must_be_the_hash_of_the_presented_token(checker: ProofChecker) -> None:
    good = KEY.proof("GET", URL, access_token="token-1")
    assert checker.check(good, method="GET", url=URL, access_token="token-1")
    with pytest.raises(ProofRefused, match="another access token"):
        checker.check(
            KEY.proof("GET", URL, access_token="token-1"),
            method="GET",
            url=URL,
            access_token="token-2",
        )
    with pytest.raises(ProofRefused, match="another access token"):
        checker.check(KEY.proof("GET", URL), method="GET", url=URL, access_token="token-1")


def test_p2_a_proof_is_used_once_and_its_record_outlives_its_window(
    clock: FixedClock, checker: ProofChecker
) -> None:
    proof = KEY.proof("POST", URL)
    checker.check(proof, method="POST", url=URL)
    with pytest.raises(ProofRefused, match="already used"):
        checker.check(proof, method="POST", url=URL)
    # The same jti from another key is another proof.
    other = DpopKey()
    jti = "shared-id"
    checker.check(KEY.proof("POST", URL, jti=jti), method="POST", url=URL)
    checker.check(other.proof("POST", URL, jti=jti), method="POST", url=URL)
    # Past its window the proof is refused for its age, before its record expires.
    clock.advance(61)
    with pytest.raises(ProofRefused, match="too old"):
        checker.check(proof, method="POST", url=URL)


def test_p2_a_proof_checked_without_recording_is_recorded_once(checker: ProofChecker) -> None:
    proof = checker.check(KEY.proof("POST", URL), method="POST", url=URL, record=False)
    checker.record(proof)
    with pytest.raises(ProofRefused, match="already used"):
        checker.record(proof)


def nonces(clock: FixedClock, keys: list[bytes] | None = None) -> Nonces:
    secrets_now = keys or [b"k" * 32]
    return Nonces(clock, lambda: secrets_now, step=300)


def test_p5_nonces_rotate_and_only_the_current_and_previous_are_taken(clock: FixedClock) -> None:
    server = nonces(clock)
    checker = ProofChecker(clock, MemoryGrantStore(clock=clock).use_once, server)
    with pytest.raises(NonceRequired) as asked:
        checker.check(KEY.proof("POST", URL), method="POST", url=URL)
    assert asked.value.error == "use_dpop_nonce"
    first = server.current()
    checker.check(KEY.proof("POST", URL, nonce=first), method="POST", url=URL)
    clock.advance(300)
    assert server.current() != first and server.accepts(first)
    clock.advance(300)
    assert not server.accepts(first)
    stale = KEY.proof("POST", URL, nonce=first, iat=clock.now())
    with pytest.raises(NonceRequired):
        checker.check(stale, method="POST", url=URL)
    # Another server's (another key's) nonce, or a made-up one, is not taken.
    assert not server.accepts(nonces(clock, [b"x" * 32]).current())
    assert not server.accepts("AAAAAAAAAAAAAAAAAAAAAAAA") and not server.accepts(None)


def test_p5_nonces_survive_a_key_rotation_for_one_step(clock: FixedClock) -> None:
    keys = [b"old" * 11]
    server = Nonces(clock, lambda: keys)
    nonce = server.current()
    keys.insert(0, b"new" * 11)  # the rotation adds the new current key first
    assert server.accepts(nonce) and server.current() != nonce


def test_p3_a_bound_token_needs_the_dpop_scheme_and_a_proof_of_its_key(
    checker: ProofChecker,
) -> None:
    constraint = SenderConstraint(checker)
    bound = {"cnf": {"jkt": KEY.jkt}}
    url = "https://api.example.com/resource"
    constraint.check("bearer", "t", {}, None, method="GET", url=url)  # unbound bearer: fine
    proof = KEY.proof("GET", url, access_token="t")
    constraint.check("dpop", "t", bound, proof, method="GET", url=url)
    refusals = [
        ("bearer", bound, None, InvalidToken),
        ("dpop", {}, proof, InvalidToken),
        ("dpop", bound, None, InvalidDpopProof),
        ("dpop", bound, proof, InvalidDpopProof),  # replayed
        ("dpop", bound, DpopKey().proof("GET", url, access_token="t"), InvalidDpopProof),
    ]
    for scheme, claims, presented, kind in refusals:  # kind: the error class expected
        with pytest.raises(BearerError) as refused:
            constraint.check(scheme, "t", claims, presented, method="GET", url=url)
        assert refused.value.status_code == 401
        assert refused.value.www_authenticate("r").startswith("DPoP ")
        assert refused.value.error == kind.error  # type: ignore[attr-defined]


def rsa_key_of(bits: int) -> DpopKey:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = DpopKey("RS256")
    key.private_key = rsa.generate_private_key(65537, bits)
    key.jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.private_key.public_key()))
    return key


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_p1_malformed_keys_claims_and_small_rsa_keys_are_refused_never_a_500(
    clock: FixedClock, checker: ProofChecker
) -> None:
    """The red team's inputs: a key type that is a list, non-ASCII nonces and `ath`s, a
    512-bit RSA key; and an RSA-4096 key with a library's extra members, which must pass."""
    malformed: list[dict[str, Any]] = [
        {"kty": []},
        {"kty": {}},
        {"kty": "EC", "crv": "P-256", "x": 1, "y": []},
    ]
    for jwk in malformed:
        with pytest.raises(ProofRefused):
            checker.check(KEY.proof("POST", URL, header={"jwk": jwk}), method="POST", url=URL)
    small = rsa_key_of(1024).proof("POST", URL)
    with pytest.raises(ProofRefused, match="too small"):
        checker.check(small, method="POST", url=URL)
    large = rsa_key_of(4096)
    large.jwk = {**large.jwk, "key_ops": ["verify"], "alg": "RS256", "ext": True}
    assert checker.check(large.proof("POST", URL), method="POST", url=URL).jkt == large.jkt
    proof = KEY.proof("GET", URL, claims={"ath": "é"})
    with pytest.raises(ProofRefused, match="another access token"):
        checker.check(proof, method="GET", url=URL, access_token="t")
    with_nonces = ProofChecker(clock, MemoryGrantStore(clock=clock).use_once, nonces(clock))
    with pytest.raises(NonceRequired):
        with_nonces.check(KEY.proof("POST", URL, nonce="é"), method="POST", url=URL)


def test_a12_anchored_patterns_end_at_the_end_of_the_text() -> None:
    """`$` also matches before a final newline: `state=abc%0A` would have been echoed. Every
    anchored pattern of the code base ends with `\\Z` instead."""
    import importlib
    import re
    from pathlib import Path

    import oauth_core

    package = Path(oauth_core.__file__).parent
    checked = 0
    for path in package.rglob("*.py"):
        name = ".".join(("oauth_core", *path.relative_to(package).with_suffix("").parts))
        module = importlib.import_module(name.removesuffix(".__init__"))
        for value in vars(module).values():
            if isinstance(value, re.Pattern) and value.pattern.startswith("^"):
                checked += 1
                assert not value.pattern.endswith("$"), (name, value.pattern)
                assert value.match("a" * 50 + "\n") is None or "\n" in value.pattern, value
    assert checked >= 15
