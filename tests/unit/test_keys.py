from __future__ import annotations

import jwt
import pytest

from oauth_core.keys import CURRENT, NEXT, RETIRED, KeySet, SigningKey, thumbprint


def test_thumbprint_matches_rfc7638_example() -> None:
    jwk = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
            "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Qvzq"
            "Y368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0"
            "fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_kid_is_the_thumbprint_of_the_public_key(session_keys: KeySet) -> None:
    for key in session_keys.keys:
        assert key.kid == thumbprint(key.public_jwk())


def test_initial_set_has_current_and_next_per_algorithm(session_keys: KeySet) -> None:
    states = sorted((k.alg, k.status) for k in session_keys.keys)
    assert states == [("ES256", CURRENT), ("ES256", NEXT), ("RS256", CURRENT), ("RS256", NEXT)]


def test_round_trip_through_json_keeps_keys_usable(session_keys: KeySet) -> None:
    restored = KeySet.from_json(session_keys.to_json())
    key = restored.current("ES256")
    token = jwt.encode({"a": 1}, key.private_key, algorithm="ES256")
    original_public = session_keys.current("ES256").private_key.public_key()
    assert jwt.decode(token, original_public, algorithms=["ES256"]) == {"a": 1}


def test_public_jwks_has_no_private_parts(session_keys: KeySet) -> None:
    for jwk in session_keys.public_jwks()["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & jwk.keys()
        assert jwk["use"] == "sig" and jwk["alg"] in ("ES256", "RS256")


def test_rotation_promotes_next_and_retires_current_then_drops_old_retired() -> None:
    es_current = SigningKey.generate("ES256", CURRENT, 0)
    es_next = SigningKey.generate("ES256", NEXT, 0)
    keys = KeySet((es_current, es_next))
    rotated = keys.rotate(now=1000, retain_retired_for=500)
    by_kid = {k.kid: k for k in rotated.keys}
    assert by_kid[es_next.kid].status == CURRENT
    assert by_kid[es_current.kid].status == RETIRED
    assert by_kid[es_current.kid].retired_at == 1000
    assert sum(1 for k in rotated.keys if k.status == NEXT) == 1
    # Still within retention: the retired key is kept (published) on the next rotation...
    again = rotated.rotate(now=1400, retain_retired_for=500)
    assert es_current.kid in {k.kid for k in again.keys}
    # ...and dropped once every token it signed must have expired.
    later = again.rotate(now=1600, retain_retired_for=500)
    assert es_current.kid not in {k.kid for k in later.keys}


def test_a_second_rotation_within_the_cache_lifetime_is_refused_unless_forced() -> None:
    from oauth_core.admin.key_rotation import RotationTooSoon, rotate_stored_keys
    from oauth_core.storage.memory import MemoryKeyStore

    store = MemoryKeyStore(
        KeySet((SigningKey.generate("ES256", CURRENT, 0), SigningKey.generate("ES256", NEXT, 0)))
    )
    rotate_stored_keys(store, now=1000, min_interval=300)
    with pytest.raises(RotationTooSoon):
        rotate_stored_keys(store, now=1200, min_interval=300)
    rotate_stored_keys(store, now=1200)  # forced: no minimum
    assert store.load().last_rotated_at == 1200


def test_a_stored_key_must_be_the_key_its_kid_names(session_keys: KeySet) -> None:
    es = session_keys.current("ES256").to_dict()
    rs = session_keys.current("RS256").to_dict()
    with pytest.raises(ValueError, match="not the ES256 key"):
        SigningKey.from_dict({**es, "kid": rs["kid"]})
    with pytest.raises(ValueError, match="not the ES256 key"):
        SigningKey.from_dict({**es, "public_jwk": rs["public_jwk"], "kid": rs["kid"]})
    assert SigningKey.from_dict(es).kid == es["kid"]
