"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0): the logout notifier function,
which signs a logout token for each app an ended session signed into and POSTs it to the app
(oauth_core.admin.backchannel_logout).

The login function hands it the ended sessions in one asynchronous invocation (InvocationType
Event) and does not wait, so no app can delay a user's sign-out. Least privilege both ways: the
login function may invoke this function and no other; the notifier reads the clients table (one
item at a time) and the signing-key secret's value, nothing else. Lambda does not retry a failed
invocation, and drops an event older than a minute: the notifier retries each app once itself,
and a logout token lives two minutes, so a late or repeated delivery would only be refused.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.bundling import ROOT, function_code
from infra.config import StackConfig
from infra.data import Data
from infra.secrets import Secrets
from oauth_core import constants
from oauth_core.http.routes import LOGOUT_NOTIFIER_FUNCTION


class LogoutNotifier(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: StackConfig,
        layer: lambda_.ILayerVersion,
        runtime: lambda_.Runtime,
        data: Data,
        secrets: Secrets,
        login: lambda_.Function,
    ):
        super().__init__(scope, construct_id)
        spec = LOGOUT_NOTIFIER_FUNCTION
        log_group = logs.LogGroup(
            self, "Logs", retention=config.retention, removal_policy=config.removal
        )
        role = iam.Role(
            self,
            "role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Least privilege for the logout notifier",
        )
        log_group.grant_write(role)
        clients = data.tables[constants.ENV_CLIENTS_TABLE]
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadClients", actions=["dynamodb:GetItem"], resources=[clients.table_arn]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadSigningKeys",
                actions=["secretsmanager:GetSecretValue"],
                resources=[secrets.signing_keys.secret_arn],
            )
        )
        self.function = lambda_.Function(
            self,
            spec.name,
            runtime=runtime,
            architecture=config.lambda_architecture,
            handler=spec.handler,
            code=function_code(ROOT / spec.code_dir, config.skip_bundling),
            layers=[layer],
            memory_size=256,
            # Each app: two attempts of at most 2 s, eight apps at a time.
            timeout=Duration.seconds(60),
            environment={
                constants.ENV_CLIENTS_TABLE: clients.table_name,
                constants.ENV_SIGNING_KEYS_SECRET: secrets.signing_keys.secret_name,
                "POWERTOOLS_SERVICE_NAME": constants.SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
            },
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            retry_attempts=0,
            max_event_age=Duration.seconds(60),
            description="OAuth server: back-channel logout tokens to the apps of ended sessions",
        )
        # The login function may invoke exactly this function (grant_invoke would add its
        # versions too, a wildcard cdk-nag rightly questions), and is told its name.
        login.add_to_role_policy(
            iam.PolicyStatement(
                sid="InvokeLogoutNotifier",
                actions=["lambda:InvokeFunction"],
                resources=[self.function.function_arn],
            )
        )
        login.add_environment(constants.ENV_LOGOUT_NOTIFIER_FUNCTION, self.function.function_name)
