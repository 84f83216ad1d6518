"""Secrets Manager adapters: one secret per client under a common prefix, and the key set.

A client secret's value is JSON `{"client_secret": ..., "created_at": ...}`. Rotating writes a
new AWSCURRENT version (Secrets Manager moves the old one to AWSPREVIOUS); the previous secret
keeps working for a grace period counted from the new version's `created_at`. AWSPENDING is
never read.
"""

from __future__ import annotations

import json
from typing import Any

from oauth_core.clock import Clock, SystemClock
from oauth_core.errors import StorageError
from oauth_core.keys import KeySet
from oauth_core.storage.aws import aws_errors, client


def _is_not_found(exc: BaseException) -> bool:
    cause = exc.__cause__
    response = getattr(cause, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "ResourceNotFoundException")


class SecretsManagerSecretStore:
    def __init__(
        self,
        prefix: str,
        grace_seconds: int,
        clock: Clock | None = None,
        secretsmanager: Any = None,
    ):
        self._prefix = prefix
        self._grace = grace_seconds
        self._clock = clock or SystemClock()
        self._sm = secretsmanager or client("secretsmanager")

    def secret_name(self, client_id: str) -> str:
        return f"{self._prefix}{client_id}"

    def _read(self, client_id: str, stage: str) -> dict[str, Any] | None:
        try:
            with aws_errors("read client secret"):
                response = self._sm.get_secret_value(
                    SecretId=self.secret_name(client_id), VersionStage=stage
                )
        except StorageError as exc:
            if _is_not_found(exc):
                return None
            raise
        value: dict[str, Any] = json.loads(response["SecretString"])
        return value

    def valid_secrets(self, client_id: str, *, fresh: bool = False) -> list[str]:
        current = self._read(client_id, "AWSCURRENT")
        if current is None:
            return []
        secrets = [str(current["client_secret"])]
        if self._clock.now() - int(current.get("created_at", 0)) < self._grace:
            previous = self._read(client_id, "AWSPREVIOUS")
            if previous is not None:
                secrets.append(str(previous["client_secret"]))
        return secrets

    def set_secret(self, client_id: str, secret: str) -> None:
        value = json.dumps({"client_secret": secret, "created_at": self._clock.now()})
        name = self.secret_name(client_id)
        try:
            with aws_errors("write client secret"):
                self._sm.put_secret_value(SecretId=name, SecretString=value)
        except StorageError as exc:
            if not _is_not_found(exc):
                raise
            with aws_errors("create client secret"):
                self._sm.create_secret(
                    Name=name,
                    SecretString=value,
                    Description=f"OAuth client secret of {client_id}",
                    Tags=[{"Key": "oauth:client_id", "Value": client_id}],
                )

    def delete_secret(self, client_id: str) -> None:
        try:
            with aws_errors("delete client secret"):
                self._sm.delete_secret(
                    SecretId=self.secret_name(client_id), ForceDeleteWithoutRecovery=True
                )
        except StorageError as exc:
            if not _is_not_found(exc):
                raise


class SecretsManagerKeyStore:
    def __init__(self, secret_name: str, secretsmanager: Any = None):
        self._name = secret_name
        self._sm = secretsmanager or client("secretsmanager")

    def load(self) -> KeySet:
        with aws_errors("read signing keys"):
            response = self._sm.get_secret_value(SecretId=self._name, VersionStage="AWSCURRENT")
        return KeySet.from_json(response["SecretString"])

    def save(self, keys: KeySet) -> None:
        value = keys.to_json()
        try:
            with aws_errors("write signing keys"):
                self._sm.put_secret_value(SecretId=self._name, SecretString=value)
        except StorageError as exc:
            if not _is_not_found(exc):
                raise
            with aws_errors("create signing keys"):
                self._sm.create_secret(
                    Name=self._name, SecretString=value, Description="OAuth signing keys (JWK set)"
                )
