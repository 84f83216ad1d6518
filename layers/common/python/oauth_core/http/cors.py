"""CORS for the routes the route table marks `cors` (SECURITY A13), answered by the dispatch
path: the HTTP API has no CORS configuration, which would cover every route, pages included."""

from __future__ import annotations

from oauth_core.http.routes import CORS

# A preflight's answer, and the headers every other answer of a CORS route to another origin
# carries (no credentials cross origins: allow_credentials is never sent).
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Origin": ",".join(CORS.allow_origins),
    "Access-Control-Allow-Methods": ",".join(CORS.allow_methods),
    "Access-Control-Allow-Headers": ",".join(CORS.allow_headers),
    "Access-Control-Max-Age": str(CORS.max_age_seconds),
}
RESPONSE_HEADERS = {
    "Access-Control-Allow-Origin": ",".join(CORS.allow_origins),
    "Access-Control-Expose-Headers": ",".join(CORS.expose_headers),
}
