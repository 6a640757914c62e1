"""Dialogs that collect what an action needs: reserve (type, count), codes to assign or release,
and the reserved codes with a way to save them. They return values; the campaign screen runs
the store calls."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static, TextArea

from code_console.core.models import CodeType
from code_console.ui.screens.base import SteadyDialog


@dataclass(frozen=True)
class ReserveRequest:
    code_type: CodeType
    count: int


@dataclass(frozen=True)
class CodesRequest:
    """Codes pasted in the dialog, or a file to read them from."""

    codes: list[str]
    path: str | None = None


def split_codes(text: str) -> list[str]:
    """Pasted codes: one per line, or separated by commas or spaces."""
    return [c for c in text.replace(",", " ").split() if c]


class TypeChoice(RadioSet):
    def __init__(self, selected: CodeType = CodeType.TM, **kwargs) -> None:
        super().__init__(
            *(RadioButton(t.value, value=t is selected, name=t.value) for t in CodeType),
            **kwargs,
        )

    @property
    def code_type(self) -> CodeType:
        button = self.pressed_button
        return CodeType(button.name) if button is not None else CodeType.TM


class ReserveDialog(SteadyDialog, ModalScreen[ReserveRequest | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="reserve.cancel")]

    def __init__(self, campaign: str, code_type: CodeType = CodeType.TM) -> None:
        super().__init__()
        self.campaign = campaign
        self.code_type = code_type

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Static(f"Reserve codes in {self.campaign}", classes="dialog-title")
            yield Label("type")
            yield TypeChoice(self.code_type, id="reserve-type")
            yield Label("how many")
            yield Input("5", id="reserve-count", type="integer", placeholder="number of codes")
            yield Static("", id="reserve-error", classes="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Reserve", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#reserve-count", Input).focus()

    def submit(self) -> None:
        raw = self.query_one("#reserve-count", Input).value.strip()
        if not raw.isdigit() or int(raw) < 1:
            self.query_one("#reserve-error", Static).update("enter a whole number of codes, 1 or more")
            return
        self.dismiss(ReserveRequest(self.query_one(TypeChoice).code_type, int(raw)))

    @on(Input.Submitted)
    def count_submitted(self) -> None:
        self.submit()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class CodesDialog(SteadyDialog, ModalScreen[CodesRequest | None]):
    """Codes to assign or release: pasted in the box, or read from a file."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="codes.cancel"),
        Binding("ctrl+s", "submit", "Continue", id="codes.submit"),
    ]

    def __init__(self, action: str, campaign: str, initial: list[str] | None = None) -> None:
        super().__init__()
        self.action = action
        self.campaign = campaign
        self.initial = initial or []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog wide"):
            yield Static(f"{self.action.capitalize()} codes in {self.campaign}", classes="dialog-title")
            yield Label("paste codes (one per line, or separated by commas or spaces)")
            yield TextArea("\n".join(self.initial), id="codes-text", soft_wrap=False, show_line_numbers=False)
            yield Label("or read them from a file (one code per line)")
            yield Input(id="codes-file", placeholder="path/to/codes.txt")
            yield Static("", id="codes-error", classes="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.action.capitalize()} (ctrl+s)", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#codes-text", TextArea).focus()

    def action_submit(self) -> None:
        path = self.query_one("#codes-file", Input).value.strip()
        if path:
            self.dismiss(CodesRequest([], str(Path(path).expanduser())))
            return
        codes = split_codes(self.query_one("#codes-text", TextArea).text)
        if not codes:
            self.query_one("#codes-error", Static).update("paste at least one code, or give a file")
            return
        self.dismiss(CodesRequest(codes))

    @on(Input.Submitted, "#codes-file")
    def file_submitted(self) -> None:
        self.action_submit()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.action_submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReservedScreen(SteadyDialog, ModalScreen[str | None]):
    """The codes just reserved; returns a path to save them to, or None."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="reserved.close"),
        Binding("ctrl+s", "save", "Save to file", id="reserved.save"),
    ]

    def __init__(self, campaign: str, code_type: CodeType, requested: int, codes: list[str], default_path: str) -> None:
        super().__init__()
        self.campaign = campaign
        self.code_type = code_type
        self.requested = requested
        self.codes = codes
        self.default_path = default_path

    def compose(self) -> ComposeResult:
        short = "" if len(self.codes) == self.requested else f" (asked for {self.requested:,}: the pool ran out)"
        with Vertical(id="dialog", classes="dialog wide"):
            yield Static(
                f"Reserved {len(self.codes):,} {self.code_type.value} codes in {self.campaign}{short}",
                id="reserved-title",
                classes="dialog-title",
            )
            yield TextArea("\n".join(self.codes), id="reserved-codes", read_only=True, soft_wrap=False)
            yield Label("save them to")
            yield Input(self.default_path, id="reserved-path")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary", disabled=not self.codes)
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def action_save(self) -> None:
        path = self.query_one("#reserved-path", Input).value.strip()
        if path and self.codes:
            self.dismiss(str(Path(path).expanduser()))

    @on(Input.Submitted, "#reserved-path")
    def path_submitted(self) -> None:
        self.action_save()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
