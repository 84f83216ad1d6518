"""Signing in with a password, shared by the sign-in page (an authorization request waiting) and
the account page (none): the checks of SECURITY G2, G6 and G7 and a temporary password's
replacement, written once.

A sign-in takes its place in the failure buckets before the password is checked (parallel
guesses each count) and gives it back when right; an unknown user costs the same Argon2id work
as a wrong password; every sign-in gets a fresh session id, ending the browser's old session.
A right password that is temporary opens nothing but the page that replaces it: the request is
sealed again with a mark naming the user and the temporary password's fingerprint, spent once
the password changes.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from oauth_core import audit
from oauth_core.admin.users import InvalidUser, UserDirectory, check_password
from oauth_core.clock import Clock, Random
from oauth_core.config import Settings
from oauth_core.constants import ACR_PASSWORD, OPAQUE_TOKEN_BYTES
from oauth_core.endpoints.flow import AuthorizationFlow
from oauth_core.errors import CsrfRejected
from oauth_core.http.forms import parse_form
from oauth_core.http.pages import CSRF_COOKIE, SESSION_COOKIE, CookiePolicy
from oauth_core.http.request import HttpRequest
from oauth_core.models import USERNAME_PATTERN, Session, User, canonical_username
from oauth_core.observability import count, logger
from oauth_core.ports import GrantStore, UserStore
from oauth_core.rules.assurance import PASSWORD_AMR
from oauth_core.rules.claims import profile_of
from oauth_core.rules.hashing import token_hash
from oauth_core.rules.passwords import burn_equal_time, verify_password
from oauth_core.rules.throttle import SIGN_IN, FailureThrottle

BAD_CREDENTIALS = "Incorrect username or password."
MAX_USERNAME_LENGTH = 128
CSRF_MAX_AGE = 3600


@dataclass(frozen=True)
class SignedIn:
    session: Session
    cookie: str  # the Set-Cookie of its fresh session id


class PasswordSignIn:
    def __init__(
        self,
        flow: AuthorizationFlow,
        users: UserStore,
        grants: GrantStore,
        throttle: FailureThrottle,
        directory: UserDirectory,
        settings: Settings,
        clock: Clock,
        random: Random,
    ):
        self._flow = flow
        self._users = users
        self._grants = grants
        self._throttle = throttle
        self._directory = directory
        self._settings = settings
        self._clock = clock
        self._random = random

    def check(
        self, request: HttpRequest, typed: str, password: str, client_id: str | None
    ) -> User | None:
        """The user whose password this is, or None (counted, and recorded as a failure)."""
        username = canonical_username(typed[:MAX_USERNAME_LENGTH])
        keys = self._throttle.keys(SIGN_IN, username, request.source_ip)
        self._throttle.reserve(keys)  # counted before it is checked: parallel guesses each count
        user = self._users.get(username) if USERNAME_PATTERN.match(username) else None
        if user is None:
            burn_equal_time(password)
        reason = _refusal(user, password)
        if user is None or reason is not None:
            count("LoginFailed")
            logger.info("sign-in failed", extra={"client_id": client_id})
            # An unknown username is not recorded: it may be a password typed in the wrong field.
            known = user.username if user is not None else None
            audit.emit(audit.SIGNIN_FAILURE, client_id=client_id, username=known, reason=reason)
            return None
        self._throttle.give_back(keys)
        return user

    def start_session(
        self,
        request: HttpRequest,
        user: User,
        client_id: str | None,
        *,
        amr: tuple[str, ...] = PASSWORD_AMR,
        acr: str = ACR_PASSWORD,
    ) -> SignedIn:
        """A fresh session for the user (no fixation); the browser's old one ends (G2). `amr`
        and `acr`: how the user signed in (a password, unless a second factor followed)."""
        signed_in_ms = self._clock.now_ms()
        now = signed_in_ms // 1000
        cookies = self._flow.cookies
        old = cookies.read(request, SESSION_COOKIE)
        if old:
            self._grants.delete_session(token_hash(old))
        session_id = self._random.token(OPAQUE_TOKEN_BYTES)
        ttl = self._settings.session_ttl
        session = Session(
            session_hash=token_hash(session_id),
            sub=user.sub,
            username=user.username,
            auth_time=now,
            expires_at=now + ttl,
            claims=profile_of(user, self._flow.catalog()),
            signed_in_ms=signed_in_ms,
            amr=amr,
            acr=acr,
        )
        self._grants.put_session(session)
        count("LoginSucceeded")
        logger.info("signed in", extra={"client_id": client_id, "sub": user.sub})
        audit.emit(audit.SIGNIN_SUCCESS, client_id=client_id, sub=user.sub, username=user.username)
        return SignedIn(session, cookies.set(SESSION_COOKIE, session_id, ttl))

    # --- a temporary password replaced ----------------------------------------------------------

    def user_to_change(self, mark: str | None) -> User | None:
        """The user a password-change mark names, while their password is still the temporary
        one it was made for."""
        if not mark:
            return None
        username = mark.split(" ", 1)[0]
        user = self._users.get(username)
        if user is None or user.disabled or not user.password_change_required:
            return None
        return user if password_change_mark(user) == mark else None

    def choose_password(self, user: User, chosen: str, again: str) -> User | str:
        """The user with the password chosen, or what is wrong with it, in words."""
        if chosen != again:
            return "The two passwords are not the same."
        try:
            check_password(chosen)  # before Argon2 below: a short one costs no hashing
        except InvalidUser as exc:
            return f"The password {exc.message}."
        if verify_password(chosen, user.password_hash):
            return "Choose a password other than the temporary one."
        try:
            changed = self._directory.set_password(user.username, chosen)
        except InvalidUser as exc:
            return f"The password {exc.message}."
        count("PasswordChanged", by="sign-in")
        audit.emit(audit.PASSWORD_CHANGED, sub=user.sub, username=user.username, by="sign-in")
        return changed


def _refusal(user: User | None, password: str) -> str | None:
    """Why a sign-in is refused (the audit record's reason), or None: it may go on."""
    if user is None:
        return "unknown_user"
    if not verify_password(password, user.password_hash):
        return "bad_password"
    if user.disabled:
        return "user_disabled"
    return None


def password_change_mark(user: User) -> str:
    """Who must change their password, and which temporary password they signed in with (a
    fingerprint of its hash, so the mark is spent once the password changes)."""
    fingerprint = hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
    return f"{user.username} {user.sub} {fingerprint}"


# --- every form of ours: the CSRF double-submit (G1) ---------------------------------------------


def signed_in_user(
    flow: AuthorizationFlow, users: UserStore, request: HttpRequest
) -> tuple[User, Session] | None:
    """The browser's live session and its user, if that user still is the session's and is
    enabled (the account page and what it links to act only for them)."""
    session = flow.live_session(request)
    user = users.get(session.username) if session is not None else None
    if session is None or user is None or user.sub != session.sub or user.disabled:
        return None
    return user, session


def csrf_of(cookies: CookiePolicy, request: HttpRequest, random: Random) -> tuple[str, list[str]]:
    """The CSRF token of this browser (double-submit cookie), minted if it has none; and the
    Set-Cookie that mints it."""
    token = cookies.read(request, CSRF_COOKIE)
    if token and 20 <= len(token) <= 100:
        return token, []
    token = random.token(OPAQUE_TOKEN_BYTES)
    return token, [cookies.set(CSRF_COOKIE, token, CSRF_MAX_AGE)]


def verified_form(cookies: CookiePolicy, request: HttpRequest) -> dict[str, str]:
    """A form POSTed by one of our pages: its fields, once its CSRF token matches the cookie."""
    form = parse_form(request)
    expected = cookies.read(request, CSRF_COOKIE) or ""
    presented = form.get("csrf_token", "")
    if not expected or not hmac.compare_digest(expected.encode(), presented.encode()):
        raise CsrfRejected("the form could not be verified")
    return form
