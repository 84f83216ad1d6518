"""Dynamic client registration (RFC 7591) and its management (RFC 7592), for clients that find
this server on their own, as MCP clients do. Off unless the stack turns it on
(`client_registration`); then open, within a policy no caller can widen:

- only public clients (`token_endpoint_auth_method: none`): an anonymous caller never makes the
  server store a secret, and every code flow of theirs needs PKCE as everyone's does (C rows);
- only the code flow and refresh tokens, with `https` or loopback `http` redirect URIs (the same
  checks as an operator's registration, SECURITY A10), a native app's loopback port free;
- only scopes on the stack's allow-list (`registration_scopes`); others are left out;
- counted per source (a /64 for IPv6) in a token bucket, so one caller cannot fill the table;
- marked as registered so, and deleted by DynamoDB's TTL `registered_client_ttl` after the
  registration was last read or updated through its `registration_client_uri`.

What the client sent and this server cannot honour is replaced (RFC 7591 3.2.1 allows it) and
the answer says what was registered; metadata it does not know is ignored. The registration
access token is shown once and kept only as a hash; reading, updating or deleting the
registration needs it, compared in constant time.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from oauth_core import constants
from oauth_core.admin.registry import InvalidClientMetadata
from oauth_core.admin.self_described import self_described_client
from oauth_core.clock import Clock, Random
from oauth_core.config import Settings
from oauth_core.errors import ConditionFailed, OAuthError, TooManyRequests
from oauth_core.http.forms import parse_query
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse, json_response
from oauth_core.models import Client
from oauth_core.observability import count
from oauth_core.ports import CatalogSource, ClientStore, GrantStore, RateLimiter
from oauth_core.rate_limit import Limit, source_of
from oauth_core.rules import scope
from oauth_core.rules.hashing import token_hash

MAX_BODY_BYTES = 16 * 1024
CLIENT_ID_PREFIX = "dyn."
# The metadata a registration answers with (RFC 7591 3.2.1), from the client as registered.
ANSWERED = (
    "client_id",
    "client_name",
    "application_type",
    "redirect_uris",
    "grant_types",
    "response_types",
    "token_endpoint_auth_method",
    "scope",
)


class InvalidMetadata(OAuthError):
    error = "invalid_client_metadata"


class InvalidRedirectUri(OAuthError):
    error = "invalid_redirect_uri"


class RegistrationDisabled(OAuthError):
    error = "access_denied"
    status_code = 403


class InitialAccessTokenRefused(OAuthError):
    """RFC 7591 3: registration needs an initial access token, and this one is not good."""

    error = "invalid_token"
    status_code = 401

    def __init__(self) -> None:
        super().__init__(
            "registration needs a valid initial access token (ask this server's operator)",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


class RegistrationTokenRefused(OAuthError):
    """RFC 7592 3: a wrong or missing registration access token, or no such client."""

    error = "invalid_token"
    status_code = 401

    def __init__(self) -> None:
        super().__init__(
            "the registration access token is not valid for this client",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


class RegistrationEndpoint:
    def __init__(
        self,
        clients: ClientStore,
        catalog: CatalogSource,
        limiter: RateLimiter,
        grants: GrantStore,
        settings: Settings,
        clock: Clock,
        random: Random,
    ):
        self._grants = grants
        self._clients = clients
        self._catalog = catalog
        self._limiter = limiter
        self._settings = settings
        self._clock = clock
        self._random = random

    # --- POST /register (RFC 7591) ---------------------------------------------------------------

    def register(self, request: HttpRequest) -> HttpResponse:
        self._require_enabled()
        metadata = _json_body(request)
        self._count(request)
        client_id = CLIENT_ID_PREFIX + self._random.token(16)
        client = self._validated(metadata, client_id)  # before a use of a token is spent
        if self._settings.client_registration == constants.REGISTRATION_TOKEN:
            # RFC 7591 3: only with an initial access token an operator handed out.
            presented = _bearer(request.header("authorization"))
            spent = presented is not None and self._grants.spend_initial_access_token(
                token_hash(presented), self._clock.now()
            )
            if not spent:
                raise InitialAccessTokenRefused()
        token = self._random.token(constants.OPAQUE_TOKEN_BYTES)
        now = self._clock.now()
        client = replace(
            client,
            registration_id=self._random.token(16),
            registered_dynamically=True,
            registration_token_hash=token_hash(token),
            purge_at=now + self._settings.registered_client_ttl,
        )
        try:
            self._clients.put(client, must_not_exist=True)
        except ConditionFailed:  # 128 random bits: never; refused rather than overwritten
            raise InvalidMetadata("the client could not be registered; try again") from None
        count("ClientRegistered")
        answer = self._answer(request, client)
        answer.update(client_id_issued_at=now, registration_access_token=token)
        return json_response(201, answer)

    # --- GET, PUT, DELETE /register?client_id=... (RFC 7592) ------------------------------------

    def read(self, request: HttpRequest) -> HttpResponse:
        client = self._renewed(self._authorized(request))
        return json_response(200, self._answer(request, client))

    def update(self, request: HttpRequest) -> HttpResponse:
        current = self._authorized(request)
        if current.disabled:
            # An operator disabled it: the client cannot undo that by registering again.
            raise InvalidMetadata("the client is disabled by this server's operator")
        metadata = _json_body(request)
        if metadata.get("client_id", current.client_id) != current.client_id:
            raise InvalidMetadata("client_id cannot be changed")
        for field in ("client_secret", "registration_access_token", "registration_client_uri"):
            metadata.pop(field, None)
        updated = replace(
            self._validated(metadata, current.client_id),
            registration_id=current.registration_id,
            registered_dynamically=True,
            registration_token_hash=current.registration_token_hash,
            created_at=current.created_at,
            # What an operator set stays as they set it.
            first_party=current.first_party,
            introspection=current.introspection,
            default_resource=current.default_resource,
            access_token_ttl=current.access_token_ttl,
        )
        client = self._renewed(updated)
        return json_response(200, self._answer(request, client))

    def delete(self, request: HttpRequest) -> HttpResponse:
        client = self._authorized(request)
        self._clients.delete(client.client_id)
        count("ClientRegistrationDeleted")
        return HttpResponse(204, "", {"Cache-Control": "no-store"})

    # --- helpers ---------------------------------------------------------------------------------

    def _require_enabled(self) -> None:
        if self._settings.client_registration not in (
            constants.REGISTRATION_OPEN,
            constants.REGISTRATION_TOKEN,
        ):
            raise RegistrationDisabled("client registration is not enabled on this server")

    def _count(self, request: HttpRequest) -> None:
        """Every registration takes one from its source's bucket (refused: 429)."""
        limit = Limit(self._settings.registrations_per_source, 3600)
        key = f"register#{source_of(request.source_ip)}"
        taken, empty_at = self._limiter.take(key, self._clock.now_ms(), limit)
        if not taken:
            count("RegistrationThrottled")
            retry = (empty_at - self._clock.now_ms() - limit.window_ms + limit.interval_ms) // 1000
            raise TooManyRequests(retry + 1, "too many registrations from this source")

    def _validated(self, metadata: dict[str, Any], client_id: str) -> Client:
        """The client this server registers for the metadata: its policy applied."""
        allowed = scope.parse(self._settings.registration_scopes)
        known = frozenset(self._catalog.catalog().scopes)
        # What the consent page shows: its own name, said to be unverified, with where it
        # sends the user (no anonymous caller can pass as an app the operator registered).
        name = metadata.get("client_name")
        name = name[:100] if isinstance(name, str) and name else client_id
        uris = metadata.get("redirect_uris")
        first = uris[0] if isinstance(uris, list) and uris and isinstance(uris[0], str) else ""
        host = urlsplit(first).hostname or "unknown"
        try:
            return self_described_client(
                metadata,
                client_id,
                f"{name} (unverified, {host})",
                allowed & known,
                self._clock.now(),
            )
        except InvalidClientMetadata as exc:
            kind = InvalidRedirectUri if exc.field == "redirect_uris" else InvalidMetadata
            raise kind(str(exc)) from exc

    def _authorized(self, request: HttpRequest) -> Client:
        """The client a management request names, if its registration access token is right."""
        self._require_enabled()
        client_id = parse_query(request).get("client_id", "")
        presented = _bearer(request.header("authorization"))
        client = self._clients.get(client_id) if client_id and presented else None
        expected = client.registration_token_hash if client is not None else ""
        given = token_hash(presented or "")
        if not (client and client.registered_dynamically and expected) or not hmac.compare_digest(
            expected, given
        ):
            raise RegistrationTokenRefused()
        return client

    def _renewed(self, client: Client) -> Client:
        """Read or updated through its registration URI: in use, so kept longer."""
        renewed = replace(client, purge_at=self._clock.now() + self._settings.registered_client_ttl)
        try:
            # Only over the registration read: an operator's delete meanwhile is not undone.
            self._clients.put(renewed, replacing=client.registration_id)
        except ConditionFailed:
            raise RegistrationTokenRefused() from None
        return renewed

    def _answer(self, request: HttpRequest, client: Client) -> dict[str, Any]:
        item = client.to_item()
        answer = {name: item[name] for name in ANSWERED}
        issuer = self._settings.issuer_for(request.domain_name)
        answer["registration_client_uri"] = (
            f"{issuer}{constants.REGISTRATION_PATH}?client_id={client.client_id}"
        )
        return answer


def _json_body(request: HttpRequest) -> dict[str, Any]:
    content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise InvalidMetadata("the body must be application/json")
    if len(request.body) > MAX_BODY_BYTES:
        raise InvalidMetadata("the client metadata is too large")
    try:
        document = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidMetadata("the body is not JSON") from None
    if not isinstance(document, dict):
        raise InvalidMetadata("the client metadata must be a JSON object")
    return document


def _bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 256:
        return None
    return token
