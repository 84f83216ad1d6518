"""The example API's backend: it never sees a token, only what the authorizer verified
(`requestContext.authorizer.lambda`: sub, client_id, scope). No check is repeated here: API
Gateway calls this function only for requests the authorizer allowed."""

from __future__ import annotations

import json
from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    caller = event["requestContext"]["authorizer"]["lambda"]
    method = event["requestContext"]["http"]["method"]
    if method == "POST":
        body: dict[str, Any] = {"created": {"id": "order-1", "owner": caller["sub"]}}
    else:
        body = {"orders": [{"id": "order-1", "owner": caller["sub"]}]}
    body["caller"] = {name: caller[name] for name in ("sub", "client_id", "scope")}
    return {
        "statusCode": 201 if method == "POST" else 200,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": json.dumps(body),
    }
