"""Login function: the sign-in, consent and sign-out pages. Logic: oauth_core.endpoints.login."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from oauth_core.endpoints.login import Handler, LoginPages
from oauth_core.http.apigw import current_request, run_page, to_response
from oauth_core.observability import correlate, logger
from oauth_core.wiring import aws_services

app = APIGatewayHttpResolver()


@cache
def pages() -> LoginPages:
    return LoginPages(aws_services())


def serve(handler: Handler) -> Response:
    return to_response(run_page(lambda r: pages().guarded(handler, r), current_request(app)))


@app.get("/login")
def login_page() -> Response:
    return serve(pages().login_page)


@app.post("/login")
def login() -> Response:
    return serve(pages().login)


@app.get("/consent")
def consent_page() -> Response:
    return serve(pages().consent_page)


@app.post("/consent")
def consent() -> Response:
    return serve(pages().consent)


@app.get("/logout")
def logout_page() -> Response:
    return serve(pages().logout_page)


@app.post("/logout")
def logout() -> Response:
    return serve(pages().logout)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    correlate(event)
    return app.resolve(event, context)
