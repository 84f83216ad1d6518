"""OAuth errors as small classes that carry their error code and HTTP status (RFC 6749 5.2).

One tree: the bearer errors of a resource server (RFC 6750) and the refusals of the sign-in
pages are OAuthErrors too. How one becomes a response depends on who asked (JSON, an HTML page,
a bearer challenge): oauth_core.http.answers has one mapping per medium.
"""

from __future__ import annotations

import re
from typing import ClassVar

from oauth_core.constants import CLIENT_SIGNING_ALGORITHMS

# RFC 6749 5.2: error_description is %x20-21 / %x23-5B / %x5D-7E. Descriptions are fixed text
# chosen here (SECURITY A11; tests/unit/test_error_descriptions.py holds every one to it).
DESCRIPTION_CHARACTERS = re.compile(r"^[\x20\x21\x23-\x5b\x5d-\x7e]*\Z")


def safe_description(description: str | None) -> str | None:
    """The description if it is within RFC 6749's characters, else none at all."""
    if description and DESCRIPTION_CHARACTERS.match(description):
        return description
    return None


class OAuthError(Exception):
    """An error answered to the client as RFC 6749 5.2 JSON (or as an authorization redirect)."""

    error: ClassVar[str] = "invalid_request"
    status_code: ClassVar[int] = 400

    def __init__(self, description: str | None = None, *, headers: dict[str, str] | None = None):
        super().__init__(description or self.error)
        self.description = safe_description(description)
        self.headers: dict[str, str] = dict(headers or {})

    def body(self) -> dict[str, str]:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body


class InvalidRequest(OAuthError):
    error = "invalid_request"


class PayloadTooLarge(InvalidRequest):
    """A body over what an OAuth request needs: refused before it is read (SECURITY H6)."""

    status_code = 413


class InvalidClient(OAuthError):
    error = "invalid_client"
    status_code = 401


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class InvalidTarget(OAuthError):
    """RFC 8707 2: a `resource` that is malformed, unknown, or not this client's to ask for."""

    error = "invalid_target"


class AccessDenied(OAuthError):
    error = "access_denied"
    status_code = 403


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"


class LoginRequired(OAuthError):
    error = "login_required"


class ConsentRequired(OAuthError):
    error = "consent_required"


class InteractionRequired(OAuthError):
    """OIDC Core 3.1.2.6: `prompt=none`, but the user must act (give a second factor)."""

    error = "interaction_required"


class TooManyRequests(OAuthError):
    """Too many failed attempts: the caller must wait (`Retry-After`)."""

    error = "temporarily_unavailable"
    status_code = 429

    def __init__(self, retry_after: int, description: str | None = None):
        super().__init__(
            description or "too many failed attempts; retry later",
            headers={"Retry-After": str(max(1, int(retry_after)))},
        )
        self.retry_after = retry_after


class CsrfRejected(OAuthError):
    """A form post whose CSRF token does not match its cookie (SECURITY G1)."""

    status_code = 403


class RequestCompleted(InvalidRequest):
    """An authorization request answered already: a sealed handle answers once."""


class ServerError(OAuthError):
    error = "server_error"
    status_code = 500


class TemporarilyUnavailable(OAuthError):
    """A dependency (DynamoDB, Secrets Manager) failed or throttled: safe to retry."""

    error = "temporarily_unavailable"
    status_code = 503


class InvalidDpopProof(OAuthError):
    """RFC 9449 5: a token request's DPoP proof is missing, malformed or fails a check."""

    error = "invalid_dpop_proof"
    status_code = 400


class BearerError(OAuthError):
    """An RFC 6750 error of a protected resource: answered with `WWW-Authenticate: Bearer`, or
    `DPoP` (RFC 9449 7.1) when the request presented a DPoP-bound token."""

    status_code = 401

    def __init__(self, description: str | None = None, *, scope: str | None = None):
        super().__init__(description)
        self.scope = scope
        # RFC 9728 5.1: where a client finds the resource's metadata (set by the resource).
        self.resource_metadata: str | None = None
        self.scheme = "Bearer"

    def www_authenticate(self, realm: str) -> str:
        params = [f'realm="{realm}"']
        if self.scheme == "DPoP":
            params.append(f'algs="{" ".join(CLIENT_SIGNING_ALGORITHMS)}"')
        if self.error:
            params.append(f'error="{self.error}"')
        if self.description:
            params.append(f'error_description="{self.description}"')
        if self.scope:
            params.append(f'scope="{self.scope}"')
        if self.resource_metadata:
            params.append(f'resource_metadata="{self.resource_metadata}"')
        return f"{self.scheme} " + ", ".join(params)


class MissingToken(BearerError):
    """No credentials at all: 401 with no error attribute (RFC 6750 3.1)."""

    error = ""

    def body(self) -> dict[str, str]:
        return {"message": "a bearer token is required"}


class InvalidBearerRequest(BearerError):
    error = "invalid_request"
    status_code = 400


class InvalidToken(BearerError):
    error = "invalid_token"


class InvalidDpopProofAtResource(BearerError):
    """RFC 9449 7.1: a request with a DPoP-bound token whose proof fails a check."""

    error = "invalid_dpop_proof"


class InsufficientScope(BearerError):
    error = "insufficient_scope"
    status_code = 403


class StorageError(Exception):
    """Raised by storage adapters when the backing service fails; maps to a 5xx OAuth error."""


class Throttled(StorageError):
    """The backing service throttled the request: safe to retry shortly."""


class ConditionFailed(Exception):
    """A conditional write lost: the item changed or did not exist as required."""
