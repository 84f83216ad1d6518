"""The authorization endpoint (RFC 6749 4.1.1, RFC 7636, RFC 9207, OIDC Core 3.1.2).

Order matters: the client and the exact redirect URI are verified first, and a fault in either
is answered with an error page, never a redirect (RFC 9700 4.1). Every later fault is a redirect
to the verified URI carrying `error`, `state` and `iss`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from oauth_core import constants, pkce, redirect_uri, scope
from oauth_core.errors import (
    ConsentRequired,
    InvalidRequest,
    LoginRequired,
    OAuthError,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from oauth_core.hashing import token_hash
from oauth_core.http import HttpRequest, HttpResponse
from oauth_core.models import (
    CLIENT_ID_PATTERN,
    AuthorizationCode,
    Client,
    PendingAuthorization,
    Session,
)
from oauth_core.observability import count
from oauth_core.oidc import claims_for_scopes
from oauth_core.services import Services
from oauth_core.web import SESSION_COOKIE, CookiePolicy, error_page, see_other, with_query

MAX_STATE_LENGTH = 4096
MAX_NONCE_LENGTH = 512
MAX_PARAM_LENGTH = 2048
PROMPTS = frozenset({"none", "login", "consent"})
# How long a code's record outlives the code, so that a late replay still revokes its grant.
CODE_REPLAY_MEMORY = 24 * 3600


class PageError(Exception):
    """A fault that must be shown to the user, not redirected (unverified client or URI)."""


@dataclass(frozen=True)
class VerifiedClient:
    client: Client
    redirect_uri: str
    redirect_uri_given: bool


class AuthorizationService:
    """Issuing codes and answering the client's redirect URI; shared with the login pages."""

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

    def needs_consent(self, client: Client, pending: PendingAuthorization, sub: str) -> bool:
        if "consent" in pending.prompt:
            return True
        if client.first_party:
            return False
        granted = self._services.grants.get_consent(sub, client.client_id)
        return not scope.parse(pending.scope) <= granted

    def remember_consent(self, client: Client, pending: PendingAuthorization, sub: str) -> None:
        settings = self._services.settings
        already = self._services.grants.get_consent(sub, client.client_id)
        self._services.grants.put_consent(
            sub,
            client.client_id,
            already | scope.parse(pending.scope),
            self._services.clock.now() + settings.consent_ttl,
        )

    def redirect_with_code(
        self, request: HttpRequest, pending: PendingAuthorization, session: Session
    ) -> HttpResponse:
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


def _single(values: dict[str, list[str]], name: str) -> str | None:
    found = values.get(name)
    if not found:
        return None
    if len(found) > 1:
        raise InvalidRequest(f"parameter {name!r} is repeated")
    return found[0] or None


class AuthorizationEndpoint:
    def __init__(self, services: Services):
        self._services = services
        self.service = AuthorizationService(services)

    def handle(self, request: HttpRequest) -> HttpResponse:
        params = parse_qs(request.raw_query, keep_blank_values=True, max_num_fields=64)
        try:
            verified = self._verify_client(params)
        except PageError as error:
            count("AuthorizationError", error="invalid_client_or_redirect_uri")
            return error_page(str(error))
        except ValueError:
            return error_page("The request could not be read.")
        state_values = params.get("state") or []
        state = state_values[0] if len(state_values) == 1 and state_values[0] else None
        if state is not None and len(state) > MAX_STATE_LENGTH:
            return self.service.redirect_with_error(
                request, verified.redirect_uri, None, InvalidRequest("state is too long")
            )
        try:
            pending = self._validate(params, verified)
            return self._proceed(request, verified.client, pending)
        except OAuthError as error:
            return self.service.redirect_with_error(request, verified.redirect_uri, state, error)

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
            registered = redirect_uri.find_registered(uris[0], client.redirect_uris)
            if registered is None:
                raise PageError("The redirect_uri is not registered for this application.")
            # For a loopback URI the port may differ: answer on the port the client asked for.
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
                raise InvalidRequest(f"parameter {name!r} is repeated")
            if len(values[0]) > MAX_PARAM_LENGTH and name != "state":
                raise InvalidRequest(f"parameter {name!r} is too long")
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
        max_age = None
        if max_age_raw is not None:
            if not max_age_raw.isdigit() or len(max_age_raw) > 9:
                raise InvalidRequest("max_age must be a non-negative integer")
            max_age = int(max_age_raw)
        nonce = _single(params, "nonce")
        if nonce is not None and len(nonce) > MAX_NONCE_LENGTH:
            raise InvalidRequest("nonce is too long")
        state = _single(params, "state")
        now = self._services.clock.now()
        return PendingAuthorization(
            request_hash="",
            client_id=client.client_id,
            redirect_uri=verified.redirect_uri,
            scope=scope.render(requested),
            state=state,
            nonce=nonce,
            code_challenge=challenge,
            prompt=prompt,
            max_age=max_age,
            login_hint=_single(params, "login_hint"),
            expires_at=now + self._services.settings.pending_request_ttl,
            redirect_uri_required=verified.redirect_uri_given,
        )

    def _proceed(
        self, request: HttpRequest, client: Client, pending: PendingAuthorization
    ) -> HttpResponse:
        now = self._services.clock.now()
        session = None if "login" in pending.prompt else self.service.live_session(request)
        if session and pending.max_age is not None and now - session.auth_time > pending.max_age:
            session = None
        if "none" in pending.prompt:
            if session is None:
                raise LoginRequired("the user is not signed in")
            if self.service.needs_consent(client, pending, session.sub):
                raise ConsentRequired("the user has not consented")
            return self.service.redirect_with_code(request, pending, session)
        if session is not None and not self.service.needs_consent(client, pending, session.sub):
            return self.service.redirect_with_code(request, pending, session)
        # The browser continues on our pages, carrying only an opaque id (SECURITY G5).
        request_id = self._services.token_issuer.opaque()
        stored = PendingAuthorization(
            **{**pending.__dict__, "request_hash": token_hash(request_id)}
        )
        self._services.grants.put_pending(stored)
        page = "/consent" if session is not None else "/login"
        return see_other(with_query(page, {"request_id": request_id}))
