"""A software WebAuthn authenticator, for tests only: it makes the JSON a browser's
navigator.credentials.create() and .get() give a page (WebAuthn L3 5.1, RegistrationResponseJSON
and AuthenticationResponseJSON), signing with an EC P-256 key, and can be told to lie (another
origin or RP ID, no user verification, a counter that goes backwards)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftPasskey:
    """One credential: its key, id, user handle and counter."""

    rp_id: str
    user_handle: str = ""
    counts: bool = True  # False: says 0 every time (as synced passkeys do)
    synced: bool = False  # backup eligible and backed up
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: os.urandom(16))
    sign_count: int = 0

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def _flags(self, verified: bool) -> int:
        flags = UP | (UV if verified else 0)
        return flags | (BE | BS if self.synced else 0)

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        x, y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: x, -3: y})

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str,
        rp_id: str | None = None,
        verified: bool = True,
        ceremony: str = "webauthn.create",
    ) -> str:
        """The response to creation options (attestation "none")."""
        self.user_handle = options["user"]["id"]
        client_data = _client_data(ceremony, options["challenge"], origin)
        credential = struct.pack(">H", len(self.credential_id)) + self.credential_id
        attested = b"\0" * 16 + credential + self._cose_key()
        auth_data = (
            hashlib.sha256((rp_id or self.rp_id).encode()).digest()
            + bytes([self._flags(verified) | AT])
            + struct.pack(">I", self.sign_count)
            + attested
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps(
            {
                "id": self.id,
                "rawId": self.id,
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "attestationObject": b64url(attestation),
                    "transports": ["internal", "hybrid"],
                },
                "clientExtensionResults": {},
                "authenticatorAttachment": "platform",
            }
        )

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str,
        rp_id: str | None = None,
        verified: bool = True,
        sign_count: int | None = None,
        user_handle: str | None = None,
        ceremony: str = "webauthn.get",
    ) -> str:
        """The response to request options; the counter moves by one unless told otherwise."""
        if sign_count is not None:
            self.sign_count = sign_count
        elif self.counts:
            self.sign_count += 1
        client_data = _client_data(ceremony, options["challenge"], origin)
        auth_data = (
            hashlib.sha256((rp_id or self.rp_id).encode()).digest()
            + bytes([self._flags(verified)])
            + struct.pack(">I", self.sign_count)
        )
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return json.dumps(
            {
                "id": self.id,
                "rawId": self.id,
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature),
                    "userHandle": self.user_handle if user_handle is None else user_handle,
                },
                "clientExtensionResults": {},
                "authenticatorAttachment": "platform",
            }
        )


def _client_data(ceremony: str, challenge: str, origin: str) -> bytes:
    return json.dumps(
        {"type": ceremony, "challenge": challenge, "origin": origin, "crossOrigin": False},
        separators=(",", ":"),
    ).encode()
