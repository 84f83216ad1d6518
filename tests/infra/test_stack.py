"""The CDK stack, asserted on its CloudFormation template."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.config import StackConfig
from oauth_core import constants
from oauth_core.http.routes import FUNCTIONS, ROUTES


def of_type(resources: dict[str, dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def function_ids(resources: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Function name (authorize, token, ...) -> logical id, from the handler setting."""
    found = {}
    for logical_id, resource in of_type(resources, "AWS::Lambda::Function").items():
        handler = resource["Properties"].get("Handler", "")
        for name, spec in FUNCTIONS.items():
            if handler == spec.handler:
                found[name] = logical_id
        if handler == "rotate_keys_handler.lambda_handler":
            found["rotate_keys"] = logical_id
    return found


def test_four_functions_plus_rotation_on_python313_arm64_with_the_layer(
    template: Template, resources: dict[str, dict[str, Any]]
) -> None:
    ids = function_ids(resources)
    assert set(ids) == {*FUNCTIONS, "rotate_keys"}
    template.resource_count_is("AWS::Lambda::LayerVersion", 1)
    for logical_id in ids.values():
        props = resources[logical_id]["Properties"]
        assert props["Runtime"] == "python3.13"
        assert props["Architectures"] == ["arm64"]
        assert props["MemorySize"] > 0
        assert props["Timeout"] > 0
        assert props["LoggingConfig"]["LogFormat"] == "JSON"
        assert len(props["Layers"]) == 1


def test_tables_on_demand_encrypted_with_ttl_and_pitr(resources: dict[str, dict[str, Any]]) -> None:
    tables = {
        r["Properties"]["KeySchema"][0]["AttributeName"]: r["Properties"]
        for r in of_type(resources, "AWS::DynamoDB::GlobalTable").values()
    }
    # sub: the factors table; credential_id: the passkeys table.
    assert set(tables) == {"client_id", "username", "pk", "section", "sub", "credential_id"}
    for key, props in tables.items():
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["SSESpecification"]["SSEEnabled"] is True
        replica = props["Replicas"][0]
        pitr = replica.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")
        assert pitr is (key != "pk")  # long-lived tables only
        assert replica["DeletionProtectionEnabled"] is True
    assert tables["pk"]["TimeToLiveSpecification"] == {"AttributeName": "purge_at", "Enabled": True}


def test_every_route_is_bound_to_its_function(resources: dict[str, dict[str, Any]]) -> None:
    ids = function_ids(resources)
    integrations = of_type(resources, "AWS::ApiGatewayV2::Integration")
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]["Target"]
        for r in of_type(resources, "AWS::ApiGatewayV2::Route").values()
    }
    assert len(routes) == len(ROUTES)
    for route in ROUTES:
        target = routes[f"{route.method} {route.path}"]
        integration_id = target["Fn::Join"][1][1]["Ref"]
        uri = integrations[integration_id]["Properties"]["IntegrationUri"]
        assert uri == {"Fn::GetAtt": [ids[route.function], "Arn"]}, route


def test_default_stage_with_throttling_and_json_access_logs(template: Template) -> None:
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingRateLimit": 200, "ThrottlingBurstLimit": 400},
            "AccessLogSettings": {
                "DestinationArn": Match.any_value(),
                "Format": Match.string_like_regexp(r'"requestId"'),
            },
        },
    )


def policy_statements(resources: dict[str, dict[str, Any]], role_id: str) -> list[dict[str, Any]]:
    statements = []
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_each_role_is_least_privilege(resources: dict[str, dict[str, Any]]) -> None:
    ids = function_ids(resources)
    granted: dict[str, set[str]] = {}
    for name, logical_id in ids.items():
        role_id = resources[logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = policy_statements(resources, role_id)
        actions = {a for s in statements for a in as_list(s["Action"])}
        granted[name] = actions
        for statement in statements:
            data_actions = [
                a
                for a in as_list(statement["Action"])
                if a.split(":")[0] in ("dynamodb", "secretsmanager")
            ]
            if data_actions:
                assert "*" not in as_list(statement["Resource"]), (name, statement)
    # The resource function writes only DPoP proofs' single-use records (RFC 9449 11.1).
    assert {a for a in granted["resource"] if a.startswith(("dynamodb:", "secretsmanager:"))} == {
        "dynamodb:PutItem"
    }
    resource_role = resources[ids["resource"]]["Properties"]["Role"]["Fn::GetAtt"][0]
    (put,) = [s for s in policy_statements(resources, resource_role) if "dynamodb:PutItem" in
              as_list(s["Action"])]  # fmt: skip
    assert put["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["once#dpop#*"]}
    }
    assert "dynamodb:Scan" not in set().union(*granted.values())
    token_secrets = {a for a in granted["token"] if a.startswith("secretsmanager:")}
    assert token_secrets <= {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    # The page functions read only the secret that seals authorization requests (A14), and the
    # login function the providers' secrets (federation, U5: tests/infra/test_federation.py).
    for name in ("authorize", "login"):
        role_id = resources[ids[name]]["Properties"]["Role"]["Fn::GetAtt"][0]
        for statement in policy_statements(resources, role_id):
            if any(a.startswith("secretsmanager:") for a in as_list(statement["Action"])):
                read = str(statement["Resource"])
                providers = name == "login" and "OAuthServer/oauth/providers/*" in read
                assert "RequestSealingKey" in read or providers, (name, statement)
    assert "dynamodb:GetItem" in granted["login"]
    # Reads sessions, writes codes and completions, adds a client to its session (back-channel
    # logout), takes pushed requests (RFC 9126): no more.
    assert {a for a in granted["authorize"] if a.startswith("dynamodb:")} == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",  # the registry, as every function that reads the catalog
    }


def test_token_function_reads_only_the_client_secret_prefix_and_key_secret(
    resources: dict[str, dict[str, Any]],
) -> None:
    token = function_ids(resources)["token"]
    role_id = resources[token]["Properties"]["Role"]["Fn::GetAtt"][0]
    secret_resources = [
        str(s["Resource"])
        for s in policy_statements(resources, role_id)
        if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))
    ]
    assert any("OAuthServer/oauth/clients/*" in r for r in secret_resources)
    assert any("SigningKeys" in r for r in secret_resources)
    assert len(secret_resources) == 2


def test_alarms_and_dashboard(template: Template, resources: dict[str, dict[str, Any]]) -> None:
    names = {
        r["Properties"].get("MetricName")
        for r in of_type(resources, "AWS::CloudWatch::Alarm").values()
    }
    assert {"5xx", "RefreshTokenReuse", "CodeReplay", "Errors", "Throttles"} <= names
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_outputs_that_oauthctl_reads(template: Template) -> None:
    outputs = template.to_json()["Outputs"]
    for name in (
        constants.OUTPUT_ISSUER,
        constants.OUTPUT_CLIENTS_TABLE,
        constants.OUTPUT_USERS_TABLE,
        constants.OUTPUT_GRANTS_TABLE,
        constants.OUTPUT_CLIENT_SECRET_PREFIX,
        constants.OUTPUT_SIGNING_KEYS_SECRET,
    ):
        assert name in outputs


def test_no_function_environment_references_the_api(resources: dict[str, dict[str, Any]]) -> None:
    """The issuer comes from the request context: an API URL in a Lambda env is a cycle."""
    for function in of_type(resources, "AWS::Lambda::Function").values():
        assert "HttpApi" not in str(function["Properties"].get("Environment", {}))


def test_custom_domain_sets_the_issuer(tmp_path: Any) -> None:
    from tests.infra.conftest import synth

    stack = synth(
        custom_domain="id.example.com",
        certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc",
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::ApiGatewayV2::DomainName", {"DomainName": "id.example.com"}
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like({constants.ENV_ISSUER: "https://id.example.com"})
            }
        },
    )
    assert (
        template.to_json()["Outputs"][constants.OUTPUT_ISSUER]["Value"] == "https://id.example.com"
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"architecture": "sparc"},
        {"removal_policy": "maybe"},
        {"log_retention_days": 3},
        {"custom_domain": "x.example.com"},
    ],
)
def test_bad_configuration_is_refused(bad: dict[str, Any]) -> None:
    field = next(iter(bad)).split("_")[0]
    with pytest.raises(ValueError, match=field):
        StackConfig(**bad).validate()


def test_a13_the_api_answers_no_preflight_itself_and_pages_have_no_options_route(
    resources: dict[str, dict[str, Any]],
) -> None:
    (api,) = of_type(resources, "AWS::ApiGatewayV2::Api").values()
    assert "CorsConfiguration" not in api["Properties"]
    keys = {
        r["Properties"]["RouteKey"] for r in of_type(resources, "AWS::ApiGatewayV2::Route").values()
    }
    for page in ("/authorize", "/login", "/consent", "/logout"):
        assert not {f"OPTIONS {page}", f"ANY {page}"} & keys
    for route in ROUTES:
        if route.cors and route.method != "ANY":
            assert f"OPTIONS {route.path}" in keys, route


def test_guessing_limits_come_from_context() -> None:
    from tests.infra.conftest import synth

    stack = synth(max_failed_attempts=5, max_failed_attempts_per_source=50)
    functions = of_type(
        dict(Template.from_stack(stack).to_json()["Resources"]), "AWS::Lambda::Function"
    )
    environments = [f["Properties"]["Environment"]["Variables"] for f in functions.values()]
    token = next(e for e in environments if "SIGNING_KEYS_SECRET" in e and "USERS_TABLE" in e)
    assert token["MAX_FAILED_ATTEMPTS"] == "5"
    assert token["MAX_FAILED_ATTEMPTS_PER_IP"] == "50"
    assert token["FAILED_ATTEMPTS_WINDOW"] == "300"


def test_requiring_pushed_authorization_requests_comes_from_context(
    resources: dict[str, dict[str, Any]],
) -> None:
    from tests.infra.conftest import synth

    asked = dict(
        Template.from_stack(synth(require_pushed_authorization_requests=True)).to_json()[
            "Resources"
        ]
    )
    for template, expected in ((resources, "off"), (asked, "on")):
        functions = of_type(template, "AWS::Lambda::Function").values()
        environments = [f["Properties"]["Environment"]["Variables"] for f in functions]
        # The functions behind the API (the authorize and token functions read it).
        served = [e for e in environments if "GRANTS_TABLE" in e]
        assert len(served) == len(FUNCTIONS)
        for environment in served:
            assert environment["REQUIRE_PUSHED_AUTHORIZATION_REQUESTS"] == expected


def test_snap_start_is_off_unless_asked(resources: dict[str, dict[str, Any]]) -> None:
    for function in of_type(resources, "AWS::Lambda::Function").values():
        assert "SnapStart" not in function["Properties"]
    assert not of_type(resources, "AWS::Lambda::Alias")


def test_snap_start_publishes_versions_and_the_api_calls_their_live_alias() -> None:
    from infra.functions import LIVE_ALIAS
    from tests.infra.conftest import synth

    resources = dict(Template.from_stack(synth(snap_start=True)).to_json()["Resources"])
    ids = function_ids(resources)
    versions = of_type(resources, "AWS::Lambda::Version")
    aliases = of_type(resources, "AWS::Lambda::Alias")
    alias_of: dict[str, str] = {}
    for name in FUNCTIONS:
        props = resources[ids[name]]["Properties"]
        assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}, name
        (version_id,) = [
            v for v, r in versions.items() if r["Properties"]["FunctionName"] == {"Ref": ids[name]}
        ]
        # A replaced version (and its cached snapshot) is deleted, not kept.
        assert versions[version_id]["DeletionPolicy"] == "Delete"
        (alias_id,) = [
            a for a, r in aliases.items() if r["Properties"]["FunctionName"] == {"Ref": ids[name]}
        ]
        alias = aliases[alias_id]["Properties"]
        assert alias["Name"] == LIVE_ALIAS
        assert alias["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}
        alias_of[name] = alias_id
    # Key rotation is not behind the API: no snapshot for it.
    assert "SnapStart" not in resources[ids["rotate_keys"]]["Properties"]
    integrations = of_type(resources, "AWS::ApiGatewayV2::Integration")
    routes = of_type(resources, "AWS::ApiGatewayV2::Route").values()
    for route in ROUTES:
        (target,) = [
            r["Properties"]["Target"]
            for r in routes
            if r["Properties"]["RouteKey"] == f"{route.method} {route.path}"
        ]
        uri = integrations[target["Fn::Join"][1][1]["Ref"]]["Properties"]["IntegrationUri"]
        assert uri == {"Ref": alias_of[route.function]}, route


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("memory_mb", "abc", "memory_mb: expected a whole number, got 'abc'"),
        ("memory_mb", "64", "memory_mb: from 128 to 10240, not 64"),
        ("snap_start", "maybe", "snap_start: expected true or false, got 'maybe'"),
        ("access_token_ttl", "0", "access_token_ttl: from 60 to 86400, not 0"),
        ("refresh_token_idle_ttl", "99999999", "refresh_token_idle_ttl: from 300"),
        ("architecture", "sparc", "architecture: arm64 or x86_64, not 'sparc'"),
    ],
)
def test_a_bad_context_value_is_refused_naming_its_key(key: str, value: str, message: str) -> None:
    from infra.config import ConfigError

    with pytest.raises(ConfigError) as refused:
        StackConfig.from_context({key: value}.get)
    assert str(refused.value).startswith(message)


def test_context_booleans_and_numbers_read_as_written() -> None:
    config = StackConfig.from_context(
        {"snap_start": "true", "deletion_protection": "no", "memory_mb": " 1024 "}.get
    )
    assert (config.snap_start, config.deletion_protection, config.memory_mb) == (True, False, 1024)


def test_cdk_reports_a_bad_context_value_by_its_key_without_a_traceback(tmp_path: Any) -> None:
    import subprocess

    from tests.infra.test_cdk_cli import ROOT, offline_env

    result = subprocess.run(
        [
            *("npx", "--no-install", "cdk", "synth", "--quiet"),
            *("-c", "memory_mb=abc", "-o", str(tmp_path / "cdk.out")),
        ],
        cwd=ROOT,
        env=offline_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "error: bad context value: memory_mb: expected a whole number, got 'abc'" in output
    assert "Traceback" not in output
