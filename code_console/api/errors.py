"""The one place where errors become HTTP statuses and the original service's error bodies.

The status comes from the error's kind (STATUS_BY_KIND, exhaustive: tests/test_error_policy.py
checks it). The body is the original service's shape, with its names where it had the error:

    {"error": {"status": 404, "message": "...", "payload": "Invalid file key.",
               "name": "invalidFileKey", "code": "invalid_key"},
     "meta": {"timestamp": "...", "correlationId": "..."}}

`message` is the product's own precise, safe message (URIs in it redacted); `payload` and
`name` are the original's (its error definitions and the responses its documentation quotes);
`code` is the product's stable code. The original name is picked by the error's code
(NAMED_BY_CODE); a route may refine it by what the request lacked (a missing `count` is
`missingCodeReserveParams`, not `invalidCount`), through `request.state.error_names`. Anything
that is not a domain error is logged server-side and answered with a generic 500: a stack trace
never reaches a client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from starlette.responses import JSONResponse

from code_console.core.errors import CodeConsoleError, ErrorKind, TooLarge as PayloadTooLarge, Unauthenticated as Unauthorized
from code_console.core.uri import redact_uris

# Every kind has a status: tests/test_error_policy.py checks that none is missing.
STATUS_BY_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID_INPUT: 400,
    ErrorKind.CONFLICT: 409,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.TOO_LARGE: 413,
    ErrorKind.UPSTREAM_REFUSED: 502,  # S3 refused *our* credentials: an upstream fault, not the caller's
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.NOT_CONFIGURED: 501,  # e.g. an S3 upload on an installation without a bucket
    ErrorKind.CANCELLED: 503,  # the server is shutting down: retry on another instance
}

RETRY_STATUSES = {503}


@dataclass(frozen=True)
class Named:
    """An error as the original service named it: its name, its payload, and its status if the
    original used another one than the kind's (its invalidFileKey is a 404)."""

    name: str
    payload: str
    status: int | None = None


# The original's errors (app/errors/authErrors.js, app/managers/codes/errors.js). Payloads are
# those its documentation quotes in full responses; the four it does not quote (missingType,
# InvalidStatus, missingCodes, invalidCodesProp) follow the same style.
INVALID_FILE_KEY = Named("invalidFileKey", "Invalid file key.", 404)
INVALID_TYPE = Named("InvalidType", "Invalid code type.")
MISSING_TYPE = Named("missingType", "Missing type.")
INVALID_STATUS = Named("InvalidStatus", "Invalid status.")
MISSING_RESERVE_PARAMS = Named("missingCodeReserveParams", "Missing code reserve parameters.")
INVALID_COUNT = Named("invalidCount", "Invalid count.")
MISSING_CODES = Named("missingCodes", "Missing codes.")
EMPTY_CODES = Named("emptyCodes", "Empty codes array.")
INVALID_CODES_PROP = Named("invalidCodesProp", "Invalid codes property.")
NOT_LOGGED_IN = Named("notLoggedIn", "Unauthorized")
SUPREME_USER_REQUIRED = Named("supremeUserRequired", "supremeUserRequired")
INTERNAL = Named("internalServerError", "Internal Server Error")

# By the product's code: the original's name where it had the error, else the product's own in
# the same style.
NAMED_BY_CODE: dict[str, Named] = {
    "invalid_type": INVALID_TYPE,
    "invalid_status": INVALID_STATUS,
    "invalid_count": INVALID_COUNT,
    "invalid_codes": INVALID_CODES_PROP,
    "unauthorized": NOT_LOGGED_IN,
    "forbidden": SUPREME_USER_REQUIRED,
    "invalid_key": Named("invalidKey", "Invalid key."),  # the upload route names it invalidFileKey
    "invalid_campaign": Named("invalidCampaignId", "Invalid campaign id."),
    "invalid_json": Named("invalidJson", "Invalid JSON body."),
    "object_not_found": Named("fileNotFound", "File not found."),
    "bucket_not_found": Named("bucketNotFound", "Bucket not found."),
    "store_unavailable": Named("storeUnavailable", "Service Unavailable"),
    "object_store_unavailable": Named("objectStoreUnavailable", "Service Unavailable"),
    "internal": INTERNAL,
    "reservation_key_reused": Named("reservationKeyReused", "Reservation key reused."),
    "reservation_expired": Named("reservationExpired", "Reservation expired."),
    "invalid_reserve_id": Named("invalidReserveId", "Invalid reserveId."),
}

# When neither the route nor the code names it: by kind.
NAMED_BY_KIND: dict[ErrorKind, Named] = {
    ErrorKind.INVALID_INPUT: Named("invalidInput", "Invalid input."),
    ErrorKind.CONFLICT: Named("conflict", "Conflict."),
    ErrorKind.UNAUTHENTICATED: NOT_LOGGED_IN,
    ErrorKind.FORBIDDEN: SUPREME_USER_REQUIRED,
    ErrorKind.NOT_FOUND: Named("notFound", "Not Found"),
    ErrorKind.TOO_LARGE: Named("payloadTooLarge", "Payload Too Large"),
    ErrorKind.UPSTREAM_REFUSED: Named("upstreamRefused", "Bad Gateway"),
    ErrorKind.UNAVAILABLE: Named("serviceUnavailable", "Service Unavailable"),
    ErrorKind.NOT_CONFIGURED: Named("notConfigured", "Not Implemented"),
    ErrorKind.CANCELLED: Named("shuttingDown", "Service Unavailable"),
}

# Starlette's own errors (unknown route, wrong method, ...) keep their status.
NAMED_BY_HTTP_STATUS: dict[int, tuple[str, Named]] = {
    400: ("invalid_input", Named("invalidInput", "Invalid input.")),
    404: ("not_found", Named("notFound", "Not Found")),
    405: ("method_not_allowed", Named("methodNotAllowed", "Method Not Allowed")),
    408: ("request_timeout", Named("requestTimeout", "Request Timeout")),
    413: ("payload_too_large", Named("payloadTooLarge", "Payload Too Large")),
}


def utc_timestamp() -> str:
    """The time as the original's JavaScript would print it: 2024-01-15T10:30:00.000Z."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def meta(correlation_id: str) -> dict[str, str]:
    return {"timestamp": utc_timestamp(), "correlationId": correlation_id}


def status_for(exc: CodeConsoleError, named: Named | None = None) -> int:
    named = named or named_for(exc)
    return named.status or STATUS_BY_KIND[exc.kind]


def named_for(exc: CodeConsoleError, overrides: dict[str, Named] | None = None) -> Named:
    if overrides and exc.code in overrides:
        return overrides[exc.code]
    return NAMED_BY_CODE.get(exc.code) or NAMED_BY_KIND[exc.kind]


def error_body(status: int, message: str, named: Named, code: str, correlation_id: str) -> dict[str, Any]:
    return {
        "error": {"status": status, "message": redact_uris(message), "payload": named.payload, "name": named.name, "code": code},
        "meta": meta(correlation_id),
    }


def error_headers(status: int, *, retry_after_seconds: int) -> dict[str, str]:
    headers: dict[str, str] = {}
    if status in RETRY_STATUSES:
        headers["Retry-After"] = str(retry_after_seconds)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="code-console"'
    if status in (408, 413):
        # The body was not read to its end: the connection cannot carry another request.
        headers["Connection"] = "close"
    return headers


def error_response(
    exc: CodeConsoleError, *, correlation_id: str, retry_after_seconds: int, overrides: dict[str, Named] | None = None
) -> JSONResponse:
    named = named_for(exc, overrides)
    status = status_for(exc, named)
    return JSONResponse(
        error_body(status, exc.message, named, exc.code, correlation_id),
        status_code=status,
        headers=error_headers(status, retry_after_seconds=retry_after_seconds),
    )


def http_error_response(status: int, detail: str | None, correlation_id: str, headers: dict[str, str] | None = None) -> JSONResponse:
    code, named = NAMED_BY_HTTP_STATUS.get(status, ("error", Named("error", "Error")))
    merged = {**error_headers(status, retry_after_seconds=5), **(headers or {})}
    return JSONResponse(error_body(status, detail or named.payload, named, code, correlation_id), status_code=status, headers=merged)


def internal_error_body(correlation_id: str) -> dict[str, Any]:
    return error_body(
        500, f"internal error; the server log has the details under correlation id {correlation_id}", INTERNAL, "internal", correlation_id
    )


def raw_error(status: int, code: str, message: str, correlation_id: str) -> bytes:
    """An error body for the places that answer below the application (the HTTP protocol)."""
    named = NAMED_BY_HTTP_STATUS.get(status, (code, Named(code, message)))[1]
    return json.dumps(error_body(status, message, named, code, correlation_id), separators=(",", ":")).encode()


__all__ = [
    "PayloadTooLarge",
    "Unauthorized",
    "STATUS_BY_KIND",
    "Named",
    "error_response",
    "http_error_response",
]
