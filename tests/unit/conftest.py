from __future__ import annotations

import pytest

from oauth_core import constants
from oauth_core.admin.registry import ClientRegistry
from oauth_core.clock import FixedClock
from oauth_core.config import Settings
from oauth_core.keys import KeySet
from oauth_core.wiring import Components, memory_components
from tests.support import ISSUER, SERVICE_ID, SERVICE_SECRET


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def services(clock: FixedClock, session_keys: KeySet) -> Components:
    return memory_components(Settings(issuer=ISSUER), clock=clock, keys=session_keys)


@pytest.fixture
def registry(services: Components) -> ClientRegistry:
    return services.registry


@pytest.fixture
def service_client(registry: ClientRegistry) -> str:
    registry.create(
        {
            "client_id": SERVICE_ID,
            "client_secret": SERVICE_SECRET,
            "grant_types": [constants.GRANT_CLIENT_CREDENTIALS],
            "scope": "read:data write:data",
        }
    )
    return SERVICE_ID
