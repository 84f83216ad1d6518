"""Glue between Powertools' HTTP API resolver and oauth_core's framework-free values."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from oauth_core.http import HttpRequest, HttpResponse


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
    )
