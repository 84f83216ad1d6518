"""Compact JWS signing (RFC 7515) over `cryptography`, for the tokens this server issues.

A token's header depends only on its key and type, so it is encoded once per key and type; a
token costs its claims' JSON, one signature and two base64 encodings. Every verification stays
PyJWT's (oauth_core.tokens.bearer, access_token.verify_own), and the tests verify what this
signs with PyJWT and joserfc both.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from oauth_core.keys import SigningKey

_ES256_COORDINATE_BYTES = 32
_SHA256 = hashes.SHA256()
_ECDSA_SHA256 = ec.ECDSA(_SHA256)
_PKCS1V15 = padding.PKCS1v15()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class JwsSigner:
    """Signs claims with one key, under one `typ`."""

    def __init__(self, key: SigningKey, token_type: str):
        header = {"alg": key.alg, "kid": key.kid, "typ": token_type}
        self._prefix = b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
        self._key = key.private_key
        self._es256 = key.alg == "ES256"

    def sign(self, claims: dict[str, Any]) -> str:
        payload = b64url(json.dumps(claims, separators=(",", ":"), allow_nan=False).encode())
        signing_input = (self._prefix + payload).encode("ascii")
        if self._es256:
            assert isinstance(self._key, ec.EllipticCurvePrivateKey)
            r, s = decode_dss_signature(self._key.sign(signing_input, _ECDSA_SHA256))
            signature = r.to_bytes(_ES256_COORDINATE_BYTES, "big") + s.to_bytes(
                _ES256_COORDINATE_BYTES, "big"
            )
        else:
            assert isinstance(self._key, rsa.RSAPrivateKey)
            signature = self._key.sign(signing_input, _PKCS1V15, _SHA256)
        return f"{self._prefix}{payload}.{b64url(signature)}"


class Signers:
    """One signer per key and type, made when first needed: a rotated key set brings new
    keys, whose signers are made then."""

    def __init__(self) -> None:
        self._signers: dict[tuple[str, str, str, str], JwsSigner] = {}
        self._lock = threading.Lock()

    def sign(self, claims: dict[str, Any], key: SigningKey, token_type: str) -> str:
        # Keyed by the private key itself, not its `kid` alone: a key set that named another key
        # with a known `kid` must not be signed for by the old one. (Strings cache their hash,
        # and a hit compares them by identity first: the lookup stays cheap.)
        cache_key = (key.kid, key.alg, key.private_pem, token_type)
        signer = self._signers.get(cache_key)
        if signer is None:
            signer = JwsSigner(key, token_type)
            with self._lock:
                self._signers[cache_key] = signer
        return signer.sign(claims)
