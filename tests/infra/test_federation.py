"""Federation's infrastructure (SECURITY U5): the upstream providers' client secrets live under a
prefix of their own in Secrets Manager, which only the login function may read, and oauthctl
finds it in the stack's outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template

from oauth_core import constants
from tests.infra.test_stack import as_list, function_ids, policy_statements

PROVIDER_PREFIX = "OAuthServer/oauth/providers/*"


def _secret_reads(resources: dict[str, dict[str, Any]], function: str) -> list[str]:
    role_id = resources[function_ids(resources)[function]]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        str(statement["Resource"])
        for statement in policy_statements(resources, role_id)
        if any(a.startswith("secretsmanager:") for a in as_list(statement["Action"]))
    ]


def test_u5_only_the_login_function_reads_the_provider_secrets(
    resources: dict[str, dict[str, Any]],
) -> None:
    login = _secret_reads(resources, "login")
    assert [read for read in login if PROVIDER_PREFIX in read] != []
    # The login function reads the providers' secrets and the request-sealing key, no more: no
    # client secret, no signing key.
    assert all(PROVIDER_PREFIX in read or "RequestSealingKey" in read for read in login), login
    for name in function_ids(resources):
        if name != "login":
            assert not any(PROVIDER_PREFIX in read for read in _secret_reads(resources, name)), name
    role_id = resources[function_ids(resources)["login"]]["Properties"]["Role"]["Fn::GetAtt"][0]
    (statement,) = [
        s for s in policy_statements(resources, role_id) if PROVIDER_PREFIX in str(s["Resource"])
    ]
    assert as_list(statement["Action"]) == ["secretsmanager:GetSecretValue"]


def test_u5_the_login_function_knows_the_prefix_and_oauthctl_finds_it(
    template: Template, resources: dict[str, dict[str, Any]]
) -> None:
    login = resources[function_ids(resources)["login"]]
    variables = login["Properties"]["Environment"]["Variables"]
    assert variables[constants.ENV_PROVIDER_SECRET_PREFIX] == "OAuthServer/oauth/providers/"
    outputs = template.to_json()["Outputs"]
    assert constants.OUTPUT_PROVIDER_SECRET_PREFIX in outputs
