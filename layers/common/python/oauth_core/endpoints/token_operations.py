"""What revocation (RFC 7009) and introspection (RFC 7662) requests share: a form body, an
authenticated client, and the `token` parameter."""

from __future__ import annotations

from oauth_core.errors import InvalidRequest
from oauth_core.http.forms import parse_body_only
from oauth_core.http.request import HttpRequest
from oauth_core.models import Client
from oauth_core.rules.client_auth import ThrottledAuthenticator


def read_token_operation(
    client_auth: ThrottledAuthenticator, request: HttpRequest
) -> tuple[Client, str]:
    form = parse_body_only(request)
    client = client_auth.authenticate(request, form)
    token = form.get("token")
    if not token:
        raise InvalidRequest("token is required")
    return client, token
