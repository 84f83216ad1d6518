"""The audit forwarder as Lambda runs it: a CloudWatch Logs subscription delivery in, each
audit record printed whole (its log group is the audit log) and, with a bus, put on EventBridge
(moto), where a rule on the source oauth-server.audit finds them."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from oauth_core import audit
from oauth_core.admin.audit_forwarder import AuditForwarder
from oauth_core.errors import StorageError
from oauth_core.storage.audit_bus import EventBridgeAuditBus
from tests.unit.test_audit import delivery

BUS = "OAuthServer-audit"


@pytest.fixture
def bus_queue(aws: Any) -> tuple[Any, str]:
    """The bus, and a queue a rule on the audit source delivers to (to see what arrived)."""
    import boto3

    events = boto3.client("events")
    sqs = boto3.client("sqs")
    events.create_event_bus(Name=BUS)
    queue_url = sqs.create_queue(QueueName="audit-seen")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    events.put_rule(
        Name="audit",
        EventBusName=BUS,
        EventPattern=json.dumps({"source": [audit.AUDIT_EVENT_SOURCE]}),
    )
    events.put_targets(
        Rule="audit",
        EventBusName=BUS,
        Targets=[{"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}],
    )
    return sqs, queue_url


def arrived(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return seen
        seen.extend(json.loads(m["Body"]) for m in batch)
        for m in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


def test_records_are_printed_whole_and_put_on_the_bus(bus_queue: tuple[Any, str]) -> None:
    sqs, queue_url = bus_queue
    lines = [
        audit.line(audit.record(audit.SIGNIN_FAILURE, client_id="web", reason="unknown_user"))
        for _ in range(12)  # more than one PutEvents call takes
    ]
    out = io.StringIO()
    forwarder = AuditForwarder(EventBridgeAuditBus(BUS).publish, out)
    assert forwarder(delivery([*lines, "START RequestId: x", '{"level":"INFO"}'])) == {
        "forwarded": 12
    }
    printed = out.getvalue().splitlines()
    assert printed == lines
    events = arrived(sqs, queue_url)
    assert len(events) == 12
    assert {e["source"] for e in events} == {"oauth-server.audit"}
    assert {e["detail-type"] for e in events} == {"signin.failure"}
    assert events[0]["detail"] == json.loads(lines[0])["audit"]


def test_without_a_bus_the_records_are_only_printed(aws: Any, capsys: Any) -> None:
    AuditForwarder()(delivery([audit.line(audit.record(audit.SIGNIN_SUCCESS, sub="u-1"))]))
    assert json.loads(capsys.readouterr().out)["audit"]["event"] == "signin.success"


class RefusingEvents:
    """EventBridge refusing every entry (as it may under throttling)."""

    def __init__(self) -> None:
        self.calls = 0

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls += 1
        return {
            "FailedEntryCount": len(Entries),
            "Entries": [{"ErrorCode": "ThrottlingException"} for _ in Entries],
        }


def test_a_refusing_bus_fails_the_invocation_after_the_log_has_the_records() -> None:
    out = io.StringIO()
    refusing = RefusingEvents()
    forwarder = AuditForwarder(EventBridgeAuditBus(BUS, events=refusing).publish, out)
    line = audit.line(audit.record(audit.TOKEN_REVOKED, client_id="web", token_type="access_token"))
    with pytest.raises(StorageError):
        forwarder(delivery([line]))
    assert out.getvalue() == line + "\n"  # Lambda retries, then dead-letters: at least once
    assert refusing.calls == 2  # tried once more before failing


def test_the_deployed_handler_reads_its_bus_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from oauth_core.admin import audit_forwarder

    monkeypatch.delenv(audit.ENV_AUDIT_EVENT_BUS, raising=False)
    assert audit_forwarder.from_env()._publish is None
    monkeypatch.setenv(audit.ENV_AUDIT_EVENT_BUS, BUS)
    assert audit_forwarder.from_env()._publish is not None
    import audit_forwarder_handler

    assert isinstance(audit_forwarder_handler.lambda_handler, AuditForwarder)
