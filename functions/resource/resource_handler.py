"""Resource function: the sample protected API and /userinfo. Imports no AWS SDK.

Unlike the other functions it routes with a plain table instead of Powertools' resolver: the
resolver's import is most of this function's cold start, and three routes need no framework
(docs/performance.md has the measurements). Logging and metrics are Powertools' as elsewhere.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from oauth_core.config import Settings
from oauth_core.endpoints.resource import ResourceServer
from oauth_core.http import cors
from oauth_core.http.endpoint import run_json
from oauth_core.http.request import HttpRequest, json_response
from oauth_core.observability import correlate, logger

NOT_FOUND = json_response(404, {"message": "Not Found"}, no_store=False)


@cache
def resource_server() -> ResourceServer:
    return ResourceServer.from_settings(Settings.from_env())


# (method, path) -> the ResourceServer operation that answers it.
ROUTES = {
    ("GET", "/resource"): "read",
    ("POST", "/resource"): "write",
    ("GET", "/userinfo"): "userinfo",
}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    correlate(event)
    return cors.answer(event, lambda: serve(event))


def serve(event: dict[str, Any]) -> dict[str, Any]:
    request = HttpRequest.from_apigw_v2(event)
    operation = ROUTES.get((request.method, request.path))
    response = run_json(getattr(resource_server(), operation), request) if operation else NOT_FOUND
    return response.to_apigw_v2()
