"""Glue between Powertools' HTTP API resolver and oauth_core's framework-free values."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from oauth_core.http.endpoint import as_oauth_error
from oauth_core.http.pages import error_page
from oauth_core.http.request import HttpRequest, HttpResponse
from oauth_core.observability import count, logger


def current_request(app: APIGatewayHttpResolver) -> HttpRequest:
    return HttpRequest.from_apigw_v2(app.current_event.raw_event)


def to_response(response: HttpResponse) -> Response:
    headers = dict(response.headers)
    content_type = headers.pop("Content-Type", "application/json")
    return Response(
        status_code=response.status_code,
        content_type=content_type,
        body=response.body,
        headers=headers,
        cookies=list(response.cookies) or None,  # type: ignore[arg-type]
        # Said outright, so the resolver need not parse the request headers to decide.
        compress=False,
    )


def run_page(endpoint: Callable[[HttpRequest], HttpResponse], request: HttpRequest) -> HttpResponse:
    """Browser-facing endpoints: an unexpected failure is an HTML error page, not JSON."""
    try:
        return endpoint(request)
    except Exception as exc:
        error = as_oauth_error(exc)
        logger.exception("page failed", extra={"error": error.error, "path": request.path})
        count("OAuthError", error=error.error)
        return error_page(
            "The service is temporarily unable to complete this request. Try again shortly.",
            status=error.status_code if error.status_code >= 500 else 500,
            title="Temporarily unavailable",
        )
