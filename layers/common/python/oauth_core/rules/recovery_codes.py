"""Recovery codes: ten single-use codes a user keeps for when their authenticator is lost.

Each is 80 random bits, shown as four groups of four base32 letters and digits
(`k7mq-2xhd-p4ta-5wne`: RFC 4648's alphabet has no 0, 1, 8 or 9) and typed back in any case,
with or without the dashes; a 0 or a 1 typed for an o or an l is read as meant.

Only a hash is stored: SHA-256 over the user's `sub` and the code. A fast hash is enough for
values of 80 random bits (like every token this server stores): no one holding a copy of the
table can search 2^80 codes, where a password needs Argon2id because people choose guessable
ones. The `sub` in the hash keeps one user's hash from matching another's code.
"""

from __future__ import annotations

import base64
import hashlib
import re

from oauth_core.clock import Random

COUNT = 10
CODE_BYTES = 10  # 80 bits
_GROUP = 4
_CODE_PATTERN = re.compile(r"^[a-z2-7]{16}\Z")


def new_codes(random: Random) -> list[str]:
    """Ten fresh codes, as the user sees them."""
    codes = []
    for _ in range(COUNT):
        raw = base64.urlsafe_b64decode(random.token(CODE_BYTES) + "=" * 4)[:CODE_BYTES]
        letters = base64.b32encode(raw).decode("ascii").lower()
        codes.append("-".join(letters[i : i + _GROUP] for i in range(0, len(letters), _GROUP)))
    return codes


def normalized(typed: str) -> str | None:
    """The code as typed, without dashes and spaces, in lower case; None if it cannot be one."""
    code = typed.replace("-", "").replace(" ", "").lower().replace("0", "o").replace("1", "l")
    return code if _CODE_PATTERN.match(code) else None


def code_hash(sub: str, code: str) -> str:
    """What is stored of a code (`code` as `normalized` gives it, or as `new_codes` shows it)."""
    plain = code.replace("-", "")
    return hashlib.sha256(f"recovery-code:{sub}:{plain}".encode()).hexdigest()
