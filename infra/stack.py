"""The one stack: data, secrets and keys, functions, back-channel logout, API, audit trail,
monitoring; outputs for oauthctl."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.api import Api
from infra.audit import Audit
from infra.config import StackConfig
from infra.data import Data
from infra.email import Email
from infra.functions import RUNTIME, Functions
from infra.logout import LogoutNotifier
from infra.monitoring import Monitoring
from infra.nag import ACKNOWLEDGED, Acknowledgment, acknowledge_findings
from infra.secrets import Secrets
from oauth_core import audit, constants


class OAuthServerStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: StackConfig,
        acknowledged: tuple[Acknowledgment, ...] = ACKNOWLEDGED,
    ):
        super().__init__(scope, construct_id, description="Serverless OAuth 2.1 / OIDC server")
        self.config = config
        self.data = Data(self, "Data", config)
        self.secrets = Secrets(self, "Secrets", config)
        self.functions = Functions(self, "Functions", config, self.data, self.secrets)
        initial_keys = self.secrets.manage_signing_keys(
            self.functions.rotation, config.key_rotation_days
        )
        # No function that serves requests exists before the first keys do.
        for function in self.functions.functions.values():
            function.node.add_dependency(initial_keys)
        self.logout = LogoutNotifier(
            self,
            "Logout",
            config,
            self.functions.layer,
            RUNTIME,
            self.data,
            self.secrets,
            self.functions.functions["login"],
        )
        self.logout.function.node.add_dependency(initial_keys)
        self.email = (
            Email(self, "Email", config, self.data, self.functions.functions["login"])
            if config.ses_sender
            else None
        )
        self.api = Api(self, "Api", config, dict(self.functions.targets))
        self.audit = Audit(
            self, "Audit", config, self.functions.layer, RUNTIME, self.functions.functions
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config,
            self.api,
            self.functions.functions,
            self.functions.rotation,
            self.audit,
            self.logout.function,
            sends_email=self.email is not None,
        )

        outputs = {
            constants.OUTPUT_ISSUER: self.api.issuer_url,
            constants.OUTPUT_CLIENTS_TABLE: self.data.tables[
                constants.ENV_CLIENTS_TABLE
            ].table_name,
            constants.OUTPUT_USERS_TABLE: self.data.tables[constants.ENV_USERS_TABLE].table_name,
            constants.OUTPUT_GRANTS_TABLE: self.data.tables[constants.ENV_GRANTS_TABLE].table_name,
            constants.OUTPUT_REGISTRY_TABLE: self.data.tables[
                constants.ENV_REGISTRY_TABLE
            ].table_name,
            constants.OUTPUT_FACTORS_TABLE: self.data.tables[
                constants.ENV_FACTORS_TABLE
            ].table_name,
            constants.OUTPUT_PASSKEYS_TABLE: self.data.tables[
                constants.ENV_PASSKEYS_TABLE
            ].table_name,
            constants.OUTPUT_CLIENT_SECRET_PREFIX: self.secrets.client_secret_prefix,
            constants.OUTPUT_PROVIDER_SECRET_PREFIX: self.secrets.provider_secret_prefix,
            constants.OUTPUT_SIGNING_KEYS_SECRET: self.secrets.signing_keys.secret_name,
            audit.OUTPUT_AUDIT_LOG_GROUP: self.audit.log_group.log_group_name,
            constants.OUTPUT_LOGOUT_NOTIFIER_FUNCTION: self.logout.function.function_name,
        }
        if self.audit.bus is not None:
            outputs[audit.OUTPUT_AUDIT_EVENT_BUS] = self.audit.bus.event_bus_name
        if self.email is not None:
            outputs[constants.OUTPUT_EMAIL_SENDER] = self.email.sender
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
        if config.custom_domain:
            CfnOutput(
                self,
                "CustomDomainTarget",
                value=self.api.domain_target,
                description="Point a CNAME (or alias) for the custom domain here",
            )
        acknowledge_findings(self, acknowledged)
