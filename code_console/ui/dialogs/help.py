"""The keys, listed from the bindings themselves (code_console/ui/keys.py builds the rows)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from code_console.ui.dialogs.base import ConsoleDialog
from code_console.ui.keys import KeyRow


def help_table(rows: list[KeyRow]) -> Table:
    """Three columns; a long description wraps within its own column."""
    table = Table(show_header=False, box=None, padding=(0, 1, 0, 0), expand=True)
    table.add_column("where", style="bold", no_wrap=True)
    table.add_column("keys", style="reverse", no_wrap=True)
    table.add_column("does", ratio=1)
    for row in rows:
        table.add_row(row.where, f" {row.keys} ", row.does)
    return table


class HelpScreen(ConsoleDialog[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close", id="help.close", tooltip="close this help")]

    def __init__(self, rows: list[KeyRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Static("Keys · escape closes · ctrl+p finds every action", classes="dialog-title")
            yield Static(help_table(self.rows), id="help-keys")

    def action_close(self) -> None:
        self.dismiss(None)
