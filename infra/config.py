"""Stack configuration from CDK context (`cdk.json`, or `-c key=value`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from oauth_core import constants
from oauth_core.emails import normalized_email

_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}
# The audit log may be kept for longer (what a compliance regime asks: often one year or more).
_AUDIT_RETENTION = {
    **_RETENTION,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


# SES configuration set names: letters, digits, _ and -, at most 64.
_CONFIGURATION_SET = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ConfigError(ValueError):
    """A context value that cannot configure the stack; the message names the key."""


_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no")


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in _TRUE + _FALSE:
        raise ConfigError(f"{name}: expected true or false, got {value!r}")
    return text in _TRUE


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{name}: expected a whole number, got {value!r}")
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {value!r}") from None


# Whole-number settings and the range each may take (Lambda's memory limits; a day of token
# lifetime at most; positive counts and periods).
_RANGES: dict[str, tuple[int, int]] = {
    "access_token_ttl": (60, 86_400),
    "refresh_token_idle_ttl": (300, 400 * 86_400),
    "refresh_token_absolute_ttl": (300, 400 * 86_400),
    "memory_mb": (128, 10_240),
    "resource_memory_mb": (128, 10_240),
    "key_rotation_days": (1, 365),
    "max_failed_attempts": (1, 10_000),
    "max_failed_attempts_per_source": (1, 1_000_000),
    "failed_attempts_window": (1, 86_400),
    "throttle_rate": (1, 1_000_000),
    "throttle_burst": (1, 1_000_000),
}


@dataclass(frozen=True)
class StackConfig:
    stack_name: str = "OAuthServer"
    stage: str = "prod"
    custom_domain: str | None = None
    certificate_arn: str | None = None
    access_token_ttl: int = 600
    refresh_token_idle_ttl: int = 14 * 24 * 3600
    refresh_token_absolute_ttl: int = 90 * 24 * 3600
    architecture: str = "arm64"
    memory_mb: int = 512
    resource_memory_mb: int = 256
    log_retention_days: int = 30
    # The audit log (infra/audit.py): how long it is kept, and whether its records also go to
    # an EventBridge bus of the stack's own.
    audit_retention_days: int = 365
    audit_event_bus: bool = False
    removal_policy: str = "retain"
    deletion_protection: bool = True
    key_rotation_days: int = 30
    # Guessing limits (oauth_core.rules.throttle): failures per client or user and source, per
    # source, and how long a full bucket takes to drain.
    max_failed_attempts: int = 10
    max_failed_attempts_per_source: int = 100
    failed_attempts_window: int = 300
    throttle_rate: int = 200
    throttle_burst: int = 400
    alarm_email: str | None = None
    skip_bundling: bool = False
    # SnapStart for the functions behind the API (docs/performance.md: what it changes, costs).
    snap_start: bool = False
    # Dynamic client registration (RFC 7591): off, or open to public clients within the policy
    # of oauth_core.endpoints.registration, given only these scopes.
    client_registration: str = constants.REGISTRATION_OFF
    registration_scopes: str = "openid profile email offline_access"
    # Clients named by the https URL of their metadata document (fetched with SSRF defences).
    client_id_metadata_documents: bool = False
    # DPoP proofs at the token endpoint must carry a server nonce (RFC 9449 8).
    dpop_nonces: bool = False
    # RFC 9126 4: authorization requests only by reference to one pushed to /par, for every
    # client (a client may require it of itself: require_pushed_authorization_requests).
    require_pushed_authorization_requests: bool = False
    # Every sign-in needs a second factor (docs/deploy.md): users without one set up an
    # authenticator app right after their password.
    require_mfa: bool = False
    # Passkeys: their RP ID when not the issuer's host (the custom domain): a registrable suffix
    # of it, so the apps on that domain can use the same passkeys. Passkeys are bound to it for
    # good: choose before users add any.
    passkey_rp_id: str | None = None
    # Recovery and verification by e-mail (infra/email.py): the From address (an SES identity
    # must cover it; unset: no e-mail, no "Forgot your password?"), that identity (a domain, an
    # address, or its ARN; default: the sender's address), an SES configuration set, and self
    # sign-up (needs a sender).
    ses_sender: str | None = None
    ses_identity: str | None = None
    ses_configuration_set: str | None = None
    self_sign_up: bool = False

    @classmethod
    def from_context(cls, get: Any) -> StackConfig:
        """`get` is `node.try_get_context`. A bad value raises ConfigError naming its key."""
        defaults = cls()
        values: dict[str, Any] = {}
        for name, default in defaults.__dict__.items():
            raw = get(name)
            if raw is None:
                continue
            if isinstance(default, bool):
                values[name] = _bool(name, raw)
            elif isinstance(default, int):
                values[name] = _int(name, raw)
            else:
                values[name] = str(raw)
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        if self.architecture not in ("arm64", "x86_64"):
            raise ConfigError(f"architecture: arm64 or x86_64, not {self.architecture!r}")
        if self.removal_policy not in ("retain", "destroy"):
            raise ConfigError(f"removal_policy: retain or destroy, not {self.removal_policy!r}")
        if self.log_retention_days not in _RETENTION:
            raise ConfigError(
                f"log_retention_days: one of {sorted(_RETENTION)}, not {self.log_retention_days}"
            )
        if self.audit_retention_days not in _AUDIT_RETENTION:
            raise ConfigError(
                f"audit_retention_days: one of {sorted(_AUDIT_RETENTION)}, "
                f"not {self.audit_retention_days}"
            )
        if self.client_registration not in constants.REGISTRATION_POLICIES:
            raise ConfigError(
                f"client_registration: off, open or token, not {self.client_registration!r}"
            )
        if bool(self.custom_domain) != bool(self.certificate_arn):
            raise ConfigError("custom_domain and certificate_arn go together: set both or neither")
        if self.passkey_rp_id is not None:
            domain, rp_id = (self.custom_domain or "").lower(), self.passkey_rp_id.lower()
            if not domain or (domain != rp_id and not domain.endswith("." + rp_id)):
                raise ConfigError(
                    "passkey_rp_id: the custom_domain or a suffix of it (and a custom_domain set), "
                    f"not {self.passkey_rp_id!r}"
                )
        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError(f"{name}: from {low} to {high}, not {value}")
        self._validate_email()
        if self.refresh_token_idle_ttl > self.refresh_token_absolute_ttl:
            raise ConfigError(
                "refresh_token_idle_ttl: no longer than refresh_token_absolute_ttl "
                f"({self.refresh_token_idle_ttl} > {self.refresh_token_absolute_ttl})"
            )

    def _validate_email(self) -> None:
        if self.ses_sender is None:
            for name in ("ses_identity", "ses_configuration_set"):
                if getattr(self, name):
                    raise ConfigError(f"{name}: needs ses_sender, the address e-mail comes from")
            if self.self_sign_up:
                raise ConfigError(
                    "self_sign_up: needs ses_sender (its e-mail link creates the account)"
                )
            return
        address = normalized_email(parseaddr(self.ses_sender)[1])
        if address is None:
            raise ConfigError(f"ses_sender: an e-mail address, not {self.ses_sender!r}")
        name = self.ses_identity_name
        if "@" in name:
            covers = normalized_email(name) == address
        else:
            covers = address.endswith(f"@{name.lower()}")
        if not covers:
            raise ConfigError(f"ses_identity: {name!r} must be the sender's address or its domain")
        if self.ses_configuration_set and not _CONFIGURATION_SET.match(self.ses_configuration_set):
            raise ConfigError(f"ses_configuration_set: not a name: {self.ses_configuration_set!r}")

    @property
    def ses_identity_name(self) -> str:
        """The SES identity that sends: a domain or an address (from an ARN, its name)."""
        identity = self.ses_identity or parseaddr(self.ses_sender or "")[1]
        return identity.rsplit(":identity/", 1)[-1] if identity.startswith("arn:") else identity

    @property
    def lambda_architecture(self) -> lambda_.Architecture:
        return (
            lambda_.Architecture.ARM_64
            if self.architecture == "arm64"
            else lambda_.Architecture.X86_64
        )

    @property
    def pip_platforms(self) -> tuple[str, ...]:
        machine = "aarch64" if self.architecture == "arm64" else "x86_64"
        return (f"manylinux2014_{machine}", f"manylinux_2_28_{machine}")

    @property
    def retention(self) -> logs.RetentionDays:
        return _RETENTION[self.log_retention_days]

    @property
    def audit_retention(self) -> logs.RetentionDays:
        return _AUDIT_RETENTION[self.audit_retention_days]

    @property
    def removal(self) -> RemovalPolicy:
        return RemovalPolicy.RETAIN if self.removal_policy == "retain" else RemovalPolicy.DESTROY
