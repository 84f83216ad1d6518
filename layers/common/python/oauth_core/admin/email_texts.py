"""The e-mails this server sends: each as plain text with a simple HTML copy of the same words.

No images, no tracking, no link but the one the message is for (and, where it helps, a page of
this server named in full). Each says who it is for, where it comes from (the issuer's host),
how long its link works, in words, and what to do if it was not expected.
"""

from __future__ import annotations

import re
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


@dataclass(frozen=True)
class _Name:
    """A name someone chose, a username: anyone signing up picks it, and it is mailed to an
    address that may not be theirs. The HTML part sets it apart in <code>, its dots and @ each
    in an element of their own, so that mail programs that turn text like "pay.example" into a
    link find no such run of text (the plain-text part can only show it as it is)."""

    value: str


# A paragraph: words, or words and names.
Paragraph = str | tuple[str | _Name, ...]


def _plain(paragraph: Paragraph) -> str:
    if isinstance(paragraph, str):
        return paragraph
    return "".join(part.value if isinstance(part, _Name) else part for part in paragraph)


def _name_html(name: str) -> str:
    return "<code>" + re.sub(r"([.@])", r"<span>\1</span>", escape(name)) + "</code>"


def _html(paragraph: Paragraph) -> str:
    if isinstance(paragraph, str):
        return escape(paragraph)
    return "".join(
        _name_html(part.value) if isinstance(part, _Name) else escape(part) for part in paragraph
    )


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


def _letter(
    subject: str, paragraphs: list[Paragraph], link: str | None = None, after: int = 1
) -> Letter:
    """`paragraphs` in plain words; the link, if any, on a line of its own after the first
    `after` of them."""
    text_parts = [_plain(p) for p in paragraphs]
    html_parts = [f"<p>{_html(p)}</p>" for p in paragraphs]
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
            (
                "Someone asked to reset the password of your account ",
                _Name(username),
                f" at {_host(issuer)}. To choose a new password, open this link:",
            ),
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
            (
                "The account ",
                _Name(username),
                f" at {_host(issuer)} now gives this e-mail address. To confirm that it is "
                "yours, open this link:",
            ),
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
            (
                "Someone, we hope you, asked to create the account ",
                _Name(username),
                f" at {_host(issuer)} with this e-mail address. To finish, open this link and "
                "type the password chosen at sign-up:",
            ),
            f"{_works(constants.SIGN_UP_LINK_TTL, expires_at)} Only the person who signed up "
            "can finish it, with the password they chose; then they sign in with it.",
            "If this was not you, ignore this e-mail: no account is made.",
        ],
        link,
    )


def sign_up_taken_letter(issuer: str, username: str) -> Letter:
    return _letter(
        "Your sign-up could not be finished",
        [
            (
                "Someone, we hope you, asked to create an account named ",
                _Name(username),
                f" at {_host(issuer)} with this e-mail address, but that username is taken.",
            ),
            f"To choose another, sign up again at {issuer}{constants.SIGN_UP_PATH}. If the "
            "account is yours and you forgot its password, ask for a new one at "
            f"{issuer}{constants.FORGOT_PASSWORD_PATH}.",
            "If it was not you, ignore this message: nothing was created or changed.",
        ],
    )


def sign_up_exists_letter(issuer: str, usernames: list[str]) -> Letter:
    named: list[str | _Name] = []
    for position, username in enumerate(usernames):
        named += [", "] if position else []
        named.append(_Name(username))
    return _letter(
        "You already have an account",
        [
            (
                f"Someone, we hope you, asked to create an account at {_host(issuer)} with "
                "this e-mail address, which already belongs to your account ",
                *named,
                ".",
            ),
            "Sign in with it instead. If you forgot its password, ask for a new one at "
            f"{issuer}{constants.FORGOT_PASSWORD_PATH}.",
            "If it was not you, ignore this message: nothing was created or changed.",
        ],
    )


def email_changed_letter(issuer: str, username: str) -> Letter:
    return _letter(
        "Your e-mail address was changed",
        [
            (
                "The e-mail address of your account ",
                _Name(username),
                f" at {_host(issuer)} was just changed, so this address no longer receives "
                "messages about it.",
            ),
            "If you did not change it, sign in at once, change your password and set your "
            f"address again at {issuer}/account, or tell the service's support team.",
        ],
    )
