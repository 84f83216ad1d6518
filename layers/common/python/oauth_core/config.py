"""Settings from the environment, read once per container."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from oauth_core import constants

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    clients_table: str = constants.DEFAULT_CLIENTS_TABLE
    users_table: str = constants.DEFAULT_USERS_TABLE
    grants_table: str = constants.DEFAULT_GRANTS_TABLE
    client_secret_prefix: str = constants.DEFAULT_CLIENT_SECRET_PREFIX
    signing_keys_secret: str = constants.DEFAULT_SIGNING_KEYS_SECRET
    request_sealing_secret: str = constants.DEFAULT_REQUEST_SEALING_SECRET
    # A fixed issuer (custom domain, or the local stack). None: https://<API domain> per request.
    issuer: str | None = None
    # The protected API's identifier (`aud` of access tokens). None: <issuer>/resource.
    audience: str | None = None
    jwks_uri: str | None = None
    access_token_ttl: int = 600
    access_token_alg: str = "ES256"
    code_ttl: int = 60
    refresh_token_idle_ttl: int = 14 * 24 * 3600
    refresh_token_absolute_ttl: int = 90 * 24 * 3600
    secret_cache_ttl: int = 300
    # The key set as published (JWKS) and as trusted by introspection and revocation is re-read
    # sooner than the signing set, so a new key is published everywhere well before it signs.
    jwks_cache_ttl: int = 30
    client_cache_ttl: int = 60
    # How long a client's previous secret still works after a rotation.
    secret_rotation_grace: int = 24 * 3600
    session_ttl: int = 8 * 3600
    pending_request_ttl: int = 600
    consent_ttl: int = 180 * 24 * 3600
    id_token_ttl: int = 600
    # Failed sign-ins (per account, per client IP) and failed client authentications allowed
    # in one window before 429.
    max_failures: int = 10
    max_failures_per_ip: int = 100
    failure_window: int = 300

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        alg = env.get(constants.ENV_ACCESS_TOKEN_ALG, "ES256")
        if alg not in ("ES256", "RS256"):
            raise ValueError(
                f"{constants.ENV_ACCESS_TOKEN_ALG} must be ES256 or RS256, got {alg!r}"
            )
        return cls(
            clients_table=env.get(constants.ENV_CLIENTS_TABLE, constants.DEFAULT_CLIENTS_TABLE),
            users_table=env.get(constants.ENV_USERS_TABLE, constants.DEFAULT_USERS_TABLE),
            grants_table=env.get(constants.ENV_GRANTS_TABLE, constants.DEFAULT_GRANTS_TABLE),
            client_secret_prefix=env.get(
                constants.ENV_CLIENT_SECRET_PREFIX, constants.DEFAULT_CLIENT_SECRET_PREFIX
            ),
            signing_keys_secret=env.get(
                constants.ENV_SIGNING_KEYS_SECRET, constants.DEFAULT_SIGNING_KEYS_SECRET
            ),
            request_sealing_secret=env.get(
                constants.ENV_REQUEST_SEALING_SECRET, constants.DEFAULT_REQUEST_SEALING_SECRET
            ),
            issuer=(env.get(constants.ENV_ISSUER) or "").rstrip("/") or None,
            audience=env.get(constants.ENV_AUDIENCE) or None,
            jwks_uri=env.get(constants.ENV_JWKS_URI) or None,
            access_token_ttl=_int(env, constants.ENV_ACCESS_TOKEN_TTL, 600),
            access_token_alg=alg,
            code_ttl=_int(env, constants.ENV_CODE_TTL, 60),
            refresh_token_idle_ttl=_int(env, constants.ENV_REFRESH_IDLE_TTL, 14 * 24 * 3600),
            refresh_token_absolute_ttl=_int(
                env, constants.ENV_REFRESH_ABSOLUTE_TTL, 90 * 24 * 3600
            ),
            secret_cache_ttl=_int(env, constants.ENV_SECRET_CACHE_TTL, 300),
            jwks_cache_ttl=_int(env, constants.ENV_JWKS_CACHE_TTL, 30),
            client_cache_ttl=_int(env, constants.ENV_CLIENT_CACHE_TTL, 60),
            secret_rotation_grace=_int(env, constants.ENV_SECRET_ROTATION_GRACE, 24 * 3600),
            session_ttl=_int(env, constants.ENV_SESSION_TTL, 8 * 3600),
            max_failures=_int(env, constants.ENV_MAX_FAILURES, 10),
            max_failures_per_ip=_int(env, constants.ENV_MAX_FAILURES_PER_IP, 100),
            failure_window=_int(env, constants.ENV_FAILURE_WINDOW, 300),
        )

    @property
    def secure_cookies(self) -> bool:
        """Plain-http cookies only for a loopback development issuer (SECURITY G9): any other
        issuer, plain http included, gets `Secure` and `__Host-` cookies."""
        host = urlsplit(self.issuer or "").hostname
        return not (self.issuer or "").startswith("http://") or host not in LOOPBACK_HOSTS

    def table_name(self, env_var: str) -> str:
        """The configured name of the table whose name is read from `env_var`."""
        return {
            constants.ENV_CLIENTS_TABLE: self.clients_table,
            constants.ENV_USERS_TABLE: self.users_table,
            constants.ENV_GRANTS_TABLE: self.grants_table,
        }[env_var]

    def issuer_for(self, domain_name: str | None) -> str:
        """The issuer: configured, else the API's own domain as API Gateway reports it.

        Never taken from a client-supplied Host header: API Gateway fills domainName itself.
        """
        if self.issuer:
            return self.issuer
        if not domain_name:
            raise ValueError("no issuer configured and no domain name in the request context")
        return f"https://{domain_name}"

    def audience_for(self, issuer: str) -> str:
        return self.audience or f"{issuer}/resource"
