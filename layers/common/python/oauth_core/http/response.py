"""HTTP responses as API Gateway (payload 2.0) takes them, and RFC 6749 5.2's JSON errors."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from oauth_core.errors import OAuthError

TOKEN_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass
class HttpResponse:
    status_code: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "application/json")

    def json(self) -> Any:
        return json.loads(self.body)

    def to_apigw_v2(self) -> dict[str, Any]:
        """The HTTP API (payload 2.0) response a handler returns to API Gateway."""
        result: dict[str, Any] = {
            "statusCode": self.status_code,
            "headers": dict(self.headers),
            "body": self.body,
            "isBase64Encoded": False,
        }
        if self.cookies:
            result["cookies"] = list(self.cookies)
        return result


def json_response(
    status: int, payload: Any, headers: dict[str, str] | None = None, *, no_store: bool = True
) -> HttpResponse:
    all_headers = {"Content-Type": "application/json"}
    if no_store:
        all_headers.update(TOKEN_HEADERS)
    all_headers.update(headers or {})
    return HttpResponse(status, json.dumps(payload, separators=(",", ":")), all_headers)


def error_response(error: OAuthError) -> HttpResponse:
    """RFC 6749 5.2: JSON body, no caching."""
    return json_response(error.status_code, error.body(), error.headers)
