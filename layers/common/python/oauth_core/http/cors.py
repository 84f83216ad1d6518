"""CORS for the routes the route table marks `cors` (SECURITY A13), answered by the functions:
the HTTP API has no CORS configuration, which would cover every route, pages included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oauth_core.http.routes import CORS, find_route

_PREFLIGHT = {
    "Access-Control-Allow-Origin": ",".join(CORS.allow_origins),
    "Access-Control-Allow-Methods": ",".join(CORS.allow_methods),
    "Access-Control-Allow-Headers": ",".join(CORS.allow_headers),
    "Access-Control-Max-Age": str(CORS.max_age_seconds),
}
_SIMPLE = {
    "Access-Control-Allow-Origin": ",".join(CORS.allow_origins),
    "Access-Control-Expose-Headers": ",".join(CORS.expose_headers),
}

Invoke = Callable[[], dict[str, Any]]


def _has_header(event: dict[str, Any], name: str) -> bool:
    return any(str(key).lower() == name for key in (event.get("headers") or {}))


def answer(event: dict[str, Any], invoke: Invoke) -> dict[str, Any]:
    """The function's answer to an API Gateway event, with CORS where its route allows it:
    a preflight is answered here, any other response of a CORS route from another origin gets
    the CORS headers. Elsewhere nothing is added, and a preflight goes to the route (a 404 or
    an OAuth error), so the browser refuses the cross-origin call."""
    http = (event.get("requestContext") or {}).get("http") or {}
    method = str(http.get("method", "")).upper()
    route = find_route(method, str(event.get("rawPath") or ""))
    if route is None or not route.cors:
        return invoke()
    if method == "OPTIONS" and _has_header(event, "access-control-request-method"):
        return {
            "statusCode": 204,
            "headers": dict(_PREFLIGHT),
            "body": "",
            "isBase64Encoded": False,
        }
    result = invoke()
    if _has_header(event, "origin"):
        result.setdefault("headers", {}).update(_SIMPLE)
    return result
