"""Make the OpenAPI document say what errors really look like and when they come.

Every error body is ``{"error": message, "detail"?: …}`` (api/errors.py), not Litestar's
default ``{"status_code", "detail", "extra"}``; and routes answer statuses Litestar cannot
see from their signatures (401 without a login, 403 for a role, 404 for an unknown name,
503 when the database is away, …). This adds them to each operation of the generated
document, so a client (or schemathesis) reading it is told the truth.
"""

from __future__ import annotations

from typing import Any

from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)

ERROR_SCHEMA = "Error"
_PUBLIC = {"/api/health", "/api/auth/login", "/api/auth/link"}
_WHY = {
    "400": "bad request: a parameter or the body is not what the route takes",
    "401": "login required, or the session or token is not (or no longer) valid",
    "403": "the role or token scope does not allow this, or a CSRF or origin check failed",
    "404": "no such host, run, tunnel, user or token",
    "405": "method not allowed",
    "409": "conflicts with the current state (a name taken, the last admin)",
    "415": "send the body as application/json",
    "422": "the inventory file (or the change to it) is not valid",
    "429": "too many failed logins from here: wait Retry-After seconds",
    "503": "the database, or the poller this needs, is not available",
}


def _codes(path: str, method: str) -> list[str]:
    codes = ["400", "404", "405", "503"]
    if path not in _PUBLIC:
        codes += ["401", "403"]
    if method in ("post", "put", "patch", "delete"):
        codes += ["409", "415", "422"]
    if path == "/api/auth/login":
        codes += ["401", "403", "415", "429"]
    return sorted(set(codes))


def document_errors(openapi: OpenAPI) -> None:
    """Add the error body schema and the error statuses to every operation (in place)."""
    components = openapi.components or Components()
    openapi.components = components
    schemas = dict(components.schemas or {})
    schemas[ERROR_SCHEMA] = Schema(
        type=OpenAPIType.OBJECT,
        required=["error"],
        properties={"error": Schema(type=OpenAPIType.STRING), "detail": Schema()},
        description="Every error answer: a message, and details where there are some",
    )
    components.schemas = schemas
    body = {
        "application/json": OpenAPIMediaType(
            schema=Reference(f"#/components/schemas/{ERROR_SCHEMA}")
        )
    }
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch", "head"):
            operation: Any = getattr(item, method, None)
            if operation is None:
                continue
            responses = dict(operation.responses or {})
            for code in _codes(path, method):
                responses[code] = OpenAPIResponse(description=_WHY[code], content=body)
            operation.responses = responses
