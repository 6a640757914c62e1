"""Typed messages that thread workers post back to the screens that started them."""

from __future__ import annotations

from textual.message import Message

from code_console.core.csvcodes import FileReport
from code_console.core.models import (
    CampaignSummary,
    CodeRecord,
    CodeType,
    StatusCounts,
    UpdateResult,
    UploadProgress,
    UploadResult,
)
from code_console.core.objects import ObjectInfo


class CampaignsLoaded(Message):
    def __init__(self, campaigns: list[CampaignSummary]) -> None:
        super().__init__()
        self.campaigns = campaigns


class CountsLoaded(Message):
    def __init__(self, campaign: str, counts: dict[CodeType, StatusCounts]) -> None:
        super().__init__()
        self.campaign = campaign
        self.counts = counts


class StoreStatusChanged(Message):
    """The store stopped answering (ok=False) or answers again (ok=True)."""

    def __init__(self, ok: bool, detail: str = "") -> None:
        super().__init__()
        self.ok = ok
        self.detail = detail


class Reserved(Message):
    def __init__(self, campaign: str, code_type: CodeType, requested: int, codes: list[str]) -> None:
        super().__init__()
        self.campaign = campaign
        self.code_type = code_type
        self.requested = requested
        self.codes = codes


class CodesRead(Message):
    """Codes read from a local file for an assign or a release."""

    def __init__(self, action: str, path: str, codes: list[str]) -> None:
        super().__init__()
        self.action = action
        self.path = path
        self.codes = codes


class CodesUpdated(Message):
    """The result of an assign or a release."""

    def __init__(self, action: str, campaign: str, result: UpdateResult) -> None:
        super().__init__()
        self.action = action
        self.campaign = campaign
        self.result = result


class CodesSaved(Message):
    def __init__(self, path: str, count: int) -> None:
        super().__init__()
        self.path = path
        self.count = count


class KeysListed(Message):
    def __init__(self, campaign: str, keys: list[ObjectInfo]) -> None:
        super().__init__()
        self.campaign = campaign
        self.keys = keys


class PreviewReady(Message):
    """A dry run of the chosen file: its type, first codes and problems; nothing written."""

    def __init__(self, source: str, code_type: CodeType, report: FileReport) -> None:
        super().__init__()
        self.source = source
        self.code_type = code_type
        self.report = report


class UploadProgressed(Message):
    def __init__(self, progress: UploadProgress) -> None:
        super().__init__()
        self.progress = progress


class UploadFinished(Message):
    def __init__(self, result: UploadResult) -> None:
        super().__init__()
        self.result = result


class UploadCancelled(Message):
    def __init__(self, detail: str) -> None:
        super().__init__()
        self.detail = detail


class LookupFound(Message):
    def __init__(self, query: str, records: list[CodeRecord], by_reservation: bool = False, note: str = "") -> None:
        super().__init__()
        self.note = note
        self.query = query
        self.records = records
        self.by_reservation = by_reservation


class ReservationLoaded(Message):
    """The codes of one reservation, read before asking to release them all."""

    def __init__(self, campaign: str, reserve_id: str, records: list[CodeRecord]) -> None:
        super().__init__()
        self.campaign = campaign
        self.reserve_id = reserve_id
        self.records = records
