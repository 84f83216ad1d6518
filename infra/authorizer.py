"""TokenAuthorizer: this server's access tokens checked in front of another team's HTTP API, by a
Lambda authorizer (REQUEST type, payload 2.0, simple responses; logic in
oauth_core.endpoints.authorizer, docs/integrate.md "Protect your own API"). Two lines in the
API's own stack:

    auth = TokenAuthorizer(self, "Auth", issuer="https://auth.example.com",
                           audience="https://orders.example.com")
    api.add_routes(path="/orders", methods=[apigw.HttpMethod.GET], integration=orders,
                   authorizer=auth.for_scopes("orders:read"))

Per-route scopes: an HTTP API cannot hand an authorizer per-route configuration, and it caches
an authorizer's answers by its identity sources only. So each distinct set of required scopes
gets a function of its own (its scopes in its environment) and, per API, an authorizer of its
own with its own cache, keyed by the token (`$request.header.Authorization`): an allow cached
for a route that needs `orders:read` is never reused for one that needs `orders:write`. (One
function with a route-key-to-scopes map would also need `$context.routeKey` among the identity
sources, and the route keys known to this construct before `add_routes` names them.) Routes
with the same scopes share the function, the authorizer and its cache.

A revoked token is refused within the cache TTL + the function's revocation refresh + the
issuer's copy of its list (at most 5 s); the construct refuses a TTL and a refresh that,
with those 5 s, exceed `revocation_bound` (default 25 s, what the bundled resource function
guarantees, SECURITY F7). A cached allow may also outlive its token's `exp` by up to the TTL.

The functions need no AWS permission but their logs: their role grants nothing else, and they
never import boto3 (they read the issuer's JWKS and revocations over HTTPS).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import jsii
from aws_cdk import Duration, Names, RemovalPolicy, Token
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_authorizers import HttpLambdaAuthorizer, HttpLambdaResponseType
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.bundling import ROOT, function_code, layer_code
from infra.config import StackConfig
from infra.functions import RUNTIME
from infra.nag import Acknowledgment
from oauth_core import constants
from oauth_core.endpoints import authorizer as logic
from oauth_core.http.routes import FunctionSpec

AUTHORIZER_FUNCTION = FunctionSpec("authorizer", "functions/authorizer", "authorizer_handler")
IDENTITY_SOURCE = "$request.header.Authorization"
DEFAULT_RESULTS_CACHE_TTL = Duration.seconds(10)
DEFAULT_REVOCATION_REFRESH = Duration.seconds(10)
# The issuer keeps the list it serves at most this long (oauth_core.endpoints.revocations).
ISSUER_LIST_CACHE_SECONDS = constants.REVOCATION_SERVER_CACHE_SECONDS
# What the bundled resource function guarantees (SECURITY F7): 20 s + 5 s.
DEFAULT_REVOCATION_BOUND = Duration.seconds(
    constants.REVOCATION_REFRESH_SECONDS + constants.REVOCATION_SERVER_CACHE_SECONDS
)
MAX_RESULTS_CACHE_TTL_SECONDS = 3600  # API Gateway's limit

# The cdk-nag findings of the authorizer's functions, accepted with their reasons (applied to
# each function this construct makes; infra/nag.py holds the server stack's).
ACKNOWLEDGED: tuple[Acknowledgment, ...] = (
    Acknowledgment(
        "AwsSolutions-L1",
        "The authorizer pins python3.13, the runtime the shared layer's wheels are built for, "
        "as the server's functions do (infra/functions.py RUNTIME).",
    ),
    Acknowledgment(
        "Serverless-LambdaLatestVersion",
        "As AwsSolutions-L1: python3.13 is pinned together with the layer's wheels.",
    ),
    Acknowledgment(
        "Serverless-LambdaDLQ",
        "API Gateway invokes the authorizer synchronously and sees every failure (it answers "
        "500, never an allow): there is no asynchronous event to keep.",
    ),
    Acknowledgment(
        "Serverless-LambdaTracing",
        "X-Ray is off, as for the server's functions: it would add to every cold start of a "
        "function on the request path of another team's API.",
    ),
)


class AuthorizerConfigError(ValueError):
    """The construct's settings would make a weaker authorizer than they promise."""


def scope_set(scopes: Iterable[str]) -> frozenset[str]:
    """The required scopes, each argument possibly several, space-separated."""
    try:
        return logic.parse_scopes(" ".join(scopes))
    except logic.AuthorizerConfigError as exc:
        raise AuthorizerConfigError(f"malformed scopes: {sorted(scopes)!r}") from exc


def scope_key(scopes: frozenset[str]) -> str:
    """A construct id for a scope set: readable, and unique by a digest of the whole set."""
    if not scopes:
        return "AnyScope"
    text = " ".join(sorted(scopes))
    readable = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40]
    return f"{readable}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def check_revocation_bound(
    results_cache_ttl: Duration, revocation_refresh: Duration, revocation_bound: Duration
) -> None:
    ttl = results_cache_ttl.to_seconds()
    refresh = revocation_refresh.to_seconds()
    if not 0 <= ttl <= MAX_RESULTS_CACHE_TTL_SECONDS:
        raise AuthorizerConfigError(f"results_cache_ttl: 0 to 3600 seconds, not {ttl}")
    if refresh < 1:
        raise AuthorizerConfigError(f"revocation_refresh: at least 1 second, not {refresh}")
    worst = ttl + refresh + ISSUER_LIST_CACHE_SECONDS
    if worst > revocation_bound.to_seconds():
        raise AuthorizerConfigError(
            f"a revoked token could pass for {worst} s (results_cache_ttl {ttl} s + "
            f"revocation_refresh {refresh} s + the issuer's {ISSUER_LIST_CACHE_SECONDS} s), "
            f"over revocation_bound ({revocation_bound.to_seconds()} s): shorten one, or "
            "accept a longer bound explicitly"
        )


class TokenAuthorizer(Construct):
    """Lambda authorizers of one API (audience) for one issuer: `for_scopes(...)` gives the
    authorizer of a route that needs those scopes (all of them)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        issuer: str,
        audience: str,
        results_cache_ttl: Duration | None = None,
        revocation_refresh: Duration = DEFAULT_REVOCATION_REFRESH,
        revocation_bound: Duration = DEFAULT_REVOCATION_BOUND,
        jwks_uri: str | None = None,
        revocations_uri: str | None = None,
        layer: lambda_.ILayerVersion | None = None,
        architecture: lambda_.Architecture = lambda_.Architecture.ARM_64,
        memory_size: int = 256,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        skip_bundling: bool | None = None,
        dpop: bool = False,
    ):
        """`issuer`: this server's issuer URL (a token is fine, e.g. an import of the server
        stack's IssuerUrl output); `audience`: the API's identifier, as registered with
        `oauthctl apis create`. `layer`: the server's shared layer, if this stack has it;
        else the construct bundles its own. `skip_bundling` (default: the `skip_bundling`
        context value): the layer without its third-party wheels, for fast test synths.
        `dpop`: take DPoP-bound tokens too (RFC 9449), each request with its own proof; API
        Gateway's answer cache is then off (`results_cache_ttl` 0, its default then): a cached
        allow would let the next request through on the token alone. Proof ids are remembered
        per function container (this construct gives the functions no table)."""
        super().__init__(scope, construct_id)
        if not Token.is_unresolved(issuer):
            try:
                logic.check_issuer(issuer)
            except logic.AuthorizerConfigError as exc:
                raise AuthorizerConfigError(f"issuer: {exc}") from exc
        if not Token.is_unresolved(audience):
            try:
                logic.check_audience(audience)
            except logic.AuthorizerConfigError as exc:
                raise AuthorizerConfigError(f"audience: {exc}") from exc
        if results_cache_ttl is None:
            results_cache_ttl = Duration.seconds(0) if dpop else DEFAULT_RESULTS_CACHE_TTL
        if dpop and results_cache_ttl.to_seconds() != 0:
            raise AuthorizerConfigError(
                "dpop: results_cache_ttl must be 0 (a cached allow would skip the next proof)"
            )
        check_revocation_bound(results_cache_ttl, revocation_refresh, revocation_bound)
        self.issuer = issuer
        self.audience = audience
        self.results_cache_ttl = results_cache_ttl
        if skip_bundling is None:
            context = str(self.node.try_get_context("skip_bundling") or "").lower()
            skip_bundling = context in ("1", "true", "yes")
        self._skip_bundling = skip_bundling
        self._architecture = architecture
        self._memory_size = memory_size
        self._environment = {
            constants.ENV_ISSUER: issuer,
            logic.ENV_AUDIENCE: audience,
            constants.ENV_REVOCATION_REFRESH: str(int(revocation_refresh.to_seconds())),
            logic.ENV_DPOP: "on" if dpop else "off",
            "POWERTOOLS_SERVICE_NAME": constants.SERVICE_NAME,
        }
        if jwks_uri:
            self._environment[constants.ENV_JWKS_URI] = jwks_uri
        if revocations_uri:
            self._environment[constants.ENV_REVOCATIONS_URI] = revocations_uri
        platforms = StackConfig(
            architecture="arm64" if architecture == lambda_.Architecture.ARM_64 else "x86_64"
        ).pip_platforms
        self.layer = layer or lambda_.LayerVersion(
            self,
            "Layer",
            code=layer_code(platforms, skip_bundling),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[architecture],
            description="oauth_core with aws-lambda-powertools, pyjwt and cryptography",
        )
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=removal_policy
        )
        # Logs, and nothing else: no table, no secret, no key (SECURITY: least privilege).
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="The OAuth token authorizer's functions: their logs only",
        )
        self.log_group.grant_write(self.role)
        self.functions: dict[frozenset[str], lambda_.Function] = {}
        self._authorizers: dict[tuple[str, frozenset[str]], HttpLambdaAuthorizer] = {}

    def for_scopes(self, *scopes: str) -> apigw.IHttpRouteAuthorizer:
        """The authorizer of routes that need all these scopes (none: any valid token for the
        API). Use it on as many routes, and HTTP APIs, as need the same scopes."""
        required = scope_set(scopes)
        if required not in self.functions:
            self.functions[required] = self._function(required)
        return ScopedAuthorizer(self, required)

    def _function(self, required: frozenset[str]) -> lambda_.Function:
        key = scope_key(required)
        function = lambda_.Function(
            self,
            f"Function-{key}",
            runtime=RUNTIME,
            architecture=self._architecture,
            handler=AUTHORIZER_FUNCTION.handler,
            code=function_code(ROOT / AUTHORIZER_FUNCTION.code_dir, self._skip_bundling),
            layers=[self.layer],
            memory_size=self._memory_size,
            # Each read of the issuer (JWKS, revocations) gives up after 3 s.
            timeout=Duration.seconds(10),
            environment={
                **self._environment,
                logic.ENV_REQUIRED_SCOPES: " ".join(sorted(required)),
            },
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            description=f"OAuth token authorizer: {key}",
        )
        NagSuppressions.add_resource_suppressions(
            function,
            [NagPackSuppression(id=ack.rule, reason=ack.reason) for ack in ACKNOWLEDGED],
            apply_to_children=True,
        )
        return function

    def authorizer_for(self, api: apigw.IHttpApi, required: frozenset[str]) -> HttpLambdaAuthorizer:
        """The authorizer of `api` for these scopes (one per API: CDK binds one to one API)."""
        cache_key = (api.node.path, required)
        found = self._authorizers.get(cache_key)
        if found is None:
            key = scope_key(required)
            found = HttpLambdaAuthorizer(
                f"{Names.unique_id(self)}-{key}",
                self.functions[required],
                authorizer_name=f"{Names.unique_id(self)}-{key}"[:128],
                identity_source=[IDENTITY_SOURCE],
                response_types=[HttpLambdaResponseType.SIMPLE],
                results_cache_ttl=self.results_cache_ttl,
            )
            self._authorizers[cache_key] = found
        return found


@jsii.implements(apigw.IHttpRouteAuthorizer)
class ScopedAuthorizer:
    """What `for_scopes` returns: bound to a route, the authorizer of that route's API."""

    def __init__(self, owner: TokenAuthorizer, required: frozenset[str]):
        self.owner = owner
        self.required_scopes = required

    def bind(self, *, route: apigw.IHttpRoute, scope: Construct) -> apigw.HttpRouteAuthorizerConfig:
        delegate = self.owner.authorizer_for(route.http_api, self.required_scopes)
        return delegate.bind(route=route, scope=scope)
