"""Authorization requests carried by the browser, sealed, instead of stored (SECURITY A14, G5).

Between /authorize and a signed-in user, the request lives in the `request_id` the browser
carries: its fields encrypted and authenticated with AES-256-GCM under a key only this server
holds. An anonymous caller can make the server keep nothing, however many requests it sends;
the browser can read or change nothing (a changed handle does not open). Only after a sign-in
is anything written: the one-time mark of the request id, when the request completes.

Handle: base64url(version | key id (4) | nonce (12) | ciphertext and tag). The key is derived
(HKDF-SHA256) from a secret in the secret store; a handle sealed under the previous secret
still opens for the rest of its ten minutes after the secret is replaced.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from oauth_core.clock import Clock
from oauth_core.models import PendingAuthorization

VERSION = b"\x01"
KEY_ID_BYTES = 4
NONCE_BYTES = 12
# What the sealed fields may add up to (the endpoint caps each), and so what a handle may be.
MAX_HANDLE_LENGTH = 8192
_AAD = b"oauth-authorization-request/1"
_INFO = b"oauth-authorization-request-sealing"

# Short names keep handles, which travel in URLs, short.
_FIELDS = {
    "request_id": "i",
    "client_id": "c",
    "redirect_uri": "r",
    "scope": "s",
    "state": "st",
    "nonce": "n",
    "code_challenge": "cc",
    "prompt": "p",
    "max_age": "m",
    "login_hint": "h",
    "expires_at": "x",
    "redirect_uri_required": "rr",
    "requested_at": "t",
    "signed_in_session": "si",
    "client_registration": "cr",
}


class SealingSecrets(Protocol):
    """The secret material handles are sealed with: the current secret, and the one before."""

    def current(self) -> bytes: ...

    def previous(self) -> bytes | None: ...


def _encode(pending: PendingAuthorization) -> bytes:
    data: dict[str, Any] = {}
    for name, short in _FIELDS.items():
        value = getattr(pending, name)
        if value is not None:
            data[short] = list(value) if isinstance(value, tuple) else value
    return json.dumps(data, separators=(",", ":")).encode("utf-8")


def _decode(plaintext: bytes) -> PendingAuthorization:
    data = json.loads(plaintext)
    values = {name: data.get(short) for name, short in _FIELDS.items()}
    values["prompt"] = tuple(values["prompt"] or ())
    return PendingAuthorization(**values)


class RequestSealer:
    def __init__(self, secrets: SealingSecrets, clock: Clock):
        self._secrets = secrets
        self._clock = clock
        self._keys: dict[bytes, tuple[bytes, AESGCM]] = {}  # secret -> (key id, cipher)
        self._lock = threading.Lock()

    def _key(self, secret: bytes) -> tuple[bytes, AESGCM]:
        with self._lock:
            known = self._keys.get(secret)
        if known is None:
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
            known = (hashlib.sha256(key).digest()[:KEY_ID_BYTES], AESGCM(key))
            with self._lock:
                self._keys[secret] = known
        return known

    def seal(self, pending: PendingAuthorization) -> str:
        key_id, cipher = self._key(self._secrets.current())
        nonce = os.urandom(NONCE_BYTES)
        sealed = cipher.encrypt(nonce, _encode(pending), _AAD)
        return base64.urlsafe_b64encode(VERSION + key_id + nonce + sealed).rstrip(b"=").decode()

    def open(self, handle: str | None) -> PendingAuthorization | None:
        """The request a handle carries, or None: malformed, forged, changed, or expired."""
        if not handle or len(handle) > MAX_HANDLE_LENGTH:
            return None
        try:
            raw = base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4))
        except (ValueError, binascii.Error):
            return None
        header = len(VERSION) + KEY_ID_BYTES + NONCE_BYTES
        if len(raw) <= header or raw[:1] != VERSION:
            return None
        key_id, nonce = raw[1 : 1 + KEY_ID_BYTES], raw[1 + KEY_ID_BYTES : header]
        cipher = self._cipher_for(key_id)
        if cipher is None:
            return None
        try:
            pending = _decode(cipher.decrypt(nonce, raw[header:], _AAD))
        except (InvalidTag, ValueError, TypeError):
            return None
        return pending if pending.expires_at > self._clock.now() else None

    def _cipher_for(self, key_id: bytes) -> AESGCM | None:
        current_id, current = self._key(self._secrets.current())
        if key_id == current_id:
            return current
        # Read only when a handle needs it: sealed before the secret was replaced.
        previous = self._secrets.previous()
        if previous is None:
            return None
        previous_id, cipher = self._key(previous)
        return cipher if key_id == previous_id else None


class StaticSealingSecrets:
    """A fixed secret: the in-memory stand-in of the unit tests and the benchmark."""

    def __init__(self, secret: bytes | None = None):
        self._secret = secret or os.urandom(32)

    def current(self) -> bytes:
        return self._secret

    def previous(self) -> bytes | None:
        return None
