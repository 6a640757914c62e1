"""Export: a campaign's codes of one type (optionally one status) as CSV or JSON lines, streamed.

One row per code: code, type, status, saved, reserved, assigned (ISO 8601 UTC with milliseconds,
`2026-03-01T08:00:00.000Z`), reserveId.

- CSV: UTF-8 without BOM, a header row, RFC 4180 quoting, CRLF line ends. A cell a spreadsheet
  would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a
  leading single quote, as OWASP's CSV-injection guidance says; the csv module quotes the cell
  when it holds a delimiter, quote or line break. A code so changed reads back with the quote.
- JSON lines: one object per line, UTF-8, values exactly as stored (JSON is not a formula language).

Memory stays flat whatever the campaign's size: the codes come from the store a page at a time
(`Store.page`: keyset paging, no cursor held) and leave as chunks of `CHUNK_ROWS` rows.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Iterator

from code_console.core.errors import Cancelled
from code_console.core.models import Cancel, CodeRecord, CodeType, Status, _Parsed

COLUMNS = ("code", "type", "status", "saved", "reserved", "assigned", "reserveId")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 1_000


class ExportFormat(_Parsed):
    CSV = "csv"
    JSONL = "jsonl"

    @property
    def media_type(self) -> str:
        return "text/csv; charset=utf-8" if self is ExportFormat.CSV else "application/x-ndjson"

    @property
    def suffix(self) -> str:
        return ".csv" if self is ExportFormat.CSV else ".jsonl"


ExportFormat._error_code, ExportFormat._noun = "invalid_format", "export format"


@dataclass
class CodeExport:
    """An export under way: `total` is how many codes the counts said match when it began (for
    a progress bar; codes reserved or assigned meanwhile can make the rows differ); `records`
    yields them in code order, read lazily."""

    campaign_id: str
    code_type: CodeType
    status: Status | None
    total: int
    records: Iterator[CodeRecord]

    def file_name(self, fmt: ExportFormat) -> str:
        parts = [self.campaign_id, self.code_type.value] + ([self.status.value] if self.status else [])
        return "-".join(parts) + fmt.suffix


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would not run: a leading single quote before a formula character."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def row(record: CodeRecord) -> dict:
    """One code as the export writes it (dates ISO 8601, absent values None)."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z") if value else None  # what MongoDB keeps

    return {
        "code": record.code,
        "type": record.code_type.value if isinstance(record.code_type, CodeType) else record.code_type,
        "status": record.status.value if record.status else None,
        "saved": iso(record.saved),
        "reserved": iso(record.reserved),
        "assigned": iso(record.assigned),
        "reserveId": record.reserve_id,
    }


def render(
    records: Iterable[CodeRecord],
    fmt: ExportFormat | str = ExportFormat.CSV,
    *,
    progress: Callable[[int], None] | None = None,
    cancel: Cancel | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[bytes]:
    """The export's bytes, in chunks of `chunk_rows` rows (the CSV header comes first).

    `progress(rows_written)` is called after each chunk; `cancel` is checked before each chunk
    and raises Cancelled when set."""
    fmt = ExportFormat.parse(fmt)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n") if fmt is ExportFormat.CSV else None
    if writer is not None:
        writer.writerow(COLUMNS)
    written = pending = 0

    def flush() -> bytes:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return data

    for record in records:
        if pending == 0 and cancel is not None and cancel.is_set():
            raise Cancelled()
        values = row(record)
        if writer is not None:
            writer.writerow([neutralise(str(values[c])) if values[c] is not None else "" for c in COLUMNS])
        else:
            buffer.write(json.dumps(values, ensure_ascii=False, default=str) + "\n")
        pending += 1
        if pending == chunk_rows:
            written += pending
            pending = 0
            yield flush()
            if progress is not None:
                progress(written)
    written += pending
    tail = flush()
    if tail:
        yield tail
    if progress is not None:
        progress(written)
