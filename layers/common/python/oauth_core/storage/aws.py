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


# A transaction cancelled for these reasons lost to another write: the caller decides.
_LOST = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
_THROTTLING_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})


@functools.cache
def _session() -> Any:
    import boto3

    return boto3.session.Session()


@functools.cache
def client(service: str) -> Any:
    """One client per service and container, from one shared session (its loaders and caches
    are shared too, which shortens the cold start)."""
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=3,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return _session().client(service, config=config)


@contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Translate botocore failures into StorageError / ConditionFailed."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "TransactionCanceledException":
            reasons = {r.get("Code") for r in exc.response.get("CancellationReasons", [])}
            # moto leaves the reasons out of the parsed response; its message names them.
            message = exc.response.get("Error", {}).get("Message", "")
            if reasons & _LOST or any(reason in message for reason in _LOST):
                raise ConditionFailed(what) from exc
            if reasons & _THROTTLING_REASONS or "Throttling" in message:
                raise Throttled(f"{what}: throttled") from exc
            raise StorageError(f"{what}: transaction cancelled") from exc
        if code == "ConditionalCheckFailedException":
            raise ConditionFailed(what) from exc
        if code in _THROTTLING:
            raise Throttled(f"{what}: throttled") from exc
        raise StorageError(f"{what}: {code or 'error'}") from exc
    except BotoCoreError as exc:
        raise StorageError(f"{what}: {type(exc).__name__}") from exc
