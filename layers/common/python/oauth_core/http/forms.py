"""Parameters of queries and form bodies, parsed strictly.

API Gateway (payload 2.0) joins repeated query parameters and headers with commas, so the raw
query string is parsed here, where a repeated OAuth parameter can be seen and refused.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from oauth_core.errors import InvalidRequest, PayloadTooLarge
from oauth_core.http.request import HttpRequest

MAX_BODY_BYTES = 16 * 1024
MAX_FIELDS = 64
# Parameters that may be repeated (RFC 8707 2: one `resource` per API), their values joined
# with a space (which no URI holds).
MULTI_VALUED = frozenset({"resource"})


def query_pairs(raw: str) -> list[tuple[str, str]]:
    """The name=value pairs of a query or form body (application/x-www-form-urlencoded, as
    urllib's parse_qsl reads it with blank values kept), decoded strictly: a non-UTF-8 value or
    too many parameters is invalid_request, never a 500 or a replacement character. Written
    out, because this runs on every token request and most values need no decoding at all."""
    if raw.count("&") >= MAX_FIELDS:
        raise InvalidRequest("the request parameters are malformed")
    pairs = []
    try:
        for field in raw.split("&"):
            if not field:
                continue
            name, _, value = field.partition("=")
            pairs.append((_decoded(name), _decoded(value)))
    except UnicodeDecodeError as exc:
        raise InvalidRequest("the request parameters are malformed") from exc
    return pairs


def _decoded(text: str) -> str:
    if "%" in text or "+" in text:
        return unquote_plus(text, encoding="utf-8", errors="strict")
    return text


def parse_params(raw: str) -> dict[str, str]:
    """Parse `a=1&b=2` into a dict; a repeated parameter is an invalid_request (RFC 6749 3.1)."""
    params: dict[str, str] = {}
    for name, value in query_pairs(raw):
        if name in params:
            if name not in MULTI_VALUED or not value or not params[name]:
                raise InvalidRequest("a parameter is repeated")
            params[name] = f"{params[name]} {value}"
            continue
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


def read_query(raw: str) -> dict[str, list[str]]:
    """The query as lists of values: a repeated parameter is seen, then refused."""
    params: dict[str, list[str]] = {}
    for name, value in query_pairs(raw):
        params.setdefault(name, []).append(value)
    return params
