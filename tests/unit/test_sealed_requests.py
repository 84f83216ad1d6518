"""Authorization requests sealed into the handle the browser carries (SECURITY A14, G5)."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest

from oauth_core.clock import FixedClock
from oauth_core.models import PendingAuthorization
from oauth_core.sealed_requests import RequestSealer, StaticSealingSecrets


class RotatingSecrets:
    def __init__(self) -> None:
        self.secrets = [b"first-secret-0123456789abcdef0123456789"]

    def current(self) -> bytes:
        return self.secrets[-1]

    def previous(self) -> bytes | None:
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


@pytest.mark.parametrize("length", [10, 2048])
def test_a14_the_largest_request_fits_a_url(clock: FixedClock, length: int) -> None:
    sealer = RequestSealer(StaticSealingSecrets(), clock)
    largest = pending(
        clock,
        redirect_uri="https://app.example.com/" + "p" * 1970,
        scope=" ".join(f"scope{i}" for i in range(140))[:1000],
        state="s" * length,
        nonce="n" * 512,
        login_hint="h" * 256,
        signed_in_session="h" * 64,
    )
    # API Gateway takes request lines and headers of up to 10 KB together.
    assert len(sealer.seal(largest)) < 8192
