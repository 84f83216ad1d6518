"""oauthctl --stack reads a deployed stack's outputs (CloudFormation, here moto's)."""

from __future__ import annotations

import json

import boto3
import pytest

from oauth_core import constants
from oauth_core.config import Settings
from oauthctl.admin import Admin
from oauthctl.cli import main


@pytest.fixture
def deployed(aws: Settings) -> str:
    outputs = {
        constants.OUTPUT_CLIENTS_TABLE: aws.clients_table,
        constants.OUTPUT_USERS_TABLE: aws.users_table,
        constants.OUTPUT_GRANTS_TABLE: aws.grants_table,
        constants.OUTPUT_CLIENT_SECRET_PREFIX: "Deployed/oauth/clients/",
        constants.OUTPUT_SIGNING_KEYS_SECRET: aws.signing_keys_secret,
        constants.OUTPUT_ISSUER: "https://abc.execute-api.us-east-1.amazonaws.com",
    }
    template = {
        "Resources": {"Marker": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(
        StackName="Deployed", TemplateBody=json.dumps(template)
    )
    return "Deployed"


def test_stack_outputs_become_settings(deployed: str) -> None:
    admin = Admin.connect(stack=deployed)
    assert admin.settings.client_secret_prefix == "Deployed/oauth/clients/"
    assert admin.settings.issuer == "https://abc.execute-api.us-east-1.amazonaws.com"


def test_clients_create_against_a_stack_uses_its_secret_prefix(
    deployed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "--stack",
            deployed,
            "clients",
            "create",
            "svc-x",
            "--grant-type",
            "client_credentials",
            "--scope",
            "read:data",
        ]
    )
    assert code == 0
    secret = json.loads(capsys.readouterr().out)["client_secret"]
    stored = boto3.client("secretsmanager").get_secret_value(
        SecretId="Deployed/oauth/clients/svc-x"
    )
    assert json.loads(stored["SecretString"])["client_secret"] == secret


def test_unknown_stack_is_a_clear_error(aws: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "NoSuchStack", "clients", "list"]) == 3
    said = capsys.readouterr().err
    assert "NoSuchStack" in said and "--stack NAME" in said and "Traceback" not in said
