"""The one place where errors become HTTP statuses and `{"error": {"code", "message"}}` bodies.

Domain errors carry a stable code and a message that is safe to show; this module only picks
the status. Anything that is not a domain error is logged server-side and answered with a
generic 500: a stack trace never reaches a client.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from code_console.core.errors import (
    AccessDenied,
    CodeConsoleError,
    Forbidden,
    InvalidInput,
    NotFound,
    ObjectStoreUnavailable,
    StoreUnavailable,
)
from code_console.core.errors import TooLarge as PayloadTooLarge
from code_console.core.errors import Unauthenticated as Unauthorized


# Most specific first: the first class the error is an instance of decides.
STATUS_BY_CLASS: list[tuple[type[CodeConsoleError], int]] = [
    (InvalidInput, 400),  # includes BadFile: a file that cannot be taken is bad input
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (PayloadTooLarge, 413),
    (AccessDenied, 502),  # S3 refused *our* credentials: an upstream fault, not the caller's
    (StoreUnavailable, 503),
    (ObjectStoreUnavailable, 503),
]

# Codes raised as plain CodeConsoleError that still deserve a precise status.
STATUS_BY_CODE: dict[str, int] = {
    "object_store_not_configured": 501,
}

# Starlette's own errors (unknown route, wrong method) keep their status and get a stable code.
CODE_BY_HTTP_STATUS: dict[int, str] = {
    400: "invalid_input",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}

RETRY_STATUSES = {503}


def status_for(exc: CodeConsoleError) -> int:
    if exc.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[exc.code]
    for cls, status in STATUS_BY_CLASS:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(exc: CodeConsoleError, *, retry_after_seconds: int) -> JSONResponse:
    status = status_for(exc)
    headers: dict[str, str] = {}
    if status in RETRY_STATUSES:
        headers["Retry-After"] = str(retry_after_seconds)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="code-console"'
    return JSONResponse(error_body(exc.code, exc.message), status_code=status, headers=headers)


def http_error_response(status: int, detail: str | None, headers: dict[str, str] | None = None) -> JSONResponse:
    code = CODE_BY_HTTP_STATUS.get(status, "error")
    return JSONResponse(error_body(code, detail or code.replace("_", " ")), status_code=status, headers=headers)


def validation_error_response(errors: list[dict]) -> JSONResponse:
    """FastAPI's request validation (a malformed query parameter): a 400 like any bad input."""
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "header"))
    message = f"{where}: {first.get('msg', 'invalid value')}" if where else first.get("msg", "invalid request")
    return JSONResponse(error_body("invalid_input", message), status_code=400)


def internal_error_body(request_id: str) -> dict[str, Any]:
    return error_body("internal", f"internal error; the server log has the details under request id {request_id}")
