"""API: an HTTP API on its $default stage (so the issuer URL has no path), with every route of
the shared route table, default throttling, JSON access logs and an optional custom domain."""

from __future__ import annotations

import json

import jsii
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct

from infra.config import StackConfig
from oauth_core.http.routes import ROUTES

# What one access-log line holds: no query strings or headers, which can carry codes and tokens.
# Kept short: every byte is paid for per request (docs/performance.md, cost).
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "time": "$context.requestTimeEpoch",
    "route": "$context.routeKey",
    "status": "$context.status",
    "ms": "$context.responseLatency",
    "error": "$context.integrationErrorMessage",
}


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogSettings:
    """The HTTP API stage's access-log settings (an interface in aws-cdk-lib)."""

    def __init__(
        self, destination: apigw.IAccessLogDestination, log_format: apigateway.AccessLogFormat
    ):
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return self._format


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: StackConfig,
        functions: dict[str, lambda_.IFunction],
    ):
        super().__init__(scope, construct_id)
        self.http_api = apigw.HttpApi(
            self,
            "HttpApi",
            api_name=f"oauth-server-{config.stage}",
            description="OAuth 2.1 / OpenID Connect authorization server",
            create_default_stage=False,
            # No CORS configuration: it would answer preflights on every route, the
            # authorization endpoint and the pages included (SECURITY A13). The functions
            # answer CORS on the routes the route table marks (oauth_core.http.cors).
        )
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.retention, removal_policy=config.removal
        )
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(
                rate_limit=config.throttle_rate, burst_limit=config.throttle_burst
            ),
            access_log_settings=_AccessLogSettings(
                apigw.LogGroupLogDestination(self.access_logs),
                apigateway.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT)),
            ),
        )
        integrations = {
            name: HttpLambdaIntegration(f"{name}-integration", function)
            for name, function in functions.items()
        }
        for route in ROUTES:
            self.http_api.add_routes(
                path=route.path,
                methods=[apigw.HttpMethod[route.method]],
                integration=integrations[route.function],
            )
        self.issuer_url = self.http_api.api_endpoint
        if config.custom_domain and config.certificate_arn:
            domain = apigw.DomainName(
                self,
                "Domain",
                domain_name=config.custom_domain,
                certificate=acm.Certificate.from_certificate_arn(
                    self, "Certificate", config.certificate_arn
                ),
            )
            apigw.ApiMapping(
                self, "Mapping", api=self.http_api, domain_name=domain, stage=self.stage
            )
            self.issuer_url = f"https://{config.custom_domain}"
            self.domain_target = domain.regional_domain_name
