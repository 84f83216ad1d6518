"""Functions: the shared layer and the Lambda functions, each with a role that grants only what
it uses. The resource function gets no data access at all; the token function reads only the
client-secret prefix and the key secret.

With `-c snap_start=true` each function behind the API publishes a version with SnapStart on
every deploy, and the API calls the `live` alias of it (`targets`), so every request is served
from a snapshot (oauth_core.wiring: what goes into one, what is drawn after a restore)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.bundling import ROOT, function_code, layer_code
from infra.config import StackConfig
from infra.data import Data
from infra.secrets import Secrets
from oauth_core import constants
from oauth_core.http.routes import FUNCTIONS, KEY_ROTATION_FUNCTION, FunctionSpec
from oauth_core.tables import GRANTS_BY_OWNER, PASSKEYS_BY_USER, SINGLE_USE_PREFIX
from oauth_core.tokens.dpop import PROOF_RECORD_PREFIX

# The grants table items a resource function may write: DPoP proofs' single-use records.
DPOP_PROOF_KEYS = f"{SINGLE_USE_PREFIX}{PROOF_RECORD_PREFIX}*"

RUNTIME = lambda_.Runtime.PYTHON_3_13
LIVE_ALIAS = "live"

READ = ("dynamodb:GetItem",)
# What each function does in the grants table (oauth_core.storage.dynamodb_grants), and no more.
# The authorization endpoint reads sessions and consents, completes a request once (a conditional
# put) and writes its code; a code for a client new to the session also adds the client to the
# session, in the same write (a transaction of the put and an update: back-channel logout); it
# takes a pushed request (RFC 9126) once: a conditional delete.
AUTHORIZE_GRANTS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)
# The pages also move failure buckets (conditional updates) and delete sessions (sign-out).
LOGIN_GRANTS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)
# The sign-in pages and the account page also replace a user's password (a temporary one at
# sign-in; one's own on the account page): the user record, and the user's grants found by owner
# to revoke them. A federated sign-in may create its user (just in time); its identity links are
# items of the grants table (read, put, deleted; a user's found by owner).
LOGIN_USERS = ("dynamodb:GetItem", "dynamodb:PutItem")
# Users' second factors: read at every sign-in with the right password, set up (a conditional
# put), a TOTP code's time step and a recovery code spent (conditional updates), turned off.
# No other function may read the table.
LOGIN_FACTORS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)
# Passkeys: read by credential id at sign-in, the counter moved by a conditional update (or the
# passkey suspended), added and removed on the account page, a user's listed by the index.
LOGIN_PASSKEYS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)
# The token endpoint redeems codes and rotates refresh tokens in transactions (put, update and
# condition-check items), revokes families and access tokens, and moves failure buckets.
TOKEN_GRANTS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:ConditionCheckItem",
    # /revocations: the items of recent revocations, read together (SECURITY F7).
    "dynamodb:BatchGetItem",
)


@dataclass(frozen=True)
class Access:
    """What one function may touch."""

    clients: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    grants: tuple[str, ...] = ()
    registry: tuple[str, ...] = ()
    factors: tuple[str, ...] = ()
    grants_indexes: tuple[str, ...] = ()  # indexes of the grants table it queries
    passkeys: tuple[str, ...] = ()  # the passkeys table (and a Query of its by-user index)
    client_secrets: bool = False
    # Federation: this server's client secrets at upstream identity providers.
    provider_secrets: bool = False
    signing_keys: bool = False
    request_sealing: bool = False
    # Only the single-use records of DPoP proofs in the grants table (GrantStore.use_once): a
    # put on items whose key starts so, and nothing else there.
    dpop_proof_records: bool = False


# The registry (registered scopes) is read with one Query per kind and cache lifetime.
READ_REGISTRY = ("dynamodb:Query",)

ACCESS: dict[str, Access] = {
    "authorize": Access(
        clients=READ, grants=AUTHORIZE_GRANTS, registry=READ_REGISTRY, request_sealing=True
    ),
    "login": Access(
        clients=READ,
        users=LOGIN_USERS,
        grants=LOGIN_GRANTS,
        grants_indexes=(GRANTS_BY_OWNER.name,),
        registry=READ_REGISTRY,
        factors=LOGIN_FACTORS,
        request_sealing=True,
        provider_secrets=True,
        passkeys=LOGIN_PASSKEYS,
    ),
    "token": Access(
        clients=READ,
        grants=TOKEN_GRANTS,
        registry=READ_REGISTRY,
        client_secrets=True,
        signing_keys=True,
    ),
    "resource": Access(dpop_proof_records=True),
    # Registers, reads, renews and deletes self-registered clients (public: no secrets), checks
    # their scopes against the registry, and counts registrations per source (a bucket).
    "register": Access(
        clients=("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"),
        grants=("dynamodb:UpdateItem",),
        registry=READ_REGISTRY,
    ),
}


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: StackConfig,
        data: Data,
        secrets: Secrets,
    ):
        super().__init__(scope, construct_id)
        self._config = config
        self.layer = lambda_.LayerVersion(
            self,
            "CommonLayer",
            code=layer_code(config.pip_platforms, config.skip_bundling),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[config.lambda_architecture],
            description="oauth_core with aws-lambda-powertools, pyjwt, cryptography and webauthn",
        )
        environment = {
            constants.ENV_CLIENTS_TABLE: data.tables[constants.ENV_CLIENTS_TABLE].table_name,
            constants.ENV_USERS_TABLE: data.tables[constants.ENV_USERS_TABLE].table_name,
            constants.ENV_GRANTS_TABLE: data.tables[constants.ENV_GRANTS_TABLE].table_name,
            constants.ENV_REGISTRY_TABLE: data.tables[constants.ENV_REGISTRY_TABLE].table_name,
            constants.ENV_FACTORS_TABLE: data.tables[constants.ENV_FACTORS_TABLE].table_name,
            constants.ENV_PASSKEYS_TABLE: data.tables[constants.ENV_PASSKEYS_TABLE].table_name,
            constants.ENV_CLIENT_SECRET_PREFIX: secrets.client_secret_prefix,
            constants.ENV_PROVIDER_SECRET_PREFIX: secrets.provider_secret_prefix,
            constants.ENV_SIGNING_KEYS_SECRET: secrets.signing_keys.secret_name,
            constants.ENV_REQUEST_SEALING_SECRET: secrets.request_sealing.secret_name,
            constants.ENV_ACCESS_TOKEN_TTL: str(config.access_token_ttl),
            constants.ENV_REFRESH_IDLE_TTL: str(config.refresh_token_idle_ttl),
            constants.ENV_REFRESH_ABSOLUTE_TTL: str(config.refresh_token_absolute_ttl),
            constants.ENV_MAX_FAILURES: str(config.max_failed_attempts),
            constants.ENV_MAX_FAILURES_PER_IP: str(config.max_failed_attempts_per_source),
            constants.ENV_FAILURE_WINDOW: str(config.failed_attempts_window),
            # Read by the token function's discovery too (registration_endpoint).
            constants.ENV_CLIENT_REGISTRATION: config.client_registration,
            constants.ENV_REGISTRATION_SCOPES: config.registration_scopes,
            constants.ENV_CLIENT_ID_METADATA_DOCUMENTS: "on"
            if config.client_id_metadata_documents
            else "off",
            constants.ENV_DPOP_NONCES: "on" if config.dpop_nonces else "off",
            # Read by the authorize function, and by discovery (RFC 9126 5).
            constants.ENV_REQUIRE_PUSHED_REQUESTS: "on"
            if config.require_pushed_authorization_requests
            else "off",
            # Read by the authorize function (what a request needs) and the login function.
            constants.ENV_REQUIRE_MFA: "on" if config.require_mfa else "off",
            "POWERTOOLS_SERVICE_NAME": constants.SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
        }
        if config.custom_domain:
            environment[constants.ENV_ISSUER] = f"https://{config.custom_domain}"
        if config.passkey_rp_id:
            environment[constants.ENV_PASSKEY_RP_ID] = config.passkey_rp_id
        self.functions: dict[str, lambda_.Function] = {}
        # What the API integrates: each function, or under SnapStart its live alias.
        self.targets: dict[str, lambda_.IFunction] = {}
        for name, spec in FUNCTIONS.items():
            memory = config.resource_memory_mb if name == "resource" else config.memory_mb
            function = self._function(spec, environment, memory, snap_start=config.snap_start)
            self._grant(function, ACCESS[name], data, secrets)
            self.functions[name] = function
            self.targets[name] = self._live_alias(function) if config.snap_start else function
        self.rotation = self._function(
            KEY_ROTATION_FUNCTION,
            {"POWERTOOLS_SERVICE_NAME": constants.SERVICE_NAME},
            256,
            timeout=Duration.seconds(30),
        )

    def _function(
        self,
        spec: FunctionSpec,
        environment: dict[str, str],
        memory: int,
        timeout: Duration | None = None,
        snap_start: bool = False,
    ) -> lambda_.Function:
        log_group = logs.LogGroup(
            self,
            f"{spec.name}-logs",
            retention=self._config.retention,
            removal_policy=self._config.removal,
        )
        role = iam.Role(
            self,
            f"{spec.name}-role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Least privilege for the {spec.name} function",
        )
        log_group.grant_write(role)
        return lambda_.Function(
            self,
            spec.name,
            runtime=RUNTIME,
            architecture=self._config.lambda_architecture,
            handler=spec.handler,
            code=function_code(ROOT / spec.code_dir, self._config.skip_bundling),
            layers=[self.layer],
            memory_size=memory,
            timeout=timeout or Duration.seconds(10),
            environment=environment,
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            # Lambda's START/END/REPORT lines cost as much as our own logs; keep only warnings.
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            description=f"OAuth server: {spec.name}",
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
            # A replaced version is deleted: its cached snapshot would otherwise be billed
            # until Lambda retires it after 14 days without an invocation.
            current_version_options=(
                lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY) if snap_start else None
            ),
        )

    def _live_alias(self, function: lambda_.Function) -> lambda_.Alias:
        """The alias the API calls: the version this deploy published (its snapshot)."""
        return lambda_.Alias(
            function, "Live", alias_name=LIVE_ALIAS, version=function.current_version
        )

    @staticmethod
    def _grant(function: lambda_.Function, access: Access, data: Data, secrets: Secrets) -> None:
        for env_var, actions in (
            (constants.ENV_CLIENTS_TABLE, access.clients),
            (constants.ENV_USERS_TABLE, access.users),
            (constants.ENV_GRANTS_TABLE, access.grants),
            (constants.ENV_REGISTRY_TABLE, access.registry),
            (constants.ENV_FACTORS_TABLE, access.factors),
            (constants.ENV_PASSKEYS_TABLE, access.passkeys),
        ):
            if actions:
                # The table itself only (table.grant would add index/* as well): the indexes a
                # function queries are named below.
                table: dynamodb.TableV2 = data.tables[env_var]
                function.add_to_role_policy(
                    iam.PolicyStatement(actions=list(actions), resources=[table.table_arn])
                )
        if access.grants_indexes:
            grants_table = data.tables[constants.ENV_GRANTS_TABLE]
            indexes = [f"{grants_table.table_arn}/index/{name}" for name in access.grants_indexes]
            function.add_to_role_policy(
                iam.PolicyStatement(actions=["dynamodb:Query"], resources=indexes)
            )
        if access.passkeys:
            passkeys_table = data.tables[constants.ENV_PASSKEYS_TABLE]
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["dynamodb:Query"],
                    resources=[f"{passkeys_table.table_arn}/index/{PASSKEYS_BY_USER.name}"],
                )
            )
        if access.dpop_proof_records:
            grants_table = data.tables[constants.ENV_GRANTS_TABLE]
            function.add_to_role_policy(
                iam.PolicyStatement(
                    sid="UseUpDpopProofs",
                    actions=["dynamodb:PutItem"],
                    resources=[grants_table.table_arn],
                    conditions={
                        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [DPOP_PROOF_KEYS]}
                    },
                )
            )
        if access.client_secrets:
            secrets.grant_read_client_secrets(function)
        if access.provider_secrets:
            secrets.grant_read_provider_secrets(function)
        # The value only: Secret.grant_read adds DescribeSecret, which these functions never call.
        # A Sid keeps CDK's policy minimization from merging this statement with another.
        if access.signing_keys:
            function.add_to_role_policy(_read_value(secrets.signing_keys, "ReadSigningKeys"))
        if access.request_sealing:
            function.add_to_role_policy(
                _read_value(secrets.request_sealing, "ReadRequestSealingKey")
            )


def _read_value(secret: secretsmanager.ISecret, sid: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid=sid, actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn]
    )
