"""The metrics the server emits, each with the names of the dimensions it is published under.

The one source of truth for `observability.count`, which refuses anything not declared here,
and for the alarms and dashboard of infra/monitoring.py. CloudWatch keeps every combination of
dimensions as a metric of its own, so an alarm fires only if it names exactly the dimensions
the code publishes: both sides take them from `dimensions_of`.
"""

from __future__ import annotations

from oauth_core.constants import SERVICE_NAME

# Every metric carries the service as a dimension, beside its own.
SERVICE_DIMENSION = "service"

REFRESH_TOKEN_REUSE = "RefreshTokenReuse"
CODE_REPLAY = "CodeReplay"
TOKEN_ISSUED = "TokenIssued"

# Metric name -> the names of its own dimensions (the service dimension is added to each).
METRICS: dict[str, frozenset[str]] = {
    TOKEN_ISSUED: frozenset({"grant_type"}),
    "OAuthError": frozenset({"error"}),
    "CodeIssued": frozenset(),
    "AuthorizationError": frozenset({"error"}),
    "LoginSucceeded": frozenset(),
    "LoginFailed": frozenset(),
    "LoggedOut": frozenset(),
    "PasswordChanged": frozenset({"by"}),  # by: sign-in (a temporary one), account or reset
    "SignedOutEverywhere": frozenset(),  # the account page
    # Second factors: given (method: totp or recovery_code), refused, set up (by: account or
    # sign-in) and removed (by: account or operator).
    "SecondFactorSucceeded": frozenset({"method"}),
    "SecondFactorFailed": frozenset(),
    "SecondFactorEnrolled": frozenset({"by"}),
    "SecondFactorRemoved": frozenset({"by"}),
    "CsrfRejected": frozenset(),
    CODE_REPLAY: frozenset(),
    REFRESH_TOKEN_REUSE: frozenset(),
    # A rotated refresh token presented again within its client's grace: its successor rotated.
    "RefreshTokenGraceRotation": frozenset(),
    "TokenRevoked": frozenset({"token_type"}),
    "BearerRefused": frozenset({"error"}),
    # Dynamic client registration (RFC 7591, 7592).
    "ClientRegistered": frozenset(),
    "ClientRegistrationDeleted": frozenset(),
    "RegistrationThrottled": frozenset(),
    # A public client's pushed authorization request refused: its source's bucket was empty.
    "PushedRequestThrottled": frozenset(),
    # A revocation that holds at /token and /introspect but could not be published to APIs.
    "RevocationNotPublished": frozenset(),
    # OpenID Connect Back-Channel Logout: a logout token an app took (2xx), or did not (after
    # a retry); ended sessions that could not be handed to the logout notifier at all.
    "BackchannelLogoutDelivered": frozenset(),
    "BackchannelLogoutFailed": frozenset(),
    "BackchannelLogoutNotSent": frozenset(),
    # Federation: a sign-in (or link) with an upstream provider refused, by a fixed reason word
    # (the audit event federation.refused lists them).
    "FederationRefused": frozenset({"reason"}),
    # Passkeys (oauth_core.endpoints.passkeys): a passkey sign-in refused (one that succeeds is
    # a LoginSucceeded), a passkey added or refused at registration, one removed.
    "PasskeySignInFailed": frozenset(),
    "PasskeyAdded": frozenset(),
    "PasskeyRegistrationFailed": frozenset(),
    "PasskeyRemoved": frozenset(),
    # Recovery and verification by e-mail (purpose: reset, verify, signup, notice): handed to
    # SES; refused by SES or unreachable (one alarm, whatever the purpose: its log line says
    # which); not sent because the address or username was asked for too often lately.
    "EmailSent": frozenset({"purpose"}),
    "EmailNotSent": frozenset(),
    "EmailSuppressed": frozenset({"purpose"}),
    "UserSignedUp": frozenset(),
    # A sign-up's link followed with a password that is not the one chosen at sign-up.
    "SignUpConfirmFailed": frozenset(),
}


class UndeclaredMetric(ValueError):
    """A metric, or a dimension of one, that METRICS does not declare: a bug at the call site."""


def dimensions_of(name: str, **values: str) -> dict[str, str]:
    """The complete dimensions `name` is published under: the service and its declared ones,
    with these values. Raises UndeclaredMetric for an unknown name, a missing or extra
    dimension, or an empty value (which Powertools would drop without a word)."""
    declared = METRICS.get(name)
    if declared is None:
        raise UndeclaredMetric(f"metric {name!r} is not declared in oauth_core.metrics")
    if values.keys() != declared:
        raise UndeclaredMetric(
            f"metric {name!r} takes dimensions {sorted(declared)}, not {sorted(values)}"
        )
    if not all(values.values()):
        raise UndeclaredMetric(f"metric {name!r} was given an empty dimension value")
    return {SERVICE_DIMENSION: SERVICE_NAME, **values}
