"""The sign-in, consent and sign-out pages (SECURITY G1-G6).

The browser carries only an opaque request id between /authorize and these pages; the request
itself stays server-side (G5). Every POST needs the CSRF token that matches its cookie (G1) and
answers with 303 (G4). A sign-in issues a fresh session id (G2). Failed sign-ins are counted per
account and per address (G6); an unknown user costs the same Argon2id work as a wrong password.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from oauth_core import scope
from oauth_core.authorization import AuthorizationService
from oauth_core.errors import AccessDenied, InvalidRequest, TooManyRequests
from oauth_core.hashing import token_hash
from oauth_core.http import HttpRequest, HttpResponse, parse_form, parse_query
from oauth_core.models import (
    USERNAME_PATTERN,
    Client,
    PendingAuthorization,
    Session,
    canonical_username,
)
from oauth_core.observability import count, logger
from oauth_core.passwords import burn_equal_time, verify_password
from oauth_core.services import Services
from oauth_core.throttle import SIGN_IN
from oauth_core.web import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    consent_form,
    error_page,
    login_form,
    logout_form,
    origin_of,
    page,
    see_other,
    signed_out,
    with_query,
)

BAD_CREDENTIALS = "Incorrect username or password."
EXPIRED = "This sign-in request has expired or was already used."
CSRF_MAX_AGE = 3600


Handler = Callable[[HttpRequest], HttpResponse]


class Forbidden(Exception):
    pass


class LoginPages:
    def __init__(self, services: Services):
        self._services = services
        self.authorization = AuthorizationService(services)

    # --- helpers -------------------------------------------------------------------------------

    def _csrf(self, request: HttpRequest) -> tuple[str, list[str]]:
        """The CSRF token of this browser (double-submit cookie), minted if it has none."""
        cookies = self.authorization.cookies
        token = cookies.read(request, CSRF_COOKIE)
        if token and 20 <= len(token) <= 100:
            return token, []
        token = self._services.token_issuer.opaque()
        return token, [cookies.set(CSRF_COOKIE, token, CSRF_MAX_AGE)]

    def _check_csrf(self, request: HttpRequest, form: dict[str, str]) -> None:
        expected = self.authorization.cookies.read(request, CSRF_COOKIE) or ""
        presented = form.get("csrf_token", "")
        if not expected or not hmac.compare_digest(expected.encode(), presented.encode()):
            raise Forbidden()

    def _pending(self, request_id: str | None) -> tuple[PendingAuthorization, Client] | None:
        if not request_id or len(request_id) > 100:
            return None
        pending = self._services.grants.get_pending(token_hash(request_id))
        if pending is None or pending.expires_at <= self._services.clock.now():
            return None
        client = self._services.clients.get(pending.client_id)
        if client is None or client.disabled:
            return None
        return pending, client

    def _form(self, request: HttpRequest) -> dict[str, str]:
        form = parse_form(request)
        self._check_csrf(request, form)
        return form

    def _finish(
        self,
        request: HttpRequest,
        request_id: str,
        pending: PendingAuthorization,
        client: Client,
        session: Session,
        cookies: list[str],
    ) -> HttpResponse:
        if self.authorization.needs_consent(client, pending, session.sub):
            return see_other(with_query("/consent", {"request_id": request_id}), cookies)
        self._services.grants.delete_pending(pending.request_hash)
        response = self.authorization.redirect_with_code(request, pending, session)
        response.cookies.extend(cookies)
        return response

    def guarded(self, handler: Handler, request: HttpRequest) -> HttpResponse:
        """Browser-facing errors are pages, never JSON and never a redirect to elsewhere."""
        try:
            return handler(request)
        except Forbidden:
            count("CsrfRejected")
            return error_page(
                "The form could not be verified. Reload the page and try again.",
                status=403,
                title="Request refused",
            )
        except TooManyRequests as error:
            response = error_page(
                "Too many failed attempts. Wait a few minutes before trying again.",
                status=429,
                title="Too many attempts",
            )
            response.headers.update(error.headers)
            return response
        except InvalidRequest:
            return error_page("The request could not be read.")

    # --- /login --------------------------------------------------------------------------------

    def login_page(self, request: HttpRequest) -> HttpResponse:
        request_id = parse_query(request).get("request_id")
        found = self._pending(request_id)
        if found is None or request_id is None:
            return error_page(EXPIRED, title="Sign-in expired")
        pending, client = found
        csrf, cookies = self._csrf(request)
        body = login_form(
            request_id=request_id,
            csrf=csrf,
            client_name=client.client_name or client.client_id,
            username=pending.login_hint or "",
        )
        return page(
            "Sign in", body, cookies=cookies, form_targets=(origin_of(pending.redirect_uri),)
        )

    def login(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request)
        request_id = form.get("request_id", "")
        found = self._pending(request_id)
        if found is None:
            return error_page(EXPIRED, title="Sign-in expired")
        pending, client = found
        typed = form.get("username", "")[:128]
        username = canonical_username(typed)
        password = form.get("password", "")
        throttle = self._services.throttle
        keys = throttle.keys(SIGN_IN, username, request.source_ip)
        throttle.check(keys)
        known_shape = USERNAME_PATTERN.match(username)
        user = self._services.users.get(username) if known_shape else None
        if user is None:
            burn_equal_time(password)
            valid = False
        else:
            valid = verify_password(password, user.password_hash) and not user.disabled
        if user is None or not valid:
            throttle.failed(keys)
            count("LoginFailed")
            logger.info("sign-in failed", extra={"client_id": client.client_id})
            csrf, cookies = self._csrf(request)
            body = login_form(
                request_id=request_id,
                csrf=csrf,
                client_name=client.client_name or client.client_id,
                username=typed,
                error=BAD_CREDENTIALS,
            )
            return page(
                "Sign in", body, cookies=cookies, form_targets=(origin_of(pending.redirect_uri),)
            )
        assert user is not None
        now = self._services.clock.now()
        # A fresh session id at every sign-in (no fixation); the old session ends.
        old = self.authorization.cookies.read(request, SESSION_COOKIE)
        if old:
            self._services.grants.delete_session(token_hash(old))
        session_id = self._services.token_issuer.opaque()
        ttl = self._services.settings.session_ttl
        session = Session(
            session_hash=token_hash(session_id),
            sub=user.sub,
            username=user.username,
            auth_time=now,
            expires_at=now + ttl,
            claims=dict(user.claims),
        )
        self._services.grants.put_session(session)
        count("LoginSucceeded")
        logger.info("signed in", extra={"client_id": client.client_id, "sub": user.sub})
        cookie = self.authorization.cookies.set(SESSION_COOKIE, session_id, ttl)
        return self._finish(request, request_id, pending, client, session, [cookie])

    # --- /consent ------------------------------------------------------------------------------

    def consent_page(self, request: HttpRequest) -> HttpResponse:
        request_id = parse_query(request).get("request_id")
        found = self._pending(request_id)
        if found is None or request_id is None:
            return error_page(EXPIRED, title="Request expired")
        pending, client = found
        session = self.authorization.live_session(request)
        if session is None:
            return see_other(with_query("/login", {"request_id": request_id}))
        csrf, cookies = self._csrf(request)
        body = consent_form(
            request_id=request_id,
            csrf=csrf,
            client_name=client.client_name or client.client_id,
            username=session.username,
            scopes=sorted(scope.parse(pending.scope)),
        )
        return page(
            "Allow access?", body, cookies=cookies, form_targets=(origin_of(pending.redirect_uri),)
        )

    def consent(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request)
        request_id = form.get("request_id", "")
        found = self._pending(request_id)
        if found is None:
            return error_page(EXPIRED, title="Request expired")
        pending, client = found
        session = self.authorization.live_session(request)
        if session is None:
            return see_other(with_query("/login", {"request_id": request_id}))
        self._services.grants.delete_pending(pending.request_hash)
        if form.get("decision") != "allow":
            return self.authorization.redirect_with_error(
                request, pending.redirect_uri, pending.state, AccessDenied("the user denied access")
            )
        self.authorization.remember_consent(client, pending, session.sub)
        return self.authorization.redirect_with_code(request, pending, session)

    # --- /logout -------------------------------------------------------------------------------

    def logout_page(self, request: HttpRequest) -> HttpResponse:
        session = self.authorization.live_session(request)
        csrf, cookies = self._csrf(request)
        body = logout_form(csrf=csrf, username=session.username if session else None)
        return page("Sign out", body, cookies=cookies)

    def logout(self, request: HttpRequest) -> HttpResponse:
        self._form(request)
        cookies = self.authorization.cookies
        session_id = cookies.read(request, SESSION_COOKIE)
        if session_id:
            self._services.grants.delete_session(token_hash(session_id))
        count("LoggedOut")
        return page("Signed out", signed_out(), cookies=[cookies.clear(SESSION_COOKIE)])
