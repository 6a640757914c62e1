"""Domain types: code types, statuses, principals and the results every front end renders."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, ClassVar, Protocol, Self

from code_console.core.errors import InvalidInput


class _Parsed(str, enum.Enum):
    """A string enum whose parse() turns a bad value into a domain error naming the valid ones."""

    _error_code: ClassVar[str]
    _noun: ClassVar[str]

    @classmethod
    def parse(cls, value: object) -> Self:
        if isinstance(value, cls):
            return value
        valid = ", ".join(member.value for member in cls)
        if value is None or value == "":
            raise InvalidInput(cls._error_code, f"{cls._noun} is required: one of {valid}")
        try:
            return cls(value)
        except ValueError:
            raise InvalidInput(cls._error_code, f"invalid {cls._noun} {value!r}: expected one of {valid}") from None


class CodeType(_Parsed):
    TM = "tm"
    EXTERNAL = "external"

    @classmethod
    def stored(cls, value: object) -> CodeType | None:
        """The type a stored `type` field names, or None for anything else another tool wrote
        there (an unknown string, a number, a list): such a code belongs to no pool."""
        if not isinstance(value, str):
            return None
        try:
            return cls(value)
        except ValueError:
            return None


class Status(_Parsed):
    AVAILABLE = "available"
    RESERVED = "reserved"
    ASSIGNED = "assigned"


# Set after the classes: an enum body would take them for members.
CodeType._error_code, CodeType._noun = "invalid_type", "code type"
Status._error_code, Status._noun = "invalid_status", "status"


class Channel(str, enum.Enum):
    """The front end a call came through (recorded with every change)."""

    CONSOLE = "console"
    CLI = "cli"
    API = "api"


@dataclass(frozen=True)
class Principal:
    """Who is calling. Every operation requires a supreme principal.

    `subject` is the actor recorded with every change: the token's subject over HTTP, the
    operator on the command line and in the console. `request_id` ties a change to the
    HTTP request that made it.
    """

    subject: str
    supreme: bool = False
    channel: Channel = Channel.CLI
    request_id: str | None = None


# The console and the CLI act as the operator who runs them.
LOCAL_OPERATOR = Principal(subject="local-operator", supreme=True)


Clock = Callable[[], datetime]


class EventKind(str, enum.Enum):
    UPLOADED = "uploaded"
    RESERVED = "reserved"
    ASSIGNED = "assigned"
    RELEASED = "released"
    RESERVATION_RELEASED = "reservation_released"  # a whole reservation, by its reserveId


@dataclass(frozen=True)
class ChangeEvent:
    """One change to the inventory, as the façade made it: who, when (the database's clock), what.

    `codes` are the codes that changed (reserve: those handed out; assign and release: those
    updated). `details` carry what else the kind has: upload `{"source", "in", "inserted",
    "updated", "conflicts", "duplicates", "warnings"}`; reserve `{"asked", "given"}`; assign
    and release `{"in", "updated", "unchanged": {reason: [codes]}}`.
    Observers registered with `CodeService.subscribe` receive every event after the change.
    """

    kind: EventKind
    campaign_id: str
    at: datetime
    actor: str
    channel: Channel
    request_id: str | None = None
    code_type: CodeType | None = None
    reserve_id: str | None = None
    key: str | None = None
    codes: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


Observer = Callable[["ChangeEvent"], None]


@dataclass(frozen=True)
class Backends:
    """What an installation runs on, as shown in headers and logs (URIs with secrets redacted)."""

    store: str
    objects: str | None


class Cancel(Protocol):
    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class UploadProgress:
    """Reported while validating and after each write so a front end can draw a bar.

    While writing, `batch` of `batches` is the batch being written (1-based).
    """

    phase: str  # "validating" or "writing"
    codes: int
    total_codes: int | None
    bytes_read: int
    total_bytes: int | None
    batch: int | None = None
    batches: int | None = None


ProgressCallback = Callable[[UploadProgress], None]


class DelimiterSource(str, enum.Enum):
    """How a file's delimiter was found."""

    SEP_LINE = "sep_line"  # an Excel `sep=X` first line named it
    DETECTED = "detected"  # csv.Sniffer found it in the first lines
    DEFAULT = "default"  # nothing to detect (one column): comma, as RFC 4180 has it


class ColumnSource(str, enum.Enum):
    """Why the codes were read from the column they were read from."""

    HEADER = "header"  # the header names it (code, coupon, voucher, promo, ...)
    CALLER = "caller"  # the caller chose it (a header name or a number)
    ONLY = "only"  # no header and no choice: each row holds one code


@dataclass(frozen=True)
class FileLayout:
    """How a CSV file was read: front ends show it beside the codes.

    `header` is the header row's cells (trimmed) and `header_line` its 1-based line, or both
    None. `column` is 1-based; `column_name` is its header cell, if there is a header.
    """

    delimiter: str = ","
    delimiter_source: DelimiterSource = DelimiterSource.DEFAULT
    header: tuple[str, ...] | None = None
    header_line: int | None = None
    column: int = 1
    column_name: str | None = None
    column_source: ColumnSource = ColumnSource.ONLY
    encoding: str = "utf-8"  # or "utf-16-le" / "utf-16-be" (a UTF-16 byte order mark)

    @property
    def plain(self) -> bool:
        """True for the simplest file: one code per line, no sep= line, no header, no detected delimiter."""
        return (
            self.header is None
            and self.delimiter_source is DelimiterSource.DEFAULT
            and self.column_source is ColumnSource.ONLY
        )

    def describe(self) -> str:
        """One line, e.g. "delimiter ';' (sep= line); header on line 2 skipped; codes from column 1 'code'"."""
        how = {DelimiterSource.SEP_LINE: "sep= line", DelimiterSource.DETECTED: "detected", DelimiterSource.DEFAULT: "default"}
        parts = [f"delimiter {self.delimiter!r} ({how[self.delimiter_source]})"]
        if self.encoding != "utf-8":
            parts.insert(0, f"encoding {self.encoding.upper()}")
        if self.header is not None:
            parts.append(f"header on line {self.header_line} skipped ({', '.join(self.header)})")
        name = f" {self.column_name!r}" if self.column_name else ""
        chosen = {ColumnSource.HEADER: "named by the header", ColumnSource.CALLER: "chosen", ColumnSource.ONLY: "one code per row"}
        parts.append(f"codes from column {self.column}{name} ({chosen[self.column_source]})")
        return "; ".join(parts)

    def to_dict(self) -> dict:
        return {
            "delimiter": self.delimiter,
            "delimiterSource": self.delimiter_source.value,
            "header": list(self.header) if self.header is not None else None,
            "headerLine": self.header_line,
            "column": self.column,
            "columnName": self.column_name,
            "columnSource": self.column_source.value,
            "encoding": self.encoding,
        }


class WarningKind(str, enum.Enum):
    """Codes that were taken but look wrong: they never block an upload."""

    SCIENTIFIC_NOTATION = "scientific_notation"  # 1.23457E+11: a spreadsheet turned a long number into a float
    FORMULA = "formula"  # ="00123": a spreadsheet's text-formula wrapper left in the file
    CASE_TWIN = "case_twin"  # differs only by letter case from another code of the file
    CASE_TWIN_STORED = "case_twin_stored"  # differs only by letter case from a code already in the campaign


@dataclass(frozen=True)
class WarningExample:
    """One code a warning is about: its line, the code and, for a case twin, the code it mirrors."""

    line: int
    code: str
    other: str | None = None

    def to_dict(self) -> dict:
        out: dict = {"line": self.line, "code": self.code}
        if self.other is not None:
            out["other"] = self.other
        return out


# (one code, several codes)
_WARNING_TEXT = {
    WarningKind.SCIENTIFIC_NOTATION: (
        "looks like a number a spreadsheet wrote in scientific notation (digits are lost)",
        "look like numbers a spreadsheet wrote in scientific notation (digits are lost)",
    ),
    WarningKind.FORMULA: ('is wrapped in a spreadsheet formula such as ="00123"', 'are wrapped in a spreadsheet formula such as ="00123"'),
    WarningKind.CASE_TWIN: (
        "differs only by letter case from another code of the file",
        "differ only by letter case from another code of the file",
    ),
    WarningKind.CASE_TWIN_STORED: (
        "differs only by letter case from a code already in the campaign",
        "differ only by letter case from codes already in the campaign",
    ),
}


@dataclass(frozen=True)
class CodeWarning:
    """A count of codes of one kind, and the first few of them (at most csvcodes.WARNING_EXAMPLES)."""

    kind: WarningKind
    count: int
    examples: tuple[WarningExample, ...] = ()
    # Set when only the first `checked` codes of the file were looked at (a bounded check:
    # case twins in the campaign); None when the whole file was.
    checked: int | None = None

    @property
    def message(self) -> str:
        """One line for a person, e.g. `2 codes look like ...: line 4 1.23457E+11, line 9 4,687E+11`."""
        noun = "code" if self.count == 1 else "codes"
        verb = _WARNING_TEXT[self.kind][self.count != 1]
        shown = ", ".join(
            f"line {e.line} {e.code}" + (f" (like {e.other})" if e.other is not None else "") for e in self.examples
        )
        bound = ""
        if self.checked is not None:
            bound = f" (among the first {self.checked:,} code{'' if self.checked == 1 else 's'} of the file; the rest were not compared)"
        return f"{self.count:,} {noun} {verb}{bound}" + (f": {shown}" if shown else "")

    def to_dict(self) -> dict:
        out = {
            "kind": self.kind.value,
            "count": self.count,
            "examples": [e.to_dict() for e in self.examples],
            "message": self.message,
        }
        if self.checked is not None:
            out["checked"] = self.checked
        return out


@dataclass(frozen=True)
class UploadResult:
    """`in` codes read = inserted + updated + conflicts + duplicates (repeats of a code earlier in the file).

    `warnings` are the file's suspicious codes (they were uploaded); `layout` says how the file
    was read (delimiter, header, column). to_dict() is the spec's `{in, inserted, updated}`
    plus `conflicts`, `duplicates` and `warnings` (a list of CodeWarning.to_dict()) when there are any.
    """

    in_: int
    inserted: int
    updated: int
    conflicts: int = 0
    duplicates: int = 0
    warnings: tuple[CodeWarning, ...] = ()
    layout: FileLayout | None = None
    # The file's SHA-256 (hex, of its bytes as read) and its codes' `date.saved`; not in to_dict().
    sha256: str | None = None
    saved: datetime | None = None

    def counts(self) -> dict[str, int]:
        """The spec's `{in, inserted, updated}`, plus `conflicts` and `duplicates` when there are any."""
        out = {"in": self.in_, "inserted": self.inserted, "updated": self.updated}
        if self.conflicts:
            out["conflicts"] = self.conflicts
        if self.duplicates:
            out["duplicates"] = self.duplicates
        return out

    def to_dict(self) -> dict:
        out: dict = self.counts()
        if self.warnings:
            out["warnings"] = [w.to_dict() for w in self.warnings]
        return out


class Unchanged(str, enum.Enum):
    """Why assign or release left a code as it was."""

    NOT_FOUND = "not_found"  # no such code in the campaign
    ALREADY_ASSIGNED = "already_assigned"  # assigned before this call (assign never overwrites; release never frees)
    NOT_RESERVED = "not_reserved"  # release: the code holds no reservation; with a reserveId: the code is held by none
    OTHER_RESERVATION = "held_by_another_reservation"  # with a reserveId: another reservation holds the code now
    REPEATED = "repeated"  # given more than once in this call: acted on once, the repeats counted in `in` only


@dataclass(frozen=True)
class UpdateResult:
    """What assign or release did: `{"in", "updated"}` as the spec has it, and why the rest did not change.

    `unchanged` maps each reason to the codes it applies to (each code once, in the order given).
    """

    in_: int
    updated: int
    unchanged: dict[Unchanged, tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, int]:
        return {"in": self.in_, "updated": self.updated}

    def unchanged_dict(self) -> dict[str, list[str]]:
        return {reason.value: list(codes) for reason, codes in self.unchanged.items() if codes}


@dataclass(frozen=True)
class Reservation:
    """The answer to a reserve: the codes (sorted) and the reservation that holds them.

    `reserve_id` is the caller's key when it gave one, else a fresh dashed UUID v4.
    """

    reserve_id: str
    codes: list[str]
    key: str | None = None
    # True when a keyed call returned the answer an earlier call made (nothing changed now).
    replayed: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class StatusCounts:
    available: int = 0
    reserved: int = 0
    assigned: int = 0

    @property
    def total(self) -> int:
        return self.available + self.reserved + self.assigned

    def get(self, status: Status) -> int:
        return getattr(self, status.value)

    def to_dict(self, status: Status | None = None) -> dict[str, int]:
        if status is not None:
            return {status.value: self.get(status)}
        return {"available": self.available, "reserved": self.reserved, "assigned": self.assigned}


@dataclass(frozen=True)
class CampaignSummary:
    campaign_id: str
    counts: dict[CodeType, StatusCounts] = field(default_factory=dict)

    def for_type(self, code_type: CodeType) -> StatusCounts:
        return self.counts.get(code_type, StatusCounts())

    @property
    def total(self) -> int:
        return sum(c.total for c in self.counts.values())

    def to_dict(self) -> dict:
        return {
            "campaignId": self.campaign_id,
            "counts": {t.value: self.for_type(t).to_dict() for t in CodeType},
        }


@dataclass(frozen=True)
class CodeRecord:
    """One stored code, as support staff see it in a lookup.

    `status` is None for a document that does not fit the schema (`problems` says how; see
    core/check.py); `releasable` is what the status rule says release would do to it.
    """

    campaign_id: str
    code_type: CodeType | Any
    code: str | Any
    status: Status | None
    saved: datetime | None
    reserved: datetime | None
    assigned: datetime | None
    reserve_id: str | None
    releasable: bool = False
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        def iso(d: datetime | None) -> str | None:
            return d.isoformat() if d else None

        out = {
            "campaignId": self.campaign_id,
            "type": self.code_type.value if isinstance(self.code_type, CodeType) else self.code_type,
            "code": self.code,
            "status": self.status.value if self.status else None,
            "date": {"saved": iso(self.saved), "reserved": iso(self.reserved), "assigned": iso(self.assigned)},
            "reserveId": self.reserve_id,
        }
        if self.problems:
            out["problems"] = list(self.problems)
        return out
