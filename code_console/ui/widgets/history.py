"""A code's history in the lookup's detail pane: its recorded changes, oldest first, newest at
the bottom, each with who made it and through which front end (core/audit.py tells them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from textual.widgets import Static

from code_console.ui.widgets.record import when

if TYPE_CHECKING:
    from code_console.core.audit import HistoryLine

# The pane shows the newest lines (at most this many); the earlier ones are counted.
MAX_LINES = 8
NOTHING = "[dim]history: select a code[/]"


def history_text(code: str, lines: list[HistoryLine], max_lines: int = MAX_LINES) -> str:
    """`history of CODE` and a line per change: `2026-03-01 08:02:00  reserved under R · bob (cli)`."""
    if not lines:
        return f"[b]history of {escape(code)}[/]: [dim]no recorded change[/]"
    shown = lines[-max_lines:]
    out = [f"[b]history of {escape(code)}[/] ({len(lines):,} entries, oldest first)"]
    if len(lines) > len(shown):
        hidden = len(lines) - len(shown)
        out.append(f"[dim]{hidden:,} earlier {'entry' if hidden == 1 else 'entries'} not shown (code-console history)[/]")
    for line in shown:
        who = f" · {escape(line.actor)} ({line.channel})" if line.actor else ""
        request = f" [dim]req {escape(line.request_id)}[/]" if line.request_id else ""
        out.append(f"{when(line.at)}  {escape(line.text)}{who}{request}")
    return "\n".join(out)


class CodeHistory(Static):
    DEFAULT_CSS = """
    CodeHistory {
        height: auto;
        padding: 0 1;
        border-top: dashed $primary;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(NOTHING, **kwargs)
        self.key: tuple[str, str] | None = None  # (campaign, code) shown or being loaded

    def reading(self, campaign: str, code: str) -> None:
        self.key = (campaign, code)
        self.update(f"[b]history of {escape(code)}[/]: [dim]reading[/]")

    def clear(self) -> None:
        self.key = None
        self.update(NOTHING)

    def show(self, campaign: str, code: str, lines: list[HistoryLine]) -> None:
        if self.key != (campaign, code):
            return  # another code was selected meanwhile
        # The newest lines that leave the results table room: 4 at 24 rows, 10 at 36.
        self.update(history_text(code, lines, max(2, (self.app.size.height - 16) // 2)))
