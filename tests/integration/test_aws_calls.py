"""AWS calls per warm operation (issue 6 targets): deterministic, so asserted here; the
benchmark prints the same counts."""

from __future__ import annotations

import pytest

from benchmarks.aws_calls import count_calls


@pytest.fixture(scope="module")
def calls() -> dict[str, dict[str, float]]:
    with pytest.MonkeyPatch.context() as patch:
        for name in (
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
        ):
            patch.delenv(name, raising=False)
        return count_calls()


def test_warm_client_credentials_makes_no_aws_call(calls: dict[str, dict[str, float]]) -> None:
    assert calls["client_credentials"]["calls"] == 0


@pytest.mark.parametrize("grant", ["authorization_code", "refresh_token"])
def test_user_grants_make_one_transaction_and_at_most_two_reads(
    calls: dict[str, dict[str, float]], grant: str
) -> None:
    """The code or refresh token, and the user's state: what the token says of them now
    (issue 13: a group removed is gone from the next token)."""
    assert calls[grant].get("TransactWriteItems") == 1
    assert calls[grant]["calls"] - 1 <= 2


def test_authorize_signed_in_makes_at_most_two_calls(calls: dict[str, dict[str, float]]) -> None:
    assert calls["authorize (signed in)"]["calls"] <= 2


def test_a14_anonymous_authorize_stores_nothing(calls: dict[str, dict[str, float]]) -> None:
    """A cookie-less /authorize is carried sealed by the browser: no write, no call at all."""
    assert calls["authorize (to sign-in)"]["calls"] == 0


@pytest.mark.parametrize("operation", ["resource call", "JWKS", "metadata"])
def test_reads_of_public_or_verified_data_make_no_aws_call(
    calls: dict[str, dict[str, float]], operation: str
) -> None:
    assert calls[operation]["calls"] == 0
