"""Resource function: the sample protected API and /userinfo (routes: oauth_core.http.routes;
logic: oauth_core.endpoints.resource). Imports no AWS SDK and no signing code."""

from oauth_core.wiring import serve

lambda_handler = serve("resource")
