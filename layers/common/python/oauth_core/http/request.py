"""The HTTP request as API Gateway (HTTP API, payload 2.0) delivers it, free of any framework."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any


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
