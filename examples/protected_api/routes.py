"""The example API's identifier and routes, each with the scopes it needs: one source for its CDK
stack (stack.py) and its local routes (local_routes.json, held to these by
tests/unit/test_authorizer_gateway.py). Imports nothing."""

from __future__ import annotations

AUDIENCE = "https://orders.example.com"
ROUTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("GET", "/orders", ("orders:read",)),
    ("POST", "/orders", ("orders:write",)),
)
