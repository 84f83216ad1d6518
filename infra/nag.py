"""cdk-nag (2.x: Aspects and NagSuppressions): the rule packs, and every accepted finding with
its reason. A finding not acknowledged here fails `cdk synth` and the infrastructure tests."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aspects, Stack
from cdk_nag import (
    AwsSolutionsChecks,
    NagPackSuppression,
    NagSuppressions,
    RegexAppliesTo,
    ServerlessChecks,
)
from constructs import IConstruct


@dataclass(frozen=True)
class Acknowledgment:
    rule: str
    reason: str
    # Narrow the acknowledgment: to one finding of a rule (e.g. "Resource::*") and/or to one
    # construct (a path below the stack); otherwise it covers the rule stack-wide.
    applies_to: tuple[str, ...] = ()
    construct: str | None = None


ACKNOWLEDGED: tuple[Acknowledgment, ...] = (
    Acknowledgment(
        "AwsSolutions-IAM5",
        "Each client has its own secret under the stack's client-secret prefix, created at run "
        "time by oauthctl; the token function reads exactly that prefix and nothing else.",
        applies_to=(
            r"regex:/^Resource::arn:<AWS::Partition>:secretsmanager:.*:secret:.*oauth\/clients\/\*$/",
        ),
        construct="Functions/token-role",
    ),
    Acknowledgment(
        "AwsSolutions-IAM5",
        "Each upstream identity provider has its own secret under the stack's provider-secret "
        "prefix, created at run time by oauthctl providers; the login function reads exactly "
        "that prefix (docs/federation.md).",
        applies_to=(
            r"regex:/^Resource::arn:<AWS::Partition>:secretsmanager:.*:secret:.*oauth\/providers\/\*$/",
        ),
        construct="Functions/login-role",
    ),
    Acknowledgment(
        "AwsSolutions-SMG4",
        "The request-sealing secret only protects authorization requests in flight (ten "
        "minutes). Replacing its value (put-secret-value with a new random string, see "
        "docs/operate.md) is the rotation: handles sealed under the previous value keep opening, "
        "so no rotation function is needed for a value nothing outside this stack depends on.",
        construct="Secrets/RequestSealingKey",
    ),
    Acknowledgment(
        "AwsSolutions-APIG4",
        "An authorization server's endpoints are public by definition: clients authenticate "
        "inside the OAuth protocol (client_secret_basic, PKCE, bearer tokens), not with IAM.",
    ),
    Acknowledgment(
        "AwsSolutions-L1",
        "The functions pin python3.13, the runtime the layer's wheels are built for; moving to "
        "a newer runtime is a deliberate change to RUNTIME and bundling.RUNTIME_PYTHON together.",
    ),
    Acknowledgment(
        "Serverless-LambdaLatestVersion",
        "As AwsSolutions-L1: python3.13 is pinned together with the layer's wheels.",
    ),
    Acknowledgment(
        "Serverless-LambdaDLQ",
        "The functions are invoked synchronously by API Gateway and Secrets Manager, which see "
        "every failure; of those invoked asynchronously, the audit forwarder sends a failed "
        "invocation to an on-failure destination (a queue), which carries the error as well, "
        "and the logout notifier retries each app itself, logs and counts what failed, and "
        "keeps nothing: a logout token is worth nothing two minutes later.",
    ),
    Acknowledgment(
        "AwsSolutions-SQS3",
        "The queue is the audit forwarder's on-failure destination: it is where failed "
        "deliveries end, so it has no dead-letter queue of its own.",
        construct="Audit/ForwarderDeadLetters",
    ),
    Acknowledgment(
        "Serverless-SQSRedrivePolicy",
        "As AwsSolutions-SQS3: the audit forwarder's on-failure destination is the last stop; "
        "an operator replays its messages (docs/operate.md).",
        construct="Audit/ForwarderDeadLetters",
    ),
    Acknowledgment(
        "Serverless-LambdaAsyncFailureDestination",
        "The logout notifier's events are ended sessions whose logout tokens live two minutes: "
        "an event that failed is worth nothing to replay later, and would keep who signed out "
        "where. The notifier logs and counts each app it could not tell, and its errors alarm.",
        construct="Logout/logout_notifier",
    ),
    Acknowledgment(
        "Serverless-LambdaTracing",
        "X-Ray is off by default to keep cold starts and cost down (the tracer is not even "
        "imported); logs carry API Gateway's request id as the correlation id.",
    ),
)


def _applies_to(finding: str) -> str | RegexAppliesTo:
    return (
        RegexAppliesTo(regex=finding[len("regex:") :]) if finding.startswith("regex:") else finding
    )


def add_checks(scope: IConstruct) -> None:
    Aspects.of(scope).add(AwsSolutionsChecks(verbose=True))
    Aspects.of(scope).add(ServerlessChecks(verbose=True))


def acknowledge_findings(
    stack: Stack, acknowledged: tuple[Acknowledgment, ...] = ACKNOWLEDGED
) -> None:
    for ack in acknowledged:
        suppression = NagPackSuppression(
            id=ack.rule,
            reason=ack.reason,
            applies_to=[_applies_to(a) for a in ack.applies_to] or None,
        )
        if ack.construct:
            NagSuppressions.add_resource_suppressions_by_path(
                stack, f"/{stack.stack_name}/{ack.construct}", [suppression], apply_to_children=True
            )
        else:
            NagSuppressions.add_stack_suppressions(stack, [suppression])
