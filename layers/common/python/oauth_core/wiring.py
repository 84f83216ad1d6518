"""Wiring: the stores and services one container uses, built once and reused across requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from oauth_core.admin.registry import ClientRegistry
from oauth_core.admin.users import UserDirectory
from oauth_core.clock import Clock, Random, SystemClock, SystemRandom
from oauth_core.config import Settings
from oauth_core.keys import KeySet
from oauth_core.ports import (
    ClientSecretStore,
    ClientStore,
    GrantStore,
    KeyStore,
    RateLimiter,
    UserStore,
)
from oauth_core.rules.client_auth import ClientAuthenticator, ThrottledAuthenticator
from oauth_core.rules.throttle import FailureThrottle
from oauth_core.tokens.issuer import TokenIssuer
from oauth_core.tokens.sealed_requests import RequestSealer, SealingSecrets, StaticSealingSecrets


@dataclass
class Services:
    settings: Settings
    clients: ClientStore
    secrets: ClientSecretStore
    keys: KeyStore  # signs: cached for the secret cache's lifetime
    published_keys: KeyStore  # JWKS, and verifying our own tokens: re-read sooner
    grants: GrantStore
    users: UserStore
    rate_limiter: RateLimiter
    sealing_secrets: SealingSecrets
    clock: Clock = field(default_factory=SystemClock)
    random: Random = field(default_factory=SystemRandom)

    @cached_property
    def authenticator(self) -> ClientAuthenticator:
        return ClientAuthenticator(self.clients, self.secrets)

    @cached_property
    def throttle(self) -> FailureThrottle:
        return FailureThrottle(self.rate_limiter, self.settings, self.clock)

    @cached_property
    def client_auth(self) -> ThrottledAuthenticator:
        return ThrottledAuthenticator(self.authenticator, self.throttle)

    @cached_property
    def sealer(self) -> RequestSealer:
        return RequestSealer(self.sealing_secrets, self.clock)

    @cached_property
    def token_issuer(self) -> TokenIssuer:
        return TokenIssuer(self.settings, self.keys, self.clock, self.random)

    @cached_property
    def registry(self) -> ClientRegistry:
        return ClientRegistry(self.clients, self.secrets, self.clock, self.random)

    @cached_property
    def user_directory(self) -> UserDirectory:
        return UserDirectory(self.users, self.clock, self.grants)


def memory_services(
    settings: Settings | None = None, *, clock: Clock | None = None, keys: KeySet | None = None
) -> Services:
    """Services on the in-memory stores: the unit tests' and the benchmark's stand-in for AWS."""
    from oauth_core.storage.memory import (
        MemoryClientStore,
        MemoryGrantStore,
        MemoryKeyStore,
        MemoryRateLimiter,
        MemorySecretStore,
        MemoryUserStore,
    )

    settings = settings or Settings()
    clock = clock or SystemClock()
    key_store = MemoryKeyStore(keys or KeySet.initial(clock.now()))
    return Services(
        settings=settings,
        clients=MemoryClientStore(),
        secrets=MemorySecretStore(settings.secret_rotation_grace, clock),
        keys=key_store,
        published_keys=key_store,
        grants=MemoryGrantStore(),
        users=MemoryUserStore(),
        rate_limiter=MemoryRateLimiter(),
        sealing_secrets=StaticSealingSecrets(),
        clock=clock,
        random=SystemRandom(),
    )


def aws_services(settings: Settings | None = None, *, cached: bool = True) -> Services:
    """Services backed by DynamoDB and Secrets Manager, with per-container caches."""
    from oauth_core.storage.cache import CachedClientStore, CachedKeyStore, CachedSecretStore
    from oauth_core.storage.dynamodb import DynamoClientStore, DynamoUserStore
    from oauth_core.storage.dynamodb_grants import DynamoGrantStore, DynamoRateLimiter
    from oauth_core.storage.sealing_secrets import SecretsManagerSealingSecrets
    from oauth_core.storage.secrets_manager import SecretsManagerKeyStore, SecretsManagerSecretStore

    settings = settings or Settings.from_env()
    clock = SystemClock()
    clients: ClientStore = DynamoClientStore(settings.clients_table)
    secrets: ClientSecretStore = SecretsManagerSecretStore(
        settings.client_secret_prefix, settings.secret_rotation_grace, clock
    )
    keys: KeyStore = SecretsManagerKeyStore(settings.signing_keys_secret)
    published_keys = keys
    if cached:
        clients = CachedClientStore(clients, settings.client_cache_ttl)
        secrets = CachedSecretStore(secrets, settings.secret_cache_ttl)
        published_keys = CachedKeyStore(keys, settings.jwks_cache_ttl)
        keys = CachedKeyStore(keys, settings.secret_cache_ttl)
    return Services(
        settings,
        clients,
        secrets,
        keys,
        published_keys,
        grants=DynamoGrantStore(settings.grants_table),
        users=DynamoUserStore(settings.users_table),
        rate_limiter=DynamoRateLimiter(settings.grants_table),
        sealing_secrets=SecretsManagerSealingSecrets(
            settings.request_sealing_secret, settings.secret_cache_ttl
        ),
        clock=clock,
    )
