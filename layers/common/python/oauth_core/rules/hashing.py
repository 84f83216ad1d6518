"""Token-like values are stored only as their SHA-256."""

from __future__ import annotations

import hashlib


def token_hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
