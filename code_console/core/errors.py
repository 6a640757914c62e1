"""Domain errors: each has a kind, a stable code (for scripts and HTTP mapping) and a message safe to show a user.

Every error is built the same way: `SomeError(code, message, **details)`; `code` may be None
to take the class's default. Front ends never look at the class to decide what to do: they
map `kind` (an ErrorKind) to an exit status, an HTTP status or a console reaction, each in
one exhaustive table that a test checks (tests/test_error_policy.py).
"""

from __future__ import annotations

import enum
from typing import Any


class ErrorKind(enum.Enum):
    INVALID_INPUT = "invalid_input"  # the request itself is wrong: a type, a count, a key, a file
    CONFLICT = "conflict"  # the request contradicts stored state (a reservation key reused with other parameters)
    UNAUTHENTICATED = "unauthenticated"  # no credentials, or credentials that do not verify (the API's tokens)
    FORBIDDEN = "forbidden"  # the caller is known but may not do this (not supreme)
    NOT_FOUND = "not_found"  # a file, an object, a bucket that does not exist
    TOO_LARGE = "too_large"  # a request body over the configured limit
    UNAVAILABLE = "unavailable"  # MongoDB or S3 cannot be reached or did not answer in time: retry later
    UPSTREAM_REFUSED = "upstream_refused"  # S3 refused our own credentials: an operator must act
    NOT_CONFIGURED = "not_configured"  # this installation lacks a setting the operation needs
    CANCELLED = "cancelled"  # the user asked to stop


class CodeConsoleError(Exception):
    kind = ErrorKind.INVALID_INPUT
    code = "error"
    default_message = ""

    def __init__(self, code: str | None = None, message: str = "", **details: Any) -> None:
        if code:
            self.code = code
        self.message = message or self.default_message or self.code
        self.details = details
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class InvalidInput(CodeConsoleError):
    """The request itself is wrong: a type, a count, a key, a code list."""

    kind = ErrorKind.INVALID_INPUT
    code = "invalid_input"


class InvalidCode(InvalidInput):
    """A code that breaks the one code rule (code_console.core.code_rule).

    details: `reason` (the rule's code: empty_code, code_too_long, control_character,
    invisible_character, space_character, invalid_character), and for a bad character
    `char` ("U+0009") and `position` (1-based, in the trimmed code).
    """

    code = "invalid_code"


class BadFile(InvalidInput):
    """A file that cannot be taken; names the line where it can (details: line)."""

    def __init__(self, code: str | None, message: str, line: int | None = None, **details: Any) -> None:
        self.line = line
        where = f"line {line}: " if line is not None else ""
        super().__init__(code, f"{where}{message}", line=line, **details)


class Conflict(CodeConsoleError):
    """The request contradicts what is stored, e.g. a reservation key reused with other parameters."""

    kind = ErrorKind.CONFLICT
    code = "conflict"


class Unauthenticated(CodeConsoleError):
    """No token, or a token that does not verify."""

    kind = ErrorKind.UNAUTHENTICATED
    code = "unauthorized"


class Forbidden(CodeConsoleError):
    kind = ErrorKind.FORBIDDEN
    code = "forbidden"
    default_message = "this operation requires a supreme principal"


class NotFound(CodeConsoleError):
    kind = ErrorKind.NOT_FOUND
    code = "not_found"


class TooLarge(CodeConsoleError):
    kind = ErrorKind.TOO_LARGE
    code = "payload_too_large"


class StoreUnavailable(CodeConsoleError):
    """MongoDB (or the embedded database) could not be reached or did not answer in time.

    `slow` (a detail) is True when the server was reached but did not answer within the
    timeout: it is busy, not gone. Front ends say so instead of reporting an outage.
    """

    kind = ErrorKind.UNAVAILABLE
    code = "store_unavailable"

    @property
    def slow(self) -> bool:
        return bool(self.details.get("slow"))


class ObjectStoreUnavailable(CodeConsoleError):
    """S3 could not be reached or did not answer in time."""

    kind = ErrorKind.UNAVAILABLE
    code = "object_store_unavailable"


class AccessDenied(CodeConsoleError):
    """S3 refused the credentials this installation uses (an operator must fix them)."""

    kind = ErrorKind.UPSTREAM_REFUSED
    code = "access_denied"


class NotConfigured(CodeConsoleError):
    """A setting the operation needs is missing or invalid (no bucket, no JWT key, a short secret)."""

    kind = ErrorKind.NOT_CONFIGURED
    code = "not_configured"


class Cancelled(CodeConsoleError):
    kind = ErrorKind.CANCELLED
    code = "cancelled"
    default_message = "cancelled by the user"
