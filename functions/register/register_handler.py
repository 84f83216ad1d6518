"""Registration function: dynamic client registration, RFC 7591 and RFC 7592 (routes:
oauth_core.http.routes; logic: oauth_core.endpoints.registration)."""

from oauth_core.wiring import serve

lambda_handler = serve("register")
