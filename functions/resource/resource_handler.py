"""Resource function: the sample protected API and /userinfo. Imports no AWS SDK."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from oauth_core.apigw import current_request, to_response
from oauth_core.config import Settings
from oauth_core.endpoint import run_json
from oauth_core.observability import logger, metrics
from oauth_core.resource_server import ResourceServer

app = APIGatewayHttpResolver()


@cache
def resource_server() -> ResourceServer:
    return ResourceServer.from_settings(Settings.from_env())


@app.get("/resource")
def read() -> Response:
    return to_response(run_json(resource_server().read, current_request(app)))


@app.post("/resource")
def write() -> Response:
    return to_response(run_json(resource_server().write, current_request(app)))


@app.get("/userinfo")
def userinfo() -> Response:
    return to_response(run_json(resource_server().userinfo, current_request(app)))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
