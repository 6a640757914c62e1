"""Domain errors. Each carries a stable code (for scripts and HTTP mapping) and a message safe to show a user."""

from __future__ import annotations


class CodeConsoleError(Exception):
    code = "error"

    def __init__(self, code: str | None = None, message: str = "") -> None:
        if code:
            self.code = code
        self.message = message or self.code
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class Forbidden(CodeConsoleError):
    code = "forbidden"

    def __init__(self, message: str = "this operation requires a supreme principal") -> None:
        super().__init__(None, message)


class InvalidInput(CodeConsoleError):
    """The request itself is wrong: a type, a count, a key, a code list."""

    code = "invalid_input"


class BadFile(InvalidInput):
    """A file that cannot be taken; names the line where it can."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        self.line = line
        where = f"line {line}: " if line is not None else ""
        super().__init__(code, f"{where}{message}")


class NotFound(CodeConsoleError):
    code = "not_found"


class StoreUnavailable(CodeConsoleError):
    """MongoDB could not be reached or did not answer in time."""

    code = "store_unavailable"


class ObjectStoreUnavailable(CodeConsoleError):
    """S3 could not be reached or did not answer in time."""

    code = "object_store_unavailable"


class Cancelled(CodeConsoleError):
    code = "cancelled"

    def __init__(self, message: str = "cancelled by the user") -> None:
        super().__init__(None, message)
