"""oauthctl against a deployed stack's audit trail (moto's CloudFormation, CloudWatch Logs,
EventBridge and STS): a change is written to the audit log group by the caller's ARN, and
`audit tail` reads the group back, a record of the functions' among them."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from oauth_core import audit, constants
from oauth_core.config import Settings
from oauthctl import audit as trail
from oauthctl.cli import main

GROUP = "OAuthServer-AuditLog"
BUS = "OAuthServer-audit"
MOTO_CALLER = "arn:aws:sts::123456789012:user/moto"


def deploy(settings: Settings, name: str, *, bus: bool) -> str:
    outputs = {
        constants.OUTPUT_CLIENTS_TABLE: settings.clients_table,
        constants.OUTPUT_USERS_TABLE: settings.users_table,
        constants.OUTPUT_GRANTS_TABLE: settings.grants_table,
        constants.OUTPUT_REGISTRY_TABLE: settings.registry_table,
        constants.OUTPUT_CLIENT_SECRET_PREFIX: f"{name}/oauth/clients/",
        constants.OUTPUT_SIGNING_KEYS_SECRET: settings.signing_keys_secret,
        audit.OUTPUT_AUDIT_LOG_GROUP: GROUP,
    }
    if bus:
        outputs[audit.OUTPUT_AUDIT_EVENT_BUS] = BUS
    template = {
        "Resources": {"Marker": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    return name


@pytest.fixture
def audited(aws: Settings) -> str:
    boto3.client("logs").create_log_group(logGroupName=GROUP)
    return deploy(aws, "Audited", bus=False)


def tail(stack: str, capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, Any]]:
    assert main(["--stack", stack, "audit", "tail", "--output", "json", *extra]) == 0
    return list(json.loads(capsys.readouterr().out))


def test_a_change_is_in_the_audit_log_by_the_callers_arn_and_without_its_secret(
    audited: str, capsys: pytest.CaptureFixture[str]
) -> None:
    create = ["clients", "create", "svc-a", "--grant-type", "client_credentials"]
    assert main(["--stack", audited, *create, "--scope", "read:data", "--name", "A"]) == 0
    secret = json.loads(capsys.readouterr().out)["client_secret"]
    assert main(["--stack", audited, "clients", "rotate-secret", "svc-a"]) == 0
    rotated = json.loads(capsys.readouterr().out)["client_secret"]
    (created, rotation) = tail(audited, capsys)
    assert created["event"] == "admin.change"
    assert created["actor"] == MOTO_CALLER
    assert created["client_id"] == "svc-a"
    assert created["detail"] == {
        "command": "clients create",
        "options": ["grant_type", "name", "scope"],
        "target": "svc-a",
    }
    assert rotation["detail"]["command"] == "clients rotate-secret"
    logged = json.dumps(boto3.client("logs").filter_log_events(logGroupName=GROUP))
    assert secret not in logged and rotated not in logged
    streams = boto3.client("logs").describe_log_streams(logGroupName=GROUP)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [trail.CLI_STREAM]


def test_reads_record_nothing_and_ask_sts_nothing(
    audited: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def caller_arn(admin: object) -> str:
        asked.append("sts")
        return "arn"

    monkeypatch.setattr(trail, "caller_arn", caller_arn)
    assert main(["--stack", audited, "clients", "list"]) == 0
    assert main(["--stack", audited, "keys", "list"]) == 0
    capsys.readouterr()
    assert tail(audited, capsys) == []
    assert asked == []


def test_tail_reads_the_forwarders_records_filtered_by_event(
    audited: str, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = boto3.client("logs")
    logs.create_log_stream(logGroupName=GROUP, logStreamName="2026/11/26/[$LATEST]abc")
    records = [
        audit.record(audit.CLIENT_AUTH_FAILURE, client_id="svc", reason="bad_secret"),
        audit.record(audit.TOKEN_REVOKED, client_id="svc", token_type="access_token"),
        audit.record(audit.CLIENT_AUTH_FAILURE, client_id="svc", reason="unknown_client"),
    ]
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName="2026/11/26/[$LATEST]abc",
        logEvents=[
            {"timestamp": int(time.time() * 1000) + i, "message": m}
            for i, m in enumerate([audit.line(r) for r in records] + ["a platform line"])
        ],
    )
    assert [
        r["detail"]["reason"] for r in tail(audited, capsys, "--event", "client_auth.failure")
    ] == [
        "bad_secret",
        "unknown_client",
    ]
    assert len(tail(audited, capsys, "-n", "1")) == 1


def test_with_the_bus_a_change_is_put_on_it_too(
    aws: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("logs").create_log_group(logGroupName=GROUP)
    stack = deploy(aws, "WithBus", bus=True)
    events = boto3.client("events")
    sqs = boto3.client("sqs")
    events.create_event_bus(Name=BUS)
    queue = sqs.create_queue(QueueName="seen")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    events.put_rule(
        Name="all",
        EventBusName=BUS,
        EventPattern=json.dumps({"source": [audit.AUDIT_EVENT_SOURCE]}),
    )
    events.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn["QueueArn"]}])
    assert main(["--stack", stack, "keys", "rotate", "--force"]) == 0
    (message,) = sqs.receive_message(QueueUrl=queue).get("Messages", [])
    event = json.loads(message["Body"])
    assert event["detail-type"] == "admin.change"
    assert event["detail"]["detail"] == {
        "command": "keys rotate",
        "options": ["force"],
        "target": "signing keys",
    }
