"""The upload wizard: choose a source (a bucket key or a local file), check it, then run it
with a progress bar that Escape cancels, and show the result.

Cancelling (Escape, or quitting) sets the cancel event at once; the core checks it before each
batch, so no batch starts after it. A batch already sent may still land; the wizard says so.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import (
    Button,
    ContentSwitcher,
    Footer,
    Input,
    Label,
    OptionList,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from code_console.core.errors import Cancelled, CodeConsoleError, InvalidInput, NotFound
from code_console.core.models import LOCAL_OPERATOR, CodeType, UploadProgress
from code_console.core.service import validate_campaign_id
from code_console.ui.dialogs.confirm import ConfirmScreen
from code_console.ui.fit import Part, plural
from code_console.ui.messages import KeysListed, PreviewReady, UploadCancelled, UploadFinished, UploadProgressed, UploadsListed
from code_console.ui.policy import Verdict
from code_console.ui.screens.base import ConsoleScreen
from code_console.ui.widgets.header import ConsoleHeader
from code_console.ui.widgets.inputs import FormInput, TypeChoice
from code_console.ui.widgets.status import StatusLine

if TYPE_CHECKING:
    from code_console.core.csvcodes import FileReport  # what CodeService.preview_* return

ME = LOCAL_OPERATOR
SOURCE_HINT = "enter on a key or a path checks the file; nothing is written yet"


@dataclass(frozen=True)
class UploadPlan:
    campaign: str
    code_type: CodeType
    key: str | None = None
    path: str | None = None
    column: str | None = None  # the code column the user chose (a header name or a 1-based number); None: automatic

    @property
    def source(self) -> str:
        return self.key or self.path or ""


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


# -- the check step: one function per section of the report -------------------------------
# A new FileReport field (the dialect, the header, the code column, warnings) is one more
# section function here and one more entry in CHECK_SECTIONS.


def check_summary(plan: UploadPlan, report: FileReport) -> str:
    verdict = (
        "[green]no problems found[/]"
        if report.ok
        else f"[red b]{plural(report.problems_total, 'problem')} found: fix the file, nothing will be uploaded[/]"
    )
    return (
        f"[b]{escape(plan.source)}[/]\ncampaign [b]{escape(plan.campaign)}[/] · type [b]{plan.code_type.value}[/] · "
        f"{plural(report.codes, 'code')} on {plural(report.lines, 'line')}\n{verdict}"
    )


def problems_section(report: FileReport) -> list[str]:
    if not report.problems:
        return []
    more = report.problems_total - len(report.problems)
    return ["[b red]problems[/]", *(f"  {escape(str(p))}" for p in report.problems), *([f"  … and {more:,} more"] if more else [])]


def first_codes_section(report: FileReport) -> list[str]:
    return ["[b]first codes[/]", *(f"  {escape(c)}" for c in report.first_codes)]


COLUMN_PROBLEMS = frozenset({"several_fields", "no_such_column", "ambiguous_column"})  # choosing a column may cure them
DELIMITER_NAMES = {",": "comma ,", ";": "semicolon ;", "\t": "tab", "|": "bar |"}
DELIMITER_HOW = {"sep_line": "from the sep= line", "detected": "detected", "default": "default: one column"}
COLUMN_HOW = {"header": "named by the header", "caller": "chosen", "only": "one code per row"}


def layout_section(report: FileReport) -> list[str]:
    """How the file was read: delimiter and how it was found, the header row, the column used."""
    layout = report.layout
    delimiter = DELIMITER_NAMES.get(layout.delimiter, repr(layout.delimiter))
    header = (
        f"line {layout.header_line}: {escape(', '.join(layout.header))} (skipped)" if layout.header is not None else "none"
    )
    name = f" {escape(layout.column_name)!r}" if layout.column_name else ""
    encoding = [f"  encoding   {layout.encoding.upper()} (from its byte order mark)"] if layout.encoding != "utf-8" else []
    return [
        "[b]read as[/]",
        *encoding,
        f"  delimiter  {escape(delimiter)} ({DELIMITER_HOW[layout.delimiter_source.value]})",
        f"  header     {header}",
        f"  column     {layout.column}{name} ({COLUMN_HOW[layout.column_source.value]})",
    ]


def warnings_section(report: FileReport) -> list[str]:
    """Codes that were taken but look wrong (they do not block), and the repeats within the file."""
    lines = [f"  [yellow]{escape(w.message)}[/]" for w in report.warnings]
    if report.duplicates:
        at_least = "" if report.duplicates_exact else "at least "
        verb = "repeats" if report.duplicates == 1 and report.duplicates_exact else "repeat"
        lines.append(
            f"  [yellow]{at_least}{plural(report.duplicates, 'code')} {verb} an earlier code of the file "
            "(written once, counted as duplicates)[/]"
        )
    return ["[b yellow]warnings[/] (they do not block the upload)", *lines] if lines else ["[b]warnings[/] none"]


CHECK_SECTIONS = (problems_section, layout_section, warnings_section, first_codes_section)


def unavailable_reason(report: FileReport) -> str | None:
    """Why the checked file cannot be uploaded, or None when it can."""
    if report.codes == 0 and report.problems_total <= 1 and all(p.code == "no_codes" for p in report.problems):
        return "Upload unavailable: the file holds no codes"
    if not report.ok:
        hint = (
            ": choose the code column above"
            if any(p.code in COLUMN_PROBLEMS for p in report.problems)
            else ": fix the file"
        )
        return f"Upload unavailable: {plural(report.problems_total, 'problem')} in the file{hint}"
    if report.codes == 0:
        return "Upload unavailable: the file holds no codes"
    return None


PREVIOUS_UPLOADS = 3


def _upload_line(e) -> str:
    when = e.at.strftime("%Y-%m-%d %H:%M:%S")
    return f"{when} {escape(str(e.details.get('source')))} by {escape(e.actor)} ({e.channel}), {plural(e.details.get('in', 0), 'code')}"


def uploads_text(campaign: str, previous: list, same_file: list) -> str:
    """The check step's word on earlier uploads: a warning naming the first upload of this very
    file (same SHA-256), by whom and when, and the campaign's last few uploads."""
    lines = []
    if same_file:
        first = same_file[-1]
        again = f" ({len(same_file)} times)" if len(same_file) > 1 else ""
        lines.append(
            f"[yellow b]this same file (sha256 {first.details.get('sha256', '')[:12]}) was uploaded before{again}: "
            f"first {_upload_line(first)}[/]"
        )
    if previous:
        lines.append(f"[b]last uploads to {escape(campaign)}[/]")
        lines.extend(f"  {_upload_line(e)}" for e in previous)
    else:
        lines.append(f"[dim]no upload to {escape(campaign)} recorded before[/]")
    return "\n".join(lines)


def check_lines(report: FileReport) -> str:
    return "\n".join(line for section in CHECK_SECTIONS for line in section(report))


def local_file_problem(path: str) -> CodeConsoleError | None:
    """Said in the form before the file is read: a folder, or a path where nothing is."""
    target = Path(path)
    if target.is_dir():
        return InvalidInput("not_a_file", f"{path} is a folder: give the path of a CSV file in it")
    if not target.exists():
        return NotFound("file_not_found", f"no such file: {path}")
    return None


class UploadScreen(ConsoleScreen):
    FORM_GROUPS = frozenset({"keys", "preview", "upload"})
    # Textual's auto focus would pick a field of a hidden step (keys typed during the upload
    # went into the hidden campaign field); each step says where the focus goes.
    AUTO_FOCUS = ""
    BINDINGS = [
        Binding("escape", "escape", "Back", id="upload.escape", tooltip="back a step; while uploading, cancel (no new batch starts)"),
        Binding("ctrl+u", "start", "Upload", id="upload.start", tooltip="upload the checked file (asks first)"),
        Binding("enter", "done", "Done", show=False, id="upload.done"),
    ]

    def __init__(self, campaign: str | None = None) -> None:
        super().__init__()
        self.campaign = campaign or ""
        self.plan: UploadPlan | None = None
        self.checked: UploadPlan | None = None
        self.cancel_event: threading.Event | None = None
        self.started_at: float | None = None
        self.running = False
        self.last_progress: UploadProgress | None = None  # the last report drawn
        # The last report as the worker made it (set from its thread): exact at any moment,
        # where the drawn one may lag behind by the messages not yet handled.
        self.acknowledged: UploadProgress | None = None
        self.plan_running: UploadPlan | None = None
        self.source_field: Widget | None = None  # where the user chose the source: focus returns there
        self.rechecking = False  # a check re-run from the column field: the focus stays there

    def compose(self) -> ComposeResult:
        yield ConsoleHeader()
        with ContentSwitcher(initial="step-source", id="steps"):
            with Vertical(id="step-source", classes="step"):
                yield Static("[b]1 Source[/] · 2 Check · 3 Upload", classes="status")
                with Horizontal(classes="field"):
                    yield Label("campaign ")
                    yield FormInput(self.campaign, id="upload-campaign", placeholder="campaign id")
                # With no bucket configured the only source that can work is a local file: open on it.
                with TabbedContent(id="source-tabs", initial="tab-bucket" if self.console.backends.objects else "tab-file"):
                    with TabPane(f"Bucket key ({self.bucket_label()})", id="tab-bucket"):
                        yield OptionList(id="keys")
                    with TabPane("Local file", id="tab-file"):
                        with Horizontal(classes="field"):
                            yield Label("path ")
                            yield FormInput(id="upload-path", placeholder="/path/to/codes.csv")
                        with Horizontal(classes="field"):
                            yield Label("type ")
                            yield TypeChoice(id="upload-type")
                yield Static(SOURCE_HINT, id="source-hint", classes="hint")
            with Vertical(id="step-check", classes="step"):
                yield Static("1 Source · [b]2 Check[/] · 3 Upload", classes="status")
                yield Static("", id="check-summary")
                yield Static("", id="check-uploads")
                with Horizontal(classes="field"):
                    yield Label("column ")
                    yield FormInput(id="check-column", placeholder="automatic · a header name or a number, enter re-checks")
                with VerticalScroll(classes="preview"):
                    yield Static("", id="check-lines")
                yield Static("", id="start-why", classes="form-error")
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Upload (ctrl+u)", id="start", variant="primary")
                    yield Button("Back (esc)", id="back")
            with Vertical(id="step-run", classes="step"):
                yield Static("1 Source · 2 Check · [b]3 Upload[/]", classes="status")
                yield Static("", id="run-source")
                yield ProgressBar(id="progress", show_eta=False)
                yield StatusLine(id="run-stats")
                yield Static("", id="run-result", classes="result")
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Done", id="done", variant="primary", disabled=True)
        yield Footer(compact=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start":
            return True if self.checked is not None and not self.running else None  # None: shown dimmed
        return True

    def bucket_label(self) -> str:
        return self.console.backends.objects or "no bucket configured"

    def on_mount(self) -> None:
        if self.campaign and not self.console.backends.objects:
            self.query_one("#upload-path", Input).focus()
        elif self.campaign:
            self.list_keys(self.campaign)
            self.query_one("#keys", OptionList).focus()
        else:
            self.query_one("#upload-campaign", Input).focus()

    def step(self) -> str:
        return self.query_one(ContentSwitcher).current or ""

    # -- step 1: source ---------------------------------------------------------------------

    @on(Input.Submitted, "#upload-campaign")
    def campaign_submitted(self, event: Input.Submitted) -> None:
        self.campaign = event.value.strip()
        if self.campaign and not self.console.backends.objects:
            self.query_one("#upload-path", Input).focus()
        elif self.campaign:
            self.list_keys(self.campaign)
            self.query_one("#keys", OptionList).focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="keys")
    def list_keys(self, campaign: str) -> None:
        self.post_message(KeysListed(campaign, self.service.list_keys(self.me, campaign)))

    def on_keys_listed(self, message: KeysListed) -> None:
        keys = self.query_one("#keys", OptionList)
        keys.clear_options()
        if not message.keys:
            keys.add_option(Option(f"no files under codes/{escape(message.campaign)}/", disabled=True))
            return
        keys.add_options(Option(f"{escape(info.key)}  [dim]{info.size:,} bytes[/]", id=info.key) for info in message.keys)
        keys.highlighted = 0

    @on(OptionList.OptionSelected, "#keys")
    def key_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.source_field = self.query_one("#keys", OptionList)
            self.check(UploadPlan(self.current_campaign(), CodeType.TM, key=event.option.id))

    @on(Input.Submitted, "#upload-path")
    def path_submitted(self, event: Input.Submitted) -> None:
        self.source_field = event.input
        if event.value.strip():
            path = str(Path(event.value.strip()).expanduser())
            self.check(UploadPlan(self.current_campaign(), self.query_one("#upload-type", TypeChoice).code_type, path=path))

    def current_campaign(self) -> str:
        return self.query_one("#upload-campaign", Input).value.strip()

    def source_hint(self, text: str, error: bool = False) -> None:
        self.query_one("#source-hint", Static).update(f"[red]{text}[/]" if error else text)

    # -- step 2: check ----------------------------------------------------------------------

    def check(self, plan: UploadPlan) -> None:
        try:
            validate_campaign_id(plan.campaign)
        except InvalidInput as exc:
            # Said here, at the source step, not after the file was read and the upload confirmed.
            self.source_hint(escape("the campaign is missing: type it above, then choose the file again" if not plan.campaign else exc.message), error=True)
            self.query_one("#upload-campaign", Input).focus()
            return
        self.plan = plan
        self.checked = None
        start = self.query_one("#start", Button)
        start.disabled = True  # until this check's report arrives
        self.refresh_bindings()
        self.source_hint(f"checking {escape(plan.source)}…")
        self.preview(plan)

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview")
    def preview(self, plan: UploadPlan) -> None:
        if plan.key:
            code_type, report = self.service.preview_key(self.me, plan.campaign, plan.key, column=plan.column)
        else:
            problem = local_file_problem(plan.path or "")
            if problem is not None:
                raise problem
            code_type, report = plan.code_type, self.service.preview_file(
                self.me, plan.path, column=plan.column, campaign_id=plan.campaign or None
            )
        self.post_message(PreviewReady(plan.source, code_type, report))
        previous = self.service.uploads(self.me, plan.campaign, limit=PREVIOUS_UPLOADS)
        same = self.service.uploads(self.me, plan.campaign, sha256=report.sha256) if report.sha256 else []
        self.post_message(UploadsListed(plan.source, previous, same))

    def on_uploads_listed(self, message: UploadsListed) -> None:
        if self.plan is None or self.plan.source != message.source:
            return
        self.query_one("#check-uploads", Static).update(uploads_text(self.plan.campaign, message.previous, message.same_file))

    def on_preview_ready(self, message: PreviewReady) -> None:
        plan = self.plan
        if plan is None or plan.source != message.source:
            return
        plan = UploadPlan(plan.campaign, message.code_type, plan.key, plan.path, plan.column)
        self.plan = plan
        report = message.report
        self.source_hint(SOURCE_HINT)
        self.query_one("#check-summary", Static).update(check_summary(plan, report))
        self.query_one("#check-lines", Static).update(check_lines(report))
        column = self.query_one("#check-column", Input)
        if column.value.strip() != (plan.column or ""):
            column.value = plan.column or ""
        why = unavailable_reason(report)
        start = self.query_one("#start", Button)
        start.disabled = why is not None
        start.tooltip = why
        self.query_one("#start-why", Static).update(escape(why or ""))
        self.checked = plan if why is None else None
        self.refresh_bindings()
        self.query_one(ContentSwitcher).current = "step-check"
        # The column field keeps the cursor while a column could still cure the file (or the
        # user is trying columns); else Upload, or Back. (ctrl+u in a field deletes its text.)
        column_problem = any(p.code in COLUMN_PROBLEMS for p in report.problems)
        rechecked, self.rechecking = self.rechecking, False
        if why is not None and (rechecked or column_problem):
            column.focus()
        else:
            self.console.move_focus(start if not start.disabled else self.query_one("#back", Button))

    @on(Input.Submitted, "#check-column")
    def column_submitted(self, event: Input.Submitted) -> None:
        """Check the same source again, reading the codes from the column typed (empty: automatic)."""
        plan = self.plan
        if plan is None or self.running:
            return
        column = event.value.strip() or None
        self.rechecking = True
        self.query_one("#start-why", Static).update(f"checking again with column {escape(column or 'automatic')}…")
        self.check(UploadPlan(plan.campaign, plan.code_type, plan.key, plan.path, column))

    def show_error(self, verdict: Verdict) -> None:
        if self.step() == "step-run":
            self.finish(f"[red b]failed[/] · {escape(verdict.message)}")
            return
        self.source_hint(f"{escape(verdict.title)}: {escape(verdict.message)}", error=True)
        self.show_source()

    @on(Button.Pressed, "#back")
    def back_pressed(self) -> None:
        self.show_source()

    @on(Button.Pressed, "#start")
    def start_pressed(self) -> None:
        self.action_start()

    def show_source(self) -> None:
        """Back to step 1, with the focus where the user chose the source (never the tab strip)."""
        self.query_one(ContentSwitcher).current = "step-source"
        field = self.source_field
        if field is None or not field.is_attached:
            field = self.query_one("#upload-campaign", Input)
        field.focus()

    def action_start(self) -> None:
        plan = self.checked
        if plan is None or self.running or self.step() != "step-check":
            return
        body = escape(
            f"Upload {plan.source} into {plan.campaign} as {plan.code_type.value} codes.\n"
            "New codes become available; codes already stored keep their status and get a new saved date."
        )
        self.app.push_screen(ConfirmScreen("Upload codes?", body, "Upload"), partial(self._start_confirmed, plan))

    def _start_confirmed(self, plan: UploadPlan, confirmed: bool | None) -> None:
        if not confirmed:
            return
        self.running = True
        self.plan_running = plan
        self.acknowledged = None
        self.cancel_event = threading.Event()
        self.started_at = None
        self.last_progress = None
        self.query_one("#run-source", Static).update(f"uploading [b]{escape(plan.source)}[/] into {escape(plan.campaign)} ({plan.code_type.value})")
        self.query_one("#run-stats", StatusLine).show(Part("checking the file", 9), Part("escape cancels", 7))
        self.query_one("#run-result", Static).update("")
        self.query_one("#progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#done", Button).disabled = True
        self.query_one(ContentSwitcher).current = "step-run"
        # Nothing to type on this step: a key must not land on a button of the hidden check step.
        self.set_focus(None)
        self.upload(plan, self.cancel_event)

    # -- step 3: run ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="upload")
    def upload(self, plan: UploadPlan, cancel: threading.Event) -> None:
        def progress(p: UploadProgress) -> None:
            self.acknowledged = p
            self.post_message(UploadProgressed(p))

        try:
            if plan.key:
                result = self.service.upload_from_key(self.me, plan.campaign, plan.key, column=plan.column, progress=progress, cancel=cancel)
            else:
                result = self.service.upload_from_file(
                    self.me, plan.campaign, plan.code_type, plan.path, column=plan.column, progress=progress, cancel=cancel
                )
        except Cancelled as exc:
            self.post_message(UploadCancelled(exc.message))
            return
        self.post_message(UploadFinished(result))

    @property
    def cancelling(self) -> bool:
        return self.cancel_event is not None and self.cancel_event.is_set()

    def on_upload_progressed(self, message: UploadProgressed) -> None:
        p = self.last_progress = message.progress
        bar = self.query_one("#progress", ProgressBar)
        stats = self.query_one("#run-stats", StatusLine)
        if p.phase == "validating":
            bar.update(total=None)
            size = f" of {p.total_bytes:,}" if p.total_bytes else ""
            self.started_at = self.console.monotonic()
            if not self.cancelling:
                stats.show(
                    Part(f"checking the file: {plural(p.codes, 'code')}", 9),
                    Part(f"{p.bytes_read:,}{size} bytes read", 4),
                    Part("escape cancels", 7),
                )
            return
        bar.update(total=p.total_codes, progress=p.codes)
        if self.cancelling:
            return
        now = self.console.monotonic()
        elapsed = now - (self.started_at if self.started_at is not None else now)
        rate = p.codes / elapsed if elapsed > 0 else 0.0
        left = (p.total_codes or 0) - p.codes
        eta = _duration(left / rate) if rate > 0 else "–"
        stats.show(
            Part(self.batch_text(p), 9),
            Part(f"{p.codes:,} of {plural(p.total_codes or 0, 'code')} written", 8),
            Part(f"{rate:,.0f} codes/s", 3),
            Part(f"ETA {eta}", 5),
            Part("escape cancels", 7),
        )

    @staticmethod
    def batch_text(p: UploadProgress) -> str:
        if p.batch is not None and p.batches:
            return f"writing batch {p.batch:,} of {p.batches:,}"
        return "writing"

    def on_upload_finished(self, message: UploadFinished) -> None:
        r = message.result
        self.finish(
            f"[green b]done[/] · in: {r.in_:,} · inserted: {r.inserted:,} · updated: {r.updated:,} · conflicts: {r.conflicts:,}"
            + (f" · duplicates: {r.duplicates:,}" if r.duplicates else "")
            + ("\n[yellow]conflicts are codes already stored under the other type; they were left as they are[/]" if r.conflicts else "")
        )
        self.query_one("#run-stats", StatusLine).show()
        self.notify(f"uploaded {plural(r.in_, 'code')}: {r.inserted:,} inserted, {r.updated:,} updated, {r.conflicts:,} conflicts", timeout=5)

    def on_upload_cancelled(self, message: UploadCancelled) -> None:
        self.query_one("#run-stats", StatusLine).show()
        self.finish(f"[yellow b]cancelled[/] · {escape(message.detail)}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "upload" and event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.running = False

    def finish(self, text: str) -> None:
        self.running = False
        self.query_one("#run-result", Static).update(text)
        done = self.query_one("#done", Button)
        done.disabled = False
        done.focus()
        upload_ended = getattr(self.app, "upload_ended", None)
        if upload_ended is not None:
            upload_ended()

    @on(Button.Pressed, "#done")
    def done_pressed(self) -> None:
        self.action_done()

    def action_done(self) -> None:
        """Enter, once the upload has ended, even before the Done button took the focus."""
        if self.step() == "step-run" and not self.running and not self.query_one("#done", Button).disabled:
            self.app.pop_screen()

    def cancel_upload(self) -> bool:
        """Set the cancel event: the core starts no batch after it. True if an upload was running."""
        if self.running and self.cancel_event is not None:
            self.cancel_event.set()
            return True
        return False

    def stop_work(self) -> None:
        if self.cancel_upload():
            self.console.exit_notes.append(self.quit_note())

    def quit_note(self) -> str:
        """Said on the terminal after quitting mid-upload: what was written when the user answered."""
        p, plan = self.acknowledged, self.plan_running
        source = f" of {plan.source} into {plan.campaign}" if plan else ""
        if p is None or p.phase != "writing":
            return f"code-console: quit during the upload{source}: nothing was written (the file was still being checked)."
        batch = -(-(p.total_codes or 0) // p.batches) if p.batches else 0
        return (
            f"code-console: quit during the upload{source}: {p.codes:,} of {plural(p.total_codes or 0, 'code')} "
            f"were written when you answered; the batch being written then (up to {batch:,} codes) may still land, "
            "and no batch started after. Re-running the upload completes it safely."
        )

    def progress_text(self) -> str:
        p = self.last_progress
        if p is None or p.phase != "writing":
            return "the file is still being checked; nothing is written yet"
        return f"{self.batch_text(p)}: {p.codes:,} of {plural(p.total_codes or 0, 'code')} written"

    def quit_question(self) -> str:
        return (
            f"An upload is running ({self.progress_text()}).\n"
            "Cancelling starts no new batch; the batch already sent may still land. "
            "Re-running the upload later completes it safely."
        )

    def action_escape(self) -> None:
        step = self.step()
        if self.running and not self.cancelling:
            self.cancel_upload()
            being = self.batch_text(self.last_progress) if self.last_progress and self.last_progress.phase == "writing" else "checking"
            self.query_one("#run-stats", StatusLine).show(
                Part(Text("cancelling: no new batch starts", style="bold yellow"), 9),
                Part(f"{being} finishes first", 5),
                Part("escape again leaves", 7),
            )
        elif self.running:
            # The store is slow to finish the batch in flight: leave it to finish on its own.
            self.notify("the upload stops before its next batch; re-running it completes it", severity="warning", timeout=6)
            self.app.pop_screen()
        elif step == "step-check":
            self.show_source()
        else:
            self.app.pop_screen()

    def palette_commands(self) -> Iterable[SystemCommand]:
        if self.running:
            yield SystemCommand("Cancel upload", "No new batch starts; the one being written finishes", self.action_escape)
        else:
            yield SystemCommand("Start upload", "Upload the checked file", self.action_start)
            yield SystemCommand("Close upload wizard", "Go back", self.action_escape)
