"""Monitoring: alarms on 5xx, throttles, function errors and refresh-token reuse; a dashboard."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.api import Api
from infra.config import StackConfig
from oauth_core import constants

FIVE_MINUTES = Duration.minutes(5)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: StackConfig,
        api: Api,
        functions: dict[str, lambda_.Function],
    ):
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name="OAuth server alarms",
            enforce_ssl=True,
            master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []

        server_errors = api.http_api.metric_server_error(period=FIVE_MINUTES, statistic="Sum")
        self._alarm("Api5xx", server_errors, 5, "The API answered 5xx: a dependency or bug.")
        reuse = cloudwatch.Metric(
            namespace=constants.METRICS_NAMESPACE,
            metric_name="RefreshTokenReuse",
            dimensions_map={"service": constants.SERVICE_NAME},
            period=FIVE_MINUTES,
            statistic="Sum",
        )
        self._alarm(
            "RefreshTokenReuse", reuse, 1, "A used refresh token was presented: possible theft."
        )
        widgets: list[cloudwatch.IWidget] = [
            cloudwatch.GraphWidget(
                title="API 4xx / 5xx",
                left=[
                    api.http_api.metric_client_error(period=FIVE_MINUTES, statistic="Sum"),
                    server_errors,
                ],
            ),
            cloudwatch.GraphWidget(title="Refresh-token reuse", left=[reuse]),
        ]
        for name, function in functions.items():
            errors = function.metric_errors(period=FIVE_MINUTES, statistic="Sum")
            throttles = function.metric_throttles(period=FIVE_MINUTES, statistic="Sum")
            self._alarm(f"{name}Errors", errors, 1, f"The {name} function failed (uncaught).")
            self._alarm(f"{name}Throttles", throttles, 1, f"The {name} function was throttled.")
            widgets.append(
                cloudwatch.GraphWidget(
                    title=f"{name}: duration p50/p99, errors, throttles",
                    left=[
                        function.metric_duration(period=FIVE_MINUTES, statistic="p50"),
                        function.metric_duration(period=FIVE_MINUTES, statistic="p99"),
                    ],
                    right=[errors, throttles],
                )
            )
        tokens = cloudwatch.GraphWidget(
            title="Tokens issued per grant type",
            left=[
                cloudwatch.Metric(
                    namespace=constants.METRICS_NAMESPACE,
                    metric_name="TokenIssued",
                    dimensions_map={"service": constants.SERVICE_NAME, "grant_type": grant},
                    period=FIVE_MINUTES,
                    statistic="Sum",
                    label=grant,
                )
                for grant in constants.SUPPORTED_GRANT_TYPES
            ],
        )
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", widgets=[[tokens], widgets])

    def _alarm(
        self, name: str, metric: cloudwatch.Metric, threshold: int, description: str
    ) -> None:
        alarm = metric.create_alarm(
            self,
            name,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
