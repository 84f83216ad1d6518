"""The one dispatch path of every function: an API Gateway event, its route in the route table
(oauth_core.http.routes), the endpoint that answers it, and the response, CORS included.

A function's handler module is one line (`lambda_handler = serve("token")`, oauth_core.wiring):
the endpoints are built on the first request (a cold start) and kept for the container's life.
Errors become responses by the function's medium (oauth_core.http.answers). Powertools' Logger
carries the invocation's context and API Gateway's request id as the correlation id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from oauth_core import audit
from oauth_core.http import cors
from oauth_core.http.answers import ANSWERS
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse, json_response
from oauth_core.http.routes import FUNCTIONS, PREFLIGHT, Route, routes_of
from oauth_core.observability import logger

Endpoint = Callable[[HttpRequest], HttpResponse]
Endpoints = Mapping[str, Endpoint]

# What API Gateway answers a method or path no route takes.
NOT_FOUND = json_response(404, {"message": "Not Found"}, no_store=False).to_apigw_v2()
PREFLIGHT_ANSWER: dict[str, Any] = {
    "statusCode": 204,
    "headers": cors.PREFLIGHT_HEADERS,
    "body": "",
    "isBase64Encoded": False,
}


class FunctionHandler:
    """The Lambda handler of one function: it serves exactly the routes the table gives it."""

    def __init__(self, function: str, build: Callable[[], Endpoints]):
        self.function = function
        self.routes = routes_of(function)
        self._by_key: dict[tuple[str, str], Route] = {(r.method, r.path): r for r in self.routes}
        self._answer = ANSWERS[FUNCTIONS[function].medium]
        self._build = build
        self._endpoints: Endpoints | None = None
        self._invocations = 0

    @property
    def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            self._endpoints = self._build()
        return self._endpoints

    def install(self, endpoints: Endpoints) -> None:
        """Serve with these endpoints (a stand-in for the tests and the benchmark)."""
        self._endpoints = endpoints

    def reset(self) -> None:
        """Forget the built endpoints: the next request is a cold start (and logs as one)."""
        self._endpoints = None
        self._invocations = 0

    def route(self, method: str, path: str) -> Route | None:
        return self._by_key.get((method, path)) or self._by_key.get(("ANY", path))

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        request = HttpRequest.from_apigw_v2(event)
        self._log_context(context, request.request_id)
        audit.begin(request.request_id, request.source_ip)
        route = self.route(request.method, request.path)
        if route is None:
            return NOT_FOUND
        if route.cors and request.method == "OPTIONS":
            if request.header("access-control-request-method"):
                return PREFLIGHT_ANSWER
            if route.endpoint == PREFLIGHT:
                return NOT_FOUND
        try:
            response = self.endpoints[route.endpoint](request)
        except Exception as exc:  # every failure is answered in the function's medium
            response = self._answer(request, exc)
        # On every answer of a marked route, asked by a browser or not: a shared cache (the
        # documents are cacheable) must not keep a copy without them for a browser's fetch.
        if route.cors:
            response.headers.update(cors.RESPONSE_HEADERS)
        return response.to_apigw_v2()

    def _log_context(self, context: Any, request_id: str) -> None:
        """What Powertools' inject_lambda_context adds to every log line, without its per-call
        work: the function's fields on the first invocation, `cold_start` turned off on the
        second, the request ids every time (one update)."""
        if self._invocations < 2:
            first = self._invocations == 0
            fields: dict[str, Any] = {"cold_start": first}
            if first:
                fields["function_name"] = getattr(context, "function_name", self.function)
                fields["function_memory_size"] = getattr(context, "memory_limit_in_mb", None)
                fields["function_arn"] = getattr(context, "invoked_function_arn", None)
            logger.append_keys(**fields)
            self._invocations += 1
        logger.append_keys(
            function_request_id=getattr(context, "aws_request_id", None),
            correlation_id=request_id or None,
        )
