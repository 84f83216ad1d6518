"""Client authentication at the token, revocation and introspection endpoints.

Methods: client_secret_basic (RFC 6749 2.3.1, with its form-url-decoding of id and secret),
client_secret_post, private_key_jwt (RFC 7523: an assertion signed with a key the client
registered, oauth_core.rules.client_assertion), and none (public clients, which prove
possession with PKCE instead). An unknown client and a wrong secret get the same answer,
computed with the same work; so do an unknown client and an assertion its keys do not verify.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus

from oauth_core import audit, constants
from oauth_core.config import Settings
from oauth_core.errors import InvalidClient, InvalidRequest, OAuthError
from oauth_core.http.request import HttpRequest
from oauth_core.models import Client, looks_like_client_id
from oauth_core.ports import ClientSecretStore, ClientStore
from oauth_core.rules.client_assertion import (
    JWT_BEARER,
    AssertionRejected,
    AssertionVerifier,
    ClientAssertion,
    assertion_audiences,
    read_assertion,
)
from oauth_core.rules.throttle import CLIENT_SECRET, FailureThrottle

BASIC_CHALLENGE = 'Basic realm="oauth", charset="UTF-8"'
MAX_CREDENTIAL_LENGTH = 512
_DUMMY_SECRET = "x" * 43


@dataclass(frozen=True)
class PresentedCredentials:
    method: str
    client_id: str
    client_secret: str | None
    assertion: ClientAssertion | None = None


def _decode_basic(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _basic_failure() from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise _basic_failure()
    # RFC 6749 2.3.1: both parts are application/x-www-form-urlencoded before base64.
    return _form_decoded(client_id), _form_decoded(secret)


def _form_decoded(text: str) -> str:
    if "%" in text or "+" in text:
        return unquote_plus(text, errors="strict")
    return text


def _basic_failure() -> InvalidClient:
    return InvalidClient(
        "malformed Basic credentials", headers={"WWW-Authenticate": BASIC_CHALLENGE}
    )


def presented_credentials(
    authorization: str | None, form: Mapping[str, str]
) -> PresentedCredentials:
    """Which method the client used, and with what; two methods at once is invalid_request."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    asserted = "client_assertion" in form or "client_assertion_type" in form
    if asserted and (authorization or "client_secret" in form):
        raise InvalidRequest("use exactly one client authentication method")
    if asserted:
        return _presented_assertion(form)
    if authorization and scheme.lower() == "basic":
        if "client_secret" in form:
            raise InvalidRequest("use exactly one client authentication method")
        try:
            client_id, secret = _decode_basic(value)
        except UnicodeDecodeError as exc:
            raise _basic_failure() from exc
        if "client_id" in form and form["client_id"] != client_id:
            raise InvalidRequest("client_id does not match the authenticated client")
        return PresentedCredentials(constants.AUTH_METHOD_BASIC, client_id, secret)
    if authorization:
        raise InvalidRequest("unsupported Authorization scheme for client authentication")
    form_client_id = form.get("client_id")
    if not form_client_id:
        raise InvalidClient("client authentication is required")
    if "client_secret" in form:
        return PresentedCredentials(
            constants.AUTH_METHOD_POST, form_client_id, form["client_secret"]
        )
    return PresentedCredentials(constants.AUTH_METHOD_NONE, form_client_id, None)


def _presented_assertion(form: Mapping[str, str]) -> PresentedCredentials:
    """RFC 7521 4.2: the client is the one the assertion names (its `sub`), which a `client_id`
    sent beside it must match. The assertion is only read here, not verified."""
    assertion_type, token = form.get("client_assertion_type"), form.get("client_assertion")
    if not assertion_type or not token:
        raise InvalidRequest("client_assertion_type and client_assertion go together")
    if assertion_type != JWT_BEARER:
        raise InvalidClient("unsupported client_assertion_type")
    assertion = read_assertion(token)  # MalformedAssertion: not counted, it names no client
    if "client_id" in form and form["client_id"] != assertion.client_id:
        raise InvalidRequest("client_id does not match the authenticated client")
    return PresentedCredentials(
        constants.AUTH_METHOD_PRIVATE_KEY_JWT, assertion.client_id, None, assertion
    )


class CredentialsRejected(InvalidClient):
    """Presented credentials (a secret, an assertion) did not authenticate the client they named
    (or named no client): what the guessing limits count (SECURITY E8, E9). Other refusals
    present nothing to check and are not."""


# Why a named client was refused, as its audit record says (oauth_core.audit).
UNKNOWN_CLIENT = "unknown_client"
BAD_SECRET = "bad_secret"
WRONG_METHOD = "wrong_method"
CLIENT_DISABLED = "client_disabled"


def _refused(error: OAuthError, reason: str) -> OAuthError:
    error.audit_reason = reason  # type: ignore[attr-defined]
    return error


class ClientAuthenticator:
    def __init__(
        self,
        clients: ClientStore,
        secrets: ClientSecretStore,
        assertions: AssertionVerifier | None = None,
    ):
        self._clients = clients
        self._secrets = secrets
        self._assertions = assertions

    def authenticate(
        self,
        authorization: str | None,
        form: Mapping[str, str],
        *,
        disabled_error: type[OAuthError] = InvalidClient,
        presented: PresentedCredentials | None = None,
        audiences: Collection[str] = (),
    ) -> Client:
        """The authenticated client. A disabled client whose credentials are right is refused
        with `disabled_error`: invalid_client where it asks for something itself, invalid_grant
        where it presents a grant that no longer holds (SECURITY D7). `audiences`: what an
        assertion may name as its `aud` (client_assertion.assertion_audiences)."""
        presented = presented or presented_credentials(authorization, form)
        if presented.assertion is not None:
            asserted = self._asserted_client(presented.assertion, audiences)
            return self._enabled(asserted, disabled_error, None)
        secret = presented.client_secret
        headers = (
            {"WWW-Authenticate": BASIC_CHALLENGE}
            if presented.method == constants.AUTH_METHOD_BASIC
            else None
        )
        failure = CredentialsRejected if secret is not None else InvalidClient
        if not looks_like_client_id(presented.client_id) or len(secret or "") > (
            MAX_CREDENTIAL_LENGTH
        ):
            self._spend_equal_time(secret)
            raise _refused(failure("client authentication failed", headers=headers), UNKNOWN_CLIENT)
        client = self._clients.get(presented.client_id)
        if client is None:
            self._spend_equal_time(secret)
            raise _refused(failure("client authentication failed", headers=headers), UNKNOWN_CLIENT)
        if client.is_public and secret is not None:
            # A public client has no secret to guess; its id is no secret either (E9).
            raise _refused(
                InvalidClient("client authentication failed", headers=headers), WRONG_METHOD
            )
        if presented.method != client.token_endpoint_auth_method:
            self._spend_equal_time(secret)
            raise _refused(failure("client authentication failed", headers=headers), WRONG_METHOD)
        if secret is not None and not (
            self._secret_matches(client, secret, fresh=False)
            # On a mismatch, re-read once: a rotation may have happened since this container
            # cached.
            or self._secret_matches(client, secret, fresh=True)
        ):
            raise _refused(failure("client authentication failed", headers=headers), BAD_SECRET)
        return self._enabled(client, disabled_error, headers)

    @staticmethod
    def _enabled(
        client: Client, disabled_error: type[OAuthError], headers: dict[str, str] | None
    ) -> Client:
        if client.disabled:
            raise _refused(
                disabled_error(
                    "the client is disabled",
                    headers=headers if disabled_error is InvalidClient else None,
                ),
                CLIENT_DISABLED,
            )
        return client

    def _asserted_client(self, assertion: ClientAssertion, audiences: Collection[str]) -> Client:
        """private_key_jwt: the claims (whoever the client), then the client, then its key and
        the assertion's single use. Every refusal counts as a wrong secret does, but one naming
        a public client (which has nothing to guess)."""
        verifier = self._assertions
        if verifier is None:  # a stack built without assertions: no client uses them
            raise _refused(CredentialsRejected("client authentication failed"), WRONG_METHOD)
        verifier.check_claims(assertion, audiences)  # AssertionRejected, as all below
        client_id = assertion.client_id
        client = self._clients.get(client_id) if looks_like_client_id(client_id) else None
        if client is None:
            raise _refused(CredentialsRejected("client authentication failed"), UNKNOWN_CLIENT)
        if client.is_public:
            raise _refused(InvalidClient("client authentication failed"), WRONG_METHOD)
        if client.token_endpoint_auth_method != constants.AUTH_METHOD_PRIVATE_KEY_JWT:
            raise _refused(CredentialsRejected("client authentication failed"), WRONG_METHOD)
        verifier.verify(client, assertion)
        return client

    def _secret_matches(self, client: Client, presented: str, *, fresh: bool) -> bool:
        candidate = presented.encode("utf-8")
        valid = self._secrets.valid_secrets(client.client_id, client.registration_id, fresh=fresh)
        if not valid:
            self._spend_equal_time(presented)
            return False
        matched = False
        # Compare against every valid secret, without an early exit, each in constant time.
        for secret in valid:
            matched |= hmac.compare_digest(candidate, secret.encode("utf-8"))
        return matched

    @staticmethod
    def _spend_equal_time(presented: str | None) -> None:
        hmac.compare_digest((presented or "").encode("utf-8"), _DUMMY_SECRET.encode("utf-8"))


class ThrottledAuthenticator:
    """Client authentication with failed secrets counted per client and source, and per source
    (SECURITY E8, E9; oauth_core.rules.throttle)."""

    def __init__(
        self,
        authenticator: ClientAuthenticator,
        throttle: FailureThrottle,
        settings: Settings | None = None,
    ):
        self._authenticator = authenticator
        self._throttle = throttle
        self._settings = settings or Settings()

    def authenticate(
        self,
        request: HttpRequest,
        form: Mapping[str, str],
        *,
        disabled_error: type[OAuthError] = InvalidClient,
    ) -> Client:
        authorization = request.header("authorization")
        try:
            presented: PresentedCredentials | None = presented_credentials(authorization, form)
        except (InvalidClient, InvalidRequest):
            presented = None  # refused below, and not counted
        subject = presented.client_id if presented is not None else None
        self._throttle.check_local_for(CLIENT_SECRET, subject, request.source_ip)
        audiences: frozenset[str] = frozenset()
        if presented is not None and presented.assertion is not None:
            issuer = self._settings.issuer_for(request.domain_name)
            audiences = assertion_audiences(issuer, request.path)
        try:
            return self._authenticator.authenticate(
                authorization,
                form,
                disabled_error=disabled_error,
                presented=presented,
                audiences=audiences,
            )
        except OAuthError as refused:
            if presented is not None:
                _audit_refusal(refused, presented)
            # Only a secret or an assertion that was checked and refused counts: a request with
            # no readable credentials guesses nothing, and counting it would let anyone who
            # shares an address (a web page in browsers behind one NAT) fill that address's
            # bucket. Counted per client and source, and per source: never enough to lock the
            # client out elsewhere (E9).
            if isinstance(refused, CredentialsRejected | AssertionRejected):
                keys = self._throttle.keys(CLIENT_SECRET, subject, request.source_ip)
                self._throttle.failed(keys)
                # The failure that fills a bucket is already answered 429.
                self._throttle.check_local(keys)
            raise


def _audit_refusal(refused: OAuthError, presented: PresentedCredentials) -> None:
    """client_auth.failure for a request that named a client (an id that is no valid client id
    is left out of the record)."""
    reason = getattr(refused, "audit_reason", None)
    if reason is None:
        return
    named = looks_like_client_id(presented.client_id)
    audit.emit(
        audit.CLIENT_AUTH_FAILURE,
        client_id=presented.client_id if named else None,
        reason=reason,
        method=presented.method,
    )
