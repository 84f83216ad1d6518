"""Monitoring: alarms on 5xx, throttles, function errors (key rotation's, the audit
forwarder's and the logout notifier's included), audit records dead-lettered, refresh-token
reuse and code replay; a dashboard; the SNS topic the alarms notify.

The topic is encrypted with a key of the stack's own: the AWS-managed alias/aws/sns key's policy
cannot be changed to admit CloudWatch, which then drops every notification (aws/aws-cdk#11121).
The key's and the topic's policies admit CloudWatch only for this account's, and this stack's,
alarms. The project's own metrics are watched under the dimensions oauth_core.metrics declares,
the ones count() publishes them with.
"""

from __future__ import annotations

from aws_cdk import Arn, ArnComponents, ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.api import Api
from infra.audit import Audit
from infra.config import StackConfig
from oauth_core import constants
from oauth_core.metrics import CODE_REPLAY, REFRESH_TOKEN_REUSE, TOKEN_ISSUED, dimensions_of

FIVE_MINUTES = Duration.minutes(5)
CLOUDWATCH = "cloudwatch.amazonaws.com"

# The project's metrics that alarm on any occurrence: each is a grant already revoked.
SECURITY_ALARMS: dict[str, str] = {
    REFRESH_TOKEN_REUSE: "A used refresh token was presented: possible theft.",
    CODE_REPLAY: "An authorization code was presented twice: possible interception.",
}


def project_metric(name: str, label: str | None = None, **dimensions: str) -> cloudwatch.Metric:
    """One of the server's own metrics, under the dimensions count() publishes it with."""
    return cloudwatch.Metric(
        namespace=constants.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map=dimensions_of(name, **dimensions),
        period=FIVE_MINUTES,
        statistic="Sum",
        label=label,
    )


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: StackConfig,
        api: Api,
        functions: dict[str, lambda_.Function],
        rotation: lambda_.Function,
        audit: Audit | None = None,
        logout_notifier: lambda_.Function | None = None,
        sends_email: bool = False,
    ):
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # Every alarm is named under the stack's name, so the key policy can name them all
        # before they exist (naming each one would be a cycle: alarm -> topic -> key -> alarm).
        self._alarm_prefix = f"{stack.stack_name}-"
        self.key = kms.Key(
            self,
            "AlarmTopicKey",
            description="Encrypts the OAuth server's alarm topic; CloudWatch publishes with it",
            enable_key_rotation=True,
            removal_policy=config.removal,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisStacksAlarmsToUseTheKey",
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": self._alarm_arn(f"{self._alarm_prefix}*")},
                },
            )
        )
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name="OAuth server alarms",
            enforce_ssl=True,
            master_key=self.key,
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []

        server_errors = api.http_api.metric_server_error(period=FIVE_MINUTES, statistic="Sum")
        self._alarm("Api5xx", server_errors, 5, "The API answered 5xx: a dependency or bug.")
        security = [project_metric(name) for name in SECURITY_ALARMS]
        for metric in security:
            self._alarm(metric.metric_name, metric, 1, SECURITY_ALARMS[metric.metric_name])
        self._alarm(
            "KeyRotationErrors",
            rotation.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            1,
            "The key-rotation function failed: signing keys were not rotated (or not created).",
        )
        if audit is not None:
            self._alarm(
                "AuditForwarderErrors",
                audit.forwarder.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                1,
                "The audit forwarder failed: audit records are retried, then dead-lettered.",
            )
            self._alarm(
                "AuditDeadLetters",
                audit.dead_letters.metric_approximate_number_of_messages_visible(
                    period=FIVE_MINUTES, statistic="Maximum"
                ),
                1,
                "Audit records the forwarder could not deliver wait in its dead-letter queue "
                "(docs/operate.md: replaying them).",
            )
        if sends_email:
            self._alarm(
                "EmailNotSent",
                project_metric("EmailNotSent"),
                1,
                "SES refused an e-mail or could not be reached: users asking for a reset or a "
                "confirmation get no link (the pages answer as ever). Read the login function's "
                "errors; often the identity, the sandbox or the configuration set.",
            )
        if logout_notifier is not None:
            self._alarm(
                "LogoutNotifierErrors",
                logout_notifier.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                1,
                "The logout notifier failed (not an app that refused: BackchannelLogoutFailed "
                "counts those): apps were not told of ended sessions.",
            )
        widgets: list[cloudwatch.IWidget] = [
            cloudwatch.GraphWidget(
                title="API 4xx / 5xx",
                left=[
                    api.http_api.metric_client_error(period=FIVE_MINUTES, statistic="Sum"),
                    server_errors,
                ],
            ),
            cloudwatch.GraphWidget(title="Refresh-token reuse, code replay", left=security),
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
                project_metric(TOKEN_ISSUED, label=grant, grant_type=grant)
                for grant in constants.SUPPORTED_GRANT_TYPES
            ],
        )
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", widgets=[[tokens], widgets])
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisStacksAlarmsToPublish",
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": [alarm.alarm_arn for alarm in self.alarms]},
                },
            )
        )

    def _alarm_arn(self, name: str) -> str:
        return Arn.format(
            ArnComponents(
                service="cloudwatch",
                resource="alarm",
                resource_name=name,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
            Stack.of(self),
        )

    def _alarm(
        self, name: str, metric: cloudwatch.Metric, threshold: int, description: str
    ) -> None:
        alarm = metric.create_alarm(
            self,
            name,
            alarm_name=f"{self._alarm_prefix}{name}",
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
