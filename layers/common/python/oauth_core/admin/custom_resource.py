"""CloudFormation custom resources served by a Lambda function.

CloudFormation sends a request event and waits for the answer to be PUT to the event's
pre-signed ResponseURL. Every request must be answered, failures included, or the stack waits
until the resource's ServiceTimeout. The ResponseURL is a credential (whoever holds it can answer
for the resource), so it is never logged; the answer carries no data.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from oauth_core.errors import StorageError
from oauth_core.observability import logger

SUCCESS, FAILED = "SUCCESS", "FAILED"
RESPONSE_TIMEOUT = 10  # seconds

Apply = Callable[[dict[str, Any]], str]
Put = Callable[[str, bytes], None]


def is_request(event: dict[str, Any]) -> bool:
    """Whether a Lambda event is a CloudFormation custom-resource request."""
    return "RequestType" in event and "ResponseURL" in event


def put_response(url: str, body: bytes) -> None:
    """PUT the answer to CloudFormation's pre-signed S3 URL. The URL was signed without a
    content type, so none is sent (urllib would otherwise add a form content type)."""
    if urlsplit(url).scheme != "https":
        raise ValueError("the custom-resource ResponseURL is not https")
    # S310: the scheme is checked above, https only (never file: or the like).
    request = urllib.request.Request(  # noqa: S310
        url,
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT) as response:  # noqa: S310
        response.read()


def serve(event: dict[str, Any], apply: Apply, put: Put = put_response) -> None:
    """Answer one request: `apply` does a Create or an Update and returns the physical id; a
    Delete changes nothing (what the resource made outlives it). A failure is answered FAILED,
    with a reason that names the error but quotes no data."""
    request_type = event["RequestType"]
    physical_id = str(event.get("PhysicalResourceId") or event["LogicalResourceId"])
    status, reason = SUCCESS, f"{request_type} done"
    if request_type in ("Create", "Update"):
        try:
            physical_id = apply(dict(event.get("ResourceProperties") or {}))
        except Exception as exc:  # CloudFormation must hear of every failure
            logger.exception("custom resource failed", extra={"request_type": request_type})
            status = FAILED
            # StorageError messages name the operation and the AWS error code, nothing else.
            reason = str(exc) if isinstance(exc, StorageError) else type(exc).__name__
            reason = f"{reason} (see the function's log)"
    logger.info("custom resource answered", extra={"request_type": request_type, "status": status})
    answer = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {},
    }
    put(event["ResponseURL"], json.dumps(answer).encode("utf-8"))
