"""E-mail addresses, and the links this server mails to them (a password reset, an address to
confirm, a sign-up to finish): what the storage adapters and the rules above them share.

A link carries a random token; only its SHA-256 is kept, in the grants table, until it expires
or is used once (SECURITY R2, R5).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

# What an address may look like here: a practical subset of RFC 5322's addr-spec (no quoted
# local parts, no IP-literal domains), at most 254 characters (RFC 5321 4.5.3.1).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+\Z")
MAX_EMAIL_LENGTH = 254

# The users table's attribute the `by-email` index keys on: a user's address, in lower case,
# only while it is verified (oauth_core.tables.USERS_BY_EMAIL).
EMAIL_KEY_ATTRIBUTE = "email_key"

# What a link is for.
RESET = "reset"  # choose a new password
VERIFY = "verify"  # confirm the address the account names
SIGN_UP = "signup"  # confirm the address a self sign-up gave, and create the account
PURPOSES = (RESET, VERIFY, SIGN_UP)


def normalized_email(text: Any) -> str | None:
    """The address in lower case if it looks like one, else None. (A local part may be case
    sensitive by the letter of RFC 5321; no mail provider treats it so, and one person typing
    `Ann@` and `ann@` must find one account.)"""
    if not isinstance(text, str):
        return None
    address = text.strip()
    if len(address) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(address):
        return None
    return address.lower()


def verified_email(claims: dict[str, Any]) -> str | None:
    """The address a user's claims name, normalized, if it is verified; else None."""
    if claims.get("email_verified") is not True:
        return None
    return normalized_email(claims.get("email"))


def identifier_key(typed: str) -> str:
    """What a bucket counting requests for one address or username is keyed on: a hash, so no
    address is kept in the clear in a counter."""
    return hashlib.sha256(typed.strip().lower().encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class EmailLink:
    """A link mailed to `email`, stored under the SHA-256 of its token until `expires_at`."""

    link_hash: str
    purpose: str  # RESET, VERIFY or SIGN_UP
    email: str  # the address it was sent to (normalized)
    expires_at: int
    username: str = ""
    sub: str = ""  # the account it is for (a sign-up has none yet)
    # A reset: a fingerprint of the password hash it was issued under, so any password change
    # makes it useless (oauth_core.admin.account_emails.password_fingerprint).
    binding: str = ""
    # A sign-up: the chosen password's Argon2id hash (never the password).
    password_hash: str = ""
