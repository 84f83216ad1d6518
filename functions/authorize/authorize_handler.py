"""Authorize function: GET /authorize. Logic: oauth_core.endpoints.authorize."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from oauth_core.endpoints.authorize import AuthorizationEndpoint
from oauth_core.http.apigw import current_request, run_page, to_response
from oauth_core.observability import correlate, logger
from oauth_core.wiring import aws_services

app = APIGatewayHttpResolver()


@cache
def endpoint() -> AuthorizationEndpoint:
    return AuthorizationEndpoint(aws_services())


@app.get("/authorize")
def authorize() -> Response:
    return to_response(run_page(endpoint().handle, current_request(app)))


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    correlate(event)
    return app.resolve(event, context)
