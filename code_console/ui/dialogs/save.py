"""A save-to-file row shared by the dialogs that hold codes: a path under the user's data
directory, saved owner-only in a worker, errors said beside the field."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from code_console.ui.dialogs.base import ConsoleDialog
from code_console.ui.messages import CodesSaved
from code_console.ui.saving import save_codes
from code_console.ui.widgets.inputs import FormInput


class SavingDialog(ConsoleDialog[str | None]):
    """A dialog whose codes can be saved; dismisses with the saved path."""

    codes_to_save: list[str] = []

    def save_row(self, default_path: Path) -> ComposeResult:
        yield Label("save them to (a new file, readable by you only)")
        yield FormInput(str(default_path), id="save-path")
        yield Static("", id="save-error", classes="form-error")

    def action_save(self) -> None:
        if not self.codes_to_save or not self.query("#save-path"):
            return
        path = self.query_one("#save-path", Input).value.strip()
        if not path:
            self.query_one("#save-error", Static).update("give a file to save to")
            return
        self.save(str(Path(path).expanduser()), list(self.codes_to_save))

    @on(Input.Submitted, "#save-path")
    def path_submitted(self) -> None:
        self.action_save()

    @work(thread=True, exclusive=True, exit_on_error=False, group="file")
    def save(self, path: str, codes: list[str]) -> None:
        try:
            save_codes(path, codes)
        except FileExistsError:
            raise FileExistsError(17, "a file of that name exists already (saving never overwrites)", path) from None
        except IsADirectoryError:
            raise IsADirectoryError(21, "that is a folder: add a file name", path) from None
        self.post_message(CodesSaved(path, len(codes)))

    def on_codes_saved(self, message: CodesSaved) -> None:
        self.dismiss(message.path)

    def show_error(self, verdict) -> None:
        self.query_one("#save-error", Static).update(f"[b]{verdict.title}[/]: {escape(verdict.message)}")
        self.query_one("#save-path", Input).focus()

    def has_form(self) -> bool:
        return bool(self.query("#save-error"))
