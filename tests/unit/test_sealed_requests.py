"""Authorization requests sealed into the handle the browser carries (SECURITY A14, G5)."""

from __future__ import annotations

import base64
from dataclasses import replace

from oauth_core.clock import FixedClock
from oauth_core.models import PendingAuthorization
from oauth_core.tokens.sealed_requests import MAX_HANDLE_LENGTH, RequestSealer, StaticSealingSecrets


class RotatingSecrets:
    def __init__(self) -> None:
        self.secrets = [b"first-secret-0123456789abcdef0123456789"]

        self.reads = 0

    def current(self, *, fresh: bool = False) -> bytes:
        self.reads += 1
        return self.secrets[-1]

    def previous(self, *, fresh: bool = False) -> bytes | None:
        return self.secrets[-2] if len(self.secrets) > 1 else None


def pending(clock: FixedClock, **changes: object) -> PendingAuthorization:
    base = PendingAuthorization(
        request_id="r-1",
        client_id="app",
        redirect_uri="https://app.example.com/cb",
        scope="openid read:data",
        state="s ~!*'()",
        nonce="n",
        code_challenge="c" * 43,
        prompt=("consent", "login"),
        max_age=0,
        login_hint=None,
        expires_at=clock.now() + 600,
        requested_at=clock.now(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a14_a_handle_carries_the_request_and_only_this_server_opens_it(
    clock: FixedClock,
) -> None:
    sealer = RequestSealer(StaticSealingSecrets(), clock)
    request = pending(clock, signed_in_session="h" * 64)
    handle = sealer.seal(request)
    assert sealer.open(handle) == request
    assert "app.example.com" not in base64.urlsafe_b64decode(handle + "==").decode("latin-1")
    assert RequestSealer(StaticSealingSecrets(), clock).open(handle) is None  # another key


def test_a14_a_changed_or_malformed_handle_does_not_open(clock: FixedClock) -> None:
    sealer = RequestSealer(StaticSealingSecrets(), clock)
    handle = sealer.seal(pending(clock))
    flipped = handle[:30] + ("A" if handle[30] != "A" else "B") + handle[31:]
    for bad in (flipped, handle[:-2], handle + "AA", "", "x", "!" * 40, "A" * 9000, None):
        assert sealer.open(bad) is None


def test_a14_a_handle_expires_with_its_request(clock: FixedClock) -> None:
    sealer = RequestSealer(StaticSealingSecrets(), clock)
    handle = sealer.seal(pending(clock))
    clock.advance(599)
    assert sealer.open(handle) is not None
    clock.advance(1)
    assert sealer.open(handle) is None


def test_a14_handles_sealed_before_a_secret_change_still_open(clock: FixedClock) -> None:
    secrets = RotatingSecrets()
    sealer = RequestSealer(secrets, clock)
    old = sealer.seal(pending(clock))
    secrets.secrets.append(b"second-secret-0123456789abcdef012345678")
    new = sealer.seal(pending(clock))
    assert sealer.open(old) is not None and sealer.open(new) is not None
    secrets.secrets.append(b"third-secret-0123456789abcdef0123456789")
    assert sealer.open(old) is None  # two changes later: gone


def test_a14_a_handle_sealed_elsewhere_after_a_secret_change_opens_after_a_re_read(
    clock: FixedClock,
) -> None:
    """Another container saw the new secret first: this one re-reads rather than refuse."""
    secrets = RotatingSecrets()
    sealer = RequestSealer(secrets, clock)
    sealer.seal(pending(clock))  # this container knows the first secret
    elsewhere = RotatingSecrets()
    elsewhere.secrets.append(b"second-secret-0123456789abcdef012345678")
    handle = RequestSealer(elsewhere, clock).seal(pending(clock))
    secrets.secrets.append(elsewhere.secrets[-1])
    assert sealer.open(handle) is not None


def test_a14_quotes_and_backslashes_cost_no_escaping(clock: FixedClock) -> None:
    sealer = RequestSealer(StaticSealingSecrets(), clock)
    plain = sealer.seal(pending(clock, state="a" * 2048))
    quoted = sealer.seal(pending(clock, state='"\\' * 1024))
    assert len(quoted) == len(plain)
    assert sealer.open(quoted) == pending(clock, state='"\\' * 1024)


def test_a14_what_callers_control_always_fits_a_handle(clock: FixedClock) -> None:
    largest_caller_part = pending(
        clock,
        state='"' * 2048,
        nonce="\\" * 512,
        login_hint="\U0001f600" * 256,  # four UTF-8 bytes each
        scope=" ".join(f"scope{i}" for i in range(140))[:1000],
        redirect_uri="https://app.example.com/" + "p" * 500,
    )
    assert RequestSealer.fits(largest_caller_part)
    handle = RequestSealer(StaticSealingSecrets(), clock).seal(
        replace(largest_caller_part, signed_in_session="h" * 64)
    )
    assert len(handle) <= MAX_HANDLE_LENGTH


def test_a14_a_request_too_large_to_carry_is_refused_up_front(clock: FixedClock) -> None:
    """Only an operator's 2,000-character redirect URI with a caller's largest values goes
    over; the authorization endpoint then answers invalid_request instead of a dead sign-in."""
    too_large = pending(
        clock,
        redirect_uri="https://app.example.com/" + "p" * 1970,
        state="s" * 2048,
        nonce="n" * 512,
        login_hint="\U0001f600" * 256,
        scope=" ".join(f"scope{i}" for i in range(140))[:1000],
    )
    assert not RequestSealer.fits(too_large)
