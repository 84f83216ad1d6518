"""Secrets and keys: where client secrets live (one per client, under a prefix) and the
signing-key set, rotated on a schedule by a function that runs KeySet.rotate.

The key secret starts as an empty set. The rotation function makes the first keys as a custom
resource, which the functions that sign depend on: the keys exist before the stack reports
complete, and no container can read (and remember) an empty set first. The schedule then does
not also rotate on creation: two writers racing on the first set could replace keys that had
already signed.
"""

from __future__ import annotations

from aws_cdk import Arn, ArnComponents, ArnFormat, CustomResource, Duration, SecretValue, Stack
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

    def manage_signing_keys(
        self, rotation_function: lambda_.IFunction, days: int
    ) -> CustomResource:
        """The first keys (a custom resource the rotation function serves; depend on it) and a
        rotation every `days` days.

        Written out rather than `add_rotation_schedule`, whose invoke permission names neither
        the source account nor the secret, and which grants an action on every resource
        (GetRandomPassword) that KeySet.rotate never uses.
        """
        stack = Stack.of(self)
        secret_arn = self.signing_keys.secret_arn
        rotation_function.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage",
                ],
                resources=[secret_arn],
            )
        )
        # CloudFormation invokes a custom resource's function with the deployer's credentials:
        # that needs no permission on the function.
        initial_keys = CustomResource(
            self,
            "InitialSigningKeys",
            service_token=rotation_function.function_arn,
            resource_type="Custom::InitialSigningKeys",
            properties={"SecretId": secret_arn},
            service_timeout=Duration.minutes(5),
        )
        invoke = lambda_.CfnPermission(
            self,
            "RotationInvokePermission",
            action="lambda:InvokeFunction",
            function_name=rotation_function.function_arn,
            principal="secretsmanager.amazonaws.com",
            source_account=stack.account,
            source_arn=secret_arn,
        )
        # At the path add_rotation_schedule used (SigningKeys/Rotation/Resource): the same
        # logical id updates a deployed stack's schedule in place. A new id would create the new
        # schedule first and then delete the old one, which turns the secret's rotation off.
        schedule = secretsmanager.CfnRotationSchedule(
            Construct(self.signing_keys, "Rotation"),
            "Resource",
            secret_id=secret_arn,
            rotation_lambda_arn=rotation_function.function_arn,
            rotation_rules=secretsmanager.CfnRotationSchedule.RotationRulesProperty(
                schedule_expression=f"rate({days} days)"
            ),
            # Secrets Manager then only runs testSecret on a copy of the current set, which
            # therefore must hold the first keys already.
            rotate_immediately_on_update=False,
        )
        schedule.node.add_dependency(invoke, initial_keys)
        return initial_keys

    def grant_read_client_secrets(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"],
                resources=[self.client_secrets_arn],
            )
        )
