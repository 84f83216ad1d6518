"""Recovery and verification by e-mail (SECURITY R1-R6): the links this server mails, what
following one does, and who gets one.

- A password reset goes only to an account's *verified* address (an unverified one could be
  someone else's), never to a disabled account. Its link is bound to the account and to the
  password it was issued under: any password change, the reset itself included, makes it
  useless. Choosing the new password is UserDirectory.set_password, which ends every session
  and grant of the old one.
- A new address is unverified until the link mailed to it is followed; a verification link is
  bound to the account and to that address, so changing the address again voids it.
- A self sign-up creates nothing until the link mailed to the given address is followed and
  the password chosen at sign-up is typed again: the pending account (username, address, the
  password's Argon2id hash) waits in the link. The link alone proves the address, not who
  signed up; the password proves that.

Every link is a random token (256 bits) mailed once and kept only as its SHA-256, used once by
a conditional delete, and expiring (15 minutes for a reset, a day for the others). Nothing here
logs a token, a link or an address.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import replace

from oauth_core import audit, constants
from oauth_core.admin.email_texts import (
    Letter,
    email_changed_letter,
    reset_letter,
    sign_up_exists_letter,
    sign_up_letter,
    sign_up_taken_letter,
    verify_letter,
)
from oauth_core.admin.users import InvalidUser, UserDirectory
from oauth_core.clock import Clock, Random
from oauth_core.emails import (
    RESET,
    SIGN_UP,
    VERIFY,
    EmailLink,
    normalized_email,
    verified_email,
)
from oauth_core.errors import StorageError
from oauth_core.models import USERNAME_PATTERN, User, canonical_username
from oauth_core.observability import count, logger
from oauth_core.ports import EmailLinkStore, Mailer, UserEmailIndex, UserStore
from oauth_core.rules.email_limits import EmailLimits
from oauth_core.rules.hashing import token_hash
from oauth_core.rules.passwords import verify_password

# A letter that carries a link: (issuer, username, link URL, expires_at) -> its words.
LinkLetter = Callable[[str, str, str, int], Letter]

LINK_TOKEN_BYTES = 32
# What a presented token may look like (oauth_core.clock.Random: URL-safe base64); anything
# else is no link, answered without a read.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,100}\Z")
# At most this many accounts that share one verified address get a reset link each.
MAX_ACCOUNTS_PER_ADDRESS = 3
# What complete_sign_up says of a password that is not the one chosen at sign-up.
WRONG_PASSWORD = "wrong-password"


def password_fingerprint(user: User) -> str:
    """What a reset link is bound to: the password hash it was issued under, fingerprinted."""
    return hashlib.sha256(f"reset:{user.password_hash}".encode()).hexdigest()[:32]


class AccountEmails:
    def __init__(
        self,
        users: UserStore,
        index: UserEmailIndex,
        directory: UserDirectory,
        links: EmailLinkStore,
        mailer: Mailer,
        limits: EmailLimits,
        clock: Clock,
        random: Random,
    ):
        self._users = users
        self._index = index
        self._directory = directory
        self._links = links
        self._mailer = mailer
        self._limits = limits
        self._clock = clock
        self._random = random

    # --- links ------------------------------------------------------------------------------

    def _mint(self, issuer: str, path: str, link: EmailLink) -> str:
        """Store the link under its token's hash; the URL that carries the token."""
        token = self._random.token(LINK_TOKEN_BYTES)
        self._links.put_email_link(replace(link, link_hash=token_hash(token)))
        return f"{issuer}{path}?token={token}"

    def _mail_link(self, issuer: str, path: str, link: EmailLink, letter: LinkLetter) -> bool:
        """Mint the link and mail it to its address (its letter names the account, carries the
        URL and says until when it works); audited when handed over; whether it was."""
        url = self._mint(issuer, path, link)
        words = letter(issuer, link.username, url, link.expires_at)
        if not self._send(link.email, words, link.purpose):
            return False
        audit.emit(
            audit.EMAIL_LINK_SENT,
            sub=link.sub or None,
            username=link.username,
            purpose=link.purpose,
        )
        return True

    def _account_of(self, link: EmailLink) -> User | None:
        """The enabled account a link was mailed for, if it is still that account (a user
        deleted and made again under the same name is not)."""
        user = self._users.get(link.username)
        if user is None or user.sub != link.sub or user.disabled:
            return None
        return user

    def _send(self, to: str, letter: Letter, purpose: str) -> bool:
        """Hand one message to the mailer. A failure is counted and logged (the purpose, never
        the address or the link) and reported as False: where the answer must not change with
        it, the caller ignores it."""
        try:
            self._mailer.send(to, letter.subject, letter.text, letter.html)
        except StorageError:
            count("EmailNotSent")
            logger.error("an e-mail could not be sent", extra={"purpose": purpose})
            return False
        count("EmailSent", purpose=purpose)
        return True

    def _peek(self, token: str, purpose: str) -> EmailLink | None:
        if not TOKEN_PATTERN.match(token):
            return None
        link = self._links.get_email_link(token_hash(token), self._clock.now())
        return link if link is not None and link.purpose == purpose else None

    def _take(self, token: str, purpose: str) -> EmailLink | None:
        if not TOKEN_PATTERN.match(token):
            return None
        return self._links.take_email_link(token_hash(token), purpose, self._clock.now())

    # --- "forgot password" --------------------------------------------------------------------

    def accounts_named(self, typed: str) -> list[User]:
        """The accounts a username or an address names: the same lookups for every input of
        the same form, whether or not they find anyone (SECURITY R1)."""
        found: dict[str, User] = {}
        username = canonical_username(typed.strip())
        if USERNAME_PATTERN.match(username):
            user = self._users.get(username)
            if user is not None:
                found[user.username] = user
        email = normalized_email(typed)
        if email is not None:
            for user in self._index.users_with_email(email)[:MAX_ACCOUNTS_PER_ADDRESS]:
                if verified_email(user.claims) == email:  # the index may lag a change
                    found.setdefault(user.username, user)
        return list(found.values())

    def request_reset(self, typed: str, issuer: str, source: str = "") -> int:
        """Mail a reset link to each account the username or address names that has a verified
        address and is enabled. How many were sent is for the tests: the page says the same
        whatever it is."""
        allowed = self._limits.may_mail(typed, source)  # for every input, known or not
        accounts = self.accounts_named(typed)
        if not allowed:
            count("EmailSuppressed", purpose=RESET)
            return 0
        sent = 0
        for user in accounts:
            address = verified_email(user.claims)
            if address is None or user.disabled:
                continue
            link = EmailLink(
                link_hash="",
                purpose=RESET,
                email=address,
                expires_at=self._clock.now() + constants.RESET_LINK_TTL,
                username=user.username,
                sub=user.sub,
                binding=password_fingerprint(user),
            )
            sent += self._mail_link(issuer, constants.RESET_PASSWORD_PATH, link, reset_letter)
        return sent

    def _reset_holds(self, link: EmailLink) -> User | None:
        """The account a reset link is for, while the link still holds: same account, same
        password, same verified address, enabled."""
        user = self._account_of(link)
        if user is None or password_fingerprint(user) != link.binding:
            return None  # the password changed since: the link is spent
        return user if verified_email(user.claims) == link.email else None

    def reset_link(self, token: str) -> User | None:
        """Whom a reset link would let choose a password now (nothing is used up)."""
        link = self._peek(token, RESET)
        return self._reset_holds(link) if link is not None else None

    def reset_password(self, token: str, password: str) -> User | None:
        """Use the link (once) and set the password, which ends every session and grant of the
        old one (SECURITY R4); None if the link is unknown, used, expired or no longer holds.
        The password must have passed the password rules already."""
        link = self._take(token, RESET)
        user = self._reset_holds(link) if link is not None else None
        if user is None:
            return None
        changed = self._directory.set_password(user.username, password)
        count("PasswordChanged", by="reset")
        audit.emit(audit.PASSWORD_CHANGED, sub=user.sub, username=user.username, by="reset")
        return changed

    # --- a new address confirmed ----------------------------------------------------------------

    def send_verification(self, user: User, issuer: str, source: str = "") -> bool:
        """Mail a verification link to the user's address, if it has one that is not verified
        yet and it was not asked for too often lately; whether one was sent."""
        address = normalized_email(user.claims.get("email"))
        if address is None or user.claims.get("email_verified") is True:
            return False
        if not self._limits.may_mail(address, source):
            count("EmailSuppressed", purpose=VERIFY)
            return False
        link = EmailLink(
            link_hash="",
            purpose=VERIFY,
            email=address,
            expires_at=self._clock.now() + constants.VERIFY_LINK_TTL,
            username=user.username,
            sub=user.sub,
        )
        return self._mail_link(issuer, constants.VERIFY_EMAIL_PATH, link, verify_letter)

    def _verify_holds(self, link: EmailLink) -> User | None:
        """The account a verification link confirms the address of, while the account still
        gives that address and no other account has it confirmed already: one address recovers
        one account (a reset by address must not reach someone who merely typed it)."""
        user = self._account_of(link)
        if user is None or normalized_email(user.claims.get("email")) != link.email:
            return None
        owners = self._index.users_with_email(link.email)
        return None if any(owner.sub != user.sub for owner in owners) else user

    def verification_link(self, token: str) -> tuple[User, str] | None:
        """The account and address a verification link would confirm (nothing used up)."""
        link = self._peek(token, VERIFY)
        user = self._verify_holds(link) if link is not None else None
        return (user, link.email) if user is not None and link is not None else None

    def verify(self, token: str) -> User | None:
        """Use the link (once): the address it was sent to is verified, if the account still
        gives it; the next tokens say `email_verified: true`."""
        link = self._take(token, VERIFY)
        user = self._verify_holds(link) if link is not None else None
        if user is None:
            return None
        # The address goes in the same write as the flag: an address changed by a request in
        # between is overwritten by the one the link proved, never marked verified itself.
        proven = {"email": user.claims["email"], "email_verified": True}
        verified = self._directory.update(user.username, proven)
        audit.emit(audit.EMAIL_VERIFIED, sub=user.sub, username=user.username)
        return verified

    def change_email(self, user: User, typed: str, issuer: str, source: str = "") -> str:
        """A user's new address (the caller checked who asks): unverified until the link mailed
        to it is followed; the old verified address is told. Says what happened: "sent" (a link
        went to the new address), "unsent" (changed, but no link could go now) or "same"."""
        address = normalized_email(typed)
        if address is None:
            raise InvalidUser("email", "is not an e-mail address")
        if address == normalized_email(user.claims.get("email")):
            return "same"
        old = verified_email(user.claims)
        changed = self._directory.update(user.username, {"email": address})
        audit.emit(audit.EMAIL_CHANGED, sub=user.sub, username=user.username, by="account")
        if old is not None:
            self._send(old, email_changed_letter(issuer, user.username), "notice")
        return "sent" if self.send_verification(changed, issuer, source) else "unsent"

    # --- self sign-up -------------------------------------------------------------------------

    def start_sign_up(
        self, username: str, address: str, password_hash: str, issuer: str, source: str = ""
    ) -> None:
        """Mail what the address should know: the link that creates the account, or that the
        username is taken, or that the address has an account already. The page says the same
        in every case (SECURITY R6): only the address's owner learns which."""
        allowed = self._limits.may_mail(address, source)
        taken = self._users.get(username) is not None
        owners = [u.username for u in self._index.users_with_email(address)][
            :MAX_ACCOUNTS_PER_ADDRESS
        ]
        if not allowed:
            count("EmailSuppressed", purpose=SIGN_UP)
            return
        if taken:
            self._send(address, sign_up_taken_letter(issuer, username), "notice")
            return
        if owners:
            self._send(address, sign_up_exists_letter(issuer, owners), "notice")
            return
        link = EmailLink(
            link_hash="",
            purpose=SIGN_UP,
            email=address,
            expires_at=self._clock.now() + constants.SIGN_UP_LINK_TTL,
            username=username,
            password_hash=password_hash,
        )
        self._mail_link(issuer, constants.SIGN_UP_CONFIRM_PATH, link, sign_up_letter)

    def sign_up_link(self, token: str) -> EmailLink | None:
        """The sign-up a link would finish (nothing used up)."""
        return self._peek(token, SIGN_UP)

    def complete_sign_up(self, token: str, password: str) -> User | str | None:
        """Create the account, its address verified, for whoever proves they chose it: the
        password typed at sign-up, checked against the hash the link keeps (Argon2id, in
        constant time). Without that check, whoever signed up with someone else's address and a
        password of their own would get an account in that person's name the moment its owner
        followed the link (SECURITY R6). None: no such link; WRONG_PASSWORD: not the password
        chosen at sign-up (nothing used up: the caller counts the failure); "taken": the
        username was taken after the link was sent. The link is used once, after the check."""
        link = self._peek(token, SIGN_UP)
        if link is None:
            return None
        if not verify_password(password, link.password_hash):
            return WRONG_PASSWORD
        link = self._take(token, SIGN_UP)
        if link is None:
            return None  # used by a request in between
        try:
            user = self._directory.create_signed_up(link.username, link.password_hash, link.email)
        except InvalidUser:
            return "taken"
        count("UserSignedUp")
        audit.emit(audit.USER_SIGNED_UP, sub=user.sub, username=user.username)
        return user
