"""Token function: /token, /revoke, /introspect and the discovery documents. Logic: oauth_core."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from oauth_core.endpoints.discovery import DiscoveryEndpoints
from oauth_core.endpoints.introspect import IntrospectionEndpoint
from oauth_core.endpoints.revoke import RevocationEndpoint
from oauth_core.endpoints.token import TokenEndpoint
from oauth_core.errors import InvalidRequest
from oauth_core.http import cors
from oauth_core.http.apigw import current_request, to_response
from oauth_core.http.endpoint import run_json
from oauth_core.http.request import error_response
from oauth_core.http.routes import ALL_METHODS
from oauth_core.observability import correlate, logger
from oauth_core.wiring import Services, aws_services

app = APIGatewayHttpResolver()


@cache
def services() -> Services:
    return aws_services()


@cache
def token_endpoint() -> TokenEndpoint:
    return TokenEndpoint(services())


@cache
def revocation() -> RevocationEndpoint:
    return RevocationEndpoint(services())


@cache
def introspection() -> IntrospectionEndpoint:
    return IntrospectionEndpoint(services())


@cache
def discovery() -> DiscoveryEndpoints:
    return DiscoveryEndpoints(services(), token_endpoint().grants)


@app.route("/token", method=ALL_METHODS)
def token() -> Response:
    return to_response(run_json(token_endpoint().handle, current_request(app)))


@app.route("/revoke", method=ALL_METHODS)
def revoke() -> Response:
    return to_response(run_json(revocation().handle, current_request(app)))


@app.route("/introspect", method=ALL_METHODS)
def introspect() -> Response:
    return to_response(run_json(introspection().handle, current_request(app)))


@app.not_found
def unsupported(_: Exception) -> Response:
    """A method API Gateway's ANY route let through that no route here takes (TRACE, ...)."""
    return to_response(error_response(InvalidRequest("unsupported method")))


@app.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata() -> Response:
    return to_response(run_json(discovery().metadata, current_request(app)))


@app.get("/.well-known/openid-configuration")
def openid_configuration() -> Response:
    return to_response(run_json(discovery().openid_configuration, current_request(app)))


@app.get("/.well-known/jwks.json")
def jwks() -> Response:
    return to_response(run_json(discovery().jwks, current_request(app)))


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    correlate(event)
    return cors.answer(event, lambda: app.resolve(event, context))
