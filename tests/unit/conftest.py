from __future__ import annotations

import pytest

from oauth_core import constants
from oauth_core.clock import FixedClock, SystemRandom
from oauth_core.config import Settings
from oauth_core.keys import KeySet
from oauth_core.registry import ClientRegistry
from oauth_core.services import Services
from oauth_core.storage.memory import (
    MemoryClientStore,
    MemoryGrantStore,
    MemoryKeyStore,
    MemoryRateLimiter,
    MemorySecretStore,
    MemoryUserStore,
)
from tests.support import ISSUER, SERVICE_ID, SERVICE_SECRET


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def services(clock: FixedClock, session_keys: KeySet) -> Services:
    settings = Settings(issuer=ISSUER)
    return Services(
        settings=settings,
        clients=MemoryClientStore(),
        secrets=MemorySecretStore(settings.secret_rotation_grace, clock),
        keys=MemoryKeyStore(session_keys),
        grants=MemoryGrantStore(),
        users=MemoryUserStore(),
        rate_limiter=MemoryRateLimiter(settings.failure_window),
        clock=clock,
        random=SystemRandom(),
    )


@pytest.fixture
def registry(services: Services) -> ClientRegistry:
    return ClientRegistry(services.clients, services.secrets, services.clock, services.random)


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
