"""Authorization requests carried by the browser, sealed, instead of stored (SECURITY A14, G5).

Between /authorize and a signed-in user, the request lives in the `request_id` the browser
carries: its fields encrypted and authenticated with AES-256-GCM under a key only this server
holds. An anonymous caller can make the server keep nothing, however many requests it sends;
the browser can read or change nothing (a changed handle does not open). Only after a sign-in
is anything written: the one-time mark of the request id, when the request completes.

Handle: base64url(version | key id (4) | nonce (12) | ciphertext and tag). The key is derived
(HKDF-SHA256) from a secret in the secret store; a handle sealed under the previous secret
still opens for the rest of its ten minutes after the secret is replaced. The fields are
length-prefixed UTF-8, not JSON, so quotes and backslashes in `state` cost no escaping and a
handle's length follows from what the request holds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import threading
from dataclasses import replace
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from oauth_core.clock import Clock
from oauth_core.models import PendingAuthorization

VERSION = b"\x02"
KEY_ID_BYTES = 4
NONCE_BYTES = 12
# The longest handle: with the rest of a /login URL and a browser's headers it stays within the
# 10 KB API Gateway takes for a request line and headers together.
MAX_HANDLE_LENGTH = 8192
_TAG_BYTES = 16
_SESSION_HASH_LENGTH = 64  # what a sign-in adds to a request (signed_in_session)
_AAD = b"oauth-authorization-request/1"
_INFO = b"oauth-authorization-request-sealing"

# The fields in the order they are sealed; each is a string, or absent.
_FIELDS = (
    "request_id",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "prompt",
    "max_age",
    "login_hint",
    "expires_at",
    "redirect_uri_required",
    "requested_at",
    "signed_in_session",
    "client_registration",
    "password_change",  # added later: a handle sealed before it ends one field early
    "resource",  # likewise (RFC 8707 audiences)
    "dpop_jkt",  # likewise (RFC 9449 10)
    "required_acr",  # likewise (the assurance the sign-in must reach)
    "second_factor",  # likewise (the second-factor step's mark)
)
# A password change's mark: a username (at most 128), a sub (a UUID) and a 16-character
# fingerprint of the temporary password's hash, space-separated.
PASSWORD_CHANGE_LENGTH = 128 + 1 + 36 + 1 + 16
# A second-factor step's mark: a kind, a sub, a username, a proof (a fingerprint or a session
# hash), a nonce and, while enrolling, the new TOTP secret (oauth_core.endpoints.second_factor).
SECOND_FACTOR_LENGTH = 8 + 64 + 1 + 128 + 1 + 64 + 1 + 43 + 1 + 64
_ABSENT = 0xFFFF
_LENGTH = struct.Struct(">H")


class SealingSecrets(Protocol):
    """The secret material handles are sealed with: the current secret, and the one before.

    `fresh` asks a caching store to re-read (it may decline if it read very recently)."""

    def current(self, *, fresh: bool = False) -> bytes: ...

    def previous(self, *, fresh: bool = False) -> bytes | None: ...


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, tuple):
        return " ".join(value)
    return str(value)


def _encode(pending: PendingAuthorization) -> bytes:
    parts = []
    for name in _FIELDS:
        text = _text(getattr(pending, name))
        if text is None:
            parts.append(_LENGTH.pack(_ABSENT))
        else:
            data = text.encode("utf-8")
            parts.append(_LENGTH.pack(len(data)) + data)
    return b"".join(parts)


def _decode(plaintext: bytes) -> PendingAuthorization:
    values: dict[str, str | None] = {}
    offset = 0
    for name in _FIELDS:
        if offset == len(plaintext):  # sealed by a version with fewer fields
            values[name] = None
            continue
        (length,) = _LENGTH.unpack_from(plaintext, offset)
        offset += _LENGTH.size
        if length == _ABSENT:
            values[name] = None
            continue
        values[name] = plaintext[offset : offset + length].decode("utf-8")
        offset += length

    def number(name: str) -> int | None:
        text = values[name]
        return int(text) if text is not None else None

    return PendingAuthorization(
        request_id=values["request_id"] or "",
        client_id=values["client_id"] or "",
        redirect_uri=values["redirect_uri"] or "",
        scope=values["scope"] or "",
        state=values["state"],
        nonce=values["nonce"],
        code_challenge=values["code_challenge"] or "",
        prompt=tuple((values["prompt"] or "").split()),
        max_age=number("max_age"),
        login_hint=values["login_hint"],
        expires_at=number("expires_at") or 0,
        redirect_uri_required=bool(values["redirect_uri_required"]),
        requested_at=number("requested_at") or 0,
        signed_in_session=values["signed_in_session"],
        client_registration=values["client_registration"] or "",
        password_change=values["password_change"],
        resource=values["resource"] or "",
        dpop_jkt=values["dpop_jkt"] or "",
        required_acr=values["required_acr"] or "",
        second_factor=values["second_factor"],
    )


def frame(version: bytes, key_id: bytes, nonce: bytes, sealed: bytes) -> str:
    """A sealed value as it travels: version, key id, nonce and AES-GCM output, base64url."""
    return base64.urlsafe_b64encode(version + key_id + nonce + sealed).rstrip(b"=").decode()


def unframe(
    value: str | None, version: bytes, max_length: int
) -> tuple[bytes, bytes, bytes] | None:
    """The key id, nonce and sealed bytes of a value `frame` made with `version`, or None:
    absent, too long, not base64url, or of another version."""
    if not value or len(value) > max_length:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, binascii.Error):
        return None
    header = len(version) + KEY_ID_BYTES + NONCE_BYTES
    if len(raw) <= header or raw[: len(version)] != version:
        return None
    start = len(version)
    return raw[start : start + KEY_ID_BYTES], raw[start + KEY_ID_BYTES : header], raw[header:]


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

    @staticmethod
    def fits(pending: PendingAuthorization) -> bool:
        """Whether the request, once signed in for, can be carried in a handle at all: the
        authorization endpoint refuses one that cannot, rather than send the browser to a
        sign-in that could never resume."""
        signed_in = replace(
            pending,
            signed_in_session="0" * _SESSION_HASH_LENGTH,
            password_change="0" * PASSWORD_CHANGE_LENGTH,
            second_factor="0" * SECOND_FACTOR_LENGTH,
        )
        sealed = len(VERSION) + KEY_ID_BYTES + NONCE_BYTES + len(_encode(signed_in)) + _TAG_BYTES
        return -(-sealed * 4 // 3) <= MAX_HANDLE_LENGTH

    def seal(self, pending: PendingAuthorization) -> str:
        key_id, cipher = self._key(self._secrets.current())
        nonce = os.urandom(NONCE_BYTES)
        return frame(VERSION, key_id, nonce, cipher.encrypt(nonce, _encode(pending), _AAD))

    def open(self, handle: str | None) -> PendingAuthorization | None:
        """The request a handle carries, or None: malformed, forged, changed, or expired."""
        parts = unframe(handle, VERSION, MAX_HANDLE_LENGTH)
        if parts is None:
            return None
        key_id, nonce, sealed = parts
        cipher = self._cipher_for(key_id)
        if cipher is None:
            return None
        try:
            pending = _decode(cipher.decrypt(nonce, sealed, _AAD))
        except (InvalidTag, ValueError, struct.error):
            return None
        return pending if pending.expires_at > self._clock.now() else None

    def _cipher_for(self, key_id: bytes) -> AESGCM | None:
        """The cipher of the secret a handle was sealed under: the current one, the previous
        one, or (once more, re-read: another container may have seen the secret replaced
        before this one) either of those as the secret store has them now."""
        for fresh in (False, True):
            current_id, current = self._key(self._secrets.current(fresh=fresh))
            if key_id == current_id:
                return current
            previous = self._secrets.previous(fresh=fresh)
            if previous is not None:
                previous_id, cipher = self._key(previous)
                if key_id == previous_id:
                    return cipher
        return None


class StaticSealingSecrets:
    """A fixed secret: the in-memory stand-in of the unit tests and the benchmark."""

    def __init__(self, secret: bytes | None = None):
        self._secret = secret or os.urandom(32)

    def current(self, *, fresh: bool = False) -> bytes:
        return self._secret

    def previous(self, *, fresh: bool = False) -> bytes | None:
        return None
