"""Fixtures shared by every test layer."""

from __future__ import annotations

import pytest

from oauth_core.clock import FixedClock
from oauth_core.keys import KeySet

pytest_plugins = ["tests.security_table"]


@pytest.fixture(scope="session")
def session_keys() -> KeySet:
    """Key generation (RSA especially) is slow: one key set serves the whole session."""
    return KeySet.initial(FixedClock().now())
