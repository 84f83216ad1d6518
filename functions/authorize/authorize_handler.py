"""Authorize function: GET /authorize (routes: oauth_core.http.routes; logic:
oauth_core.endpoints.authorize)."""

from oauth_core.wiring import serve

lambda_handler = serve("authorize")
