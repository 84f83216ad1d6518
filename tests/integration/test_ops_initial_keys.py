"""SECURITY O3 against Secrets Manager (moto): the key-rotation function makes the first keys
when CloudFormation asks (a custom resource), once; until they exist the token function answers
503 temporarily_unavailable with the token headers and reads the set again on the next request,
in the same warm container."""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
from typing import Any

import boto3
import pytest
import rotate_keys_handler

import token_handler
from oauth_core.config import Settings
from oauth_core.keys import CURRENT, NEXT, KeySet
from tests.integration.conftest import body_of, invoke
from tests.support import load_event

RESPONSE_URL = "https://cloudformation-custom-resource-response.s3.example/x?X-Amz-Signature=S1G"


class CloudFormation:
    """Catches the answers the function PUTs to the pre-signed URL (urllib, as deployed)."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        self.requests: list[urllib.request.Request] = []

    def urlopen(self, request: urllib.request.Request, timeout: float) -> io.BytesIO:
        self.requests.append(request)
        assert isinstance(request.data, bytes)
        self.answers.append(json.loads(request.data))
        return io.BytesIO(b"")

    def send(self, request_type: str, secret_id: str, **extra: Any) -> dict[str, Any]:
        event = {
            "RequestType": request_type,
            "ResponseURL": RESPONSE_URL,
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/OAuthServer/1",
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": "SecretsInitialSigningKeysF6BC6BEF",
            "ResourceType": "Custom::InitialSigningKeys",
            "ResourceProperties": {"ServiceToken": "arn:function", "SecretId": secret_id},
            **extra,
        }
        assert invoke(rotate_keys_handler, event) is None
        return self.answers[-1]


@pytest.fixture
def cloudformation(monkeypatch: pytest.MonkeyPatch) -> CloudFormation:
    catcher = CloudFormation()
    monkeypatch.setattr(urllib.request, "urlopen", catcher.urlopen)
    return catcher


def signing_keys(secret_id: str) -> KeySet:
    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)
    return KeySet.from_json(value["SecretString"])


def empty_the_key_set(aws: Settings) -> None:
    """The secret as the stack creates it, before the first keys."""
    boto3.client("secretsmanager").put_secret_value(
        SecretId=aws.signing_keys_secret, SecretString='{"keys": []}'
    )


def test_o3_initial_keys_are_made_once_by_the_custom_resource(
    aws: Settings, cloudformation: CloudFormation
) -> None:
    empty_the_key_set(aws)
    secret = aws.signing_keys_secret
    created = cloudformation.send("Create", secret)
    assert created["Status"] == "SUCCESS", created
    assert created["PhysicalResourceId"] == secret
    first = signing_keys(secret)
    assert sorted((k.alg, k.status) for k in first.keys) == [
        ("ES256", CURRENT),
        ("ES256", NEXT),
        ("RS256", CURRENT),
        ("RS256", NEXT),
    ]
    # Repeated, retried, updated or deleted: the keys that may already have signed stay.
    for request_type in ("Create", "Update", "Delete"):
        answer = cloudformation.send(request_type, secret, PhysicalResourceId=secret)
        assert answer["Status"] == "SUCCESS", answer
        assert [k.kid for k in signing_keys(secret).keys] == [k.kid for k in first.keys]


def test_o3_custom_resource_answer_carries_no_key_and_the_url_is_not_logged(
    aws: Settings,
    cloudformation: CloudFormation,
    log_output: io.StringIO,
    capsys: pytest.CaptureFixture[str],
) -> None:
    empty_the_key_set(aws)
    cloudformation.send("Create", aws.signing_keys_secret)
    (request,) = cloudformation.requests
    assert request.get_method() == "PUT"
    assert request.full_url == RESPONSE_URL
    assert request.get_header("Content-type") == ""
    answer = json.dumps(cloudformation.answers[0])
    keys = signing_keys(aws.signing_keys_secret)
    assert "PRIVATE KEY" not in answer
    assert not any(k.kid in answer for k in keys.keys)
    captured = capsys.readouterr()
    output = log_output.getvalue() + captured.out + captured.err
    assert "initial signing keys" in output
    assert "S1G" not in output  # the pre-signed URL is a credential
    assert "PRIVATE KEY" not in output


def test_o3_custom_resource_failure_is_answered_and_overwrites_nothing(
    aws: Settings, cloudformation: CloudFormation
) -> None:
    missing = cloudformation.send("Create", "no-such-secret")
    assert missing["Status"] == "FAILED"
    assert "ResourceNotFoundException" in missing["Reason"]
    sm = boto3.client("secretsmanager")
    sm.put_secret_value(SecretId=aws.signing_keys_secret, SecretString="not a key set")
    garbled = cloudformation.send("Create", aws.signing_keys_secret)
    assert garbled["Status"] == "FAILED"
    value = sm.get_secret_value(SecretId=aws.signing_keys_secret)["SecretString"]
    assert value == "not a key set"


def test_o3_empty_key_set_is_503_temporarily_unavailable_then_read_again(
    aws: Settings, cloudformation: CloudFormation
) -> None:
    empty_the_key_set(aws)
    for event in (load_event("token_client_credentials"), load_event("jwks")):
        refused = invoke(token_handler, event)
        assert refused["statusCode"] == 503, refused
        assert body_of(refused)["error"] == "temporarily_unavailable"
        assert refused["headers"]["Cache-Control"] == "no-store"
        assert refused["headers"]["Pragma"] == "no-cache"
        assert int(refused["headers"]["Retry-After"]) > 0
    # The first keys arrive; the same warm container serves the very next request with them.
    assert cloudformation.send("Create", aws.signing_keys_secret)["Status"] == "SUCCESS"
    issued = invoke(token_handler, load_event("token_client_credentials"))
    assert issued["statusCode"] == 200, issued
    published = {k["kid"] for k in body_of(invoke(token_handler, load_event("jwks")))["keys"]}
    assert published == {k.kid for k in signing_keys(aws.signing_keys_secret).keys}


def test_o3_rotation_test_step_passes_on_the_initial_keys_only(
    aws: Settings, cloudformation: CloudFormation
) -> None:
    """A schedule that does not rotate on creation makes Secrets Manager run testSecret on a
    copy of the current set: it fails on the empty set, hence the schedule waits for the keys."""
    empty_the_key_set(aws)
    secret = aws.signing_keys_secret
    sm = boto3.client("secretsmanager")

    def test_step() -> None:
        token = str(uuid.uuid4())
        current = sm.get_secret_value(SecretId=secret)["SecretString"]
        sm.put_secret_value(
            SecretId=secret,
            ClientRequestToken=token,
            SecretString=current,
            VersionStages=["AWSPENDING"],
        )
        event = {"SecretId": secret, "ClientRequestToken": token, "Step": "testSecret"}
        invoke(rotate_keys_handler, event)

    with pytest.raises(LookupError):
        test_step()
    cloudformation.send("Create", secret)
    test_step()
