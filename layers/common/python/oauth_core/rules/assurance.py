"""How sure the server is of who signed in (OpenID Connect Core 2 `acr`, RFC 8176 `amr`), and
what a request asks for.

Two levels: a password (`urn:oauth-serverless:acr:pwd`, amr `["pwd"]`) and a password with a
second factor (`urn:oauth-serverless:acr:mfa`, amr `["pwd", "otp", "mfa"]`). A request needs
the strongest of what its client requires (`require_mfa`), what the stack requires
(`REQUIRE_MFA`) and the weakest known value of its `acr_values` (OIDC Core 3.1.2.1: values in
order of preference, so any one of them does); unknown values are ignored. A session meets a
requirement when its level is at least the requirement's.
"""

from __future__ import annotations

from oauth_core.constants import (
    ACR_MFA,
    ACR_PASSWORD,
    ACR_VALUES_SUPPORTED,
    AMR_MFA,
    AMR_OTP,
    AMR_PASSWORD,
)

PASSWORD_AMR = (AMR_PASSWORD,)
# A password and a one-time code (TOTP, or a recovery code: both are one-time passwords).
OTP_AMR = (AMR_PASSWORD, AMR_OTP, AMR_MFA)
_LEVELS = {value: level for level, value in enumerate(ACR_VALUES_SUPPORTED)}


def level(acr: str) -> int:
    """An `acr`'s place in the order; a session without one (before `acr` was recorded) is a
    password's."""
    return _LEVELS.get(acr, 0)


def requested(acr_values: str | None) -> str:
    """The `acr` an `acr_values` parameter asks for: its weakest known value; "" if none."""
    known = [value for value in (acr_values or "").split() if value in _LEVELS]
    return min(known, key=level) if known else ""


def required(acr_values: str | None, *, client_requires_mfa: bool, stack_requires_mfa: bool) -> str:
    """What a request needs: "" (a password will do) or the MFA `acr`."""
    if client_requires_mfa or stack_requires_mfa:
        return ACR_MFA
    asked = requested(acr_values)
    return asked if asked and level(asked) > level(ACR_PASSWORD) else ""


def satisfies(acr: str, needed: str) -> bool:
    return not needed or level(acr) >= level(needed)


def with_second_factor(amr: tuple[str, ...], added: tuple[str, ...]) -> tuple[str, ...]:
    """A session's `amr` after a second factor (a step-up keeps what was done before)."""
    merged = list(amr)
    for method in added:
        if method not in merged:
            merged.append(method)
    return tuple(merged)


def after_first_factor(first: str, amr: tuple[str, ...]) -> tuple[str, ...]:
    """A second factor's `amr`, which names a password as the first, after another first
    factor: a federated sign-in's `fed`."""
    return tuple(first if method == AMR_PASSWORD else method for method in amr)
