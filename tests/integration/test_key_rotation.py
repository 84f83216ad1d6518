"""The key-rotation function's four steps against Secrets Manager (moto)."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
import rotate_keys_handler

from oauth_core.config import Settings
from oauth_core.keys import CURRENT, NEXT, RETIRED, KeySet
from oauth_core.storage.secrets_manager import SigningKeyRotation
from tests.integration.conftest import invoke


class RotatingSecretsManager:
    """moto, plus what Secrets Manager itself does on RotateSecret: before calling the function
    it lists the new version (still without a value) as AWSPENDING."""

    def __init__(self, token: str):
        self._real = boto3.client("secretsmanager")
        self._token = token

    def describe_secret(self, **kwargs: Any) -> dict[str, Any]:
        described: dict[str, Any] = dict(self._real.describe_secret(**kwargs))
        described["VersionIdsToStages"].setdefault(self._token, ["AWSPENDING"])
        return described

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@pytest.fixture(autouse=True)
def fresh_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        rotate_keys_handler,
        "SigningKeyRotation",
        lambda: SigningKeyRotation(secretsmanager=RotatingSecretsManager(TOKENS[-1])),
    )


TOKENS: list[str] = []


def rotate(secret_id: str) -> str:
    token = str(uuid.uuid4())
    TOKENS.append(token)
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        event = {"SecretId": secret_id, "ClientRequestToken": token, "Step": step}
        invoke(rotate_keys_handler, event)
    return token


def current_keys(secret_id: str) -> KeySet:
    sm = boto3.client("secretsmanager")
    text = sm.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")["SecretString"]
    return KeySet.from_json(text)


def test_first_rotation_of_an_empty_secret_creates_the_first_keys(aws: Settings) -> None:
    sm = boto3.client("secretsmanager")
    sm.create_secret(Name="fresh-keys", SecretString='{"keys": []}')
    rotate("fresh-keys")
    keys = current_keys("fresh-keys")
    assert sorted((k.alg, k.status) for k in keys.keys) == [
        ("ES256", CURRENT),
        ("ES256", NEXT),
        ("RS256", CURRENT),
        ("RS256", NEXT),
    ]


def test_rotation_promotes_next_and_keeps_retired_published(aws: Settings) -> None:
    before = current_keys(aws.signing_keys_secret)
    next_es = next(k.kid for k in before.keys if k.alg == "ES256" and k.status == NEXT)
    old_es = before.current("ES256").kid
    token = rotate(aws.signing_keys_secret)
    after = current_keys(aws.signing_keys_secret)
    status = {k.kid: k.status for k in after.keys}
    assert status[next_es] == CURRENT
    assert status[old_es] == RETIRED
    stages = boto3.client("secretsmanager").describe_secret(SecretId=aws.signing_keys_secret)
    assert "AWSCURRENT" in stages["VersionIdsToStages"][token]
