"""The path every authorization request takes to a code, shared by the authorization endpoint
and the sign-in and consent pages: where a request goes next (sign-in, consent, or the client
with a code), and the one place a code is issued, which checks the sign-in once more, so no page
can skip `prompt=login` or `max_age` (SECURITY G8).
"""

from __future__ import annotations

from dataclasses import replace

from oauth_core import audit, constants
from oauth_core.catalog import DEFAULT_API, Catalog
from oauth_core.clock import Clock, Random
from oauth_core.config import Settings
from oauth_core.constants import OPAQUE_TOKEN_BYTES
from oauth_core.errors import (
    ConsentRequired,
    InteractionRequired,
    LoginRequired,
    OAuthError,
    RequestCompleted,
)
from oauth_core.http.pages import SESSION_COOKIE, CookiePolicy, see_other, with_query
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.models import (
    AuthorizationCode,
    Client,
    PendingAuthorization,
    Session,
    session_client_entry,
)
from oauth_core.observability import count
from oauth_core.ports import CatalogSource, GrantStore
from oauth_core.rules import assurance, resource_indicators, scope
from oauth_core.rules.claims import token_claims
from oauth_core.rules.hashing import token_hash
from oauth_core.tokens import step_marks
from oauth_core.tokens.sealed_requests import RequestSealer

# How long a code's record outlives the code, so that a late replay still revokes its grant.
CODE_REPLAY_MEMORY = 24 * 3600
# The most clients one session records (each is told when it ends): far more than a browser
# signs into in a day, and a bound on the session item.
MAX_SIGNED_INTO = 100


class AuthorizationFlow:
    """Where an authorization request goes next, and issuing its code; shared by /authorize
    and the sign-in and consent pages."""

    def __init__(
        self,
        settings: Settings,
        grants: GrantStore,
        sealer: RequestSealer,
        catalog: CatalogSource,
        clock: Clock,
        random: Random,
    ):
        self._settings = settings
        self._grants = grants
        self._sealer = sealer
        self._catalog = catalog
        self._clock = clock
        self._random = random

    def catalog(self) -> Catalog:
        """What is declared now (scopes, APIs, attributes), as this container last read it."""
        return self._catalog.catalog()

    @property
    def cookies(self) -> CookiePolicy:
        return CookiePolicy(self._settings.secure_cookies)

    def issuer(self, request: HttpRequest) -> str:
        return self._settings.issuer_for(request.domain_name)

    def live_session(self, request: HttpRequest, *, check_state: bool = True) -> Session | None:
        """The browser's session, if live and (with `check_state`) its user's state allows it.
        /authorize skips the state read (one AWS call fewer on its hot path): the code it
        issues is redeemed only if the state allows that session (the redemption's condition),
        and the sign-in and consent pages check it."""
        session_id = self.cookies.read(request, SESSION_COOKIE)
        if not session_id or len(session_id) > 256:
            return None
        session = self._grants.get_session(token_hash(session_id))
        if session is None or session.expires_at <= self._clock.now():
            return None
        # The user's state is the rule, on every page (D8): the owner index that finds a
        # user's sessions to delete them is only eventually consistent.
        if not check_state:
            return session
        state = self._grants.get_subject_state(session.sub)
        if state is not None and not state.allows_session(session.signed_in_ms):
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

    @staticmethod
    def assured_for(pending: PendingAuthorization, session: Session) -> bool:
        """Whether the session's sign-in is as strong as the request needs (`acr_values`, the
        client's or the stack's `require_mfa`)."""
        return assurance.satisfies(session.acr, pending.required_acr)

    def step_up(self, pending: PendingAuthorization, session: Session) -> HttpResponse:
        """To the second-factor step for this session: a session signed in with a password
        alone, asked for more, gives its second factor (or sets one up), not its password."""
        mark = step_marks.stepping_up(session, self._random)
        return self.page_for(
            constants.SECOND_FACTOR_PATH, replace(pending, second_factor=mark.render())
        )

    def needs_consent(self, client: Client, pending: PendingAuthorization, sub: str) -> bool:
        if "consent" in pending.prompt:
            return True
        if client.first_party:
            return False
        # Scopes registered as granted without asking are never asked for.
        asked = self._catalog.catalog().asked(scope.parse(pending.scope))
        if not asked:
            return False
        return not asked <= self._grants.get_consent(sub, client)

    def consent_asks(self, pending: PendingAuthorization) -> tuple[list[str], bool]:
        """What the consent page asks a user for: the meaning of each scope that is asked for
        (from the scope registry), and whether the app would keep access while they are away
        (said in a sentence of its own)."""
        catalog = self._catalog.catalog()
        asked = catalog.asked(scope.parse(pending.scope))
        offline = constants.SCOPE_OFFLINE_ACCESS in asked
        named = sorted(asked - {constants.SCOPE_OFFLINE_ACCESS})
        return [_in_words(catalog, name) for name in named], offline

    def remember_consent(self, client: Client, pending: PendingAuthorization, sub: str) -> None:
        settings = self._settings
        already = self._grants.get_consent(sub, client)
        self._grants.put_consent(
            sub,
            client,
            already | scope.parse(pending.scope),
            self._clock.now() + settings.consent_ttl,
        )
        audit.emit(audit.CONSENT_GIVEN, client_id=client.client_id, sub=sub, scope=pending.scope)

    def page_for(self, page: str, pending: PendingAuthorization) -> HttpResponse:
        """Continue on one of our pages; the browser carries the request sealed (A14, G5)."""
        return see_other(with_query(page, {"request_id": self._sealer.seal(pending)}))

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
        if not self.assured_for(pending, session):
            if silent:
                raise InteractionRequired("a second factor is required")
            return self.step_up(pending, session)
        if self.needs_consent(client, pending, session.sub):
            if silent:
                raise ConsentRequired("the user has not consented")
            return self.page_for("/consent", pending)
        if from_page:
            return self.complete(request, pending, session)
        return self.redirect_with_code(request, pending, session)

    def consume(self, pending: PendingAuthorization) -> None:
        """Mark a handle's request answered; RequestCompleted if it already was."""
        if not self._grants.consume_request(pending.request_id, pending.expires_at):
            raise RequestCompleted()

    def complete(
        self, request: HttpRequest, pending: PendingAuthorization, session: Session
    ) -> HttpResponse:
        """A request resumed from a handle ends here, once, with a code."""
        if not self.signed_in_for(pending, session):
            return self.page_for("/login", pending)
        if not self.assured_for(pending, session):
            return self.step_up(pending, session)
        self.consume(pending)
        return self.redirect_with_code(request, pending, session)

    def redirect_with_code(
        self, request: HttpRequest, pending: PendingAuthorization, session: Session
    ) -> HttpResponse:
        """The only place a code is issued: it checks the sign-in once more (G8), and its
        assurance (M5)."""
        if not self.signed_in_for(pending, session):
            return self.page_for("/login", pending)
        if not self.assured_for(pending, session):
            return self.step_up(pending, session)
        now = self._clock.now()
        code_value = self._random.token(OPAQUE_TOKEN_BYTES)
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
            claims=token_claims(session.claims, scopes),
            expires_at=now + self._settings.code_ttl,
            redirect_uri_required=pending.redirect_uri_required,
            client_registration=pending.client_registration,
            signed_in_ms=session.signed_in_ms,
            resource=pending.resource,
            sid=session.sid,
            amr=session.amr,
            acr=session.acr,
            dpop_jkt=pending.dpop_jkt,
        )
        # Kept past its expiry so that a late replay is still recognised and revokes.
        retain_until = now + CODE_REPLAY_MEMORY
        entry = session_client_entry(pending.client_id, pending.client_registration)
        if entry in session.signed_into or len(session.signed_into) >= MAX_SIGNED_INTO:
            self._grants.put_code(code, retain_until=retain_until)
        else:  # a client new to the session: recorded in the same write (back-channel logout)
            self._grants.put_code_recording_client(code, retain_until, session.session_hash, entry)
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


def resumed(pending: PendingAuthorization, session: Session) -> PendingAuthorization:
    """The request after a sign-in made for it (the only sign-in a fresh-login request takes)."""
    return replace(pending, signed_in_session=session.session_hash)


def _in_words(catalog: Catalog, name: str) -> str:
    """What a scope lets the app do, and at which API when it is not the built-in one (RFC
    8707: the user sees where the access is for)."""
    words = catalog.description(name)
    api = resource_indicators.api_of(catalog, name)
    if api is None or api == DEFAULT_API:
        return words
    found = catalog.apis.get(api)
    return f"{words} ({found.description or api if found else api})"
