"""Errors the API's services raise, and the handlers that turn every error into JSON.

Every response body for an error is ``{"error": message}`` plus ``"detail"`` where there is
something more to say. A stack trace never leaves the process: unexpected exceptions are
logged here and answered with ``{"error": "internal error"}``.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap

from mirror.errors import MirrorError, StorageError
from mirror.inventory.writer import ChangedOnDisk, EditRefused

log = logging.getLogger(__name__)


class ApiError(MirrorError):
    """A request the API refuses; ``status_code`` is what the client gets."""

    status_code = HTTP_400_BAD_REQUEST

    def __init__(self, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class NotFound(ApiError):
    status_code = HTTP_404_NOT_FOUND


class BadRequest(ApiError):
    status_code = HTTP_400_BAD_REQUEST


def _json(status_code: int, message: str, detail: Any = None) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"error": message}
    if detail is not None:
        body["detail"] = detail
    return Response(body, status_code=status_code, media_type=MediaType.JSON)


def api_error_handler(_: Request[Any, Any, Any], exc: ApiError) -> Response[dict[str, Any]]:
    return _json(exc.status_code, exc.message, exc.detail)


def http_error_handler(
    request: Request[Any, Any, Any], exc: HTTPException
) -> Response[dict[str, Any]]:
    if exc.status_code >= HTTP_500_INTERNAL_SERVER_ERROR:
        return internal_error_handler(request, exc)
    # Litestar's own 404/405/400 (unknown route, failed parameter validation): keep its
    # message and its per-parameter details, drop nothing else it would not show anyway.
    return _json(exc.status_code, exc.detail, exc.extra or None)


def internal_error_handler(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[dict[str, Any]]:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _json(HTTP_500_INTERNAL_SERVER_ERROR, "internal error")


def nesting_error_handler(
    request: Request[Any, Any, Any], exc: RecursionError
) -> Response[dict[str, Any]]:
    """msgspec gives up on JSON nested thousands deep with RecursionError: the client's
    doing when the request has a body; anything else is ours."""
    if request.method in ("POST", "PUT", "PATCH"):
        return _json(HTTP_400_BAD_REQUEST, "request body nested too deeply")
    return internal_error_handler(request, exc)


def storage_error_handler(
    request: Request[Any, Any, Any], exc: StorageError
) -> Response[dict[str, Any]]:
    # The message names the database URL (password hidden); it stays in the server log.
    log.error("storage error on %s %s: %s", request.method, request.url.path, exc)
    return _json(HTTP_503_SERVICE_UNAVAILABLE, "database unavailable")


def changed_on_disk_handler(
    _: Request[Any, Any, Any], exc: ChangedOnDisk
) -> Response[dict[str, Any]]:
    """An inventory edit made from a file that has changed since: 409, with what to do."""
    return _json(HTTP_409_CONFLICT, str(exc), {"hint": exc.hint})


def edit_refused_handler(_: Request[Any, Any, Any], exc: EditRefused) -> Response[dict[str, Any]]:
    """An inventory edit that would make the file invalid: 422, each problem with its field."""
    problems = [
        {"line": p.line, "field": p.field, "message": p.message, "text": str(p)}
        for p in exc.problems
    ]
    message = f"not written: {len(problems)} problem(s); the file is unchanged"
    return _json(HTTP_422_UNPROCESSABLE_ENTITY, message, {"problems": problems})


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ChangedOnDisk: changed_on_disk_handler,
    EditRefused: edit_refused_handler,
    ApiError: api_error_handler,
    StorageError: storage_error_handler,
    HTTPException: http_error_handler,
    RecursionError: nesting_error_handler,
    Exception: internal_error_handler,
}
