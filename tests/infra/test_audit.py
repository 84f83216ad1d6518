"""The audit trail's infrastructure (infra/audit.py) on the synthesized template: a subscription
filter on each function's log group hands audit records to the forwarder, whose own log group
is the audit log with its own retention; `audit_event_bus` adds a bus the forwarder alone may
put events on."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.audit import FILTER_PATTERN
from infra.config import ConfigError, StackConfig
from oauth_core import audit
from oauth_core.http.routes import AUDIT_FORWARDER_FUNCTION, FUNCTIONS
from tests.infra.conftest import synth
from tests.infra.test_nag import findings
from tests.infra.test_stack import function_ids, of_type

Resources = dict[str, dict[str, Any]]


def forwarder_id(resources: Resources) -> str:
    (found,) = [
        logical_id
        for logical_id, r in of_type(resources, "AWS::Lambda::Function").items()
        if r["Properties"]["Handler"] == AUDIT_FORWARDER_FUNCTION.handler
    ]
    return found


def policies_of(resources: Resources, role_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in of_type(resources, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


@pytest.fixture(scope="module")
def with_bus() -> Resources:
    stack = synth(audit_event_bus=True)
    assert findings(stack) == set()  # cdk-nag clean with the bus too
    return dict(Template.from_stack(stack).to_json()["Resources"])


def test_each_functions_log_group_hands_its_audit_records_to_the_forwarder(
    resources: Resources,
) -> None:
    forwarder = forwarder_id(resources)
    ids = function_ids(resources)
    filters = of_type(resources, "AWS::Logs::SubscriptionFilter")
    watched = {}
    for props in (f["Properties"] for f in filters.values()):
        assert props["FilterPattern"] == FILTER_PATTERN
        assert props["DestinationArn"] == {"Fn::GetAtt": [forwarder, "Arn"]}
        watched[props["LogGroupName"]["Ref"]] = props
    groups = {
        name: resources[ids[name]]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        for name in FUNCTIONS
    }
    assert set(watched) == set(groups.values())
    # CloudWatch Logs may invoke the forwarder, for exactly these log groups.
    permissions = [
        p["Properties"]
        for p in of_type(resources, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [forwarder, "Arn"]}
    ]
    assert {p["Principal"] for p in permissions} == {"logs.amazonaws.com"}
    assert {p["SourceArn"]["Fn::GetAtt"][0] for p in permissions} == set(groups.values())


def test_the_forwarders_own_log_group_is_the_audit_log_kept_a_year(
    template: Template, resources: Resources
) -> None:
    props = resources[forwarder_id(resources)]["Properties"]
    log_group = props["LoggingConfig"]["LogGroup"]["Ref"]
    assert resources[log_group]["Properties"]["RetentionInDays"] == 365
    assert props["LoggingConfig"]["SystemLogLevel"] == "WARN"
    assert len(props["Layers"]) == 1
    assert audit.ENV_AUDIT_EVENT_BUS not in props.get("Environment", {}).get("Variables", {})
    outputs = template.to_json()["Outputs"]
    assert outputs[audit.OUTPUT_AUDIT_LOG_GROUP]["Value"] == {"Ref": log_group}
    assert audit.OUTPUT_AUDIT_EVENT_BUS not in outputs
    # The functions' own logs keep their shorter retention.
    ids = function_ids(resources)
    token_group = resources[ids["token"]]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert resources[token_group]["Properties"]["RetentionInDays"] == 30


def test_a_failed_forwarding_is_retried_then_kept_in_an_encrypted_queue(
    resources: Resources,
) -> None:
    (config,) = [
        c
        for c in of_type(resources, "AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": forwarder_id(resources)}
    ]
    props = config["Properties"]
    assert props["FunctionName"] == {"Ref": forwarder_id(resources)}
    assert props["MaximumRetryAttempts"] == 2
    queue = props["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert resources[queue]["Properties"]["SqsManagedSseEnabled"] is True
    alarms = {
        a["Properties"]["AlarmName"] for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
    }
    assert {"OAuthServer-AuditForwarderErrors", "OAuthServer-AuditDeadLetters"} <= alarms


def test_without_the_bus_flag_nothing_may_put_events(resources: Resources) -> None:
    assert of_type(resources, "AWS::Events::EventBus") == {}
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert "events:PutEvents" not in str(statement["Action"])


def test_the_bus_flag_adds_a_bus_only_the_forwarder_puts_on(with_bus: Resources) -> None:
    (bus_id,) = of_type(with_bus, "AWS::Events::EventBus")
    forwarder = with_bus[forwarder_id(with_bus)]["Properties"]
    variables = forwarder["Environment"]["Variables"]
    assert variables[audit.ENV_AUDIT_EVENT_BUS] == {"Ref": bus_id}
    role = forwarder["Role"]["Fn::GetAtt"][0]
    puts = [s for s in policies_of(with_bus, role) if "events:PutEvents" in str(s["Action"])]
    assert puts == [
        {
            "Action": "events:PutEvents",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [bus_id, "Arn"]},
            "Sid": "PutAuditEvents",
        }
    ]
    # No other role may put events.
    for policy in of_type(with_bus, "AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            assert "events:PutEvents" not in str(policy["Properties"]["PolicyDocument"])


def test_the_bus_is_named_in_an_output_for_oauthctl() -> None:
    template = Template.from_stack(synth(audit_event_bus=True)).to_json()
    assert audit.OUTPUT_AUDIT_EVENT_BUS in template["Outputs"]


def test_audit_retention_is_its_own_option() -> None:
    template = Template.from_stack(synth(audit_retention_days=2557)).to_json()
    kept = {
        r["Properties"].get("RetentionInDays")
        for r in of_type(template["Resources"], "AWS::Logs::LogGroup").values()
    }
    assert kept == {30, 2557}
    with pytest.raises(ConfigError, match="audit_retention_days"):
        StackConfig(audit_retention_days=42).validate()
    assert StackConfig.from_context({"audit_event_bus": "true"}.get).audit_event_bus is True
