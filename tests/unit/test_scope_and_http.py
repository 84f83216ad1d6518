from __future__ import annotations

import pytest

from oauth_core.errors import InvalidRequest, InvalidScope
from oauth_core.http.forms import parse_form, parse_params
from oauth_core.http.request import HttpRequest
from oauth_core.rules import scope
from tests.support import form_request


def test_scope_order_and_repeats_do_not_matter() -> None:
    assert scope.parse("b a a") == scope.parse("a b") == frozenset({"a", "b"})
    assert scope.render(frozenset({"b", "a"})) == "a b"


@pytest.mark.parametrize("bad", ["a  b", " a", "a\tb", 'a"b', "a\\b", "é"])
def test_malformed_scope_is_invalid_scope(bad: str) -> None:
    with pytest.raises(InvalidScope):
        scope.parse(bad)


def test_narrow_defaults_to_everything_allowed_and_refuses_more() -> None:
    allowed = frozenset({"read:data", "write:data"})
    assert scope.narrow(None, allowed) == allowed
    assert scope.narrow("read:data", allowed) == {"read:data"}
    with pytest.raises(InvalidScope):
        scope.narrow("read:data admin", allowed)


def test_repeated_parameter_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="repeated"):
        parse_params("a=1&b=2&a=3")


def test_empty_values_count_as_omitted() -> None:
    assert parse_params("a=&b=2") == {"b": "2"}


def test_form_requires_post_and_form_encoding() -> None:
    with pytest.raises(InvalidRequest):
        parse_form(form_request({"a": "1"}, method="GET"))
    with pytest.raises(InvalidRequest):
        parse_form(form_request('{"a": 1}', content_type="application/json"))
    assert parse_form(
        form_request({"a": "1"}, content_type="application/x-www-form-urlencoded; charset=UTF-8")
    ) == {"a": "1"}


def test_form_refuses_oversized_and_non_utf8_bodies() -> None:
    big = HttpRequest(
        method="POST",
        path="/token",
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=b"a=" + b"x" * 20000,
    )
    with pytest.raises(InvalidRequest, match="too large"):
        parse_form(big)
    with pytest.raises(InvalidRequest):
        parse_form(
            HttpRequest(
                method="POST",
                path="/token",
                headers={"content-type": "application/x-www-form-urlencoded"},
                body=b"a=%ff%fe",
            )
        )


def test_apigw_event_is_read_with_raw_query_and_base64_body() -> None:
    request = HttpRequest.from_apigw_v2(
        {
            "rawPath": "/token",
            "rawQueryString": "a=1&a=2",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            "body": "Z3JhbnRfdHlwZT14",
            "isBase64Encoded": True,
            "requestContext": {
                "domainName": "id.example.com",
                "http": {"method": "post", "sourceIp": "203.0.113.1"},
            },
        }
    )
    assert request.method == "POST"
    assert request.body == b"grant_type=x"
    assert request.raw_query == "a=1&a=2"
    assert request.header("content-type") == "application/x-www-form-urlencoded"
    assert request.domain_name == "id.example.com"
