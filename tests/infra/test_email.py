"""Recovery and verification by e-mail in the synthesized template (infra/email.py): no e-mail
unless a sender is given; with one, only the login function may send, only through the
stack's SES identity (and configuration set), only From the sender, and it may query the users
table's by-email index; cdk-nag stays clean; sign-up is off unless switched on."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.config import ConfigError, StackConfig
from oauth_core import constants
from tests.infra.conftest import synth
from tests.infra.test_audit import policies_of
from tests.infra.test_logout import role_of
from tests.infra.test_nag import findings
from tests.infra.test_stack import as_list, function_ids, of_type

Resources = dict[str, dict[str, Any]]
SENDER = "Example sign-in <no-reply@example.com>"


@pytest.fixture(scope="module")
def mailing() -> tuple[Resources, dict[str, Any]]:
    stack = synth(
        ses_sender=SENDER,
        ses_identity="example.com",
        ses_configuration_set="no-tracking",
        self_sign_up=True,
    )
    assert findings(stack) == set()  # cdk-nag clean with e-mail on
    template = Template.from_stack(stack).to_json()
    return dict(template["Resources"]), dict(template["Outputs"])


def ses_statements(resources: Resources) -> dict[str, list[dict[str, Any]]]:
    """Every statement granting an ses: action, by the role's logical id."""
    found: dict[str, list[dict[str, Any]]] = {}
    for role in of_type(resources, "AWS::IAM::Role"):
        for statement in policies_of(resources, role):
            if any(str(a).startswith("ses:") for a in as_list(statement["Action"])):
                found.setdefault(role, []).append(statement)
    return found


def test_a_stack_without_a_sender_sends_no_e_mail(resources: Resources) -> None:
    assert ses_statements(resources) == {}
    for logical_id in function_ids(resources).values():
        variables = resources[logical_id]["Properties"]["Environment"]["Variables"]
        assert constants.ENV_EMAIL_SENDER not in variables
        assert constants.ENV_SELF_SIGN_UP not in variables


def test_only_the_login_function_sends_through_the_identity_from_the_sender(
    mailing: tuple[Resources, dict[str, Any]],
) -> None:
    resources, _ = mailing
    login = function_ids(resources)["login"]
    granted = ses_statements(resources)
    assert list(granted) == [role_of(resources, login)]
    (statement,) = granted[role_of(resources, login)]
    assert as_list(statement["Action"]) == ["ses:SendEmail"]
    targets = [str(r) for r in as_list(statement["Resource"])]
    assert len(targets) == 2
    assert any(":identity/example.com" in t for t in targets)
    assert any(":configuration-set/no-tracking" in t for t in targets)
    assert all("*" not in t for t in targets)
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": "no-reply@example.com"}}
    queries = [
        s
        for s in policies_of(resources, role_of(resources, login))
        if "dynamodb:Query" in as_list(s["Action"]) and "by-email" in str(s["Resource"])
    ]
    assert len(queries) == 1 and "Users" in str(queries[0]["Resource"])


def test_the_login_function_is_told_the_sender_and_sign_up(
    mailing: tuple[Resources, dict[str, Any]],
) -> None:
    resources, outputs = mailing
    ids = function_ids(resources)
    variables = resources[ids["login"]]["Properties"]["Environment"]["Variables"]
    assert variables[constants.ENV_EMAIL_SENDER] == SENDER
    assert variables[constants.ENV_EMAIL_CONFIGURATION_SET] == "no-tracking"
    assert variables[constants.ENV_SELF_SIGN_UP] == "on"
    token = resources[ids["token"]]["Properties"]["Environment"]["Variables"]
    assert constants.ENV_EMAIL_SENDER not in token
    assert outputs[constants.OUTPUT_EMAIL_SENDER]["Value"] == SENDER


def test_the_users_table_indexes_verified_addresses(resources: Resources) -> None:
    (users,) = [
        r for k, r in of_type(resources, "AWS::DynamoDB::GlobalTable").items() if "Users" in k
    ]
    (index,) = users["Properties"]["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by-email"
    assert index["KeySchema"] == [{"AttributeName": "email_key", "KeyType": "HASH"}]


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"self_sign_up": True}, "self_sign_up: needs ses_sender"),
        ({"ses_identity": "example.com"}, "ses_identity: needs ses_sender"),
        ({"ses_sender": "not an address"}, "ses_sender: an e-mail address"),
        ({"ses_sender": SENDER, "ses_identity": "example.org"}, "must be the sender's"),
        ({"ses_sender": SENDER, "ses_identity": "other@example.com"}, "must be the sender's"),
        ({"ses_sender": SENDER, "ses_configuration_set": "a b"}, "not a name"),
    ],
)
def test_email_options_that_cannot_work_are_refused(options: dict[str, Any], said: str) -> None:
    with pytest.raises(ConfigError, match=said):
        StackConfig(**options).validate()


def test_an_identity_arn_is_taken_as_it_is() -> None:
    arn = "arn:aws:ses:eu-west-1:123456789012:identity/example.com"
    config = StackConfig(ses_sender=SENDER, ses_identity=arn)
    config.validate()
    assert config.ses_identity_name == "example.com"
    assert StackConfig(ses_sender=SENDER).ses_identity_name == "no-reply@example.com"


def alarm_names(resources: Resources) -> set[str]:
    return {
        str(r["Properties"].get("MetricName"))
        for r in of_type(resources, "AWS::CloudWatch::Alarm").values()
    }


def test_an_e_mail_ses_refused_alarms_on_a_stack_that_sends(
    resources: Resources, mailing: tuple[Resources, dict[str, Any]]
) -> None:
    assert "EmailNotSent" not in alarm_names(resources)
    sending, _ = mailing
    (alarm,) = [
        r
        for r in of_type(sending, "AWS::CloudWatch::Alarm").values()
        if r["Properties"].get("MetricName") == "EmailNotSent"
    ]
    # The dimensions count() publishes EmailNotSent with: the service alone (SECURITY O2).
    assert [d["Name"] for d in alarm["Properties"]["Dimensions"]] == ["service"]
    assert alarm["Properties"]["AlarmActions"]
