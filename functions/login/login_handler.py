"""Login function: the sign-in, consent and sign-out pages (routes: oauth_core.http.routes;
logic: oauth_core.endpoints.login)."""

from oauth_core.wiring import serve

lambda_handler = serve("login")
