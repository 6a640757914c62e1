"""The details of one stored code, for the lookup: every field whole in 76 columns.

The reserveId is a dashed UUID (36 characters) or a caller's key (up to 128); it is shown
whole on a line of its own, wrapped rather than cut when it is longer than the pane.
"""

from __future__ import annotations

from datetime import datetime

from rich.markup import escape
from textual.widgets import Static

from code_console.core.models import CodeRecord


NOTHING_SELECTED = "[dim]the code you select is shown here, every field whole[/]"


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "–"


class RecordDetail(Static):
    DEFAULT_CSS = """
    RecordDetail {
        height: auto;
        min-height: 4;
        padding: 0 1;
        border-top: solid $primary;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(NOTHING_SELECTED, **kwargs)
        self.record: CodeRecord | None = None
        self.released = False

    def show(self, record: CodeRecord | None, released: bool = False) -> None:
        """`released`: the code was released here; `record` is how it was before."""
        self.record = record
        self.released = released
        self.update(self.text())

    def text(self) -> str:
        r = self.record
        if r is None:
            return NOTHING_SELECTED
        if self.released:
            status, reserved = "[b]released here[/]", "–"
            reserve_id = f"– (released from {escape(r.reserve_id or '')})"
        else:
            status, reserved = f"[b]{r.status.value if r.status else 'fits no status'}[/]", when(r.reserved)
            reserve_id = escape(r.reserve_id) if r.reserve_id else "–"
        lines = [
            f"[b]{escape(r.code)}[/] · {r.code_type.value} · {escape(r.campaign_id)} · {status}",
            f"saved {when(r.saved)} · reserved {reserved}",
            f"assigned {when(r.assigned)}",
            f"reserveId {reserve_id}",
        ]
        return "\n".join(lines)
