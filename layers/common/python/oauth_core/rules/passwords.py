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
# the same Argon2id work (SECURITY G6). A constant, made with the parameters above from a
# password nobody kept: computing it lazily would make the first unknown user in each container
# twice as slow as a wrong password. A unit test holds it to the current parameters.
UNKNOWN_USER_HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$xJEVPEfDbA6B7FmqIZ5l3A"
    "$kuS6lfI0sFZF2AZQYB0exDjrgojPL25KSWfdgbX5iiQ"
)


def burn_equal_time(password: str) -> None:
    verify_password(password, UNKNOWN_USER_HASH)
