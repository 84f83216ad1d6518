"""Argon2id password hashes (OWASP parameters) and the stand-in hash for unknown users."""

from __future__ import annotations

from oauth_core.rules import passwords


def test_hashes_verify_and_salts_differ() -> None:
    first, second = (
        passwords.hash_password("correct horse"),
        passwords.hash_password("correct horse"),
    )
    assert first != second
    assert passwords.verify_password("correct horse", first)
    assert not passwords.verify_password("wrong horse", first)


def test_oversized_and_malformed_inputs_are_refused_not_raised() -> None:
    encoded = passwords.hash_password("x")
    assert not passwords.verify_password("x" * (passwords.MAX_PASSWORD_BYTES + 1), encoded)
    assert not passwords.verify_password("x", "$argon2id$not-a-hash")


def test_g6_unknown_user_hash_has_the_parameters_real_hashes_have() -> None:
    # Same parameters, same work: if the parameters change, regenerate the constant.
    def parameters(encoded: str) -> str:
        return encoded.split("$")[3]

    assert parameters(passwords.UNKNOWN_USER_HASH) == parameters(passwords.hash_password("x"))
    assert passwords.UNKNOWN_USER_HASH.startswith("$argon2id$v=19$")
