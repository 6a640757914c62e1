"""Export a campaign's codes of one type (all, or one status) to a new file: CSV or JSON lines.

The rows are written in a worker, a page at a time, with the count shown as it grows; Escape
or Cancel stops it at the next chunk and removes the partial file. The file is new and
owner-only, like every list of codes the console saves (ui/saving.py); it is written under a
temporary name and renamed when complete, so a file of that name is always a whole export.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static
from textual.worker import Worker, WorkerState

from code_console.core.errors import Cancelled
from code_console.core.models import LOCAL_OPERATOR, CodeType, Status
from code_console.core.service import ExportFormat, render_export
from code_console.ui.dialogs.base import ConsoleDialog
from code_console.ui.messages import ExportDone, ExportProgress
from code_console.ui.policy import Verdict
from code_console.ui.widgets.inputs import FormInput, TypeChoice

ME = LOCAL_OPERATOR
ALL = "all"


def export_name(campaign: str, code_type: CodeType, status: str, fmt: ExportFormat) -> str:
    parts = [campaign, code_type.value] + ([status] if status != ALL else [])
    return "-".join(parts) + fmt.suffix


def write_export(path: Path, chunks) -> None:
    """Write the chunks to a new owner-only file at `path` (never over an existing one)."""
    if path.exists():
        raise FileExistsError(17, "a file of that name exists already (exports never overwrite)", str(path))
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.link(partial, path)  # fails rather than replace a file that appeared meanwhile
    finally:
        partial.unlink(missing_ok=True)


class ExportDialog(ConsoleDialog[str | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="export.cancel", tooltip="close the form, or stop a running export (the partial file is removed)"),
    ]

    def __init__(self, campaign: str, code_type: CodeType, folder: Path) -> None:
        super().__init__()
        self.campaign = campaign
        self.code_type = code_type
        self.folder = folder
        self.cancel = threading.Event()
        self.running = False
        self.suggested = str(folder / export_name(campaign, code_type, ALL, ExportFormat.CSV))
        self.outcome: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Static(f"Export codes of {self.campaign}", classes="dialog-title")
            with Horizontal(id="export-choices"):
                with Vertical():
                    yield Label("type")
                    yield TypeChoice(self.code_type, id="export-type")
                with Vertical():
                    yield Label("status")
                    yield RadioSet(*(RadioButton(s, value=s == ALL, name=s) for s in [ALL, *(x.value for x in Status)]), id="export-status")
                with Vertical():
                    yield Label("format")
                    yield RadioSet(*(RadioButton(f.value, value=f is ExportFormat.CSV, name=f.value) for f in ExportFormat), id="export-format")
            yield Label("to a new file (readable by you only)")
            yield FormInput(self.suggested, id="export-path")
            yield Static("", id="export-error", classes="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    def choice(self) -> tuple[CodeType, str, ExportFormat]:
        status = self.query_one("#export-status", RadioSet).pressed_button
        fmt = self.query_one("#export-format", RadioSet).pressed_button
        return (
            self.query_one("#export-type", TypeChoice).code_type,
            (status.name or ALL) if status is not None else ALL,
            ExportFormat(fmt.name) if fmt is not None else ExportFormat.CSV,
        )

    @on(RadioSet.Changed)
    def choice_changed(self) -> None:
        # The suggested name follows the choices until the user types their own.
        path = self.query_one("#export-path", Input)
        if path.value == self.suggested:
            self.suggested = str(self.folder / export_name(self.campaign, *self.choice()))
            path.value = self.suggested

    @on(Input.Submitted, "#export-path")
    def path_submitted(self) -> None:
        self.submit()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.submit()
        else:
            self.action_cancel()

    def submit(self) -> None:
        if self.running:
            return
        raw = self.query_one("#export-path", Input).value.strip()
        if not raw:
            self.query_one("#export-error", Static).update("give a file to export to")
            return
        code_type, status, fmt = self.choice()
        self.running = True
        self.outcome = None
        self.cancel.clear()
        self.query_one("#ok", Button).disabled = True
        self.query_one("#export-error", Static).update("counting the codes…")
        self.export(Path(raw).expanduser(), code_type, None if status == ALL else status, fmt)

    @work(thread=True, exclusive=True, exit_on_error=False, group="file")
    def export(self, path: Path, code_type: CodeType, status: str | None, fmt: ExportFormat) -> None:
        export = self.service.export(ME, self.campaign, code_type, status)
        written = [0]

        def progress(rows: int) -> None:
            written[0] = rows
            self.post_message(ExportProgress(rows, export.total))

        what = f"{code_type.value} codes" if status is None else f"{status} {code_type.value} codes"
        try:
            write_export(path, render_export(export.records, fmt, progress=progress, cancel=self.cancel))
        except Cancelled:
            self.post_message(ExportDone(str(path), written[0], what, stopped=True))
            return
        self.post_message(ExportDone(str(path), written[0], what))

    def on_export_progress(self, message: ExportProgress) -> None:
        self.query_one("#export-error", Static).update(f"exported {message.done:,} of {message.total:,} codes… (Escape stops)")

    def on_export_done(self, message: ExportDone) -> None:
        # Dismissed once the worker has ended (below): closing the dialog while its worker is
        # still returning would cancel the worker.
        if message.stopped:
            self.outcome = f"export stopped after {message.rows:,} codes: no file written"
        else:
            self.notify(f"exported {message.rows:,} codes to {message.path}", timeout=4)
            self.outcome = f"exported {message.rows:,} {message.what} to {message.path}"

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "file" and event.state == WorkerState.SUCCESS and self.outcome is not None:
            self.running = False
            self.dismiss(self.outcome)

    def show_error(self, verdict: Verdict) -> None:
        self.running = False
        self.query_one("#ok", Button).disabled = False
        super().show_error(verdict)

    def action_cancel(self) -> None:
        if self.running:
            self.cancel.set()
            return
        self.dismiss(None)
