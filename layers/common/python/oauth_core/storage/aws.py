"""boto3 clients, created once per container and reused; AWS errors mapped to ours.

Only the adapters in this package import boto3, and only when first used.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from oauth_core.errors import ConditionFailed, StorageError, Throttled

_THROTTLING = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "LimitExceededException",
    }
)


@functools.cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=3,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return boto3.session.Session().client(service, config=config)  # type: ignore[call-overload]


@contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Translate botocore failures into StorageError / ConditionFailed."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
            raise ConditionFailed(what) from exc
        if code in _THROTTLING:
            raise Throttled(f"{what}: throttled") from exc
        raise StorageError(f"{what}: {code or 'error'}") from exc
    except BotoCoreError as exc:
        raise StorageError(f"{what}: {type(exc).__name__}") from exc
