"""SECURITY O3 in the per-container cache: a key set that cannot sign, or a read that failed, is
never remembered; the request is answered 503 temporarily_unavailable and the next one reads
again. And the custom-resource protocol the first keys are made through."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import replace
from typing import Any

import pytest

from oauth_core.admin import custom_resource
from oauth_core.errors import StorageError, TemporarilyUnavailable
from oauth_core.keys import RETIRED, KeySet
from oauth_core.storage.cache import CachedKeyStore
from oauth_core.storage.memory import MemoryKeyStore


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class CountingKeyStore(MemoryKeyStore):
    def __init__(self, keys: KeySet | None = None):
        super().__init__(keys)
        self.reads = 0
        self.failing = False

    def load(self) -> KeySet:
        self.reads += 1
        if self.failing:
            raise StorageError("read signing keys: InternalServiceError")
        return super().load()


def test_o3_an_empty_key_set_is_503_and_read_again_on_the_next_request(
    session_keys: KeySet,
) -> None:
    inner = CountingKeyStore(KeySet())
    ticker = Ticker()
    cache = CachedKeyStore(inner, ttl=300, monotonic=ticker)
    with pytest.raises(TemporarilyUnavailable) as refused:
        cache.load()
    assert refused.value.status_code == 503
    assert refused.value.error == "temporarily_unavailable"
    assert int(refused.value.headers["Retry-After"]) > 0
    with pytest.raises(TemporarilyUnavailable):
        cache.load()
    assert inner.reads == 2  # nothing was remembered: each request reads again
    inner.save(session_keys)  # the first keys arrive; no time passes, the cache is not told
    assert cache.load() is session_keys
    assert cache.load() is session_keys
    assert inner.reads == 3  # a set that signs is remembered


def test_o3_a_set_with_no_current_key_is_not_remembered_either(session_keys: KeySet) -> None:
    retired_only = KeySet(
        tuple(replace(key, status=RETIRED, retired_at=0) for key in session_keys.keys)
    )
    inner = CountingKeyStore(retired_only)
    cache = CachedKeyStore(inner, ttl=300, monotonic=Ticker())
    with pytest.raises(TemporarilyUnavailable):
        cache.load()
    inner.save(session_keys)
    assert cache.load() is session_keys


def test_o3_a_failed_read_is_not_remembered(session_keys: KeySet) -> None:
    inner = CountingKeyStore(session_keys)
    inner.failing = True
    cache = CachedKeyStore(inner, ttl=300, monotonic=Ticker())
    with pytest.raises(StorageError):
        cache.load()
    inner.failing = False
    assert cache.load() is session_keys


def cfn_event(request_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": "https://cloudformation-custom-resource.example/answer?X-Amz-Signature=s1g",
        "StackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/OAuthServer/1",
        "RequestId": "request-1",
        "LogicalResourceId": "SecretsInitialSigningKeys",
        "ResourceType": "Custom::InitialSigningKeys",
        "ResourceProperties": {"ServiceToken": "arn:fn", "SecretId": "arn:secret"},
        **extra,
    }


class Answers:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, url: str, body: bytes) -> None:
        self.sent.append((url, json.loads(body)))


def test_o3_custom_resource_create_applies_and_answers_success() -> None:
    answers = Answers()
    custom_resource.serve(cfn_event("Create"), lambda props: f"made:{props['SecretId']}", answers)
    ((url, answer),) = answers.sent
    assert url == cfn_event("Create")["ResponseURL"]
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "made:arn:secret"
    assert (answer["StackId"], answer["RequestId"], answer["LogicalResourceId"]) == (
        cfn_event("Create")["StackId"],
        "request-1",
        "SecretsInitialSigningKeys",
    )
    assert answer["Data"] == {}


def test_o3_custom_resource_delete_changes_nothing_and_keeps_the_physical_id() -> None:
    answers = Answers()

    def apply(_: dict[str, Any]) -> str:
        raise AssertionError("a Delete must not apply anything")

    custom_resource.serve(cfn_event("Delete", PhysicalResourceId="arn:secret"), apply, answers)
    ((_, answer),) = answers.sent
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", "arn:secret")


def test_o3_custom_resource_failure_is_answered_failed_without_quoting_data() -> None:
    answers = Answers()

    def apply(_: dict[str, Any]) -> str:
        raise ValueError("-----BEGIN PRIVATE KEY----- something that must not travel")

    custom_resource.serve(cfn_event("Create"), apply, answers)
    ((_, answer),) = answers.sent
    assert answer["Status"] == "FAILED"
    assert "ValueError" in answer["Reason"]
    assert "PRIVATE" not in json.dumps(answer)


def test_o3_custom_resource_storage_failure_names_the_aws_error() -> None:
    answers = Answers()

    def apply(_: dict[str, Any]) -> str:
        raise StorageError("initial signing keys: AccessDeniedException")

    custom_resource.serve(cfn_event("Update", PhysicalResourceId="arn:secret"), apply, answers)
    ((_, answer),) = answers.sent
    assert answer["Status"] == "FAILED"
    assert "AccessDeniedException" in answer["Reason"]
    assert answer["PhysicalResourceId"] == "arn:secret"


def test_o3_custom_resource_answer_is_a_put_without_content_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CloudFormation's pre-signed URL is signed for no content type: urllib's default form
    type would make S3 refuse the answer."""
    sent: list[urllib.request.Request] = []

    class Response:
        def __enter__(self) -> Response:
            return self

        def __exit__(self, *_: object) -> None:
            return None

        def read(self) -> bytes:
            return b""

    def urlopen(request: urllib.request.Request, timeout: float) -> Response:
        assert timeout > 0
        sent.append(request)
        return Response()

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    custom_resource.put_response("https://s3.example/answer?sig=1", b'{"Status":"SUCCESS"}')
    (request,) = sent
    assert request.get_method() == "PUT"
    assert request.full_url == "https://s3.example/answer?sig=1"
    assert request.get_header("Content-type") == ""
    assert request.get_header("Content-length") == str(len(b'{"Status":"SUCCESS"}'))
    assert request.data == b'{"Status":"SUCCESS"}'


@pytest.mark.parametrize("url", ["http://s3.example/answer", "file:///etc/passwd"])
def test_o3_custom_resource_answers_only_over_https(url: str) -> None:
    with pytest.raises(ValueError, match="https"):
        custom_resource.put_response(url, b"{}")
