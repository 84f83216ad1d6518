"""The authorization endpoint (RFC 6749 4.1.1, RFC 7636, RFC 9207, OIDC Core 3.1.2) and the
path every authorization request takes to a code.

Order matters: the client and the exact redirect URI are verified first, and a fault in either
is answered with an error page, never a redirect (RFC 9700 4.1). Every later fault is a redirect
to the verified URI carrying `error`, `state` and `iss`.

A request then goes to sign-in, to consent, or back to the client with a code, and one function
decides which (`AuthorizationFlow.next_step`); the one function that issues codes checks the
sign-in again, so no page can skip `prompt=login` or `max_age` (SECURITY G8).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from oauth_core import constants
from oauth_core.errors import (
    ConsentRequired,
    InvalidRequest,
    LoginRequired,
    OAuthError,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from oauth_core.http.pages import SESSION_COOKIE, CookiePolicy, error_page, see_other, with_query
from oauth_core.http.request import HttpRequest, HttpResponse, query_pairs
from oauth_core.models import (
    CLIENT_ID_PATTERN,
    AuthorizationCode,
    Client,
    PendingAuthorization,
    Session,
)
from oauth_core.observability import count
from oauth_core.rules import pkce, redirect_uri, scope
from oauth_core.rules.claims import claims_for_scopes
from oauth_core.rules.hashing import token_hash
from oauth_core.tokens.sealed_requests import RequestSealer
from oauth_core.wiring import Services

# What one request may carry: these bound the sealed handle the browser carries (A14).
MAX_STATE_LENGTH = 2048
MAX_NONCE_LENGTH = 512
MAX_LOGIN_HINT_LENGTH = 256
MAX_PARAM_LENGTH = 2048
PROMPTS = frozenset({"none", "login", "consent"})
# RFC 6749 A.5 and OIDC: state and nonce are visible ASCII (VSCHAR), echoed byte for byte.
_VSCHAR = re.compile(r"^[\x20-\x7e]+$")
_MAX_AGE = re.compile(r"^[0-9]{1,9}$")
# How long a code's record outlives the code, so that a late replay still revokes its grant.
CODE_REPLAY_MEMORY = 24 * 3600
UNREADABLE = "The request could not be read."


class PageError(Exception):
    """A fault that must be shown to the user, not redirected (unverified client or URI)."""


class RequestCompleted(Exception):
    """The authorization request was completed already: a handle answers once."""


@dataclass(frozen=True)
class VerifiedClient:
    client: Client
    redirect_uri: str
    redirect_uri_given: bool


def read_query(raw: str) -> dict[str, list[str]]:
    """The query as lists of values: a repeated parameter is seen, then refused."""
    params: dict[str, list[str]] = {}
    for name, value in query_pairs(raw):
        params.setdefault(name, []).append(value)
    return params


def _single(values: dict[str, list[str]], name: str) -> str | None:
    found = values.get(name)
    if not found:
        return None
    if len(found) > 1:
        raise InvalidRequest("a parameter is repeated")
    return found[0] or None


def echoable_state(params: dict[str, list[str]]) -> str | None:
    """The state to echo in an error response: only a single, valid one (A5, A12)."""
    values = params.get("state") or []
    if len(values) != 1 or not values[0]:
        return None
    state = values[0]
    return state if len(state) <= MAX_STATE_LENGTH and _VSCHAR.match(state) else None


class AuthorizationFlow:
    """Where an authorization request goes next, and issuing its code; shared by /authorize
    and the sign-in and consent pages."""

    def __init__(self, services: Services):
        self._services = services

    @property
    def cookies(self) -> CookiePolicy:
        return CookiePolicy(self._services.settings.secure_cookies)

    def issuer(self, request: HttpRequest) -> str:
        return self._services.settings.issuer_for(request.domain_name)

    def live_session(self, request: HttpRequest) -> Session | None:
        session_id = self.cookies.read(request, SESSION_COOKIE)
        if not session_id or len(session_id) > 256:
            return None
        session = self._services.grants.get_session(token_hash(session_id))
        if session is None or session.expires_at <= self._services.clock.now():
            return None
        return session

    @staticmethod
    def signed_in_for(pending: PendingAuthorization, session: Session | None) -> bool:
        """Whether `session` may answer this request (G8): a sign-in made for the request
        always may; an earlier one only if the request did not ask for a fresh sign-in
        (prompt=login) and is not older than max_age allows."""
        if session is None:
            return False
        if pending.signed_in_session == session.session_hash:
            return True
        if "login" in pending.prompt or pending.max_age == 0:
            return False  # OIDC Core 3.1.2.1: max_age=0 is prompt=login
        if pending.max_age is not None:
            return pending.requested_at - session.auth_time <= pending.max_age
        return True

    def needs_consent(self, client: Client, pending: PendingAuthorization, sub: str) -> bool:
        if "consent" in pending.prompt:
            return True
        if client.first_party:
            return False
        granted = self._services.grants.get_consent(sub, client)
        return not scope.parse(pending.scope) <= granted

    def remember_consent(self, client: Client, pending: PendingAuthorization, sub: str) -> None:
        settings = self._services.settings
        already = self._services.grants.get_consent(sub, client)
        self._services.grants.put_consent(
            sub,
            client,
            already | scope.parse(pending.scope),
            self._services.clock.now() + settings.consent_ttl,
        )

    def page_for(self, page: str, pending: PendingAuthorization) -> HttpResponse:
        """Continue on one of our pages; the browser carries the request sealed (A14, G5)."""
        return see_other(with_query(page, {"request_id": self._services.sealer.seal(pending)}))

    def next_step(
        self,
        request: HttpRequest,
        client: Client,
        pending: PendingAuthorization,
        session: Session | None,
        *,
        from_page: bool = False,
    ) -> HttpResponse:
        """Sign-in, consent, or the client with a code: the one place that decides. A request
        resumed on our pages (`from_page`) was carried by a handle, which answers once."""
        silent = "none" in pending.prompt
        if session is None or not self.signed_in_for(pending, session):
            if silent:
                raise LoginRequired("the user is not signed in")
            return self.page_for("/login", pending)
        if self.needs_consent(client, pending, session.sub):
            if silent:
                raise ConsentRequired("the user has not consented")
            return self.page_for("/consent", pending)
        if from_page:
            return self.complete(request, pending, session)
        return self.redirect_with_code(request, pending, session)

    def consume(self, pending: PendingAuthorization) -> None:
        """Mark a handle's request answered; RequestCompleted if it already was."""
        if not self._services.grants.consume_request(pending.request_id, pending.expires_at):
            raise RequestCompleted()

    def complete(
        self, request: HttpRequest, pending: PendingAuthorization, session: Session
    ) -> HttpResponse:
        """A request resumed from a handle ends here, once, with a code."""
        if not self.signed_in_for(pending, session):
            return self.page_for("/login", pending)
        self.consume(pending)
        return self.redirect_with_code(request, pending, session)

    def redirect_with_code(
        self, request: HttpRequest, pending: PendingAuthorization, session: Session
    ) -> HttpResponse:
        """The only place a code is issued: it checks the sign-in once more (G8)."""
        if not self.signed_in_for(pending, session):
            return self.page_for("/login", pending)
        now = self._services.clock.now()
        code_value = self._services.token_issuer.opaque()
        scopes = scope.parse(pending.scope)
        code = AuthorizationCode(
            code_hash=token_hash(code_value),
            client_id=pending.client_id,
            redirect_uri=pending.redirect_uri,
            scope=pending.scope,
            code_challenge=pending.code_challenge,
            nonce=pending.nonce,
            sub=session.sub,
            auth_time=session.auth_time,
            claims=claims_for_scopes(session.claims, scopes),
            expires_at=now + self._services.settings.code_ttl,
            redirect_uri_required=pending.redirect_uri_required,
            client_registration=pending.client_registration,
            signed_in_ms=session.signed_in_ms,
        )
        # Kept past its expiry so that a late replay is still recognised and revokes.
        self._services.grants.put_code(code, retain_until=now + CODE_REPLAY_MEMORY)
        count("CodeIssued")
        return see_other(
            self.response_uri(request, pending.redirect_uri, pending.state, code=code_value)
        )

    def redirect_with_error(
        self, request: HttpRequest, target: str, state: str | None, error: OAuthError
    ) -> HttpResponse:
        count("AuthorizationError", error=error.error)
        params = {"error": error.error}
        if error.description:
            params["error_description"] = error.description
        return see_other(self.response_uri(request, target, state, **params))

    def response_uri(
        self, request: HttpRequest, target: str, state: str | None, **params: str
    ) -> str:
        """Every authorization response carries `iss` (RFC 9207) and echoes `state`."""
        if state is not None:
            params["state"] = state
        params["iss"] = self.issuer(request)
        return with_query(target, params)


class AuthorizationEndpoint:
    def __init__(self, services: Services):
        self._services = services
        self.flow = AuthorizationFlow(services)

    def handle(self, request: HttpRequest) -> HttpResponse:
        try:
            params = read_query(request.raw_query)
            verified = self._verify_client(params)
        except InvalidRequest:
            return error_page(UNREADABLE)
        except PageError as error:
            count("AuthorizationError", error="invalid_client_or_redirect_uri")
            return error_page(str(error))
        state = echoable_state(params)
        try:
            pending = self._validate(params, verified)
            session = self.flow.live_session(request)
            return self.flow.next_step(request, verified.client, pending, session)
        except OAuthError as error:
            return self.flow.redirect_with_error(request, verified.redirect_uri, state, error)

    def _verify_client(self, params: dict[str, list[str]]) -> VerifiedClient:
        client_ids = params.get("client_id") or []
        if len(client_ids) != 1 or not client_ids[0]:
            raise PageError("The request does not name exactly one client (client_id).")
        client_id = client_ids[0]
        client = (
            self._services.clients.get(client_id) if CLIENT_ID_PATTERN.match(client_id) else None
        )
        if client is None or client.disabled:
            raise PageError("The application is not registered here (unknown client_id).")
        uris = params.get("redirect_uri") or []
        if len(uris) > 1:
            raise PageError("The request names more than one redirect_uri.")
        if uris and uris[0]:
            if not registered_redirect_uri(client, uris[0]):
                raise PageError("The redirect_uri is not registered for this application.")
            # For a native app's loopback URI the port may differ: answer on the port asked for.
            verified = VerifiedClient(client, uris[0], True)
        elif len(client.redirect_uris) == 1:
            verified = VerifiedClient(client, client.redirect_uris[0], False)
        else:
            raise PageError("The request must name its redirect_uri (several are registered).")
        modes = params.get("response_mode") or []
        if modes and modes != ["query"]:
            raise PageError("Only response_mode=query is supported.")
        return verified

    def _validate(
        self, params: dict[str, list[str]], verified: VerifiedClient
    ) -> PendingAuthorization:
        for name, values in params.items():
            if len(values) > 1:
                raise InvalidRequest("a parameter is repeated")
            limit = MAX_STATE_LENGTH if name == "state" else MAX_PARAM_LENGTH
            if len(values[0]) > limit:
                raise InvalidRequest("a parameter is too long")
        client = verified.client
        response_type = _single(params, "response_type")
        if response_type is None:
            raise InvalidRequest("response_type is required")
        if response_type != "code":
            raise UnsupportedResponseType("only response_type=code is supported")
        if not client.allows_grant(constants.GRANT_AUTHORIZATION_CODE):
            raise UnauthorizedClient("the client is not registered for the code flow")
        challenge = pkce.validate_challenge(
            _single(params, "code_challenge"), _single(params, "code_challenge_method")
        )
        requested = scope.narrow(_single(params, "scope"), client.allowed_scopes)
        prompt = tuple(sorted(set((_single(params, "prompt") or "").split())))
        if not set(prompt) <= PROMPTS or ("none" in prompt and len(prompt) > 1):
            raise InvalidRequest("prompt must be none, or any of login and consent")
        max_age_raw = _single(params, "max_age")
        if max_age_raw is not None and not _MAX_AGE.match(max_age_raw):
            raise InvalidRequest("max_age must be a non-negative integer")
        state, nonce = _single(params, "state"), _single(params, "nonce")
        if state is not None and not _VSCHAR.match(state):
            raise InvalidRequest("state must be visible ASCII characters")
        if nonce is not None and len(nonce) > MAX_NONCE_LENGTH:
            raise InvalidRequest("nonce is too long")
        if nonce is not None and not _VSCHAR.match(nonce):
            raise InvalidRequest("nonce must be visible ASCII characters")
        login_hint = _single(params, "login_hint")
        if login_hint is not None and len(login_hint) > MAX_LOGIN_HINT_LENGTH:
            raise InvalidRequest("login_hint is too long")
        now = self._services.clock.now()
        pending = PendingAuthorization(
            request_id=self._services.random.token(16),
            client_id=client.client_id,
            redirect_uri=verified.redirect_uri,
            scope=scope.render(requested),
            state=state,
            nonce=nonce,
            code_challenge=challenge,
            prompt=prompt,
            max_age=int(max_age_raw) if max_age_raw is not None else None,
            login_hint=login_hint,
            expires_at=now + self._services.settings.pending_request_ttl,
            redirect_uri_required=verified.redirect_uri_given,
            requested_at=now,
            client_registration=client.registration_id,
        )
        if not RequestSealer.fits(pending):
            raise InvalidRequest("the authorization request is too large")
        return pending


def registered_redirect_uri(client: Client, requested: str) -> bool:
    """Whether `requested` is one of the client's redirect URIs (A2), by the client's kind."""
    native = client.application_type == constants.APPLICATION_NATIVE
    return redirect_uri.find_registered(requested, client.redirect_uris, native=native) is not None


def resumed(pending: PendingAuthorization, session: Session) -> PendingAuthorization:
    """The request after a sign-in made for it (the only sign-in a fresh-login request takes)."""
    return replace(pending, signed_in_session=session.session_hash)
