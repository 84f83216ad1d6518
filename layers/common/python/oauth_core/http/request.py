"""HTTP request and response values, free of any framework, and the parsers OAuth needs.

API Gateway (payload 2.0) joins repeated query parameters and headers with commas, so the raw
query string is parsed here, where a repeated OAuth parameter can be seen and refused.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from oauth_core.errors import InvalidRequest, OAuthError, PayloadTooLarge

MAX_BODY_BYTES = 16 * 1024
MAX_FIELDS = 64
TOKEN_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    raw_query: str = ""
    body: bytes = b""
    cookies: tuple[str, ...] = ()
    source_ip: str = ""
    domain_name: str = ""
    request_id: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @classmethod
    def from_apigw_v2(cls, event: dict[str, Any]) -> HttpRequest:
        """Build from an API Gateway HTTP API (payload format 2.0) event."""
        context = event.get("requestContext") or {}
        http = context.get("http") or {}
        raw_body = event.get("body") or ""
        if event.get("isBase64Encoded"):
            try:
                body = base64.b64decode(raw_body, validate=False)
            except ValueError:
                body = b""
        else:
            body = raw_body.encode("utf-8")
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        return cls(
            method=str(http.get("method", "GET")).upper(),
            path=str(event.get("rawPath") or http.get("path") or "/"),
            headers=headers,
            raw_query=str(event.get("rawQueryString") or ""),
            body=body,
            cookies=tuple(event.get("cookies") or ()),
            source_ip=str(http.get("sourceIp", "")),
            domain_name=str(context.get("domainName", "")),
            request_id=str(context.get("requestId", "")),
        )


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


def query_pairs(raw: str) -> list[tuple[str, str]]:
    """The name=value pairs of a query or form body, decoded strictly: a non-UTF-8 value or
    too many parameters is invalid_request, never a 500 or a replacement character."""
    try:
        return parse_qsl(
            raw,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest("the request parameters are malformed") from exc


def parse_params(raw: str) -> dict[str, str]:
    """Parse `a=1&b=2` into a dict; a repeated parameter is an invalid_request (RFC 6749 3.1)."""
    params: dict[str, str] = {}
    for name, value in query_pairs(raw):
        if name in params:
            raise InvalidRequest("a parameter is repeated")
        params[name] = value
    # Per RFC 6749 3.1, parameters sent without a value are treated as omitted.
    return {name: value for name, value in params.items() if value != ""}


def parse_form(request: HttpRequest) -> dict[str, str]:
    """The body of a POST as application/x-www-form-urlencoded (RFC 6749 3.2)."""
    if request.method != "POST":
        raise InvalidRequest("the request must use POST")
    content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise InvalidRequest("the body must be application/x-www-form-urlencoded")
    if len(request.body) > MAX_BODY_BYTES:
        raise PayloadTooLarge("the request body is too large")
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest("the request body is not UTF-8") from exc
    return parse_params(text)


def parse_body_only(request: HttpRequest) -> dict[str, str]:
    """The parameters of /token, /revoke and /introspect: the form body, never the URL, where
    credentials and tokens would end up in logs (RFC 6749 3.2, 2.3.1)."""
    if request.raw_query:
        raise InvalidRequest("parameters must be sent in the request body")
    return parse_form(request)


def parse_query(request: HttpRequest) -> dict[str, str]:
    return parse_params(request.raw_query)
