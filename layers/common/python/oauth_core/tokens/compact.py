"""JWS compact serialization (RFC 7515 section 7.1), read before anything is verified.

Only to choose a key: PyJWT parses the whole token again, strictly, when it verifies. Imports
neither PyJWT nor any signing code, so both the issuer's and the resource server's side use it.
"""

from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache
from typing import Any

# A header names an algorithm, a key and a type: a kilobyte is far more than any of ours needs;
# a DPoP proof's carries its public key (RSA-4096 with a library's extra members: ~1.1 KB).
_MAX_HEADER_SEGMENT = 2048


def unverified_header(token: str) -> dict[str, Any] | None:
    """The JOSE header of a three-part compact JWS, or None if it is not one. The dict is shared
    between tokens with the same header: read it, never change it."""
    segment = token.split(".", 1)[0]
    if token.count(".") != 2 or not segment or len(segment) > _MAX_HEADER_SEGMENT:
        return None
    return _header_of(segment)


# One issuer signs with a handful of headers (one per key and token type), so decoding each
# once is enough; the bound keeps headers made up by a caller from growing it.
@lru_cache(maxsize=64)
def _header_of(segment: str) -> dict[str, Any] | None:
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):
        return None
    return header if isinstance(header, dict) else None
