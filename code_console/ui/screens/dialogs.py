"""Modal dialogs: confirmation (ModalScreen[bool]), errors and the help screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen

from code_console.ui.screens.base import SteadyDialog
from textual.widgets import Button, Static


class ConfirmScreen(SteadyDialog, ModalScreen[bool]):
    """Says what will change and returns True only when the user confirms."""

    BINDINGS = [
        Binding("escape,n", "cancel", "Cancel", id="confirm.cancel"),
        Binding("y", "confirm", "Confirm", id="confirm.ok"),
    ]

    def __init__(self, title: str, body: str, confirm_label: str = "Confirm", *, danger: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm_label = confirm_label
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Static(self.title_text, classes="dialog-title")
            yield Static(self.body, id="confirm-body", classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.confirm_label} (y)", id="confirm", variant="error" if self.danger else "primary")
                yield Button("Cancel (n)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class ErrorScreen(SteadyDialog, ModalScreen[None]):
    BINDINGS = [Binding("escape,enter", "close", "Close", id="error.close")]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog error"):
            yield Static(self.title_text, classes="dialog-title")
            yield Static(self.message, id="error-message", classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


# (where, keys, what they do); the help screen and the README list the same keys.
KEYS = [
    ("everywhere", "ctrl+p", "command palette: every action, searchable"),
    ("", "l", "look up a code or a reservation"),
    ("", "? f1", "this help"),
    ("", "escape", "back, close, or cancel a running upload"),
    ("", "q", "quit"),
    ("demo", "t + -", "pause the simulated traffic, faster, slower"),
    ("campaigns", "/", "filter as you type (enter or escape to leave)"),
    ("", "s S", "sort by the next column, reverse the order"),
    ("", "enter", "open the campaign"),
    ("", "r p u", "refresh now, pause the refresh, upload wizard"),
    ("campaign", "v", "reserve N codes of a type (shown, can be saved)"),
    ("", "a x", "assign, release codes (pasted or from a file)"),
    ("", "r p u", "refresh now, pause the refresh, upload wizard"),
    ("upload", "enter", "check the chosen key or file (nothing written)"),
    ("", "ctrl+u", "upload the checked file"),
    ("lookup", "enter", "search a code (or a reserveId, with a campaign)"),
    ("", "x X", "release the code, release its whole reservation"),
    ("dialogs", "y n", "confirm, cancel; ctrl+s continues or saves"),
]


def help_text() -> str:
    lines = []
    for where, keys, does in KEYS:
        lines.append(f"[b]{where:<11}[/][reverse] {keys:<7} [/] {does}")
    return "\n".join(lines)


class HelpScreen(SteadyDialog, ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Static("Keys", classes="dialog-title")
            yield Static(help_text(), id="help-keys")

    def action_close(self) -> None:
        self.dismiss(None)
