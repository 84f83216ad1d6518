"""The authorization endpoint (RFC 6749 4.1.1, RFC 7636, RFC 9207, OIDC Core 3.1.2).

Order matters: the client and the exact redirect URI are verified first, and a fault in either
is answered with an error page, never a redirect (RFC 9700 4.1). Every later fault is a redirect
to the verified URI carrying `error`, `state` and `iss`. A valid request then takes the one path
to a code (oauth_core.endpoints.flow).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oauth_core import constants
from oauth_core.clock import Clock, Random
from oauth_core.config import Settings
from oauth_core.endpoints.flow import AuthorizationFlow, registered_redirect_uri
from oauth_core.errors import (
    InvalidRequest,
    OAuthError,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from oauth_core.http.forms import MULTI_VALUED, read_query
from oauth_core.http.pages import error_page, refused_request_page
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.models import (
    Client,
    PendingAuthorization,
    looks_like_client_id,
)
from oauth_core.observability import count
from oauth_core.ports import ClientStore
from oauth_core.rules import pkce, resource_indicators, scope
from oauth_core.tokens.sealed_requests import RequestSealer

# What one request may carry: these bound the sealed handle the browser carries (A14).
MAX_STATE_LENGTH = 2048
MAX_NONCE_LENGTH = 512
MAX_LOGIN_HINT_LENGTH = 256
MAX_PARAM_LENGTH = 2048
PROMPTS = frozenset({"none", "login", "consent"})
# RFC 6749 A.5 and OIDC: state and nonce are visible ASCII (VSCHAR), echoed byte for byte.
_VSCHAR = re.compile(r"^[\x20-\x7e]+$")
_MAX_AGE = re.compile(r"^[0-9]{1,9}$")
UNREADABLE = "The request could not be read."


class PageError(Exception):
    """A fault that must be shown to the user, not redirected (unverified client or URI)."""


@dataclass(frozen=True)
class VerifiedClient:
    client: Client
    redirect_uri: str
    redirect_uri_given: bool


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


class AuthorizationEndpoint:
    def __init__(
        self,
        flow: AuthorizationFlow,
        clients: ClientStore,
        settings: Settings,
        clock: Clock,
        random: Random,
    ):
        self.flow = flow
        self._clients = clients
        self._settings = settings
        self._clock = clock
        self._random = random

    def handle(self, request: HttpRequest) -> HttpResponse:
        try:
            params = read_query(request.raw_query)
            verified = self._verify_client(params)
        except InvalidRequest:
            return error_page(UNREADABLE)
        except PageError as error:
            count("AuthorizationError", error="invalid_client_or_redirect_uri")
            return refused_request_page(str(error), request)
        state = echoable_state(params)
        try:
            pending = self._validate(params, verified, request)
            session = self.flow.live_session(request, check_state=False)
            return self.flow.next_step(request, verified.client, pending, session)
        except OAuthError as error:
            return self.flow.redirect_with_error(request, verified.redirect_uri, state, error)

    def _verify_client(self, params: dict[str, list[str]]) -> VerifiedClient:
        client_ids = params.get("client_id") or []
        if len(client_ids) != 1 or not client_ids[0]:
            raise PageError("The request does not name exactly one client (client_id).")
        client_id = client_ids[0]
        client = self._clients.get(client_id) if looks_like_client_id(client_id) else None
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
        self, params: dict[str, list[str]], verified: VerifiedClient, request: HttpRequest
    ) -> PendingAuthorization:
        for name, values in params.items():
            if len(values) > 1 and name not in MULTI_VALUED:
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
        # RFC 8707: the APIs the grant is for, and only their scopes (and OpenID Connect's).
        catalog = self.flow.catalog()
        default_audience = self._settings.audience_for(self.flow.issuer(request))
        asked = resource_indicators.parse(" ".join(params.get("resource") or []))
        audiences = resource_indicators.select(
            catalog, default_audience, asked, requested, default_resource=client.default_resource
        )
        requested = resource_indicators.scopes_for(catalog, default_audience, requested, audiences)
        audiences = resource_indicators.reached(
            catalog, default_audience, audiences, requested, asked=bool(asked)
        )
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
        now = self._clock.now()
        pending = PendingAuthorization(
            request_id=self._random.token(16),
            client_id=client.client_id,
            redirect_uri=verified.redirect_uri,
            scope=scope.render(requested),
            state=state,
            nonce=nonce,
            code_challenge=challenge,
            prompt=prompt,
            max_age=int(max_age_raw) if max_age_raw is not None else None,
            login_hint=login_hint,
            expires_at=now + self._settings.pending_request_ttl,
            redirect_uri_required=verified.redirect_uri_given,
            requested_at=now,
            client_registration=client.registration_id,
            resource=resource_indicators.render(audiences),
        )
        if not RequestSealer.fits(pending):
            raise InvalidRequest("the authorization request is too large")
        return pending
