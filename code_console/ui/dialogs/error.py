"""An error said in a dialog, when there is no form to say it in."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from code_console.ui.dialogs.base import ConsoleDialog


class ErrorScreen(ConsoleDialog[None]):
    BINDINGS = [Binding("escape,enter", "close", "Close", id="error.close", tooltip="close the message")]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog error"):
            yield Static(self.title_text, classes="dialog-title")
            yield Static(self.message, id="error-message", classes="dialog-body", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
