"""Password hashing with Argon2id (cryptography's), at OWASP's recommended parameters."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

# OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1.
MEMORY_COST_KIB = 19456
ITERATIONS = 2
LANES = 1
MAX_PASSWORD_BYTES = 1024


def hash_password(password: str) -> str:
    """A PHC-format Argon2id hash with a fresh random salt."""
    kdf = Argon2id(
        salt=os.urandom(16),
        length=32,
        iterations=ITERATIONS,
        lanes=LANES,
        memory_cost=MEMORY_COST_KIB,
    )
    return kdf.derive_phc_encoded(password.encode("utf-8"))


def verify_password(password: str, encoded: str) -> bool:
    data = password.encode("utf-8")
    if len(data) > MAX_PASSWORD_BYTES:
        return False
    try:
        Argon2id.verify_phc_encoded(data, encoded)
    except (InvalidKey, ValueError):
        return False
    return True


# Verified against when the user does not exist, so that unknown user and wrong password cost
# the same time (SECURITY G6). Computed lazily: only the login function ever needs it.
_dummy_hash: str | None = None


def burn_equal_time(password: str) -> None:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password("not a real password")
    verify_password(password, _dummy_hash)
