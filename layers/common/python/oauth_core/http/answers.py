"""Errors become responses here, and only here: one mapping per medium.

- JSON, for clients (token, revocation, introspection, discovery): RFC 6749 5.2 with the token
  headers; a storage failure is a 5xx `server_error` or `temporarily_unavailable`.
- A page, for browsers (authorization endpoint, sign-in and consent): an HTML error page,
  never a redirect (the endpoints redirect to a verified client themselves).
- A bearer challenge, for a protected resource (RFC 6750): JSON with `WWW-Authenticate: Bearer`.

Nothing returns a stack trace; an unexpected exception is logged (without request data) and
answered as a server error.
"""

from __future__ import annotations

from collections.abc import Callable

from oauth_core.constants import BEARER_REALM
from oauth_core.errors import (
    BearerError,
    ConditionFailed,
    CsrfRejected,
    OAuthError,
    RequestCompleted,
    ServerError,
    StorageError,
    TemporarilyUnavailable,
    Throttled,
    TooManyRequests,
)
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse, error_response, json_response
from oauth_core.observability import count, logger

Answer = Callable[[HttpRequest, Exception], HttpResponse]

EXPIRED = "This sign-in request has expired or was already used."
UNREADABLE = "The request could not be read."
UNAVAILABLE = "The service is temporarily unable to complete this request. Try again shortly."

# The refusals a page answers in words of their own: (status, title, message).
_PAGES: tuple[tuple[type[OAuthError], int, str, str], ...] = (
    (
        CsrfRejected,
        403,
        "Request refused",
        "The form could not be verified. Reload the page and try again.",
    ),
    (
        TooManyRequests,
        429,
        "Too many attempts",
        "Too many failed attempts. Wait a few minutes before trying again.",
    ),
    (RequestCompleted, 400, "Request expired", EXPIRED),
)


def as_oauth_error(exc: Exception) -> OAuthError:
    if isinstance(exc, OAuthError):
        return exc
    if isinstance(exc, Throttled):
        return TemporarilyUnavailable("the service is busy; retry shortly")
    if isinstance(exc, StorageError | ConditionFailed):
        return ServerError("a storage dependency failed; retry shortly")
    return ServerError("an unexpected error occurred")


def _failed(request: HttpRequest, error: OAuthError, what: str) -> None:
    """Log a refusal (info) or a failure (error, with the exception), and count it."""
    extra = {"error": error.error or "unauthorized", "path": request.path}
    if error.status_code >= 500:
        logger.exception(what, extra=extra)
    else:
        logger.info(what, extra=extra)
    count("OAuthError", error=error.error or "unauthorized")


def json_answer(request: HttpRequest, exc: Exception) -> HttpResponse:
    error = as_oauth_error(exc)
    _failed(request, error, "request refused" if error.status_code < 500 else "request failed")
    return error_response(error)


def page_answer(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Imported here: only the page functions render HTML (the resource function loads none).
    from oauth_core.http.pages import error_page

    error = as_oauth_error(exc)
    if isinstance(error, CsrfRejected):
        count("CsrfRejected")
    for kind, status, title, message in _PAGES:
        if isinstance(error, kind):
            response = error_page(message, status=status, title=title)
            response.headers.update(error.headers)  # Retry-After
            return response
    if error.status_code < 500:
        return error_page(UNREADABLE)
    _failed(request, error, "page failed")
    return error_page(UNAVAILABLE, status=error.status_code, title="Temporarily unavailable")


def bearer_answer(request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, BearerError):
        count("BearerRefused", error=exc.error or "missing_token")
        challenge = {"WWW-Authenticate": exc.www_authenticate(BEARER_REALM)}
        return json_response(exc.status_code, exc.body(), challenge)
    return json_answer(request, exc)


ANSWERS: dict[str, Answer] = {"json": json_answer, "page": page_answer, "bearer": bearer_answer}
