"""Running a JSON endpoint: OAuth errors become RFC 6749 5.2 answers, storage faults 5xx.

Nothing here returns a stack trace; unexpected exceptions are logged (without request data)
and answered `server_error`.
"""

from __future__ import annotations

from collections.abc import Callable

from oauth_core.errors import (
    ConditionFailed,
    OAuthError,
    ServerError,
    StorageError,
    TemporarilyUnavailable,
    Throttled,
)
from oauth_core.http.request import HttpRequest, HttpResponse, error_response
from oauth_core.observability import count, logger


def as_oauth_error(exc: Exception) -> OAuthError:
    if isinstance(exc, OAuthError):
        return exc
    if isinstance(exc, Throttled):
        return TemporarilyUnavailable("the service is busy; retry shortly")
    if isinstance(exc, StorageError | ConditionFailed):
        return ServerError("a storage dependency failed; retry shortly")
    return ServerError("an unexpected error occurred")


def run_json(endpoint: Callable[[HttpRequest], HttpResponse], request: HttpRequest) -> HttpResponse:
    try:
        return endpoint(request)
    except Exception as exc:  # every failure becomes an OAuth error, never a stack trace
        error = as_oauth_error(exc)
        if error.status_code >= 500:
            logger.exception("request failed", extra={"error": error.error, "path": request.path})
        else:
            logger.info("request refused", extra={"error": error.error, "path": request.path})
        count("OAuthError", error=error.error)
        return error_response(error)
