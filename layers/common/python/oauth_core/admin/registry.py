"""Registering and managing clients: validation in RFC 7591 terms, secrets in the secret store.

Used by oauthctl and by the seed loader, so both refuse the same unsafe registrations (A10).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from dataclasses import replace as replace_fields
from typing import Any

from oauth_core import constants
from oauth_core.admin.catalog import IDENTIFIER_RULE, is_api_identifier
from oauth_core.clock import Clock, Random
from oauth_core.errors import ConditionFailed
from oauth_core.models import CLIENT_ID_PATTERN, Client
from oauth_core.ports import CatalogSource, ClientSecretStore, ClientStore
from oauth_core.rules import client_keys, redirect_uri, scope

# What the server sets on a client, never the metadata an operator or a client gives.
SERVER_SET_FIELDS = frozenset(
    {
        "created_at",
        "registration_id",
        "registered_dynamically",
        "registration_token_hash",
        "purge_at",
    }
)
# Every Client field but those, and the secret (kept in the secret store, not on the client).
KNOWN_FIELDS = frozenset(
    {f.name for f in dataclass_fields(Client)} - SERVER_SET_FIELDS | {"client_secret"}
)
MIN_SECRET_LENGTH = 32
MAX_REUSE_GRACE = 60


class InvalidClientMetadata(ValueError):
    """A registration refused; `field` names the offending field (RFC 7591 3.2.2)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _string_list(data: Mapping[str, Any], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = data.get(name, list(default))
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidClientMetadata(name, "must be a list of strings")
    return tuple(value)


def validate_metadata(data: Mapping[str, Any], *, now: int = 0) -> Client:
    """Build a Client from RFC 7591 metadata, refusing anything unsafe or unsupported."""
    unknown = set(data) - KNOWN_FIELDS
    if unknown:
        raise InvalidClientMetadata(sorted(unknown)[0], "is not a known client field")
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.match(client_id):
        raise InvalidClientMetadata("client_id", "must be 1-128 characters of [A-Za-z0-9._~-]")
    method = data.get("token_endpoint_auth_method", constants.AUTH_METHOD_BASIC)
    if method not in constants.SUPPORTED_AUTH_METHODS:
        raise InvalidClientMetadata(
            "token_endpoint_auth_method",
            f"must be one of {', '.join(constants.SUPPORTED_AUTH_METHODS)}",
        )
    grant_types = _string_list(data, "grant_types", (constants.GRANT_AUTHORIZATION_CODE,))
    if not grant_types:
        raise InvalidClientMetadata("grant_types", "must name at least one grant type")
    for grant in grant_types:
        if grant not in constants.SUPPORTED_GRANT_TYPES:
            raise InvalidClientMetadata("grant_types", f"{grant!r} is not supported")
    if method == constants.AUTH_METHOD_NONE and constants.GRANT_CLIENT_CREDENTIALS in grant_types:
        raise InvalidClientMetadata("grant_types", "a public client cannot use client_credentials")
    application_type = data.get("application_type", constants.APPLICATION_WEB)
    if application_type not in constants.APPLICATION_TYPES:
        raise InvalidClientMetadata(
            "application_type", f"must be one of {', '.join(constants.APPLICATION_TYPES)}"
        )
    uses_code = constants.GRANT_AUTHORIZATION_CODE in grant_types
    response_types = _string_list(data, "response_types", ("code",) if uses_code else ())
    if any(rt != "code" for rt in response_types):
        raise InvalidClientMetadata("response_types", "only 'code' is supported")
    redirect_uris = _string_list(data, "redirect_uris", ())
    if uses_code and not redirect_uris:
        raise InvalidClientMetadata("redirect_uris", "are required for authorization_code")
    for uri in redirect_uris:
        try:
            redirect_uri.validate_registration(uri)
        except redirect_uri.UnsafeRedirectUri as exc:
            raise InvalidClientMetadata("redirect_uris", f"{uri!r}: {exc}") from exc
    scope_value = data.get("scope", "")
    if not isinstance(scope_value, str) or not scope.is_valid_scope_string(scope_value):
        raise InvalidClientMetadata("scope", "must be a space-separated string of scope tokens")
    client_name = data.get("client_name", client_id)
    if not isinstance(client_name, str) or len(client_name) > 200:
        raise InvalidClientMetadata("client_name", "must be a string of at most 200 characters")
    ttl = data.get("access_token_ttl")
    if ttl is not None and (
        not isinstance(ttl, int) or isinstance(ttl, bool) or not 60 <= ttl <= 86400
    ):
        raise InvalidClientMetadata("access_token_ttl", "must be an integer from 60 to 86400")
    alg = data.get("id_token_signed_response_alg", "RS256")
    if alg not in constants.SIGNING_ALGORITHMS:
        raise InvalidClientMetadata("id_token_signed_response_alg", "must be RS256 or ES256")
    for flag in (
        "first_party",
        "introspection",
        "dpop_bound_access_tokens",
        "require_pushed_authorization_requests",
        "require_mfa",
        "disabled",
    ):
        if not isinstance(data.get(flag, False), bool):
            raise InvalidClientMetadata(flag, "must be true or false")
    grace = data.get("refresh_token_reuse_grace_seconds", 0)
    if not isinstance(grace, int) or isinstance(grace, bool) or not 0 <= grace <= MAX_REUSE_GRACE:
        raise InvalidClientMetadata(
            "refresh_token_reuse_grace_seconds", f"whole seconds from 0 to {MAX_REUSE_GRACE}"
        )
    default_resource = data.get("default_resource") or ""
    if default_resource and not is_api_identifier(default_resource):
        raise InvalidClientMetadata("default_resource", IDENTIFIER_RULE)
    jwks, jwks_uri = _signing_keys(data, method)
    post_logout_redirect_uris = _string_list(data, "post_logout_redirect_uris", ())
    for uri in post_logout_redirect_uris:
        _check_uri("post_logout_redirect_uris", uri, web_only=False)
    backchannel_logout_uri = data.get("backchannel_logout_uri") or ""
    if backchannel_logout_uri:
        _check_uri("backchannel_logout_uri", backchannel_logout_uri, web_only=True)
    return Client(
        client_id=client_id,
        client_name=client_name,
        application_type=application_type,
        redirect_uris=redirect_uris,
        grant_types=grant_types,
        response_types=response_types,
        token_endpoint_auth_method=method,
        scope=scope.render(scope.parse(scope_value)),
        first_party=bool(data.get("first_party", False)),
        introspection=bool(data.get("introspection", False)),
        default_resource=default_resource,
        refresh_token_reuse_grace_seconds=grace,
        access_token_ttl=ttl,
        id_token_signed_response_alg=alg,
        jwks=jwks,
        jwks_uri=jwks_uri,
        dpop_bound_access_tokens=bool(data.get("dpop_bound_access_tokens", False)),
        require_pushed_authorization_requests=bool(
            data.get("require_pushed_authorization_requests", False)
        ),
        require_mfa=bool(data.get("require_mfa", False)),
        post_logout_redirect_uris=post_logout_redirect_uris,
        backchannel_logout_uri=backchannel_logout_uri,
        disabled=bool(data.get("disabled", False)),
        created_at=now,
    )


def _signing_keys(data: Mapping[str, Any], method: str) -> tuple[dict[str, Any] | None, str]:
    """A private_key_jwt client's keys: a JWK Set or the URL of one, exactly one of them; no
    other client has any (RFC 7591 2: jwks and jwks_uri MUST NOT both be present)."""
    jwks_value, jwks_uri = data.get("jwks"), data.get("jwks_uri") or ""
    if method != constants.AUTH_METHOD_PRIVATE_KEY_JWT:
        if jwks_value or jwks_uri:
            raise InvalidClientMetadata(
                "jwks" if jwks_value else "jwks_uri",
                "keys are registered only for token_endpoint_auth_method private_key_jwt",
            )
        return None, ""
    if bool(jwks_value) == bool(jwks_uri):
        raise InvalidClientMetadata("jwks", "private_key_jwt needs exactly one of jwks, jwks_uri")
    if jwks_uri:
        _check_uri("jwks_uri", jwks_uri, web_only=True)
        return None, jwks_uri
    try:
        return client_keys.validate_jwks(jwks_value), ""
    except client_keys.UnfitKeys as exc:
        raise InvalidClientMetadata("jwks", str(exc)) from exc


def _check_uri(field: str, uri: Any, *, web_only: bool) -> None:
    """Registered URIs follow the redirect URI rules (A10); a URI this server calls (a key set,
    a logout endpoint) must be https, or http on loopback."""
    if not isinstance(uri, str):
        raise InvalidClientMetadata(field, "must be a string")
    try:
        redirect_uri.validate_registration(uri)
    except redirect_uri.UnsafeRedirectUri as exc:
        raise InvalidClientMetadata(field, f"{uri!r}: {exc}") from exc
    if web_only and not uri.startswith(("https://", "http://")):
        raise InvalidClientMetadata(field, "must be an https URL (or http on loopback)")


@dataclass(frozen=True)
class Registration:
    client: Client
    client_secret: str | None  # shown once, never stored outside the secret store


class ClientRegistry:
    def __init__(
        self,
        clients: ClientStore,
        secrets: ClientSecretStore,
        scopes: CatalogSource,
        clock: Clock,
        random: Random,
    ):
        self._clients = clients
        self._secrets = secrets
        self._scopes = scopes
        self._clock = clock
        self._random = random

    def _validated(self, data: Mapping[str, Any], *, now: int) -> Client:
        """The client the metadata describes, given only scopes this server knows."""
        client = validate_metadata(data, now=now)
        catalog = self._scopes.catalog()
        unknown = catalog.unknown_scopes(client.allowed_scopes)
        if unknown:
            raise InvalidClientMetadata(
                "scope",
                f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not registered "
                "(oauthctl scopes create, or the seed's scopes)",
            )
        if client.default_resource and client.default_resource not in catalog.apis:
            raise InvalidClientMetadata(
                "default_resource",
                f"{client.default_resource} is not a registered API (oauthctl apis create)",
            )
        return client

    def _check_secret(self, secret: Any) -> str:
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
            raise InvalidClientMetadata(
                "client_secret", f"must be a string of at least {MIN_SECRET_LENGTH} characters"
            )
        return secret

    def create(self, metadata: Mapping[str, Any], *, replace: bool = False) -> Registration:
        data = dict(metadata)
        given_secret = data.pop("client_secret", None)
        client = replace_fields(
            self._validated(data, now=self._clock.now()),
            registration_id=self._random.token(16),
        )
        secret: str | None = None
        if client.uses_secret:
            secret = self._check_secret(given_secret) if given_secret else self._random.token(32)
        elif given_secret:
            raise InvalidClientMetadata(
                "client_secret", f"a {client.token_endpoint_auth_method} client has no secret"
            )
        # The secret goes in first: a client record is never live without its secret.
        if secret is not None:
            self._secrets.set_secret(client.client_id, secret, client.registration_id)
        try:
            self._clients.put(client, must_not_exist=not replace)
        except ConditionFailed as exc:
            raise InvalidClientMetadata("client_id", "is already registered") from exc
        return Registration(client, secret)

    def get(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    def list(self) -> list[Client]:
        return self._clients.list()

    def update(self, client_id: str, changes: Mapping[str, Any]) -> Client:
        current = self._require(client_id)
        if "client_id" in changes and changes["client_id"] != client_id:
            raise InvalidClientMetadata("client_id", "cannot be changed")
        if "client_secret" in changes:
            raise InvalidClientMetadata("client_secret", "use rotate-secret")
        merged = {**_metadata_of(current), **changes}
        updated = replace_fields(
            self._validated(merged, now=current.created_at),
            registration_id=current.registration_id,
            # A self-registered client stays one (an operator may disable or change it).
            registered_dynamically=current.registered_dynamically,
            registration_token_hash=current.registration_token_hash,
            purge_at=current.purge_at,
        )
        self._clients.put(updated)
        return updated

    def rotate_secret(self, client_id: str) -> str:
        client = self._require(client_id)
        if not client.uses_secret:
            raise InvalidClientMetadata(
                "client_secret", f"a {client.token_endpoint_auth_method} client has no secret"
            )
        secret = self._random.token(32)
        self._secrets.set_secret(client_id, secret, client.registration_id)
        return secret

    def delete(self, client_id: str) -> bool:
        # The record goes first: without it the secret authenticates nothing.
        deleted = self._clients.delete(client_id)
        self._secrets.delete_secret(client_id)
        return deleted

    def _require(self, client_id: str) -> Client:
        client = self._clients.get(client_id)
        if client is None:
            raise InvalidClientMetadata("client_id", f"no client {client_id!r}")
        return client


def _metadata_of(client: Client) -> dict[str, Any]:
    item = client.to_item()
    for name in SERVER_SET_FIELDS:
        item.pop(name, None)
    return item
