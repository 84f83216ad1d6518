"""One dispatch path: every function serves exactly the routes the route table gives it, and
each handler module is nothing but `serve(<its function>)`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from oauth_core.http.dispatch import NOT_FOUND, FunctionHandler
from oauth_core.http.routes import FUNCTIONS, PREFLIGHT, ROUTES, routes_of
from oauth_core.wiring import endpoints_for, memory_components
from tests.support import load_event

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_function_serves_exactly_the_routes_the_table_gives_it(function: str) -> None:
    endpoints = endpoints_for(function, memory_components())
    named = {route.endpoint for route in routes_of(function)} - {PREFLIGHT}
    assert set(endpoints) == named
    handler = FunctionHandler(function, lambda: endpoints)
    for route in ROUTES:
        method = "POST" if route.method == "ANY" else route.method
        mine = handler.route(method, route.path)
        assert (mine is not None) == (route.function == function), route
    assert handler.route("GET", "/no-such-path") is None


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_handler_modules_are_one_call_of_serve(function: str) -> None:
    spec = FUNCTIONS[function]
    tree = ast.parse((ROOT / spec.code_dir / f"{spec.module}.py").read_text())
    statements = [node for node in tree.body if not isinstance(node, ast.Expr)]  # docstring
    assert ast.unparse(statements[0]) == "from oauth_core.wiring import serve"
    assert ast.unparse(statements[1]) == f"lambda_handler = serve('{function}')"
    assert len(statements) == 2


def test_a_path_no_route_takes_is_api_gateways_404() -> None:
    handler = FunctionHandler("token", lambda: {})
    event = load_event("token_get", rawPath="/nowhere")
    event["requestContext"]["http"]["path"] = "/nowhere"
    assert handler(event, None) == NOT_FOUND


def test_an_endpoint_that_fails_is_answered_in_its_functions_medium() -> None:
    def explode(_: object) -> object:
        raise RuntimeError("secret internals")

    token = FunctionHandler("token", lambda: {"token": explode})  # type: ignore[dict-item]
    answer = token(load_event("token_client_credentials"), None)
    assert answer["statusCode"] == 500
    assert answer["headers"]["Cache-Control"] == "no-store"
    assert "secret internals" not in answer["body"]
    authorize = FunctionHandler("authorize", lambda: {"authorize": explode})  # type: ignore[dict-item]
    page = authorize(load_event("authorize"), None)
    assert page["statusCode"] == 500
    assert page["headers"]["Content-Type"].startswith("text/html")
    assert "Location" not in page["headers"]


def test_a13_marked_routes_carry_cors_headers_with_or_without_an_origin() -> None:
    # A shared cache may keep the cacheable documents (metadata, JWKS): a copy fetched without
    # Origin must still serve a browser's cross-origin fetch.
    components = memory_components()
    token = FunctionHandler("token", lambda: endpoints_for("token", components))
    for origin in ({}, {"origin": "https://spa.example.com"}):
        event = load_event("jwks", headers=origin)
        assert token(event, None)["headers"]["Access-Control-Allow-Origin"] == "*"
    authorize = FunctionHandler("authorize", lambda: endpoints_for("authorize", components))
    page = authorize(load_event("authorize", headers={"origin": "https://spa.example.com"}), None)
    assert not any(name.lower().startswith("access-control-") for name in page["headers"])
