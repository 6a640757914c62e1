"""Typed messages that thread workers post back to the screens and dialogs that started them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message

from code_console.core.models import (
    CampaignSummary,
    CodeRecord,
    CodeType,
    Reservation,
    StatusCounts,
    UpdateResult,
    UploadProgress,
    UploadResult,
)
from code_console.ui.policy import StoreState

if TYPE_CHECKING:
    # What the façade returns, named for the type checker only: the console reaches no module
    # of the core but its façade and its models.
    from code_console.core.csvcodes import FileReport
    from code_console.core.objects import ObjectInfo
    from code_console.core.usage import Usage


@dataclass
class UploadsListed(Message):
    """A campaign's previous uploads (core/audit.EventRecord, newest first) and those of the very
    file being checked (same SHA-256), for the upload wizard."""

    source: str
    previous: list
    same_file: list


@dataclass
class ActivityLoaded(Message):
    """A campaign's latest recorded changes (core/audit.EventRecord, newest first)."""

    campaign: str
    events: list


@dataclass
class HistoryLoaded(Message):
    """A code's history (core/audit.HistoryLine, oldest first), for the lookup's detail pane."""

    campaign: str
    code: str
    lines: list


@dataclass
class CampaignsLoaded(Message):
    campaigns: list[CampaignSummary]


@dataclass
class CountsLoaded(Message):
    campaign: str
    counts: dict[CodeType, StatusCounts]


@dataclass
class UsageLoaded(Message):
    """A campaign's rates and time to empty per type (CodeService.usage)."""

    campaign: str
    usage: Usage


@dataclass
class CampaignsUsageLoaded(Message):
    """Every campaign's rates and time to empty (CodeService.campaigns_usage), by campaign id."""

    usage: dict[str, Usage]


@dataclass
class AlertsLoaded(Message):
    """The recorded alert states (CodeService.alerts)."""

    records: list


@dataclass
class ExportProgress(Message):
    done: int
    total: int


@dataclass
class ExportDone(Message):
    path: str
    rows: int
    what: str  # "tm codes", "reserved tm codes"
    stopped: bool = False  # cancelled: the partial file was removed


@dataclass
class StoreStateChanged(Message):
    """The store stopped answering, answers slowly, or answers again."""

    state: StoreState
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state is StoreState.OK


@dataclass
class Reserved(Message):
    campaign: str
    code_type: CodeType
    requested: int
    reservation: Reservation


@dataclass
class CodesRead(Message):
    """Codes read from a local file for an assign or a release."""

    path: str
    codes: list[str]


@dataclass
class CodesUpdated(Message):
    """The result of an assign or a release (of `codes`, or of a whole reservation)."""

    action: str
    campaign: str
    result: UpdateResult
    codes: list[str] = field(default_factory=list)
    reserve_id: str | None = None
    whole_reservation: bool = False


@dataclass
class CodesSaved(Message):
    path: str
    count: int


@dataclass
class KeysListed(Message):
    campaign: str
    keys: list[ObjectInfo]


@dataclass
class PreviewReady(Message):
    """A dry run of the chosen file: its type, first codes and problems; nothing written."""

    source: str
    code_type: CodeType
    report: FileReport


@dataclass
class UploadProgressed(Message):
    progress: UploadProgress

    def can_replace(self, message: Message) -> bool:
        # A newer report supersedes this one: a slow screen never works through stale progress.
        return isinstance(message, UploadProgressed)


@dataclass
class UploadFinished(Message):
    result: UploadResult


@dataclass
class UploadCancelled(Message):
    detail: str


@dataclass
class LookupFound(Message):
    query: str
    records: list[CodeRecord]
    by_reservation: bool = False
    campaign: str = ""


@dataclass
class ReservationLoaded(Message):
    """The codes of one reservation, read before asking to release them all."""

    campaign: str
    reserve_id: str
    records: list[CodeRecord]
