"""Rotating the stored signing-key set: what `oauthctl keys rotate` runs (the scheduled rotation
function runs KeySet.rotate through Secrets Manager's own protocol)."""

from __future__ import annotations

from oauth_core.keys import KeySet
from oauth_core.ports import KeyStore


class RotationTooSoon(Exception):
    """A second rotation inside the key cache's lifetime: refused unless forced."""


def rotate_stored_keys(store: KeyStore, now: int, min_interval: int = 0) -> KeySet:
    """Rotate the stored key set: what `oauthctl keys rotate` and the rotation function run.

    Two rotations within the functions' key-cache lifetime would let a container sign with a
    key that another container's JWKS does not publish yet (it was never the *next* key there):
    `min_interval` refuses that.
    """
    current = store.load()
    waited = now - current.last_rotated_at
    if waited < min_interval:
        raise RotationTooSoon(
            f"the keys were rotated {waited} s ago; rotating again within {min_interval} s "
            "could publish a signing key some containers do not serve yet"
        )
    rotated = current.rotate(now)
    store.save(rotated)
    return rotated
