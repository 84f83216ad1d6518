"""Secrets and keys: where client secrets live (one per client, under a prefix) and the
signing-key set, rotated on a schedule by a function that runs KeySet.rotate.

The key secret starts as an empty set; creating the rotation schedule rotates it at once, so
the first keys exist as soon as the stack is deployed.
"""

from __future__ import annotations

from aws_cdk import Arn, ArnComponents, ArnFormat, Duration, SecretValue, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import StackConfig

CLIENT_SECRET_PREFIX = "oauth/clients/"


class Secrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, config: StackConfig):
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.client_secret_prefix = f"{stack.stack_name}/{CLIENT_SECRET_PREFIX}"
        self.signing_keys = secretsmanager.Secret(
            self,
            "SigningKeys",
            description="OAuth signing keys (JWK set with next/current/retired keys)",
            secret_string_value=SecretValue.unsafe_plain_text('{"keys": []}'),
            removal_policy=config.removal,
        )
        # Secrets Manager appends a random suffix to each secret's ARN: the * covers it.
        self.client_secrets_arn = Arn.format(
            ArnComponents(
                service="secretsmanager",
                resource="secret",
                resource_name=f"{self.client_secret_prefix}*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
            stack,
        )

    def schedule_rotation(self, rotation_function: lambda_.IFunction, days: int) -> None:
        self.signing_keys.add_rotation_schedule(
            "Rotation",
            rotation_lambda=rotation_function,
            automatically_after=Duration.days(days),
            rotate_immediately_on_update=True,
        )

    def grant_read_client_secrets(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"],
                resources=[self.client_secrets_arn],
            )
        )
