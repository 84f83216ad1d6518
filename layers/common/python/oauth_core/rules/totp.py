"""TOTP, RFC 6238 (HOTP, RFC 4226, over 30-second time steps): six digits, SHA-1, as every
authenticator app takes them from an `otpauth://` URI. pyotp computes the codes and segno draws
the QR code; both are imported here, on first use, so a sign-in without a second factor loads
neither.

A code is taken from the time step before, the one now or the one after (RFC 6238 5.2: the
phone's clock may be off by a step either way) and only from a step later than the last one a
code was taken at, so no code works twice, nor an older one once a newer was used (the caller
records the step with a conditional write).
"""

from __future__ import annotations

import base64
import hmac
import re
from html import escape
from urllib.parse import quote, urlencode

from oauth_core.clock import Random

STEP_SECONDS = 30
DIGITS = 6
# Steps either side of now whose codes are taken.
ALLOWED_DRIFT = 1
SECRET_BYTES = 20  # 160 bits, the HMAC-SHA-1 key length RFC 4226 4 recommends
CODE_PATTERN = re.compile(r"^[0-9]{6}\Z")
_SECRET_PATTERN = re.compile(r"^[A-Z2-7]{16,64}\Z")


def new_secret(random: Random) -> str:
    """A fresh secret, base32 without padding (what authenticator apps take)."""
    raw = base64.urlsafe_b64decode(random.token(SECRET_BYTES) + "=" * 4)[:SECRET_BYTES]
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def is_secret(text: str) -> bool:
    return bool(_SECRET_PATTERN.match(text))


def normalized_code(typed: str) -> str | None:
    """Six digits as typed (spaces and a middle dash allowed), or None."""
    code = typed.replace(" ", "").replace("-", "")
    return code if CODE_PATTERN.match(code) else None


def time_step(now: int) -> int:
    return now // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    import pyotp

    return str(pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step))


def matching_step(secret: str, code: str, now: int, after_step: int = 0) -> int | None:
    """The time step whose code `code` is, within the allowed drift of `now` and later than
    `after_step`; None if there is none. Compared in constant time."""
    current = time_step(now)
    found = None
    for step in range(current - ALLOWED_DRIFT, current + ALLOWED_DRIFT + 1):
        if step <= after_step:
            continue
        if hmac.compare_digest(code_at(secret, step).encode(), code.encode()) and found is None:
            found = step
    return found


def provisioning_uri(secret: str, account: str, issuer_name: str) -> str:
    """The `otpauth://totp/` URI an authenticator app reads from the QR code (Google
    Authenticator's Key Uri Format, which every app follows)."""
    label = quote(f"{issuer_name}:{account}", safe="@:")
    parameters = urlencode(
        {"secret": secret, "issuer": issuer_name, "algorithm": "SHA1", "digits": DIGITS,
         "period": STEP_SECONDS},
        quote_via=quote,
    )  # fmt: skip
    return f"otpauth://totp/{label}?{parameters}"


def qr_svg(uri: str, title: str) -> str:
    """The URI as a QR code: an inline SVG element (no script, no image request), dark modules
    on a white square with its quiet zone, so it scans in a dark theme too."""
    import segno

    code = segno.make(uri, error="m")
    svg = str(
        code.svg_inline(
            scale=5, border=4, dark="#000", light="#fff", svgclass="qr", lineclass="qr-modules"
        )
    )
    # An image, named for screen readers (the key is also on the page, in text).
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1)
