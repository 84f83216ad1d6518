"""infra/authorizer.py's TokenAuthorizer, attached to HTTP APIs as another team's stack would
(examples/protected_api/stack.py): one REQUEST authorizer (payload 2.0, simple responses) per
set of required scopes, cached by the token only, within the revocation bound (SECURITY F7);
functions that may write their logs and nothing else; cdk-nag finds nothing unacknowledged."""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20,22")

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, Fn, Stack
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Annotations, Match, Template
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration

import infra.authorizer
from examples.protected_api.routes import AUDIENCE, ROUTES
from examples.protected_api.stack import ProtectedApiStack
from infra.authorizer import AuthorizerConfigError, TokenAuthorizer
from infra.nag import add_checks

ISSUER = "https://auth.example.com"
ANY = Match.string_like_regexp(".*")


def synth_example(**kwargs: Any) -> ProtectedApiStack:
    app = cdk.App()
    stack = ProtectedApiStack(app, "ProtectedApi", issuer=ISSUER, skip_bundling=True, **kwargs)
    add_checks(app)
    app.synth()
    return stack


@pytest.fixture(scope="module")
def example() -> ProtectedApiStack:
    return synth_example()


@pytest.fixture(scope="module")
def resources(example: ProtectedApiStack) -> dict[str, dict[str, Any]]:
    return dict(Template.from_stack(example).to_json()["Resources"])


def of_type(resources: dict[str, dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def authorizer_functions(resources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: r
        for name, r in of_type(resources, "AWS::Lambda::Function").items()
        if r["Properties"]["Handler"] == "authorizer_handler.lambda_handler"
    }


def function_of(authorizer: dict[str, Any]) -> str:
    """The logical id of the function an AWS::ApiGatewayV2::Authorizer invokes."""
    parts = authorizer["Properties"]["AuthorizerUri"]["Fn::Join"][1]
    return next(p["Fn::GetAtt"][0] for p in parts if isinstance(p, dict) and "Fn::GetAtt" in p)


def test_f7_each_route_has_a_request_authorizer_of_its_scopes_cached_by_the_token_only(
    resources: dict[str, dict[str, Any]],
) -> None:
    authorizers = of_type(resources, "AWS::ApiGatewayV2::Authorizer")
    functions = authorizer_functions(resources)
    assert len(authorizers) == len(functions) == len(ROUTES) == 2
    for authorizer in authorizers.values():
        properties = authorizer["Properties"]
        assert properties["AuthorizerType"] == "REQUEST"
        assert properties["AuthorizerPayloadFormatVersion"] == "2.0"
        assert properties["EnableSimpleResponses"] is True
        # Keyed by the token: one authorizer per scope set, so no allow crosses to a route
        # that needs other scopes; 10 s, within the revocation bound.
        assert properties["IdentitySource"] == ["$request.header.Authorization"]
        assert properties["AuthorizerResultTtlInSeconds"] == 10
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in of_type(resources, "AWS::ApiGatewayV2::Route").values()
    }
    for method, path, scopes in ROUTES:
        route = routes[f"{method} {path}"]
        assert route["AuthorizationType"] == "CUSTOM"
        function = functions[function_of(authorizers[route["AuthorizerId"]["Ref"]])]
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["AUTHORIZER_REQUIRED_SCOPES"] == " ".join(scopes)


def test_the_authorizer_functions_are_configured_for_the_issuer_and_the_api(
    resources: dict[str, dict[str, Any]],
) -> None:
    for function in authorizer_functions(resources).values():
        properties = function["Properties"]
        variables = properties["Environment"]["Variables"]
        assert variables["OAUTH_ISSUER"] == ISSUER
        assert variables["AUTHORIZER_AUDIENCE"] == AUDIENCE
        assert variables["REVOCATION_REFRESH_SECONDS"] == "10"
        assert properties["Runtime"] == "python3.13"
        assert len(properties["Layers"]) == 1


def test_the_authorizer_functions_may_write_their_logs_and_nothing_else(
    resources: dict[str, dict[str, Any]],
) -> None:
    roles = {
        f["Properties"]["Role"]["Fn::GetAtt"][0] for f in authorizer_functions(resources).values()
    }
    assert len(roles) == 1
    (role,) = roles
    assert "ManagedPolicyArns" not in resources[role]["Properties"]
    statements = [
        statement
        for policy in of_type(resources, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert not [a for a in actions if a.split(":")[0] in ("dynamodb", "secretsmanager", "kms")]
    assert all(
        s["Resource"] == {"Fn::GetAtt": [s["Resource"]["Fn::GetAtt"][0], "Arn"]} for s in statements
    )


def test_only_api_gateway_invokes_each_authorizer_function_as_that_authorizer(
    resources: dict[str, dict[str, Any]],
) -> None:
    functions = authorizer_functions(resources)
    permissions = [
        p["Properties"]
        for p in of_type(resources, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"]["Fn::GetAtt"][0] in functions
    ]
    assert len(permissions) == len(functions)
    for permission in permissions:
        assert permission["Principal"] == "apigateway.amazonaws.com"
        source = permission["SourceArn"]["Fn::Join"][1]
        assert "/authorizers/" in source


def test_zero_unacknowledged_cdk_nag_findings(example: ProtectedApiStack) -> None:
    annotations = Annotations.from_stack(example)
    assert annotations.find_error("*", ANY) + annotations.find_warning("*", ANY) == []


def test_each_acknowledgment_of_the_authorizer_suppresses_a_real_finding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rules = {ack.rule for ack in infra.authorizer.ACKNOWLEDGED}
    monkeypatch.setattr(infra.authorizer, "ACKNOWLEDGED", ())
    bare = synth_example()
    annotations = Annotations.from_stack(bare)
    findings = {
        str(m.entry.data).split(":")[0].split("[")[0]
        for m in annotations.find_error("*", ANY) + annotations.find_warning("*", ANY)
        if m.id.startswith("/ProtectedApi/Auth/")
    }
    assert findings == rules


# --- The construct's API on stacks of its own -------------------------------------------------


def bare_stack() -> tuple[cdk.App, Stack, HttpLambdaIntegration]:
    app = cdk.App()
    stack = Stack(app, "Api")
    return app, stack, integration(stack)


def integration(stack: Stack, name: str = "Backend") -> HttpLambdaIntegration:
    backend = lambda_.Function(
        stack,
        name,
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): return {}"),
    )
    return HttpLambdaIntegration(name, backend)


def test_routes_with_the_same_scopes_share_one_function_and_one_authorizer_per_api() -> None:
    _, stack, first_backend = bare_stack()
    auth = TokenAuthorizer(stack, "Auth", issuer=ISSUER, audience=AUDIENCE, skip_bundling=True)
    first, second = apigw.HttpApi(stack, "First"), apigw.HttpApi(stack, "Second")
    for api, backend in ((first, first_backend), (second, integration(stack, "Other"))):
        api.add_routes(
            path="/a", methods=[apigw.HttpMethod.GET], integration=backend,
            authorizer=auth.for_scopes("orders:read", "orders:write"),
        )  # fmt: skip
        api.add_routes(
            path="/b", methods=[apigw.HttpMethod.GET], integration=backend,
            authorizer=auth.for_scopes("orders:write orders:read orders:read"),
        )  # fmt: skip
    first.add_routes(
        path="/c", methods=[apigw.HttpMethod.GET], integration=first_backend,
        authorizer=auth.for_scopes(),
    )  # fmt: skip
    resources = Template.from_stack(stack).to_json()["Resources"]
    assert len(authorizer_functions(resources)) == 2
    authorizers = of_type(resources, "AWS::ApiGatewayV2::Authorizer")
    # One per API for the shared scope set, and one for any token on the first API.
    assert len(authorizers) == 3
    scopes = sorted(
        f["Properties"]["Environment"]["Variables"]["AUTHORIZER_REQUIRED_SCOPES"]
        for f in authorizer_functions(resources).values()
    )
    assert scopes == ["", "orders:read orders:write"]


def test_an_issuer_from_the_server_stacks_output_is_accepted() -> None:
    _, stack, backend = bare_stack()
    auth = TokenAuthorizer(
        stack, "Auth", issuer=Fn.import_value("OAuthServer-IssuerUrl"), audience=AUDIENCE,
        skip_bundling=True,
    )  # fmt: skip
    apigw.HttpApi(stack, "Orders").add_routes(
        path="/orders", methods=[apigw.HttpMethod.GET], integration=backend,
        authorizer=auth.for_scopes("orders:read"),
    )  # fmt: skip
    (function,) = authorizer_functions(Template.from_stack(stack).to_json()["Resources"]).values()
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["OAUTH_ISSUER"] == {"Fn::ImportValue": "OAuthServer-IssuerUrl"}


@pytest.mark.parametrize(
    ("ttl", "refresh", "bound"),
    [(60, 10, None), (15, 6, None), (11, 10, None), (30, 40, 70), (3601, 1, 4000), (0, 0, None)],
)
def test_f7_a_cache_ttl_and_refresh_beyond_the_revocation_bound_are_refused(
    ttl: int, refresh: int, bound: int | None
) -> None:
    _, stack, _ = bare_stack()
    with pytest.raises(AuthorizerConfigError):
        TokenAuthorizer(
            stack, "Auth", issuer=ISSUER, audience=AUDIENCE, skip_bundling=True,
            results_cache_ttl=Duration.seconds(ttl), revocation_refresh=Duration.seconds(refresh),
            revocation_bound=Duration.seconds(bound or 25),
        )  # fmt: skip


@pytest.mark.parametrize(
    ("ttl", "refresh", "bound"), [(10, 10, None), (0, 20, None), (15, 5, None), (60, 10, 75)]
)
def test_f7_a_ttl_within_the_bound_is_what_api_gateway_caches(
    ttl: int, refresh: int, bound: int | None
) -> None:
    _, stack, backend = bare_stack()
    auth = TokenAuthorizer(
        stack, "Auth", issuer=ISSUER, audience=AUDIENCE, skip_bundling=True,
        results_cache_ttl=Duration.seconds(ttl), revocation_refresh=Duration.seconds(refresh),
        revocation_bound=Duration.seconds(bound or 25),
    )  # fmt: skip
    apigw.HttpApi(stack, "Orders").add_routes(
        path="/orders", methods=[apigw.HttpMethod.GET], integration=backend,
        authorizer=auth.for_scopes("orders:read"),
    )  # fmt: skip
    resources = Template.from_stack(stack).to_json()["Resources"]
    (authorizer,) = of_type(resources, "AWS::ApiGatewayV2::Authorizer").values()
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == ttl
    (function,) = authorizer_functions(resources).values()
    assert function["Properties"]["Environment"]["Variables"]["REVOCATION_REFRESH_SECONDS"] == (
        str(refresh)
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"issuer": "http://auth.example.com"},
        {"issuer": "https://auth.example.com/"},
        {"audience": "orders"},
        {"audience": "https://orders.example.com#x"},
    ],
    ids=str,
)
def test_settings_that_would_weaken_the_authorizer_fail_the_synth(settings: dict[str, str]) -> None:
    _, stack, _ = bare_stack()
    with pytest.raises(AuthorizerConfigError):
        TokenAuthorizer(
            stack,
            "Auth",
            issuer=settings.get("issuer", ISSUER),
            audience=settings.get("audience", AUDIENCE),
        )


def test_malformed_scopes_fail_the_synth() -> None:
    _, stack, _ = bare_stack()
    auth = TokenAuthorizer(stack, "Auth", issuer=ISSUER, audience=AUDIENCE, skip_bundling=True)
    with pytest.raises(AuthorizerConfigError):
        auth.for_scopes('orders:"read')


def test_p3_an_authorizer_for_dpop_caches_no_answer_and_says_so_to_its_functions() -> None:
    _, stack, backend = bare_stack()
    auth = TokenAuthorizer(
        stack, "Auth", issuer=ISSUER, audience=AUDIENCE, skip_bundling=True, dpop=True
    )
    apigw.HttpApi(stack, "Orders").add_routes(
        path="/orders", methods=[apigw.HttpMethod.GET], integration=backend,
        authorizer=auth.for_scopes("orders:read"),
    )  # fmt: skip
    resources = Template.from_stack(stack).to_json()["Resources"]
    (authorizer,) = of_type(resources, "AWS::ApiGatewayV2::Authorizer").values()
    # A cached allow would let the next request through on the token alone, without a proof.
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == 0
    (function,) = authorizer_functions(resources).values()
    assert function["Properties"]["Environment"]["Variables"]["AUTHORIZER_DPOP"] == "on"
    _, other, _ = bare_stack()
    with pytest.raises(AuthorizerConfigError, match="dpop"):
        TokenAuthorizer(
            other, "Auth", issuer=ISSUER, audience=AUDIENCE, skip_bundling=True, dpop=True,
            results_cache_ttl=Duration.seconds(10),
        )  # fmt: skip
