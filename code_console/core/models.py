"""Domain types: code types, statuses, principals and the results every front end renders."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Protocol

from code_console.core.errors import InvalidInput


class _Parsed(str, enum.Enum):
    """A string enum whose parse() turns a bad value into a domain error naming the valid ones."""

    @classmethod
    def parse(cls, value):
        if isinstance(value, cls):
            return value
        try:
            return cls(value)
        except ValueError:
            valid = ", ".join(member.value for member in cls)
            raise InvalidInput(cls._error_code, f"invalid {cls._noun} {value!r}: expected one of {valid}") from None


class CodeType(_Parsed):
    TM = "tm"
    EXTERNAL = "external"


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


@dataclass(frozen=True)
class UploadResult:
    """`in` codes read = inserted + updated + conflicts + duplicates (repeats of a code earlier in the file)."""

    in_: int
    inserted: int
    updated: int
    conflicts: int = 0
    duplicates: int = 0

    def to_dict(self) -> dict[str, int]:
        out = {"in": self.in_, "inserted": self.inserted, "updated": self.updated}
        if self.conflicts:
            out["conflicts"] = self.conflicts
        if self.duplicates:
            out["duplicates"] = self.duplicates
        return out


class Unchanged(str, enum.Enum):
    """Why assign or release left a code as it was."""

    NOT_FOUND = "not_found"  # no such code in the campaign
    ALREADY_ASSIGNED = "already_assigned"  # assigned before this call (assign never overwrites; release never frees)
    NOT_RESERVED = "not_reserved"  # release: the code holds no reservation; with a reserveId: the code is held by none
    OTHER_RESERVATION = "held_by_another_reservation"  # with a reserveId: another reservation holds the code now


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
