"""An authorization request's parameters, checked: the one validation the authorization endpoint
and the pushed authorization request endpoint share (RFC 6749 4.1.1, RFC 7636, OIDC Core 3.1.2,
RFC 8707; RFC 9126 2.1: a pushed request is validated "as it would an authorization request").

The client and the exact redirect URI come first. A fault in either is an UnverifiedRequest:
there is nothing verified to redirect to, so /authorize shows an error page (RFC 9700 4.1) and
/par answers invalid_request (RFC 9126 2.3). Every later fault is an OAuthError, which /authorize
redirects to the verified URI and /par answers as JSON. Nothing here renders a page, so the
token function (/par) loads no HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oauth_core import constants
from oauth_core.clock import Clock, Random
from oauth_core.config import Settings
from oauth_core.constants import APPLICATION_NATIVE
from oauth_core.errors import (
    InvalidRequest,
    OAuthError,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from oauth_core.http.forms import MULTI_VALUED
from oauth_core.models import Client, PendingAuthorization, looks_like_client_id
from oauth_core.ports import CatalogSource, ClientStore
from oauth_core.rules import assurance, pkce, redirect_uri, resource_indicators, scope
from oauth_core.tokens.sealed_requests import RequestSealer

# What one request may carry: these bound the sealed handle the browser carries (A14).
MAX_STATE_LENGTH = 2048
MAX_NONCE_LENGTH = 512
MAX_LOGIN_HINT_LENGTH = 256
MAX_PARAM_LENGTH = 2048
PROMPTS = frozenset({"none", "login", "consent"})
# Every parameter a request is read from here: all that a pushed request keeps (others have no
# meaning here and would only take room). A new authorization parameter is added here too.
PARAMETERS = frozenset(
    {
        "client_id",
        "redirect_uri",
        "response_type",
        "response_mode",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "prompt",
        "max_age",
        "login_hint",
        "resource",
        "dpop_jkt",
        "acr_values",
    }
)
# RFC 9449 10: a key's SHA-256 JWK thumbprint, base64url.
_THUMBPRINT = re.compile(r"^[A-Za-z0-9_-]{43}\Z")
# RFC 6749 A.5 and OIDC: state and nonce are visible ASCII (VSCHAR), echoed byte for byte.
_VSCHAR = re.compile(r"^[\x20-\x7e]+\Z")
_MAX_AGE = re.compile(r"^[0-9]{1,9}\Z")


class UnverifiedRequest(InvalidRequest):
    """A fault of the client or the redirect URI: nothing verified to redirect to. Its
    description is a sentence for the developer (the page's log line, or /par's answer)."""


class RequestNotSupported(OAuthError):
    """OIDC Core 3.1.2.6: a request object (`request`), which this server does not take
    (discovery says `request_parameter_supported: false`)."""

    error = "request_not_supported"


@dataclass(frozen=True)
class VerifiedClient:
    client: Client
    redirect_uri: str
    redirect_uri_given: bool


def registered_redirect_uri(client: Client, requested: str) -> bool:
    """Whether `requested` is one of the client's redirect URIs (A2), by the client's kind."""
    native = client.application_type == APPLICATION_NATIVE
    return redirect_uri.find_registered(requested, client.redirect_uris, native=native) is not None


def client_still_for(clients: ClientStore, pending: PendingAuthorization) -> Client | None:
    """The request's client, if it is still good for a request sealed earlier: enabled, the same
    registration (D8), the redirect URI still registered."""
    client = clients.get(pending.client_id)
    if client is None or client.disabled:
        return None
    if client.registration_id != pending.client_registration:
        return None
    if not registered_redirect_uri(client, pending.redirect_uri):
        return None
    return client


def single(values: dict[str, list[str]], name: str) -> str | None:
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


class AuthorizationRequests:
    """Reads an authorization request's parameters (as lists of values: a repeat is seen) into
    the request that waits for the user."""

    def __init__(
        self,
        clients: ClientStore,
        catalog: CatalogSource,
        settings: Settings,
        clock: Clock,
        random: Random,
    ):
        self._clients = clients
        self._catalog = catalog
        self._settings = settings
        self._clock = clock
        self._random = random

    def client(self, params: dict[str, list[str]]) -> Client:
        """The one registered, enabled client the request names."""
        client_ids = params.get("client_id") or []
        if len(client_ids) != 1 or not client_ids[0]:
            raise UnverifiedRequest("The request does not name exactly one client (client_id).")
        client_id = client_ids[0]
        client = self._clients.get(client_id) if looks_like_client_id(client_id) else None
        if client is None or client.disabled:
            raise UnverifiedRequest("The application is not registered here (unknown client_id).")
        return client

    def verify_client(self, params: dict[str, list[str]]) -> VerifiedClient:
        """The client and the redirect URI to answer on, both verified."""
        client = self.client(params)
        uris = params.get("redirect_uri") or []
        if len(uris) > 1:
            raise UnverifiedRequest("The request names more than one redirect_uri.")
        if uris and uris[0]:
            if not registered_redirect_uri(client, uris[0]):
                raise UnverifiedRequest("The redirect_uri is not registered for this application.")
            # For a native app's loopback URI the port may differ: answer on the port asked for.
            verified = VerifiedClient(client, uris[0], True)
        elif len(client.redirect_uris) == 1:
            verified = VerifiedClient(client, client.redirect_uris[0], False)
        else:
            raise UnverifiedRequest(
                "The request must name its redirect_uri (several are registered)."
            )
        modes = params.get("response_mode") or []
        if modes and modes != ["query"]:
            raise UnverifiedRequest("Only response_mode=query is supported.")
        return verified

    def validate(
        self, params: dict[str, list[str]], verified: VerifiedClient, issuer: str
    ) -> PendingAuthorization:
        """Everything after the client and the redirect URI; the request, ready to seal."""
        for name, values in params.items():
            if len(values) > 1 and name not in MULTI_VALUED:
                raise InvalidRequest("a parameter is repeated")
            limit = MAX_STATE_LENGTH if name == "state" else MAX_PARAM_LENGTH
            if len(values[0]) > limit:
                raise InvalidRequest("a parameter is too long")
        client = verified.client
        response_type = single(params, "response_type")
        if response_type is None:
            raise InvalidRequest("response_type is required")
        if response_type != "code":
            raise UnsupportedResponseType("only response_type=code is supported")
        if not client.allows_grant(constants.GRANT_AUTHORIZATION_CODE):
            raise UnauthorizedClient("the client is not registered for the code flow")
        if single(params, "request") is not None:
            raise RequestNotSupported("request objects are not supported")
        challenge = pkce.validate_challenge(
            single(params, "code_challenge"), single(params, "code_challenge_method")
        )
        requested = scope.narrow(single(params, "scope"), client.allowed_scopes)
        # RFC 8707: the APIs the grant is for, and only their scopes (and OpenID Connect's).
        catalog = self._catalog.catalog()
        default_audience = self._settings.audience_for(issuer)
        asked = resource_indicators.parse(" ".join(params.get("resource") or []))
        audiences = resource_indicators.select(
            catalog, default_audience, asked, requested, default_resource=client.default_resource
        )
        requested = resource_indicators.scopes_for(catalog, default_audience, requested, audiences)
        audiences = resource_indicators.reached(
            catalog, default_audience, audiences, requested, asked=bool(asked)
        )
        prompt = tuple(sorted(set((single(params, "prompt") or "").split())))
        if not set(prompt) <= PROMPTS or ("none" in prompt and len(prompt) > 1):
            raise InvalidRequest("prompt must be none, or any of login and consent")
        max_age_raw = single(params, "max_age")
        if max_age_raw is not None and not _MAX_AGE.match(max_age_raw):
            raise InvalidRequest("max_age must be a non-negative integer")
        state, nonce = single(params, "state"), single(params, "nonce")
        if state is not None and not _VSCHAR.match(state):
            raise InvalidRequest("state must be visible ASCII characters")
        if nonce is not None and len(nonce) > MAX_NONCE_LENGTH:
            raise InvalidRequest("nonce is too long")
        if nonce is not None and not _VSCHAR.match(nonce):
            raise InvalidRequest("nonce must be visible ASCII characters")
        login_hint = single(params, "login_hint")
        if login_hint is not None and len(login_hint) > MAX_LOGIN_HINT_LENGTH:
            raise InvalidRequest("login_hint is too long")
        dpop_jkt = single(params, "dpop_jkt")
        if dpop_jkt is not None and not _THUMBPRINT.match(dpop_jkt):
            raise InvalidRequest("dpop_jkt must be a SHA-256 JWK thumbprint")
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
            dpop_jkt=dpop_jkt or "",
            # OIDC Core 3.1.2.1 `acr_values`, and the client's and the stack's policy.
            required_acr=assurance.required(
                single(params, "acr_values"),
                client_requires_mfa=client.require_mfa,
                stack_requires_mfa=self._settings.require_mfa,
            ),
        )
        if not RequestSealer.fits(pending):
            raise InvalidRequest("the authorization request is too large")
        return pending
