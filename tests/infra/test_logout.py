"""Back-channel logout's infrastructure (infra/logout.py) on the synthesized template: the
logout notifier, invoked only by the login function (asynchronously, not retried by Lambda),
reads only the clients table and the signing-key secret; its errors alarm."""

from __future__ import annotations

from typing import Any

from oauth_core import constants
from oauth_core.http.routes import LOGOUT_NOTIFIER_FUNCTION
from tests.infra.test_audit import policies_of
from tests.infra.test_stack import as_list, function_ids, of_type

Resources = dict[str, dict[str, Any]]


def notifier_id(resources: Resources) -> str:
    (found,) = [
        logical_id
        for logical_id, r in of_type(resources, "AWS::Lambda::Function").items()
        if r["Properties"]["Handler"] == LOGOUT_NOTIFIER_FUNCTION.handler
    ]
    return found


def role_of(resources: Resources, function_id: str) -> str:
    return str(resources[function_id]["Properties"]["Role"]["Fn::GetAtt"][0])


def test_l4_the_notifier_reads_only_the_clients_table_and_the_signing_keys(
    resources: Resources,
) -> None:
    notifier = notifier_id(resources)
    statements = policies_of(resources, role_of(resources, notifier))
    data = [s for s in statements if not all(a.startswith("logs:") for a in as_list(s["Action"]))]
    granted = {(a, str(s["Resource"])) for s in data for a in as_list(s["Action"])}
    assert {action for action, _ in granted} == {
        "dynamodb:GetItem",
        "secretsmanager:GetSecretValue",
    }
    (clients_table,) = [
        k for k, r in of_type(resources, "AWS::DynamoDB::GlobalTable").items() if "Clients" in k
    ]
    (keys_secret,) = [
        k for k in of_type(resources, "AWS::SecretsManager::Secret") if "SigningKeys" in k
    ]
    for action, resource in granted:
        wanted = clients_table if action.startswith("dynamodb:") else keys_secret
        assert wanted in resource and "*" not in resource, (action, resource)
    variables = resources[notifier]["Properties"]["Environment"]["Variables"]
    assert set(variables) >= {constants.ENV_CLIENTS_TABLE, constants.ENV_SIGNING_KEYS_SECRET}
    assert constants.ENV_LOGOUT_NOTIFIER_FUNCTION not in variables


def test_l4_only_the_login_function_may_invoke_it_and_is_told_its_name(
    resources: Resources,
) -> None:
    notifier = notifier_id(resources)
    invokers = {}
    for name, logical_id in function_ids(resources).items():
        for statement in policies_of(resources, role_of(resources, logical_id)):
            if any(a.startswith("lambda:") for a in as_list(statement["Action"])):
                invokers[name] = statement
    assert set(invokers) == {"login"}
    assert as_list(invokers["login"]["Action"]) == ["lambda:InvokeFunction"]
    assert invokers["login"]["Resource"] == {"Fn::GetAtt": [notifier, "Arn"]}  # no version *
    login = resources[function_ids(resources)["login"]]["Properties"]
    assert login["Environment"]["Variables"][constants.ENV_LOGOUT_NOTIFIER_FUNCTION] == {
        "Ref": notifier
    }
    # No service may invoke it: no resource policy on it.
    for permission in of_type(resources, "AWS::Lambda::Permission").values():
        assert permission["Properties"]["FunctionName"] != {"Fn::GetAtt": [notifier, "Arn"]}


def test_l4_lambda_does_not_retry_it_nor_keep_stale_events(resources: Resources) -> None:
    notifier = notifier_id(resources)
    (config,) = [
        c["Properties"]
        for c in of_type(resources, "AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": notifier}
    ]
    assert config["MaximumRetryAttempts"] == 0  # it retries each app once itself
    assert config["MaximumEventAgeInSeconds"] == 60  # a logout token lives two minutes


def test_the_notifier_has_an_errors_alarm_and_a_stack_output(
    resources: Resources, template: Any
) -> None:
    notifier = notifier_id(resources)
    alarms = [
        a["Properties"]
        for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Dimensions")
        == [{"Name": "FunctionName", "Value": {"Ref": notifier}}]
    ]
    assert [a["MetricName"] for a in alarms] == ["Errors"]
    outputs = template.to_json()["Outputs"]
    assert outputs[constants.OUTPUT_LOGOUT_NOTIFIER_FUNCTION]["Value"] == {"Ref": notifier}
