"""The authorization endpoint (RFC 6749 4.1.1, RFC 7636, RFC 9207, OIDC Core 3.1.2, RFC 9126 4).

Order matters: the client and the exact redirect URI are verified first, and a fault in either
is answered with an error page, never a redirect (RFC 9700 4.1). Every later fault is a redirect
to the verified URI carrying `error`, `state` and `iss`. A valid request then takes the one path
to a code (oauth_core.endpoints.flow). The checks are those /par makes too
(oauth_core.endpoints.authorization_request).

A request by reference to a pushed one (`client_id` and a `request_uri` from /par) reads only
those two parameters (RFC 9126 4) and takes the pushed request from the grants table, once: the
only storage this endpoint touches before a sign-in, and only for such requests (an anonymous
front-channel request still stores nothing and makes no AWS call, A14). Its parameters are then
checked again as any request's are (the client's registration may have changed since, RFC 9126
7.4). A client or stack that requires pushed requests gets `invalid_request` for any other
request, at its verified redirect URI (RFC 9126 4 names the error code; the client and URI are
verified, so the redirect is as safe as any error's).
"""

from __future__ import annotations

import re

from oauth_core import constants
from oauth_core.clock import Clock
from oauth_core.config import Settings
from oauth_core.endpoints.authorization_request import (
    AuthorizationRequests,
    UnverifiedRequest,
    VerifiedClient,
    echoable_state,
)
from oauth_core.endpoints.flow import AuthorizationFlow
from oauth_core.errors import InvalidRequest, OAuthError
from oauth_core.http.forms import read_query
from oauth_core.http.pages import error_page, refused_request_page
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.observability import count
from oauth_core.ports import GrantStore
from oauth_core.rules.hashing import token_hash

UNREADABLE = "The request could not be read."
# The random part of a request_uri /par hands out (oauth_core.endpoints.par): anything else
# never reaches the grants table.
_REFERENCE = re.compile(r"^[A-Za-z0-9_-]{16,128}\Z")


class AuthorizationEndpoint:
    def __init__(
        self,
        flow: AuthorizationFlow,
        requests: AuthorizationRequests,
        grants: GrantStore,
        settings: Settings,
        clock: Clock,
    ):
        self.flow = flow
        self._requests = requests
        self._grants = grants
        self._settings = settings
        self._clock = clock

    def handle(self, request: HttpRequest) -> HttpResponse:
        try:
            params = read_query(request.raw_query)
            pushed = "request_uri" in params
            if pushed:
                params = self._pushed_parameters(params)
            verified = self._requests.verify_client(params)
        except UnverifiedRequest as error:
            count("AuthorizationError", error="invalid_client_or_redirect_uri")
            return refused_request_page(error.description or "", request)
        except InvalidRequest:
            return error_page(UNREADABLE)
        state = echoable_state(params)
        try:
            if not pushed and self._requires_pushed_requests(verified):
                raise InvalidRequest("this client must push its authorization requests to /par")
            issuer = self.flow.issuer(request)
            pending = self._requests.validate(params, verified, issuer)
            session = self.flow.live_session(request, check_state=False)
            return self.flow.next_step(request, verified.client, pending, session)
        except OAuthError as error:
            return self.flow.redirect_with_error(request, verified.redirect_uri, state, error)

    def _requires_pushed_requests(self, verified: VerifiedClient) -> bool:
        return (
            self._settings.require_pushed_authorization_requests
            or verified.client.require_pushed_authorization_requests
        )

    def _pushed_parameters(self, params: dict[str, list[str]]) -> dict[str, list[str]]:
        """The parameters of the pushed request this one refers to, taken once. Any fault is an
        error page: until the pushed request is found, nothing names a verified redirect URI
        (the query's other parameters are ignored, RFC 9126 4)."""
        uris = params.get("request_uri") or []
        if len(uris) != 1:
            raise UnverifiedRequest("The request names more than one request_uri.")
        reference = uris[0].removeprefix(constants.PUSHED_REQUEST_URI_PREFIX)
        if reference == uris[0]:
            raise UnverifiedRequest(
                "Only a request_uri from this server's pushed authorization request endpoint "
                "is supported (request_uri_not_supported)."
            )
        client = self._requests.client(params)
        pushed = None
        if _REFERENCE.match(reference):
            pushed = self._grants.take_pushed_request(
                token_hash(reference), client.client_id, self._clock.now()
            )
        if pushed is None or pushed.client_registration != client.registration_id:
            raise UnverifiedRequest(
                "The request_uri is unknown, expired, already used or pushed by another client."
            )
        return pushed.parameters
