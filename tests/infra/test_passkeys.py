"""Passkeys in the stack: their table (by credential id, a by-user index, point-in-time recovery),
touched by the login function alone and only as it must (K5), and the RP ID setting."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.config import ConfigError, StackConfig
from oauth_core import constants
from tests.infra.test_stack import as_list, function_ids, of_type, policy_statements


def passkeys_table(resources: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (logical_id, r["Properties"])
        for logical_id, r in of_type(resources, "AWS::DynamoDB::GlobalTable").items()
        if r["Properties"]["KeySchema"][0]["AttributeName"] == "credential_id"
    ]
    return found


def test_k5_only_the_login_function_touches_passkeys_and_only_as_it_must(
    resources: dict[str, dict[str, Any]],
) -> None:
    table_id, props = passkeys_table(resources)
    assert [i["IndexName"] for i in props["GlobalSecondaryIndexes"]] == ["by-user"]
    replica = props["Replicas"][0]
    assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    ids = function_ids(resources)
    for name, logical_id in ids.items():
        role_id = resources[logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
        touching = [
            s for s in policy_statements(resources, role_id) if table_id in str(s["Resource"])
        ]
        if name != "login":
            assert touching == [], name
            continue
        on_table = {
            a for s in touching for a in as_list(s["Action"]) if "/index/" not in str(s["Resource"])
        }
        assert on_table == {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        }
        on_index = [s for s in touching if "/index/" in str(s["Resource"])]
        assert [as_list(s["Action"]) for s in on_index] == [["dynamodb:Query"]]
        assert "/index/by-user" in str(on_index[0]["Resource"])


def test_the_functions_know_the_passkeys_table(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like({constants.ENV_PASSKEYS_TABLE: Match.any_value()})
            }
        },
    )
    assert constants.OUTPUT_PASSKEYS_TABLE in template.to_json()["Outputs"]


def test_k1_a_passkey_rp_id_must_be_the_custom_domain_or_a_suffix_of_it() -> None:
    domain: dict[str, Any] = {
        "custom_domain": "auth.example.com",
        "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
    }
    for rp_id in ("example.com", "auth.example.com"):
        StackConfig(**domain, passkey_rp_id=rp_id).validate()
    for wrong in ("other.example", "ample.com", "x.auth.example.com"):
        with pytest.raises(ConfigError, match="passkey_rp_id"):
            StackConfig(**domain, passkey_rp_id=wrong).validate()
    with pytest.raises(ConfigError, match="passkey_rp_id"):
        StackConfig(passkey_rp_id="example.com").validate()  # no custom domain


def test_k1_the_passkey_rp_id_reaches_the_functions() -> None:
    from tests.infra.conftest import synth

    stack = synth(
        custom_domain="auth.example.com",
        certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc",
        passkey_rp_id="example.com",
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like({constants.ENV_PASSKEY_RP_ID: "example.com"})
            }
        },
    )


def test_oauthctl_finds_the_passkeys_table_in_a_deployed_stacks_outputs(template: Template) -> None:
    """`oauthctl --stack NAME users passkeys list|remove` and `users delete` use the operator's
    own credentials (no role of the stack's: the functions' roles above are the login
    function's alone); they find the table by the stack's output."""
    from oauthctl.admin import _settings_of

    outputs = template.to_json()["Outputs"]
    assert constants.OUTPUT_PASSKEYS_TABLE in outputs
    named = _settings_of({constants.OUTPUT_PASSKEYS_TABLE: "the-stacks-passkeys"})
    assert named == {"passkeys_table": "the-stacks-passkeys"}
