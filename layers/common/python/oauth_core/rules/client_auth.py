"""Client authentication at the token, revocation and introspection endpoints.

Methods: client_secret_basic (RFC 6749 2.3.1, with its form-url-decoding of id and secret),
client_secret_post, and none (public clients, which prove possession with PKCE instead).
An unknown client and a wrong secret get the same answer, computed with the same work.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus

from oauth_core import audit, constants
from oauth_core.errors import InvalidClient, InvalidRequest, OAuthError
from oauth_core.http.request import HttpRequest
from oauth_core.models import Client, looks_like_client_id
from oauth_core.ports import ClientSecretStore, ClientStore
from oauth_core.rules.throttle import CLIENT_SECRET, FailureThrottle

BASIC_CHALLENGE = 'Basic realm="oauth", charset="UTF-8"'
MAX_CREDENTIAL_LENGTH = 512
_DUMMY_SECRET = "x" * 43


@dataclass(frozen=True)
class PresentedCredentials:
    method: str
    client_id: str
    client_secret: str | None


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


class SecretRejected(InvalidClient):
    """A presented secret did not authenticate the client it named (or named no client): what
    the guessing limits count (SECURITY E8, E9). Other refusals guess nothing and are not."""


# Why a named client was refused, as its audit record says (oauth_core.audit).
UNKNOWN_CLIENT = "unknown_client"
BAD_SECRET = "bad_secret"
WRONG_METHOD = "wrong_method"
CLIENT_DISABLED = "client_disabled"


def _refused(error: OAuthError, reason: str) -> OAuthError:
    error.audit_reason = reason  # type: ignore[attr-defined]
    return error


class ClientAuthenticator:
    def __init__(self, clients: ClientStore, secrets: ClientSecretStore):
        self._clients = clients
        self._secrets = secrets

    def authenticate(
        self,
        authorization: str | None,
        form: Mapping[str, str],
        *,
        disabled_error: type[OAuthError] = InvalidClient,
        presented: PresentedCredentials | None = None,
    ) -> Client:
        """The authenticated client. A disabled client whose credentials are right is refused
        with `disabled_error`: invalid_client where it asks for something itself, invalid_grant
        where it presents a grant that no longer holds (SECURITY D7)."""
        presented = presented or presented_credentials(authorization, form)
        secret = presented.client_secret
        headers = (
            {"WWW-Authenticate": BASIC_CHALLENGE}
            if presented.method == constants.AUTH_METHOD_BASIC
            else None
        )
        failure = SecretRejected if secret is not None else InvalidClient
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
        if client.disabled:
            raise _refused(
                disabled_error(
                    "the client is disabled",
                    headers=headers if disabled_error is InvalidClient else None,
                ),
                CLIENT_DISABLED,
            )
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

    def __init__(self, authenticator: ClientAuthenticator, throttle: FailureThrottle):
        self._authenticator = authenticator
        self._throttle = throttle

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
        try:
            return self._authenticator.authenticate(
                authorization, form, disabled_error=disabled_error, presented=presented
            )
        except OAuthError as refused:
            if presented is not None:
                _audit_refusal(refused, presented)
            # Only a secret that was checked and wrong counts: a request with no readable
            # credentials guesses nothing, and counting it would let anyone who shares an
            # address (a web page in browsers behind one NAT) fill that address's bucket.
            if isinstance(refused, SecretRejected):
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
