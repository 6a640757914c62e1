"""The keys, listed from the bindings themselves (code_console/ui/keys.py builds the rows)."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from code_console.ui.dialogs.base import ConsoleDialog
from code_console.ui.keys import KeyRow


def help_text(rows: list[KeyRow]) -> str:
    lines = []
    for row in rows:
        lines.append(f"[b]{escape(row.where):<11}[/][reverse] {escape(row.keys):<7} [/] {escape(row.does)}")
    return "\n".join(lines)


class HelpScreen(ConsoleDialog[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close", id="help.close", tooltip="close this help")]

    def __init__(self, rows: list[KeyRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Static("Keys (escape closes; every action is also in the command palette, ctrl+p)", classes="dialog-title")
            yield Static(help_text(self.rows), id="help-keys")

    def action_close(self) -> None:
        self.dismiss(None)
