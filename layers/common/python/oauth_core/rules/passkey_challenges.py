"""WebAuthn challenges that store nothing until they are answered (SECURITY K2, A14).

A challenge is random, expires, and is bound to what asked for it: the ceremony (a sign-in, a
registration), the browser (its CSRF cookie) and the request or session it serves. Rather than
keep each challenge a page shows (an anonymous /login would then write), the challenge carries
its own proof: version | expiry | 16 random bytes | HMAC-SHA256 over them and the binding, the
MAC keyed from the request-sealing secret (HKDF, its own label). Checking it is recomputing the
MAC with the binding of the POST that answers it, so a challenge shown to one browser, for one
request, cannot be answered in another. It is spent once, by one conditional write of its hash,
after the signature that answers it verified (oauth_core.rules.passkeys).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import threading
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from oauth_core.clock import Clock, Random

if TYPE_CHECKING:
    from oauth_core.tokens.sealed_requests import SealingSecrets

VERSION = b"\x01"
NONCE_BYTES = 16
TAG_BYTES = 16
_EXPIRY = struct.Struct(">Q")
CHALLENGE_BYTES = len(VERSION) + _EXPIRY.size + NONCE_BYTES + TAG_BYTES
_INFO = b"oauth-passkey-challenge"

# The ceremonies a challenge may be for: one is never accepted for another.
SIGN_IN = "sign-in"
ACCOUNT_SIGN_IN = "account-sign-in"
REGISTER = "register"
SECOND_FACTOR = "second-factor"


class PasskeyChallenges:
    def __init__(self, secrets: SealingSecrets, clock: Clock, random: Random, ttl: int):
        self._secrets = secrets
        self._clock = clock
        self._random = random
        self._ttl = ttl
        self._keys: dict[bytes, bytes] = {}
        self._lock = threading.Lock()

    def _key(self, secret: bytes) -> bytes:
        with self._lock:
            key = self._keys.get(secret)
        if key is None:
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
            with self._lock:
                self._keys[secret] = key
        return key

    @staticmethod
    def _tag(key: bytes, body: bytes, purpose: str, binding: str) -> bytes:
        message = body + b"\0" + purpose.encode() + b"\0" + binding.encode()
        return hmac.new(key, message, hashlib.sha256).digest()[:TAG_BYTES]

    def issue(self, purpose: str, binding: str) -> bytes:
        """A fresh challenge for `purpose`, answerable only with the same `binding`."""
        nonce = _random_bytes(self._random, NONCE_BYTES)
        body = VERSION + _EXPIRY.pack(self._clock.now() + self._ttl) + nonce
        return body + self._tag(self._key(self._secrets.current()), body, purpose, binding)

    def check(self, challenge: bytes, purpose: str, binding: str) -> int | None:
        """When the challenge expires, if it is one of ours, for this purpose and binding and
        not yet expired; else None. (Whether it was answered before is the single-use record's
        to say.)"""
        if len(challenge) != CHALLENGE_BYTES or challenge[:1] != VERSION:
            return None
        body, tag = challenge[:-TAG_BYTES], challenge[-TAG_BYTES:]
        (expires_at,) = _EXPIRY.unpack_from(body, len(VERSION))
        if expires_at <= self._clock.now():
            return None
        secrets = [self._secrets.current(), self._secrets.previous()]
        for secret in filter(None, secrets):
            expected = self._tag(self._key(secret), body, purpose, binding)
            if hmac.compare_digest(expected, tag):
                return int(expires_at)
        return None


def single_use_key(challenge: bytes) -> str:
    """The single-use record of an answered challenge (GrantStore.use_once): its hash."""
    return "passkey#" + hashlib.sha256(challenge).hexdigest()


def _random_bytes(random: Random, count: int) -> bytes:
    text = random.token(count)
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))[:count]
