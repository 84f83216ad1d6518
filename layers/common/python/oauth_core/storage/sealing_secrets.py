"""The secret that seals authorization requests (oauth_core.tokens.sealed_requests), from Secrets
Manager: AWSCURRENT seals, AWSPREVIOUS still opens, both cached per container and re-read (at
most every few seconds) when a handle names a key the cache does not hold."""

from __future__ import annotations

from typing import Any

from oauth_core.errors import StorageError
from oauth_core.storage.aws import aws_errors, client
from oauth_core.storage.cache import TtlCache


class SecretsManagerSealingSecrets:
    def __init__(self, secret_name: str, ttl: float, secretsmanager: Any = None):
        self._name = secret_name
        self._sm = secretsmanager or client("secretsmanager")
        self._cache: TtlCache[bytes | None] = TtlCache(ttl)

    def _read(self, stage: str) -> bytes | None:
        try:
            with aws_errors("read request-sealing secret"):
                response = self._sm.get_secret_value(SecretId=self._name, VersionStage=stage)
        except StorageError as exc:
            code = getattr(exc.__cause__, "response", {}).get("Error", {}).get("Code")
            if stage == "AWSPREVIOUS" and code == "ResourceNotFoundException":
                return None  # never replaced: there is no previous secret
            raise
        return str(response["SecretString"]).encode("utf-8")

    def current(self, *, fresh: bool = False) -> bytes:
        secret = self._cache.get_or_load(
            "AWSCURRENT", lambda: self._read("AWSCURRENT"), fresh=fresh
        )
        if not secret:
            raise StorageError("the request-sealing secret is empty")
        return secret

    def previous(self, *, fresh: bool = False) -> bytes | None:
        return self._cache.get_or_load(
            "AWSPREVIOUS", lambda: self._read("AWSPREVIOUS"), fresh=fresh
        )
