"""Recovery and verification by e-mail (oauth_core.admin.account_emails): what the login
function needs to mail users their links, when the stack has a sender (`-c ses_sender=...`).

Least privilege: the login function may send (ses:SendEmail, SES API v2) only through the
stack's identity (and its configuration set, if one is named), only From the configured
address; and it may query the users table's by-email index, which finds an account by its
verified address. The identity itself is the operator's (verified once, docs/deploy.md): a
stack does not own a domain's DNS, and deleting a stack must not unverify it.
"""

from __future__ import annotations

from email.utils import parseaddr

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.config import StackConfig
from infra.data import Data
from oauth_core import constants
from oauth_core.tables import USERS_BY_EMAIL


class Email(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: StackConfig,
        data: Data,
        login: lambda_.Function,
    ):
        super().__init__(scope, construct_id)
        sender = config.ses_sender
        assert sender is not None, "only built for a stack with a sender"
        self.sender = sender
        given = config.ses_identity or ""
        self.identity_arn = (
            given
            if given.startswith("arn:")
            else f"arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:identity/"
            f"{config.ses_identity_name}"
        )
        resources: list[str] = [self.identity_arn]
        if config.ses_configuration_set:
            resources.append(
                f"arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:configuration-set/"
                f"{config.ses_configuration_set}"
            )
        login.add_to_role_policy(
            iam.PolicyStatement(
                sid="SendEmailAsTheStack",
                actions=["ses:SendEmail"],
                resources=resources,
                conditions={"StringEquals": {"ses:FromAddress": parseaddr(sender)[1]}},
            )
        )
        users = data.tables[constants.ENV_USERS_TABLE]
        login.add_to_role_policy(
            iam.PolicyStatement(
                sid="FindUsersByVerifiedEmail",
                actions=["dynamodb:Query"],
                resources=[f"{users.table_arn}/index/{USERS_BY_EMAIL.name}"],
            )
        )
        login.add_environment(constants.ENV_EMAIL_SENDER, sender)
        if config.ses_configuration_set:
            login.add_environment(
                constants.ENV_EMAIL_CONFIGURATION_SET, config.ses_configuration_set
            )
        login.add_environment(constants.ENV_SELF_SIGN_UP, "on" if config.self_sign_up else "off")
