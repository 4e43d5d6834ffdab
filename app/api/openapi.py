"""One shape for every error answer, and an OpenAPI document that says so.

Every error the API sends is `{"detail": <a message a person can act on>, "kind": <a stable
code>}`: domain errors and request validation (handlers in `app.main`), the framework's own
HTTP errors such as an unreadable body or a wrong method, and a database too busy to answer in
time (pool exhausted, SQLite locked), which is a 503 with `Retry-After` rather than a 500
(handled here). FastAPI would otherwise document 422 as its list-of-problems shape and send
`{"detail"}` alone for the rest.
Clients generated from the schema, and the schema fuzzer in the tests, rely on this.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

_KINDS = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
BUSY = "The service is very busy right now. Wait a few seconds and try again."
BUSY_RETRY_AFTER = "5"

ERROR_REF = "#/components/schemas/ErrorOut"


class ErrorOut(BaseModel):
    detail: str
    kind: str


def _describe(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorOut"] = ErrorOut.model_json_schema()
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    error = {
        "description": "Error",
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {**error, "description": "The request is not valid"}
            responses.setdefault("default", error)
    return schema


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail
    if exc.status_code == 400 and "parsing the body" in detail:
        detail = "The request body could not be read: send one JSON object."
    return JSONResponse(
        {"detail": detail, "kind": _KINDS.get(exc.status_code, "http_error")},
        status_code=exc.status_code,
        headers=exc.headers,
    )


def database_busy(exc: BaseException) -> bool:
    """The database could not serve in time: every pooled connection in use, or SQLite's
    writer lock held past the busy timeout. Load, not a bug: the request may be repeated."""
    if isinstance(exc, PoolTimeout):
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


async def _database_error(_request: Request, exc: Exception) -> JSONResponse:
    if not database_busy(exc):
        raise exc
    return JSONResponse(
        {"detail": BUSY, "kind": "busy"},
        status_code=503,
        headers={"Retry-After": BUSY_RETRY_AFTER},
    )


def describe_errors(app: FastAPI) -> None:
    """Answer framework HTTP errors and database overload in the API's error shape, and
    document that shape."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(PoolTimeout, _database_error)
    app.add_exception_handler(OperationalError, _database_error)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _describe(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
