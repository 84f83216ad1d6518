"""Token function: /token, /revoke, /introspect, discovery and the JWKS (routes:
oauth_core.http.routes; logic: oauth_core.endpoints)."""

from oauth_core.wiring import serve

lambda_handler = serve("token")
