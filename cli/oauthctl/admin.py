"""Where the stack is (local endpoint, or a deployed stack's outputs) and the admin services."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import boto3

from oauth_core import constants
from oauth_core.admin.access import UserAccess
from oauth_core.admin.account_emails import AccountEmails
from oauth_core.admin.backchannel_logout import (
    LOGOUT_POST_TIMEOUT,
    BackchannelNotifier,
    InlineLogoutDispatch,
    LogoutNotices,
)
from oauth_core.admin.catalog import ApiAdmin, AttributeAdmin, ScopeAdmin
from oauth_core.admin.key_rotation import rotate_stored_keys
from oauth_core.admin.providers import IdentityLinks, ProviderAdmin
from oauth_core.admin.registry import ClientRegistry
from oauth_core.admin.users import UserDirectory
from oauth_core.clock import SystemClock, SystemRandom
from oauth_core.config import Settings
from oauth_core.http.outbound import SafeFetcher
from oauth_core.keys import KeySet
from oauth_core.rules.email_limits import EmailLimits
from oauth_core.storage.dynamodb import DynamoClientStore, DynamoUserStore
from oauth_core.storage.dynamodb_email_links import DynamoEmailLinkStore
from oauth_core.storage.dynamodb_factors import DynamoFactorStore
from oauth_core.storage.dynamodb_grants import DynamoGrantStore, DynamoRateLimiter
from oauth_core.storage.dynamodb_links import DynamoIdentityLinkStore
from oauth_core.storage.dynamodb_passkeys import DynamoPasskeyStore
from oauth_core.storage.dynamodb_registry import DynamoCatalogStore
from oauth_core.storage.logout_dispatch import LambdaLogoutDispatch
from oauth_core.storage.secrets_manager import (
    SecretsManagerKeyStore,
    SecretsManagerProviderSecrets,
    SecretsManagerSecretStore,
)
from oauth_core.storage.ses import SesMailer

_OUTPUTS = {
    constants.OUTPUT_CLIENTS_TABLE: "clients_table",
    constants.OUTPUT_USERS_TABLE: "users_table",
    constants.OUTPUT_GRANTS_TABLE: "grants_table",
    constants.OUTPUT_REGISTRY_TABLE: "registry_table",
    constants.OUTPUT_FACTORS_TABLE: "factors_table",
    constants.OUTPUT_PASSKEYS_TABLE: "passkeys_table",
    constants.OUTPUT_CLIENT_SECRET_PREFIX: "client_secret_prefix",
    constants.OUTPUT_PROVIDER_SECRET_PREFIX: "provider_secret_prefix",
    constants.OUTPUT_SIGNING_KEYS_SECRET: "signing_keys_secret",
    constants.OUTPUT_ISSUER: "issuer",
}


def _settings_of(outputs: dict[str, str]) -> dict[str, str]:
    return {field: outputs[key] for key, field in _OUTPUTS.items() if key in outputs}


def _is_loopback(endpoint: str | None) -> bool:
    return bool(endpoint) and urlsplit(endpoint).hostname in ("127.0.0.1", "localhost", "::1")


@dataclass
class Admin:
    settings: Settings
    session: Any
    endpoint_url: str | None
    # A deployed stack's outputs (--stack), all of them: the audit log group's name among them.
    outputs: dict[str, str] = field(default_factory=dict)
    stack: str | None = None

    @property
    def is_local(self) -> bool:
        """Whether this is the local stack (its embedded AWS on a loopback address)."""
        return _is_loopback(self.endpoint_url)

    @classmethod
    def connect(
        cls,
        *,
        stack: str | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> Admin:
        endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        key_id = secret = None
        if _is_loopback(endpoint_url) and not os.environ.get("AWS_ACCESS_KEY_ID"):
            key_id = secret = "local"  # the local stack's moto accepts any credentials
        region = (
            region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
        )
        if region is None and _is_loopback(endpoint_url):
            region = "us-east-1"
        session = boto3.session.Session(
            aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=region
        )
        if not session.region_name:
            from botocore.exceptions import NoRegionError

            raise NoRegionError()
        settings = Settings.from_env()
        outputs: dict[str, str] = {}
        if stack:
            outputs = cls._described_outputs(session, stack, endpoint_url)
            settings = replace(settings, **_settings_of(outputs))  # type: ignore[arg-type]
        return cls(settings, session, endpoint_url, outputs, stack)

    @staticmethod
    def _stack_outputs(session: Any, stack: str, endpoint_url: str | None) -> dict[str, str]:
        """The settings a deployed stack's outputs give."""
        return _settings_of(Admin._described_outputs(session, stack, endpoint_url))

    @staticmethod
    def _described_outputs(session: Any, stack: str, endpoint_url: str | None) -> dict[str, str]:
        cloudformation = session.client("cloudformation", endpoint_url=endpoint_url)
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)

    def clients(self) -> ClientRegistry:
        secrets = SecretsManagerSecretStore(
            self.settings.client_secret_prefix,
            self.settings.secret_rotation_grace,
            SystemClock(),
            secretsmanager=self.client("secretsmanager"),
        )
        store = DynamoClientStore(self.settings.clients_table, dynamodb=self.client("dynamodb"))
        return ClientRegistry(store, secrets, self.catalog_store(), SystemClock(), SystemRandom())

    def catalog_store(self) -> DynamoCatalogStore:
        return DynamoCatalogStore(self.settings.registry_table, dynamodb=self.client("dynamodb"))

    def scopes(self) -> ScopeAdmin:
        clients = DynamoClientStore(self.settings.clients_table, dynamodb=self.client("dynamodb"))
        return ScopeAdmin(self.catalog_store(), clients, SystemClock())

    def apis(self) -> ApiAdmin:
        return ApiAdmin(self.catalog_store(), SystemClock())

    def attributes(self) -> AttributeAdmin:
        return AttributeAdmin(self.catalog_store(), SystemClock())

    def users(self) -> UserDirectory:
        dynamodb = self.client("dynamodb")
        store = DynamoUserStore(self.settings.users_table, dynamodb=dynamodb)
        grants = DynamoGrantStore(self.settings.grants_table, dynamodb=dynamodb)
        return UserDirectory(store, SystemClock(), grants, self.catalog_store())

    def providers(self) -> ProviderAdmin:
        secrets = SecretsManagerProviderSecrets(
            self.settings.provider_secret_prefix,
            SystemClock(),
            secretsmanager=self.client("secretsmanager"),
        )
        return ProviderAdmin(self.catalog_store(), secrets, SystemClock())

    def identity_links(self) -> IdentityLinks:
        dynamodb = self.client("dynamodb")
        links = DynamoIdentityLinkStore(self.settings.grants_table, dynamodb=dynamodb)
        store = DynamoUserStore(self.settings.users_table, dynamodb=dynamodb)
        return IdentityLinks(links, store, self.users(), SystemClock())

    def factors(self) -> DynamoFactorStore:
        """Users' second factors (oauthctl never reads a secret out of them)."""
        return DynamoFactorStore(self.settings.factors_table, dynamodb=self.client("dynamodb"))

    def account_emails(self) -> tuple[AccountEmails, str] | None:
        """What mails users their links (as the login function does), and the issuer the links
        point at: the stack's sender (its EmailSender output; EMAIL_SENDER; a running local
        stack's), its grants table for the links, SES for the mail. None when the stack sends
        no e-mail or its issuer is unknown."""
        sender = self.outputs.get(constants.OUTPUT_EMAIL_SENDER) or self.settings.email_sender
        issuer = self.settings.issuer
        if self.is_local:
            from local_stack import EMAIL_SENDER_PARAMETER

            sender = sender or self._local_parameter(EMAIL_SENDER_PARAMETER)
            issuer = issuer or self._local_issuer()
        if not sender or not issuer:
            return None
        dynamodb = self.client("dynamodb")
        settings = replace(self.settings, email_sender=sender)
        users = DynamoUserStore(settings.users_table, dynamodb=dynamodb)
        grants = DynamoGrantStore(settings.grants_table, dynamodb=dynamodb)
        directory = UserDirectory(users, SystemClock(), grants, self.catalog_store())
        emails = AccountEmails(
            users,
            users,
            directory,
            DynamoEmailLinkStore(settings.grants_table, dynamodb=dynamodb),
            SesMailer(sender, settings.email_configuration_set, sesv2=self.client("sesv2")),
            EmailLimits(
                DynamoRateLimiter(settings.grants_table, dynamodb=dynamodb), settings, SystemClock()
            ),
            SystemClock(),
            SystemRandom(),
        )
        return emails, issuer

    def passkeys(self) -> DynamoPasskeyStore:
        """Users' passkeys (public keys: nothing secret in them)."""
        return DynamoPasskeyStore(self.settings.passkeys_table, dynamodb=self.client("dynamodb"))

    def grant_store(self) -> DynamoGrantStore:
        return DynamoGrantStore(self.settings.grants_table, dynamodb=self.client("dynamodb"))

    def now(self) -> int:
        return SystemClock().now()

    def access(self) -> UserAccess:
        grants = DynamoGrantStore(self.settings.grants_table, dynamodb=self.client("dynamodb"))
        return UserAccess(grants, SystemClock())

    def logout_notices(self) -> tuple[LogoutNotices, str] | None:
        """How ended sessions' apps are told (back-channel logout), and in which issuer's name:
        a deployed stack's notifier function (invoked as the login function invokes it); on the
        local stack, the notifier run here (the operator waits, seconds at most). None when
        neither is known (a stack deployed before the notifier existed)."""
        clients = DynamoClientStore(self.settings.clients_table, dynamodb=self.client("dynamodb"))
        function = self.outputs.get(constants.OUTPUT_LOGOUT_NOTIFIER_FUNCTION)
        if function and self.settings.issuer:
            dispatch = LambdaLogoutDispatch(function, self.client("lambda"))
            return LogoutNotices(clients, dispatch), self.settings.issuer
        issuer = self._local_issuer() if self.is_local else None
        if issuer is None:
            return None
        fetcher = SafeFetcher(allow_loopback=True, timeout=LOGOUT_POST_TIMEOUT)
        notifier = BackchannelNotifier(
            clients, self.key_store(), fetcher, SystemClock(), SystemRandom()
        )
        return LogoutNotices(clients, InlineLogoutDispatch(notifier)), issuer

    def _local_issuer(self) -> str | None:
        from local_stack import ISSUER_PARAMETER

        return self._local_parameter(ISSUER_PARAMETER)

    def _local_parameter(self, name: str) -> str | None:
        """What a running local stack says in its embedded AWS (SSM Parameter Store)."""
        from botocore.exceptions import ClientError

        try:
            found = self.client("ssm").get_parameter(Name=name)
        except ClientError:
            return None
        return str(found["Parameter"]["Value"])

    def key_store(self) -> SecretsManagerKeyStore:
        return SecretsManagerKeyStore(
            self.settings.signing_keys_secret, secretsmanager=self.client("secretsmanager")
        )

    def rotate_keys(self, *, force: bool = False) -> KeySet:
        """The same rotation the scheduled rotation function runs."""
        min_interval = 0 if force else self.settings.secret_cache_ttl
        return rotate_stored_keys(self.key_store(), SystemClock().now(), min_interval)
