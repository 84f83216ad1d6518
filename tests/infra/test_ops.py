"""SECURITY O1-O4 on the synthesized template: alarms that can deliver, alarms on the dimensions
the code publishes, keys before the functions that sign, invoke permissions scoped to their
source."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest

from oauth_core import constants, observability
from oauth_core.http.routes import FUNCTIONS
from oauth_core.observability import count
from tests.infra.test_stack import function_ids, of_type, policy_statements

# What CloudFormation would substitute for the pseudo parameters, to read ARNs as they deploy.
ACCOUNT, REGION, PARTITION = "111122223333", "eu-west-1", "aws"
PSEUDO = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": PARTITION}
CLOUDWATCH = "cloudwatch.amazonaws.com"
Resources = dict[str, dict[str, Any]]


def resolve(value: Any, resources: Resources) -> Any:
    """A template value as it deploys: pseudo parameters substituted, joins joined, an alarm's
    ARN built from its name; any other reference stays a placeholder naming its resource."""
    if isinstance(value, list):
        return [resolve(item, resources) for item in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(part, resources)) for part in parts)
    if "Ref" in value:
        return PSEUDO.get(value["Ref"], f"<{value['Ref']}>")
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        resource = resources[logical_id]
        if resource["Type"] == "AWS::CloudWatch::Alarm" and attribute == "Arn":
            name = resolve(resource["Properties"]["AlarmName"], resources)
            return f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"
        return f"<{logical_id}.{attribute}>"
    return {key: resolve(item, resources) for key, item in value.items()}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def alarms(resources: Resources) -> Resources:
    return of_type(resources, "AWS::CloudWatch::Alarm")


def alarm_arns(resources: Resources) -> set[str]:
    return {
        resolve({"Fn::GetAtt": [logical_id, "Arn"]}, resources) for logical_id in alarms(resources)
    }


def the_topic(resources: Resources) -> tuple[str, dict[str, Any]]:
    ((logical_id, topic),) = of_type(resources, "AWS::SNS::Topic").items()
    return logical_id, topic


def statements_for(document: dict[str, Any], service: str) -> list[dict[str, Any]]:
    return [s for s in document["Statement"] if s.get("Principal") == {"Service": service}]


# O1 ------------------------------------------------------------------------------------------


def test_o1_every_alarm_notifies_the_one_alarm_topic(resources: Resources) -> None:
    topic_id, _ = the_topic(resources)
    assert len(alarms(resources)) >= 10
    for logical_id, alarm in alarms(resources).items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}], logical_id


def test_o1_alarm_topic_is_encrypted_with_a_rotating_key_of_the_stack(
    resources: Resources,
) -> None:
    """Not alias/aws/sns: the AWS-managed key's policy cannot admit CloudWatch."""
    _, topic = the_topic(resources)
    key_ref = topic["Properties"]["KmsMasterKeyId"]
    key_id, attribute = key_ref["Fn::GetAtt"]
    assert attribute == "Arn"
    key = resources[key_id]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert "alias/aws/sns" not in json.dumps(topic)


def test_o1_alarm_topic_key_policy_admits_cloudwatch(resources: Resources) -> None:
    _, topic = the_topic(resources)
    key = resources[topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]]
    (statement,) = statements_for(key["Properties"]["KeyPolicy"], CLOUDWATCH)
    assert statement["Effect"] == "Allow"
    assert set(as_list(statement["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    condition = resolve(statement["Condition"], resources)
    assert condition["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    pattern = condition["ArnLike"]["aws:SourceArn"]
    # Every alarm of the stack may use the key; an alarm of someone else's may not.
    for arn in alarm_arns(resources):
        assert fnmatch.fnmatchcase(arn, pattern), (arn, pattern)
    for foreign in (
        f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:SomeOtherStack-Api5xx",
        f"arn:{PARTITION}:cloudwatch:{REGION}:444455556666:alarm:OAuthServer-Api5xx",
    ):
        assert not fnmatch.fnmatchcase(foreign, pattern), foreign


def test_o1_topic_policy_lets_the_stacks_alarms_publish_beside_the_ssl_deny(
    resources: Resources,
) -> None:
    topic_id, _ = the_topic(resources)
    (policy,) = [
        p
        for p in of_type(resources, "AWS::SNS::TopicPolicy").values()
        if {"Ref": topic_id} in p["Properties"]["Topics"]
    ]
    document = policy["Properties"]["PolicyDocument"]
    denies = [s for s in document["Statement"] if s["Effect"] == "Deny"]
    assert any(
        s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        and "sns:Publish" in as_list(s["Action"])
        for s in denies
    ), denies
    (allow,) = statements_for(document, CLOUDWATCH)
    assert allow["Effect"] == "Allow"
    assert as_list(allow["Action"]) == ["sns:Publish"]
    assert allow["Resource"] == {"Ref": topic_id}
    condition = resolve(allow["Condition"], resources)
    assert condition["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    # Exactly the stack's alarms, each by its ARN.
    assert set(as_list(condition["ArnLike"]["aws:SourceArn"])) == alarm_arns(resources)


# O2 ------------------------------------------------------------------------------------------


def project_alarms(resources: Resources) -> dict[str, dict[str, str]]:
    """Each alarm on the project's namespace: its metric name -> the dimensions it watches."""
    watched: dict[str, dict[str, str]] = {}
    for logical_id, alarm in alarms(resources).items():
        props = alarm["Properties"]
        if props.get("Namespace") != constants.METRICS_NAMESPACE:
            continue
        assert "Metrics" not in props, f"{logical_id}: a math alarm; check its metrics too"
        dimensions = {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}
        assert props["MetricName"] not in watched, logical_id
        watched[props["MetricName"]] = dimensions
    return watched


@pytest.fixture
def metrics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(observability, "_METRICS_ON", True)


def test_o2_every_project_alarm_watches_the_dimensions_count_publishes(
    resources: Resources, metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """For each alarm in the template, count() its metric with the alarm's dimension values and
    read back the EMF record: same namespace, name, dimension names and values."""
    watched = project_alarms(resources)
    assert {"RefreshTokenReuse", "CodeReplay"} <= set(watched)
    for name, dimensions in watched.items():
        capsys.readouterr()
        own = {key: value for key, value in dimensions.items() if key != "service"}
        count(name, **own)
        (line,) = [line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
        record = json.loads(line)
        (directive,) = record["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == constants.METRICS_NAMESPACE
        assert [m["Name"] for m in directive["Metrics"]] == [name]
        assert [set(d) for d in directive["Dimensions"]] == [set(dimensions)], name
        assert {key: record[key] for key in dimensions} == dimensions, name


# O3 ------------------------------------------------------------------------------------------


def the_signing_key_secret(resources: Resources) -> str:
    (logical_id,) = [
        k for k, r in of_type(resources, "AWS::SecretsManager::Secret").items() if "Signing" in k
    ]
    return logical_id


def test_o3_initial_keys_exist_before_any_function_that_serves_requests(
    resources: Resources,
) -> None:
    ids = function_ids(resources)
    ((initial_id, initial),) = of_type(resources, "Custom::InitialSigningKeys").items()
    props = initial["Properties"]
    assert props["ServiceToken"] == {"Fn::GetAtt": [ids["rotate_keys"], "Arn"]}
    assert props["SecretId"] == {"Ref": the_signing_key_secret(resources)}
    # A stuck answer fails the deployment in minutes, not CloudFormation's default hour.
    assert int(props["ServiceTimeout"]) <= 600
    for name in FUNCTIONS:
        assert initial_id in resources[ids[name]].get("DependsOn", []), name
    assert initial_id not in resources[ids["rotate_keys"]].get("DependsOn", [])


def test_o3_rotation_schedule_does_not_also_rotate_on_creation(resources: Resources) -> None:
    ((schedule_id, schedule),) = of_type(resources, "AWS::SecretsManager::RotationSchedule").items()
    props = schedule["Properties"]
    assert props["RotateImmediatelyOnUpdate"] is False
    assert props["RotationRules"] == {"ScheduleExpression": "rate(30 days)"}
    assert props["SecretId"] == {"Ref": the_signing_key_secret(resources)}
    # Secrets Manager then tests the rotation on a copy of the current set: it must have keys.
    (initial_id,) = of_type(resources, "Custom::InitialSigningKeys")
    assert initial_id in schedule["DependsOn"]
    # The logical id add_rotation_schedule gave it: a deployed stack's schedule is updated in
    # place (a new id would delete the old schedule last, turning rotation off).
    assert schedule_id == "SecretsSigningKeysRotationAAEE87E2"


def test_o3_key_rotation_function_has_its_own_errors_alarm(resources: Resources) -> None:
    rotation = function_ids(resources)["rotate_keys"]
    topic_id, _ = the_topic(resources)
    matching = [
        a["Properties"]
        for a in alarms(resources).values()
        if a["Properties"].get("Namespace") == "AWS/Lambda"
        and a["Properties"].get("MetricName") == "Errors"
        and a["Properties"].get("Dimensions")
        == [{"Name": "FunctionName", "Value": {"Ref": rotation}}]
    ]
    (alarm,) = matching
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_o3_rotation_function_touches_only_the_signing_key_secret(resources: Resources) -> None:
    rotation = function_ids(resources)["rotate_keys"]
    role_id = resources[rotation]["Properties"]["Role"]["Fn::GetAtt"][0]
    secret_statements = [
        s
        for s in policy_statements(resources, role_id)
        if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))
    ]
    assert secret_statements
    for statement in secret_statements:
        assert statement["Resource"] == {"Ref": the_signing_key_secret(resources)}, statement


# O4 ------------------------------------------------------------------------------------------


def names_the_account(permission: dict[str, Any], resources: Resources) -> bool:
    """SourceAccount is the stack's account, or the SourceArn's account field is.

    The second form is how API Gateway's permissions name it: an execute-api ARN carries the
    API's account (arn:aws:execute-api:region:ACCOUNT:api-id/...), and CloudFormation resolves
    it to this stack's; Lambda's documentation scopes API Gateway with SourceArn alone. A
    SourceArn that is a reference (a secret's ARN, say) shows no account here, so such a
    permission must name it in SourceAccount.
    """
    if permission.get("SourceAccount") == {"Ref": "AWS::AccountId"}:
        return True
    arn = str(resolve(permission.get("SourceArn"), resources))
    fields = arn.split(":")
    return len(fields) > 5 and fields[0] == "arn" and fields[4] == ACCOUNT


def test_o4_every_lambda_permission_names_a_source_account_and_arn(
    resources: Resources,
) -> None:
    permissions = of_type(resources, "AWS::Lambda::Permission")
    assert len(permissions) > 10
    for logical_id, permission in permissions.items():
        props = permission["Properties"]
        assert props.get("SourceArn"), f"{logical_id}: no SourceArn"
        assert names_the_account(props, resources), f"{logical_id}: no source account"


def test_o4_secrets_manager_may_invoke_the_rotation_function_for_the_key_secret_only(
    resources: Resources,
) -> None:
    rotation = function_ids(resources)["rotate_keys"]
    (permission_id, permission), *others = [
        (k, p)
        for k, p in of_type(resources, "AWS::Lambda::Permission").items()
        if p["Properties"]["Principal"] == "secretsmanager.amazonaws.com"
    ]
    assert others == [], "CDK's bare permission is replaced, not kept beside"
    props = permission["Properties"]
    assert props["FunctionName"] == {"Fn::GetAtt": [rotation, "Arn"]}
    assert props["Action"] == "lambda:InvokeFunction"
    assert props["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert props["SourceArn"] == {"Ref": the_signing_key_secret(resources)}
    (schedule,) = of_type(resources, "AWS::SecretsManager::RotationSchedule").values()
    assert permission_id in schedule["DependsOn"]


def test_o4_the_permission_check_refuses_a_bare_principal(resources: Resources) -> None:
    """The check above is not vacuous: CDK's own permission, as add_rotation_schedule made it."""
    bare = {"Action": "lambda:InvokeFunction", "Principal": "secretsmanager.amazonaws.com"}
    assert not names_the_account(bare, resources)
    elsewhere = {
        "SourceArn": "arn:aws:execute-api:eu-west-1:444455556666:abc/*/*/token",
        "Principal": "apigateway.amazonaws.com",
    }
    assert not names_the_account(elsewhere, resources)
