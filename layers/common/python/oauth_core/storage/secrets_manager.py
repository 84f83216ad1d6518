"""Secrets Manager adapters: one secret per client under a common prefix, one per upstream
identity provider under another, and the key set.

A client secret's value is JSON `{"client_secret", "created_at", "registration_id"}`: a secret
authenticates only the registration of the client it was set for. Rotating writes a
new AWSCURRENT version (Secrets Manager moves the old one to AWSPREVIOUS); the previous secret
keeps working for a grace period counted from the new version's `created_at`. AWSPENDING is
never read.
"""

from __future__ import annotations

import json
from typing import Any

from oauth_core.clock import Clock, SystemClock
from oauth_core.constants import SIGNING_ALGORITHMS
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

    def valid_secrets(
        self, client_id: str, registration_id: str = "", *, fresh: bool = False
    ) -> list[str]:
        current = self._read(client_id, "AWSCURRENT")
        if current is None or current.get("registration_id", "") != registration_id:
            return []
        secrets = [str(current["client_secret"])]
        if self._clock.now() - int(current.get("created_at", 0)) < self._grace:
            previous = self._read(client_id, "AWSPREVIOUS")
            # A rotation's old secret has a grace period; another registration's never works.
            if previous is not None and previous.get("registration_id", "") == registration_id:
                secrets.append(str(previous["client_secret"]))
        return secrets

    def set_secret(self, client_id: str, secret: str, registration_id: str = "") -> None:
        value = json.dumps(
            {
                "client_secret": secret,
                "created_at": self._clock.now(),
                "registration_id": registration_id,
            }
        )
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


class SecretsManagerProviderSecrets:
    """The client secret of each upstream identity provider, one secret per provider under a
    prefix (only the login function may read it): JSON `{"client_secret", "created_at"}`."""

    def __init__(self, prefix: str, clock: Clock | None = None, secretsmanager: Any = None):
        self._prefix = prefix
        self._clock = clock or SystemClock()
        self._sm = secretsmanager or client("secretsmanager")

    def secret_name(self, provider: str) -> str:
        return f"{self._prefix}{provider}"

    def client_secret(self, provider: str, *, fresh: bool = False) -> str | None:
        try:
            with aws_errors("read provider secret"):
                response = self._sm.get_secret_value(
                    SecretId=self.secret_name(provider), VersionStage="AWSCURRENT"
                )
        except StorageError as exc:
            if _is_not_found(exc):
                return None
            raise
        return str(json.loads(response["SecretString"])["client_secret"])

    def set_client_secret(self, provider: str, secret: str) -> None:
        value = json.dumps({"client_secret": secret, "created_at": self._clock.now()})
        name = self.secret_name(provider)
        try:
            with aws_errors("write provider secret"):
                self._sm.put_secret_value(SecretId=name, SecretString=value)
        except StorageError as exc:
            if not _is_not_found(exc):
                raise
            with aws_errors("create provider secret"):
                self._sm.create_secret(
                    Name=name,
                    SecretString=value,
                    Description=f"Client secret at the identity provider {provider}",
                    Tags=[{"Key": "oauth:provider", "Value": provider}],
                )

    def delete_client_secret(self, provider: str) -> None:
        try:
            with aws_errors("delete provider secret"):
                self._sm.delete_secret(
                    SecretId=self.secret_name(provider), ForceDeleteWithoutRecovery=True
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


class SigningKeyRotation:
    """Secrets Manager's four-step rotation protocol for the signing-key set, and the first set.

    createSecret stages the rotated set (or, for a brand-new secret, the first one) as
    AWSPENDING; testSecret checks it signs; finishSecret makes it AWSCURRENT. The rotation is
    KeySet.rotate, the same code `oauthctl keys rotate` runs. The first set is made by
    ensure_initial_keys, which the stack runs (a custom resource) before any function that
    signs exists.
    """

    def __init__(self, clock: Clock | None = None, secretsmanager: Any = None):
        self._clock = clock or SystemClock()
        self._sm = secretsmanager or client("secretsmanager")

    def step(self, secret_id: str, token: str, step: str) -> None:
        steps = {
            "createSecret": self._create,
            "setSecret": lambda s, t: None,  # nothing outside Secrets Manager holds the keys
            "testSecret": self._test,
            "finishSecret": self._finish,
        }
        if step not in steps:
            raise ValueError(f"unknown rotation step {step!r}")
        with aws_errors(f"rotation {step}"):
            described = self._sm.describe_secret(SecretId=secret_id)
            stages = described.get("VersionIdsToStages", {})
            if token not in stages:
                raise ValueError("the rotation token is not a version of this secret")
            steps[step](secret_id, token)

    def ensure_initial_keys(self, secret_id: str) -> bool:
        """Make the first key set the secret's AWSCURRENT value if it holds no key yet; whether
        it did. A set with keys is left alone: a repeated or retried request, or a stack whose
        keys have long rotated, changes nothing. A value that is not a key set fails (it is
        not overwritten)."""
        with aws_errors("initial signing keys"):
            text = self._sm.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")[
                "SecretString"
            ]
            if KeySet.from_json(text).keys:
                return False
            first = KeySet.initial(self._clock.now())
            self._sm.put_secret_value(SecretId=secret_id, SecretString=first.to_json())
        return True

    def _pending_exists(self, secret_id: str, token: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._sm.get_secret_value(
                SecretId=secret_id, VersionId=token, VersionStage="AWSPENDING"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return False
            raise
        return True

    def _create(self, secret_id: str, token: str) -> None:
        if self._pending_exists(secret_id, token):
            return  # staged by an earlier attempt of this same rotation
        current_text = self._sm.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")[
            "SecretString"
        ]
        current = KeySet.from_json(current_text)
        now = self._clock.now()
        rotated = current.rotate(now) if current.keys else KeySet.initial(now)
        self._sm.put_secret_value(
            SecretId=secret_id,
            ClientRequestToken=token,
            SecretString=rotated.to_json(),
            VersionStages=["AWSPENDING"],
        )

    def _test(self, secret_id: str, token: str) -> None:
        staged = self._sm.get_secret_value(
            SecretId=secret_id, VersionId=token, VersionStage="AWSPENDING"
        )["SecretString"]
        keys = KeySet.from_json(staged)
        for alg in SIGNING_ALGORITHMS:
            keys.current(alg)  # raises if the staged set cannot sign

    def _finish(self, secret_id: str, token: str) -> None:
        stages = self._sm.describe_secret(SecretId=secret_id)["VersionIdsToStages"]
        current = next((v for v, s in stages.items() if "AWSCURRENT" in s), None)
        if current == token:
            return
        self._sm.update_secret_version_stage(
            SecretId=secret_id,
            VersionStage="AWSCURRENT",
            MoveToVersionId=token,
            RemoveFromVersionId=current,
        )
