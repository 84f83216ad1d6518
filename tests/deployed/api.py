"""The HTTP API as the template defines it: a request is matched against the template's own
routes (RouteKey, then its integration's function), becomes the payload 2.0 event API Gateway
sends (local_stack.gateway.build_event), and the function's answer becomes the HTTP response.
API Gateway invokes a function only where the function's resource policy lets it."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

from local_stack.gateway import build_event
from tests.deployed.https import HttpAnswer, HttpExchange
from tests.deployed.stack import LAMBDA_PRINCIPAL_API, DeployedStack, Route

# Invokes the function of a route (logical id) with an event; returns what the handler returned.
InvokeRoute = Callable[[str, dict[str, Any]], Any]
DEFAULT_SOURCE_IP = "198.51.100.20"


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: str
    cookies: list[str] = field(default_factory=list)
    function: str = ""  # which function answered (its short name), for messages

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class HttpApi:
    def __init__(self, stack: DeployedStack, domain_name: str, region: str, invoke: InvokeRoute):
        self._stack = stack
        self.domain_name = domain_name
        self._region = region
        self._invoke = invoke

    @property
    def url(self) -> str:
        return f"https://{self.domain_name}"

    def route_for(self, method: str, path: str) -> Route | None:
        """API Gateway's choice: the exact method first, then ANY."""
        for wanted in (method.upper(), "ANY"):
            for route in self._stack.routes:
                if route.method == wanted and route.path == path:
                    return route
        return None

    def request(
        self,
        method: str,
        target: str,
        *,
        headers: dict[str, str] | None = None,
        body: str | bytes = b"",
        cookies: dict[str, str] | None = None,
        source_ip: str = DEFAULT_SOURCE_IP,
    ) -> ApiResponse:
        path = urlsplit(target).path
        route = self.route_for(method, path)
        if route is None:
            return ApiResponse(404, {"content-type": "application/json"}, '{"message":"Not Found"}')
        function = self._stack.functions[route.function]
        source_arn = (
            f"arn:aws:execute-api:{self._region}:{self._stack.account_id}:"
            f"{self._stack.api_id}/$default/{method.upper()}{path}"
        )
        if not self._stack.invoke_permitted(function, LAMBDA_PRINCIPAL_API, source_arn):
            raise AssertionError(
                f"route {route.method} {route.path}: API Gateway may not invoke {function.name} "
                f"(no Lambda permission for {LAMBDA_PRINCIPAL_API} matching {source_arn})"
            )
        all_headers = [("host", self.domain_name), *(headers or {}).items()]
        if cookies:
            all_headers.append(("cookie", "; ".join(f"{k}={v}" for k, v in cookies.items())))
        raw = body.encode() if isinstance(body, str) else body
        event = build_event(
            method.upper(),
            target,
            all_headers,
            raw,
            source_ip,
            self.domain_name,
            f"{route.method} {route.path}",
        )
        event["requestContext"].update(accountId=self._stack.account_id, apiId=self._stack.api_id)
        return _response(self._invoke(route.function, event), function.name)

    def serve(self, exchange: HttpExchange) -> HttpAnswer:
        """The API over HTTPS, for the functions' own calls (the resource function's JWKS)."""
        headers = dict((k.lower(), v) for k, v in exchange.headers if k.lower() != "host")
        response = self.request(
            exchange.method,
            exchange.target,
            headers=headers,
            body=exchange.body,
            source_ip=exchange.source_ip,
        )
        answer_headers = dict(response.headers)
        return HttpAnswer(response.status, answer_headers, response.body.encode())


def _response(result: Any, function: str) -> ApiResponse:
    """Payload 2.0: a dict with statusCode is the response; anything else is a 200 JSON body."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return ApiResponse(
            200, {"content-type": "application/json"}, json.dumps(result), [], function
        )
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    return ApiResponse(
        int(result["statusCode"]), headers, body, list(result.get("cookies") or []), function
    )


class Browser:
    """A cookie jar over the API: sends back what the pages set, drops what they clear."""

    def __init__(self, api: HttpApi, source_ip: str = DEFAULT_SOURCE_IP):
        self.api = api
        self.source_ip = source_ip
        self.cookies: dict[str, str] = {}

    def request(self, method: str, target: str, **kwargs: Any) -> ApiResponse:
        response = self.api.request(
            method, target, cookies=dict(self.cookies), source_ip=self.source_ip, **kwargs
        )
        for raw in response.cookies:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, target: str) -> ApiResponse:
        return self.request("GET", target)

    def post_form(self, target: str, fields: dict[str, str]) -> ApiResponse:
        return self.request(
            "POST",
            target,
            headers={"content-type": "application/x-www-form-urlencoded"},
            body=urlencode(fields),
        )
