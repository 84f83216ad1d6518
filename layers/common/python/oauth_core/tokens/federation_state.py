"""A sign-in at an upstream provider in flight, carried by the browser that started it, sealed
(SECURITY U1; docs/federation.md).

Starting one sets a cookie holding, encrypted and authenticated (AES-256-GCM, a key derived with
HKDF-SHA256 from the request-sealing secret, for this purpose only): the provider, the `state`,
`nonce` and PKCE verifier sent to it, when it expires, and what it is for: the authorization
request waiting for it (its sealed handle) or the signed-in user linking an identity from the
account page. The provider's answer is taken only with that cookie and only if its `state` is
the one sealed in it: an answer carried to another browser, or made for another sign-in, opens
nothing. Nothing is stored for it server-side; the answer is spent once (a single-use record of
the state, written when its ID token has been verified).

Sealed: base64url(version | key id (4) | nonce (12) | ciphertext and tag); the plaintext is
length-prefixed UTF-8 fields, and the request handle's bytes (not its base64 text), so the
cookie stays within what browsers keep of one (about 4 KB).
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from oauth_core.clock import Clock
from oauth_core.tokens.sealed_requests import (
    KEY_ID_BYTES,
    NONCE_BYTES,
    SealingSecrets,
    frame,
    unframe,
)

VERSION = b"\x01"
# What a browser keeps of one cookie, name and attributes included, is about 4096 bytes.
MAX_SEALED_LENGTH = 3800
_AAD = b"oauth-federated-sign-in/1"
_INFO = b"oauth-federated-sign-in-sealing"
_LENGTH = struct.Struct(">H")
SIGN_IN = "signin"
LINK = "link"


@dataclass(frozen=True)
class FederatedAttempt:
    purpose: str  # SIGN_IN (an authorization request waits) or LINK (from the account page)
    provider: str
    state: str
    nonce: str
    verifier: str  # the PKCE code verifier
    expires_at: int
    request_handle: str = ""  # SIGN_IN: the sealed authorization request to resume
    account_sub: str = ""  # LINK: the user who asked to link, whose session must still be live


def _encode(attempt: FederatedAttempt) -> bytes:
    handle = attempt.request_handle
    raw_handle = base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4)) if handle else b""
    fields = [
        attempt.purpose.encode(),
        attempt.provider.encode(),
        attempt.state.encode(),
        attempt.nonce.encode(),
        attempt.verifier.encode(),
        str(attempt.expires_at).encode(),
        attempt.account_sub.encode(),
        raw_handle,
    ]
    return b"".join(_LENGTH.pack(len(field)) + field for field in fields)


def _decode(plaintext: bytes) -> FederatedAttempt:
    fields = []
    offset = 0
    while offset < len(plaintext):
        (length,) = _LENGTH.unpack_from(plaintext, offset)
        offset += _LENGTH.size
        fields.append(plaintext[offset : offset + length])
        offset += length
    if len(fields) != 8:
        raise ValueError("not a federated sign-in")
    purpose, provider, state, nonce, verifier, expires_at, account_sub, raw_handle = fields
    handle = base64.urlsafe_b64encode(raw_handle).rstrip(b"=").decode() if raw_handle else ""
    return FederatedAttempt(
        purpose=purpose.decode(),
        provider=provider.decode(),
        state=state.decode(),
        nonce=nonce.decode(),
        verifier=verifier.decode(),
        expires_at=int(expires_at),
        request_handle=handle,
        account_sub=account_sub.decode(),
    )


class AttemptSealer:
    def __init__(self, secrets: SealingSecrets, clock: Clock):
        self._secrets = secrets
        self._clock = clock
        self._keys: dict[bytes, tuple[bytes, AESGCM]] = {}

    def _key(self, secret: bytes) -> tuple[bytes, AESGCM]:
        known = self._keys.get(secret)
        if known is None:
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
            known = (hashlib.sha256(key).digest()[:KEY_ID_BYTES], AESGCM(key))
            self._keys[secret] = known
        return known

    def seal(self, attempt: FederatedAttempt) -> str | None:
        """The cookie value, or None if it would not fit in a cookie (a request with very long
        parameters cannot continue at a provider: the page says so)."""
        key_id, cipher = self._key(self._secrets.current())
        nonce = os.urandom(NONCE_BYTES)
        value = frame(VERSION, key_id, nonce, cipher.encrypt(nonce, _encode(attempt), _AAD))
        return value if len(value) <= MAX_SEALED_LENGTH else None

    def open(self, value: str | None) -> FederatedAttempt | None:
        """The attempt a cookie carries, or None: absent, malformed, forged, changed or
        expired."""
        parts = unframe(value, VERSION, MAX_SEALED_LENGTH)
        if parts is None:
            return None
        key_id, nonce, sealed = parts
        for secret in (self._secrets.current(), self._secrets.previous()):
            if secret is None:
                continue
            known_id, cipher = self._key(secret)
            if known_id != key_id:
                continue
            try:
                attempt = _decode(cipher.decrypt(nonce, sealed, _AAD))
            except (InvalidTag, ValueError, struct.error, UnicodeDecodeError):
                return None
            return attempt if attempt.expires_at > self._clock.now() else None
        return None
