"""Confirmation as ModalScreen[bool]: says what will change; True only when the user confirms."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from code_console.ui.dialogs.base import ConsoleDialog


ANSWER = Binding.Group("Confirm, cancel")


class ConfirmScreen(ConsoleDialog[bool]):
    BINDINGS = [
        Binding("y", "confirm", "Confirm", id="confirm.ok", group=ANSWER, tooltip="confirm, cancel (every change is confirmed; cancel keeps the form)"),
        Binding("n,escape", "cancel", "Cancel", id="confirm.cancel", group=ANSWER),
    ]

    def __init__(self, title: str, body: str, confirm_label: str = "Confirm", *, danger: bool = False, cancel_label: str = "Cancel") -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm_label = confirm_label
        self.cancel_label = cancel_label
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Static(self.title_text, classes="dialog-title")
            yield Static(self.body, id="confirm-body", classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.confirm_label} (y)", id="confirm", variant="error" if self.danger else "primary")
                yield Button(f"{self.cancel_label} (n)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
