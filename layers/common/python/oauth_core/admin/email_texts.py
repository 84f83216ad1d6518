"""The e-mails this server sends: each as plain text with a simple HTML copy of the same words.

No images, no tracking, no link but the one the message is for (and, where it helps, a page of
this server named in full). Each says who it is for, where it comes from (the issuer's host),
how long its link works, in words, and what to do if it was not expected.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from oauth_core import constants


@dataclass(frozen=True)
class Letter:
    subject: str
    text: str
    html: str


def _host(issuer: str) -> str:
    return urlsplit(issuer).netloc or issuer


def _lifetime(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "24 hours" if hours == 24 else f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = seconds // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _until(expires_at: int) -> str:
    return time.strftime("%H:%M UTC on %-d %B %Y", time.gmtime(expires_at))


def _letter(subject: str, paragraphs: list[str], link: str | None = None, after: int = 1) -> Letter:
    """`paragraphs` in plain words; the link, if any, on a line of its own after the first
    `after` of them."""
    text_parts = list(paragraphs)
    html_parts = [f"<p>{escape(p)}</p>" for p in paragraphs]
    if link:
        text_parts.insert(after, link)
        html_parts.insert(
            after, f'<p><a href="{escape(link)}">{escape(link)}</a></p>'
        )  # the address in full: what the reader sees is where it goes
    text = "\n\n".join(text_parts) + "\n"
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head>"
        '<body style="font-family:system-ui,sans-serif;line-height:1.5;max-width:36rem">'
        f"{''.join(html_parts)}</body></html>"
    )
    return Letter(subject, text, html)


def _works(ttl: int, expires_at: int) -> str:
    return f"The link works once, within {_lifetime(ttl)} (until {_until(expires_at)})."


def reset_letter(issuer: str, username: str, link: str, expires_at: int) -> Letter:
    return _letter(
        "Reset your password",
        [
            f"Someone asked to reset the password of your account {username} at "
            f"{_host(issuer)}. To choose a new password, open this link:",
            f"{_works(constants.RESET_LINK_TTL, expires_at)} A new password signs you out "
            "everywhere, and apps will ask you to sign in again.",
            "If you did not ask for this, ignore this message: your password stays as it is.",
        ],
        link,
    )


def verify_letter(issuer: str, username: str, link: str, expires_at: int) -> Letter:
    return _letter(
        "Confirm your e-mail address",
        [
            f"The account {username} at {_host(issuer)} now gives this e-mail address. To "
            "confirm that it is yours, open this link:",
            f"{_works(constants.VERIFY_LINK_TTL, expires_at)} Until then the address is not "
            "used to recover the account.",
            "If you did not expect this, ignore this message: the address stays unconfirmed.",
        ],
        link,
    )


def sign_up_letter(issuer: str, username: str, link: str, expires_at: int) -> Letter:
    return _letter(
        "Finish creating your account",
        [
            f"Someone, we hope you, asked to create the account {username} at "
            f"{_host(issuer)} with this e-mail address. To create it, open this link:",
            f"{_works(constants.SIGN_UP_LINK_TTL, expires_at)} Then sign in with the password "
            "you chose.",
            "If it was not you, ignore this message: no account is created.",
        ],
        link,
    )


def sign_up_taken_letter(issuer: str, username: str) -> Letter:
    return _letter(
        "Your sign-up could not be finished",
        [
            f"Someone, we hope you, asked to create an account named {username} at "
            f"{_host(issuer)} with this e-mail address, but that username is taken.",
            f"To choose another, sign up again at {issuer}{constants.SIGN_UP_PATH}. If the "
            "account is yours and you forgot its password, ask for a new one at "
            f"{issuer}{constants.FORGOT_PASSWORD_PATH}.",
            "If it was not you, ignore this message: nothing was created or changed.",
        ],
    )


def sign_up_exists_letter(issuer: str, usernames: list[str]) -> Letter:
    named = ", ".join(usernames)
    return _letter(
        "You already have an account",
        [
            f"Someone, we hope you, asked to create an account at {_host(issuer)} with this "
            f"e-mail address, which already belongs to your account {named}.",
            "Sign in with it instead. If you forgot its password, ask for a new one at "
            f"{issuer}{constants.FORGOT_PASSWORD_PATH}.",
            "If it was not you, ignore this message: nothing was created or changed.",
        ],
    )


def email_changed_letter(issuer: str, username: str) -> Letter:
    return _letter(
        "Your e-mail address was changed",
        [
            f"The e-mail address of your account {username} at {_host(issuer)} was just "
            "changed, so this address no longer receives messages about it.",
            "If you did not change it, sign in at once, change your password and set your "
            f"address again at {issuer}/account, or tell the service's support team.",
        ],
    )
