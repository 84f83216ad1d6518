"""Settings from the environment, read once per container."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from oauth_core import constants

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def _int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


_ON = ("on", "true", "1", "yes")
_OFF = ("off", "false", "0", "no")


def _flag(name: str, raw: str) -> bool:
    text = raw.strip().lower()
    if text not in _ON + _OFF:
        raise ValueError(f"{name} must be on or off, got {raw!r}")
    return text in _ON


@dataclass(frozen=True)
class Settings:
    clients_table: str = constants.DEFAULT_CLIENTS_TABLE
    users_table: str = constants.DEFAULT_USERS_TABLE
    grants_table: str = constants.DEFAULT_GRANTS_TABLE
    # What operators declare: scopes (and, with later issues, APIs and attributes).
    registry_table: str = constants.DEFAULT_REGISTRY_TABLE
    # Users' second factors (TOTP secrets, recovery-code hashes): read by the login function only.
    factors_table: str = constants.DEFAULT_FACTORS_TABLE
    # Users' passkeys (WebAuthn credentials), one item each.
    passkeys_table: str = constants.DEFAULT_PASSKEYS_TABLE
    client_secret_prefix: str = constants.DEFAULT_CLIENT_SECRET_PREFIX
    # Upstream identity providers' client secrets, one per provider (docs/federation.md).
    provider_secret_prefix: str = constants.DEFAULT_PROVIDER_SECRET_PREFIX
    signing_keys_secret: str = constants.DEFAULT_SIGNING_KEYS_SECRET
    request_sealing_secret: str = constants.DEFAULT_REQUEST_SEALING_SECRET
    # A fixed issuer (custom domain, or the local stack). None: https://<API domain> per request.
    issuer: str | None = None
    # The protected API's identifier (`aud` of access tokens). None: <issuer>/resource.
    audience: str | None = None
    jwks_uri: str | None = None
    # Where a resource server reads the issuer's recent revocations (SECURITY F7), and how
    # often. None: <issuer>/revocations.
    revocations_uri: str | None = None
    revocation_refresh: int = constants.REVOCATION_REFRESH_SECONDS
    # Dynamic client registration (oauth_core.endpoints.registration): off or open; the scopes
    # a registered client may be given; how long an unused one lives; registrations per hour
    # from one source.
    client_registration: str = constants.REGISTRATION_OFF
    registration_scopes: str = "openid profile email offline_access"
    registered_client_ttl: int = 30 * 86400
    registrations_per_source: int = 20
    # Pushed authorization requests (RFC 9126) of public clients an hour from one source.
    public_pushes_per_source: int = 600
    # RFC 7009 access-token revocations of a client published to APIs an hour (beyond: revoked
    # at the issuer only).
    revocations_per_client: int = 600
    # Clients named by their metadata document's URL (oauth_core.admin.client_documents): on/off.
    client_id_metadata_documents: str = "off"
    # DPoP proofs must carry a nonce the token endpoint handed out (RFC 9449 8): on/off.
    dpop_nonces: str = "off"
    # RFC 9126 4: authorization requests only by reference to a pushed one, for every client.
    require_pushed_authorization_requests: bool = False
    # Every sign-in needs a second factor: a user without one enrols right after the password.
    require_mfa: bool = False
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
    # Registered scopes reach every container within this (a new scope, a changed description).
    registry_cache_ttl: int = 60
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
    # The function that sends back-channel logout tokens (None: a thread of this process).
    logout_notifier_function: str | None = None
    # The passkeys' RP ID when not the issuer's host: a registrable suffix of it (None: the host).
    passkey_rp_id: str | None = None
    # Recovery and verification by e-mail: the From address (an SES identity; None: no e-mail
    # is sent and the pages that would send one are not offered), an SES configuration set,
    # self sign-up, the limits an hour (requests from one source; e-mails asked for one
    # address or username), and how long an answer that may send one is held (ms).
    email_sender: str | None = None
    email_configuration_set: str | None = None
    self_sign_up: bool = False
    recoveries_per_source: int = 20
    sign_ups_per_source: int = 10
    emails_per_address: int = 5
    email_answer_ms: int = 1000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment gives (infra/ and local/ set it), the defaults above
        for the rest."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for name, variable in _TEXT.items():
            if env.get(variable):
                values[name] = env[variable]
        for name, variable in _NUMBERS.items():
            number = _int(env, variable)
            if number is not None:
                values[name] = number
        for name, variable in _OPTIONAL.items():
            values[name] = env.get(variable) or None
        for name, variable in _FLAGS.items():
            if env.get(variable):
                values[name] = _flag(variable, env[variable])
        values["issuer"] = (env.get(constants.ENV_ISSUER) or "").rstrip("/") or None
        if values.get("access_token_alg", "ES256") not in constants.SIGNING_ALGORITHMS:
            raise ValueError(f"{constants.ENV_ACCESS_TOKEN_ALG} must be ES256 or RS256")
        return cls(**values)  # type: ignore[arg-type]

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
            constants.ENV_REGISTRY_TABLE: self.registry_table,
            constants.ENV_FACTORS_TABLE: self.factors_table,
            constants.ENV_PASSKEYS_TABLE: self.passkeys_table,
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

    @property
    def sends_email(self) -> bool:
        """Whether the stack has a sender: recovery and verification by e-mail are offered."""
        return bool(self.email_sender)

    @property
    def offers_sign_up(self) -> bool:
        """Self sign-up: only when switched on, and only with a sender (the e-mail link is what
        creates the account)."""
        return self.self_sign_up and self.sends_email

    @property
    def uses_client_documents(self) -> bool:
        return self.client_id_metadata_documents == "on"

    @property
    def is_local(self) -> bool:
        """Served on a loopback address (the local stack): where loopback fetches are allowed."""
        issuer = self.issuer or ""
        return issuer.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))

    def passkey_relying_party(self, issuer: str) -> tuple[str, str]:
        """The passkeys' RP ID and the one origin their ceremonies may run on (WebAuthn L3
        5.1.3, 13.4.9): the issuer's host and origin, or a configured RP ID that the host is
        or ends with (a registrable suffix: passkeys shared with the apps on that domain).

        WebAuthn takes no IP address as an RP ID, so on a plain-http loopback development stack
        (http://127.0.0.1:8000) passkeys belong to `localhost` on the same port: they work on
        pages opened at http://localhost:8000, and pages at the address offer passwords only."""
        parts = urlsplit(issuer)
        host = (parts.hostname or "").lower()
        origin = f"{parts.scheme}://{parts.netloc}"
        if parts.scheme == "http" and host in ("127.0.0.1", "::1"):
            host = "localhost"
            origin = f"http://localhost:{parts.port}" if parts.port else "http://localhost"
        rp_id = (self.passkey_rp_id or host).lower().strip(".")
        if host != rp_id and not host.endswith("." + rp_id):
            raise ValueError(
                f"{constants.ENV_PASSKEY_RP_ID} must be the issuer's host or a suffix of it"
            )
        return rp_id, origin

    def audience_for(self, issuer: str) -> str:
        return self.audience or f"{issuer}/resource"


# Setting -> the environment variable that sets it (the names: oauth_core.constants).
_TEXT = {
    "clients_table": constants.ENV_CLIENTS_TABLE,
    "users_table": constants.ENV_USERS_TABLE,
    "grants_table": constants.ENV_GRANTS_TABLE,
    "registry_table": constants.ENV_REGISTRY_TABLE,
    "factors_table": constants.ENV_FACTORS_TABLE,
    "passkeys_table": constants.ENV_PASSKEYS_TABLE,
    "client_secret_prefix": constants.ENV_CLIENT_SECRET_PREFIX,
    "provider_secret_prefix": constants.ENV_PROVIDER_SECRET_PREFIX,
    "signing_keys_secret": constants.ENV_SIGNING_KEYS_SECRET,
    "request_sealing_secret": constants.ENV_REQUEST_SEALING_SECRET,
    "access_token_alg": constants.ENV_ACCESS_TOKEN_ALG,
    "client_registration": constants.ENV_CLIENT_REGISTRATION,
    "registration_scopes": constants.ENV_REGISTRATION_SCOPES,
    "client_id_metadata_documents": constants.ENV_CLIENT_ID_METADATA_DOCUMENTS,
    "dpop_nonces": constants.ENV_DPOP_NONCES,
}
_OPTIONAL = {
    "audience": constants.ENV_AUDIENCE,
    "jwks_uri": constants.ENV_JWKS_URI,
    "revocations_uri": constants.ENV_REVOCATIONS_URI,
    "logout_notifier_function": constants.ENV_LOGOUT_NOTIFIER_FUNCTION,
    "passkey_rp_id": constants.ENV_PASSKEY_RP_ID,
    "email_sender": constants.ENV_EMAIL_SENDER,
    "email_configuration_set": constants.ENV_EMAIL_CONFIGURATION_SET,
}
_FLAGS = {
    "require_pushed_authorization_requests": constants.ENV_REQUIRE_PUSHED_REQUESTS,
    "require_mfa": constants.ENV_REQUIRE_MFA,
    "self_sign_up": constants.ENV_SELF_SIGN_UP,
}
_NUMBERS = {
    "access_token_ttl": constants.ENV_ACCESS_TOKEN_TTL,
    "code_ttl": constants.ENV_CODE_TTL,
    "refresh_token_idle_ttl": constants.ENV_REFRESH_IDLE_TTL,
    "refresh_token_absolute_ttl": constants.ENV_REFRESH_ABSOLUTE_TTL,
    "secret_cache_ttl": constants.ENV_SECRET_CACHE_TTL,
    "jwks_cache_ttl": constants.ENV_JWKS_CACHE_TTL,
    "client_cache_ttl": constants.ENV_CLIENT_CACHE_TTL,
    "registry_cache_ttl": constants.ENV_REGISTRY_CACHE_TTL,
    "secret_rotation_grace": constants.ENV_SECRET_ROTATION_GRACE,
    "session_ttl": constants.ENV_SESSION_TTL,
    "max_failures": constants.ENV_MAX_FAILURES,
    "max_failures_per_ip": constants.ENV_MAX_FAILURES_PER_IP,
    "failure_window": constants.ENV_FAILURE_WINDOW,
    "revocation_refresh": constants.ENV_REVOCATION_REFRESH,
    "registered_client_ttl": constants.ENV_REGISTERED_CLIENT_TTL,
    "registrations_per_source": constants.ENV_REGISTRATIONS_PER_SOURCE,
    "public_pushes_per_source": constants.ENV_PUBLIC_PUSHES_PER_SOURCE,
    "revocations_per_client": constants.ENV_REVOCATIONS_PER_CLIENT,
    "recoveries_per_source": constants.ENV_RECOVERIES_PER_SOURCE,
    "sign_ups_per_source": constants.ENV_SIGN_UPS_PER_SOURCE,
    "emails_per_address": constants.ENV_EMAILS_PER_ADDRESS,
    "email_answer_ms": constants.ENV_EMAIL_ANSWER_MS,
}
