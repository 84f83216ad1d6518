"""The sign-in, consent and sign-out pages (SECURITY G1-G8).

The browser carries the authorization request between /authorize and these pages sealed in an
opaque handle (oauth_core.tokens.sealed_requests); no caller-supplied return URL is ever followed
(G5). Every POST needs the CSRF token that matches its cookie (G1) and answers with 303 (G4).
A sign-in issues a fresh session id (G2) and is recorded in the request it was made for, which
is what a `prompt=login` or `max_age` request accepts (G8). Failed sign-ins are counted per
account and source, and per source (G6, G7); an unknown user costs the same Argon2id work as a
wrong password. A request completes once: its id is marked used when its code is issued.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace

from oauth_core import audit
from oauth_core.admin.users import InvalidUser, UserDirectory
from oauth_core.clock import Clock, Random
from oauth_core.config import Settings
from oauth_core.constants import OPAQUE_TOKEN_BYTES
from oauth_core.endpoints.flow import AuthorizationFlow, registered_redirect_uri, resumed
from oauth_core.errors import AccessDenied, CsrfRejected
from oauth_core.http.answers import EXPIRED
from oauth_core.http.forms import parse_form, parse_query
from oauth_core.http.pages import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    consent_form,
    error_page,
    login_form,
    logout_form,
    origin_of,
    page,
    password_change_form,
    see_other,
    signed_out,
    with_query,
)
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.models import (
    USERNAME_PATTERN,
    Client,
    PendingAuthorization,
    Session,
    User,
    canonical_username,
)
from oauth_core.observability import count, logger
from oauth_core.ports import ClientStore, GrantStore, UserStore
from oauth_core.rules.claims import profile_of
from oauth_core.rules.hashing import token_hash
from oauth_core.rules.passwords import burn_equal_time, verify_password
from oauth_core.rules.throttle import SIGN_IN, FailureThrottle
from oauth_core.tokens.sealed_requests import RequestSealer

BAD_CREDENTIALS = "Incorrect username or password."
CSRF_MAX_AGE = 3600


class LoginPages:
    def __init__(
        self,
        flow: AuthorizationFlow,
        clients: ClientStore,
        users: UserStore,
        grants: GrantStore,
        throttle: FailureThrottle,
        sealer: RequestSealer,
        directory: UserDirectory,
        settings: Settings,
        clock: Clock,
        random: Random,
    ):
        self.flow = flow
        self._clients = clients
        self._users = users
        self._directory = directory
        self._grants = grants
        self._throttle = throttle
        self._sealer = sealer
        self._settings = settings
        self._clock = clock
        self._random = random

    # --- helpers -------------------------------------------------------------------------------

    def _csrf(self, request: HttpRequest) -> tuple[str, list[str]]:
        """The CSRF token of this browser (double-submit cookie), minted if it has none."""
        cookies = self.flow.cookies
        token = cookies.read(request, CSRF_COOKIE)
        if token and 20 <= len(token) <= 100:
            return token, []
        token = self._random.token(OPAQUE_TOKEN_BYTES)
        return token, [cookies.set(CSRF_COOKIE, token, CSRF_MAX_AGE)]

    def _check_csrf(self, request: HttpRequest, form: dict[str, str]) -> None:
        expected = self.flow.cookies.read(request, CSRF_COOKIE) or ""
        presented = form.get("csrf_token", "")
        if not expected or not hmac.compare_digest(expected.encode(), presented.encode()):
            raise CsrfRejected("the form could not be verified")

    def _resume(self, handle: str | None) -> tuple[PendingAuthorization, Client] | None:
        """The request a handle carries, if it is still good for its client."""
        pending = self._sealer.open(handle)
        if pending is None:
            return None
        client = self._clients.get(pending.client_id)
        if client is None or client.disabled:
            return None
        if client.registration_id != pending.client_registration:
            return None  # made for an earlier registration of this client_id (D8)
        if not registered_redirect_uri(client, pending.redirect_uri):
            return None  # the client changed its redirect URIs since
        return pending, client

    def _form(self, request: HttpRequest) -> dict[str, str]:
        form = parse_form(request)
        self._check_csrf(request, form)
        return form

    def _page(
        self, title: str, body: str, pending: PendingAuthorization, cookies: list[str]
    ) -> HttpResponse:
        # Chrome applies form-action to the redirect after a POST: the client's origin too.
        return page(title, body, cookies=cookies, form_targets=(origin_of(pending.redirect_uri),))

    # --- /login --------------------------------------------------------------------------------

    def login_page(self, request: HttpRequest) -> HttpResponse:
        handle = parse_query(request).get("request_id")
        found = self._resume(handle)
        if found is None or handle is None:
            return error_page(EXPIRED, title="Sign-in expired")
        pending, client = found
        return self._login_form(request, handle, pending, client, pending.login_hint or "")

    def _login_form(
        self,
        request: HttpRequest,
        handle: str,
        pending: PendingAuthorization,
        client: Client,
        username: str,
        error: str | None = None,
    ) -> HttpResponse:
        csrf, cookies = self._csrf(request)
        body = login_form(
            request_id=handle,
            csrf=csrf,
            client_name=client.client_name or client.client_id,
            username=username,
            error=error,
        )
        return self._page("Sign in", body, pending, cookies)

    def login(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request)
        handle = form.get("request_id", "")
        found = self._resume(handle)
        if found is None:
            return error_page(EXPIRED, title="Sign-in expired")
        pending, client = found
        typed = form.get("username", "")[:128]
        username = canonical_username(typed)
        password = form.get("password", "")
        throttle = self._throttle
        keys = throttle.keys(SIGN_IN, username, request.source_ip)
        throttle.reserve(keys)  # counted before it is checked: parallel guesses each count
        user = self._users.get(username) if USERNAME_PATTERN.match(username) else None
        if user is None:
            burn_equal_time(password)
        reason = _refusal(user, password)
        if user is None or reason is not None:
            count("LoginFailed")
            logger.info("sign-in failed", extra={"client_id": client.client_id})
            # An unknown username is not recorded: it may be a password typed in the wrong field.
            known = user.username if user is not None else None
            audit.emit(audit.SIGNIN_FAILURE, client_id=client.client_id, username=known,
                       reason=reason)  # fmt: skip
            return self._login_form(request, handle, pending, client, typed, BAD_CREDENTIALS)
        throttle.give_back(keys)
        if user.password_change_required:
            # Right, but temporary: nothing opens until the user has chosen their own.
            marked = replace(pending, password_change=_password_change_mark(user))
            return self._password_form(request, self._sealer.seal(marked), pending, user)
        return self._sign_in(request, user, pending, client)

    def _sign_in(
        self, request: HttpRequest, user: User, pending: PendingAuthorization, client: Client
    ) -> HttpResponse:
        signed_in_ms = self._clock.now_ms()
        now = signed_in_ms // 1000
        # A fresh session id at every sign-in (no fixation); the old session ends.
        old = self.flow.cookies.read(request, SESSION_COOKIE)
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
            claims=profile_of(user, self.flow.catalog()),
            signed_in_ms=signed_in_ms,
        )
        self._grants.put_session(session)
        count("LoginSucceeded")
        logger.info("signed in", extra={"client_id": client.client_id, "sub": user.sub})
        audit.emit(
            audit.SIGNIN_SUCCESS, client_id=client.client_id, sub=user.sub, username=user.username
        )
        response = self.flow.next_step(
            request,
            client,
            resumed(replace(pending, password_change=None), session),
            session,
            from_page=True,
        )
        response.cookies.append(self.flow.cookies.set(SESSION_COOKIE, session_id, ttl))
        return response

    # --- /login/password: a temporary password replaced -----------------------------------------

    def _password_form(
        self,
        request: HttpRequest,
        handle: str,
        pending: PendingAuthorization,
        user: User,
        error: str | None = None,
    ) -> HttpResponse:
        csrf, cookies = self._csrf(request)
        body = password_change_form(
            request_id=handle, csrf=csrf, username=user.username, error=error
        )
        return self._page("Choose a new password", body, pending, cookies)

    def password(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request)
        handle = form.get("request_id", "")
        found = self._resume(handle)
        if found is None or found[0].password_change is None:
            return error_page(EXPIRED, title="Sign-in expired")
        pending, client = found
        username, sub, _ = (pending.password_change or "").split(" ", 2)
        user = self._users.get(username)
        # The mark names the user and the temporary password: once changed, it opens nothing.
        if (
            user is None
            or user.sub != sub
            or user.disabled
            or not user.password_change_required
            or _password_change_mark(user) != pending.password_change
        ):
            return error_page(EXPIRED, title="Sign-in expired")
        chosen = form.get("new_password", "")
        problem = None
        if chosen != form.get("confirm_password", ""):
            problem = "The two passwords are not the same."
        elif verify_password(chosen, user.password_hash):
            problem = "Choose a password other than the temporary one."
        else:
            try:
                changed = self._directory.set_password(user.username, chosen)
            except InvalidUser as exc:
                problem = f"The password {exc.message}."
        if problem is not None:
            return self._password_form(request, handle, pending, user, problem)
        count("PasswordChanged", by="sign-in")
        return self._sign_in(request, changed, pending, client)

    # --- /consent ------------------------------------------------------------------------------

    def _signed_in(
        self, request: HttpRequest, handle: str, pending: PendingAuthorization
    ) -> Session | HttpResponse:
        """The session that may answer this request, or the way to the sign-in page (G8)."""
        session = self.flow.live_session(request)
        if session is None or not self.flow.signed_in_for(pending, session):
            return see_other(with_query("/login", {"request_id": handle}))
        return session

    def consent_page(self, request: HttpRequest) -> HttpResponse:
        handle = parse_query(request).get("request_id")
        found = self._resume(handle)
        if found is None or handle is None:
            return error_page(EXPIRED, title="Request expired")
        pending, client = found
        session = self._signed_in(request, handle, pending)
        if isinstance(session, HttpResponse):
            return session
        csrf, cookies = self._csrf(request)
        asked, offline = self.flow.consent_asks(pending)
        body = consent_form(
            request_id=handle,
            csrf=csrf,
            client_name=client.client_name or client.client_id,
            username=session.username,
            asked=asked,
            offline=offline,
        )
        return self._page("Allow access?", body, pending, cookies)

    def consent(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request)
        handle = form.get("request_id", "")
        found = self._resume(handle)
        if found is None:
            return error_page(EXPIRED, title="Request expired")
        pending, client = found
        session = self._signed_in(request, handle, pending)
        if isinstance(session, HttpResponse):
            return session
        if form.get("decision") != "allow":
            self.flow.consume(pending)
            audit.emit(
                audit.CONSENT_DENIED, client_id=client.client_id, sub=session.sub,
                scope=pending.scope,
            )  # fmt: skip
            return self.flow.redirect_with_error(
                request, pending.redirect_uri, pending.state, AccessDenied("the user denied access")
            )
        self.flow.remember_consent(client, pending, session.sub)
        return self.flow.complete(request, pending, session)

    # --- /logout -------------------------------------------------------------------------------

    def logout_page(self, request: HttpRequest) -> HttpResponse:
        session = self.flow.live_session(request)
        csrf, cookies = self._csrf(request)
        body = logout_form(csrf=csrf, username=session.username if session else None)
        return page("Sign out", body, cookies=cookies)

    def logout(self, request: HttpRequest) -> HttpResponse:
        self._form(request)
        cookies = self.flow.cookies
        session_id = cookies.read(request, SESSION_COOKIE)
        if session_id:
            self._grants.delete_session(token_hash(session_id))
        count("LoggedOut")
        return page("Signed out", signed_out(), cookies=[cookies.clear(SESSION_COOKIE)])


def _refusal(user: User | None, password: str) -> str | None:
    """Why a sign-in is refused (the audit record's reason), or None: it may go on."""
    if user is None:
        return "unknown_user"
    if not verify_password(password, user.password_hash):
        return "bad_password"
    if user.disabled:
        return "user_disabled"
    return None


def _password_change_mark(user: User) -> str:
    """Who must change their password, and which temporary password they signed in with (a
    fingerprint of its hash, so the mark is spent once the password changes)."""
    fingerprint = hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
    return f"{user.username} {user.sub} {fingerprint}"
