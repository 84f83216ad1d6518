"""The audit trail (oauth_core.audit, docs/operate.md): the functions print their audit records
to their own log groups; a subscription filter on each hands the records to the audit
forwarder, whose own log group is the audit log (kept `audit_retention_days`, 365 by default).
With `-c audit_event_bus=true` the forwarder also puts each record on an EventBridge bus of the
stack's own.

Writing each record to a log group of its own from the request path would cost an AWS call per
event; printing costs none, and a token issued adds no line (its record rides in its metric
record). The forwarder is invoked asynchronously by CloudWatch Logs: a failed invocation is
retried twice, then kept (with the error) in a queue, its on-failure destination; an alarm
watches both.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as lambda_destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.bundling import ROOT, function_code
from infra.config import StackConfig
from oauth_core import audit, constants
from oauth_core.http.routes import AUDIT_FORWARDER_FUNCTION

# What a subscription filter passes: lines that are JSON with an audit record of any version.
FILTER_PATTERN = "{ $.audit.v >= 1 }"


class Audit(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: StackConfig,
        layer: lambda_.ILayerVersion,
        runtime: lambda_.Runtime,
        functions: dict[str, lambda_.Function],
    ):
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.log_group = logs.LogGroup(
            self,
            "AuditLog",
            retention=config.audit_retention,
            removal_policy=config.removal,
            # Written once, read by Logs Insights when someone asks: the Infrequent Access class
            # ingests at half the price, and nothing here needs what it lacks (metric and
            # subscription filters, Live Tail).
            log_group_class=logs.LogGroupClass.INFREQUENT_ACCESS,
        )
        self.dead_letters = sqs.Queue(
            self,
            "ForwarderDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        role = iam.Role(
            self,
            "forwarder-role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Least privilege for the audit forwarder",
        )
        self.log_group.grant_write(role)
        environment = {"POWERTOOLS_SERVICE_NAME": constants.SERVICE_NAME}
        self.bus: events.EventBus | None = None
        if config.audit_event_bus:
            self.bus = events.EventBus(self, "AuditBus", event_bus_name=f"{stack.stack_name}-audit")
            # PutEvents on this bus alone (Bus.grant_put_events_to would do the same).
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="PutAuditEvents",
                    actions=["events:PutEvents"],
                    resources=[self.bus.event_bus_arn],
                )
            )
            environment[audit.ENV_AUDIT_EVENT_BUS] = self.bus.event_bus_name
        spec = AUDIT_FORWARDER_FUNCTION
        self.forwarder = lambda_.Function(
            self,
            spec.name,
            runtime=runtime,
            architecture=config.lambda_architecture,
            handler=spec.handler,
            code=function_code(ROOT / spec.code_dir, config.skip_bundling),
            layers=[layer],
            memory_size=256,
            timeout=Duration.seconds(30),
            environment=environment,
            role=role,
            # Its own log group is the audit log: what it prints is the trail.
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            # A failed invocation (retried twice) goes here with its payload and the error.
            on_failure=lambda_destinations.SqsDestination(self.dead_letters),
            retry_attempts=2,
            description="OAuth server: audit records to the audit log (and bus)",
        )
        for name, function in functions.items():
            # CloudWatch Logs may invoke the forwarder for this log group of this account only
            # (LambdaDestination's own permission names no account).
            log_group = function.log_group
            invoke = lambda_.CfnPermission(
                self,
                f"{name}-audit-invoke",
                action="lambda:InvokeFunction",
                function_name=self.forwarder.function_arn,
                principal="logs.amazonaws.com",
                source_account=stack.account,
                source_arn=log_group.log_group_arn,
            )
            subscription = logs.CfnSubscriptionFilter(
                self,
                f"{name}-audit",
                log_group_name=log_group.log_group_name,
                destination_arn=self.forwarder.function_arn,
                filter_pattern=FILTER_PATTERN,
                filter_name="audit-records",
            )
            subscription.add_dependency(invoke)
