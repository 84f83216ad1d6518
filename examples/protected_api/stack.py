"""The example API's stack: an HTTP API of another team's whose routes need this server's tokens,
for its own identifier and with each route's scopes (infra/authorizer.py's TokenAuthorizer).

    npx cdk synth --app "python -m examples.protected_api.stack" \\
        -c issuer=https://auth.example.com -c audience=https://orders.example.com
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "layers" / "common" / "python") not in sys.path:  # run as an app of its own
    sys.path.insert(0, str(ROOT / "layers" / "common" / "python"))

from examples.protected_api.routes import AUDIENCE, ROUTES  # noqa: E402
from infra.authorizer import TokenAuthorizer  # noqa: E402
from infra.bundling import function_code  # noqa: E402
from infra.functions import RUNTIME  # noqa: E402
from infra.nag import Acknowledgment, acknowledge_findings, add_checks  # noqa: E402

BACKEND = Path(__file__).resolve().parent / "backend"

# The example backend's own cdk-nag findings (the authorizer acknowledges its own).
ACKNOWLEDGED = (
    Acknowledgment(
        "AwsSolutions-L1",
        "The example pins python3.13, the runtime the server's functions and layer use.",
        construct="Orders",
    ),
    Acknowledgment(
        "Serverless-LambdaLatestVersion",
        "As AwsSolutions-L1: the example pins python3.13 with the server's functions.",
        construct="Orders",
    ),
    Acknowledgment(
        "Serverless-LambdaDLQ",
        "API Gateway invokes the backend synchronously and answers its failures itself.",
        construct="Orders",
    ),
    Acknowledgment(
        "Serverless-LambdaTracing",
        "X-Ray is off in the example, as in the server's functions (cold starts and cost).",
        construct="Orders",
    ),
)
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "route": "$context.routeKey",
    "status": "$context.status",
    # Why the authorizer refused or failed, without the token.
    "authorizerError": "$context.authorizer.error",
}


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogs:
    def __init__(self, log_group: logs.ILogGroup):
        self._destination = apigw.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT))


class ProtectedApiStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        issuer: str,
        audience: str = AUDIENCE,
        skip_bundling: bool = False,
    ):
        super().__init__(scope, construct_id, description="Example API behind TokenAuthorizer")
        self.api = apigw.HttpApi(self, "Api", create_default_stage=False)
        apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=100, burst_limit=200),
            access_log_settings=_AccessLogs(
                logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH)
            ),
        )
        backend_logs = logs.LogGroup(self, "OrdersLogs", retention=logs.RetentionDays.ONE_MONTH)
        backend_role = iam.Role(
            self, "OrdersRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")
        )
        backend_logs.grant_write(backend_role)
        self.backend = lambda_.Function(
            self,
            "Orders",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler="orders_handler.lambda_handler",
            code=function_code(BACKEND, skip_bundling),
            memory_size=128,
            timeout=Duration.seconds(5),
            role=backend_role,
            log_group=backend_logs,
        )
        orders = HttpLambdaIntegration("OrdersIntegration", self.backend)

        # The two lines an API of your own needs: the construct, and an authorizer per route.
        self.auth = TokenAuthorizer(
            self, "Auth", issuer=issuer, audience=audience, skip_bundling=skip_bundling
        )
        for method, path, scopes in ROUTES:
            self.api.add_routes(
                path=path,
                methods=[apigw.HttpMethod[method]],
                integration=orders,
                authorizer=self.auth.for_scopes(*scopes),
            )
        acknowledge_findings(self, ACKNOWLEDGED)


def main() -> None:
    app = cdk.App()
    issuer = app.node.try_get_context("issuer")
    if not issuer:
        sys.exit("error: -c issuer=<the OAuth server's issuer URL> is required")
    audience = app.node.try_get_context("audience") or AUDIENCE
    skip = str(app.node.try_get_context("skip_bundling") or "").lower() in ("1", "true", "yes")
    ProtectedApiStack(
        app, "ProtectedApiExample", issuer=issuer, audience=audience, skip_bundling=skip
    )
    add_checks(app)
    app.synth()


if __name__ == "__main__":
    main()
