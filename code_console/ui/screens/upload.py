"""The upload wizard: choose a source (a bucket key or a local file), check it, then run it
with a progress bar that Escape cancels, and show the result."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Iterable

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    ContentSwitcher,
    Footer,
    Header,
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

from code_console.core.errors import Cancelled
from code_console.core.models import LOCAL_OPERATOR, CodeType, UploadProgress
from code_console.ui.messages import KeysListed, PreviewReady, UploadCancelled, UploadFinished, UploadProgressed
from code_console.ui.screens.actions import TypeChoice
from code_console.ui.screens.base import ConsoleScreen
from code_console.ui.screens.dialogs import ConfirmScreen

ME = LOCAL_OPERATOR


@dataclass(frozen=True)
class UploadPlan:
    campaign: str
    code_type: CodeType
    key: str | None = None
    path: str | None = None

    @property
    def source(self) -> str:
        return self.key or self.path or ""


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


class UploadScreen(ConsoleScreen):
    BINDINGS = [
        Binding("escape", "escape", "Back / cancel", id="upload.escape"),
        Binding("ctrl+u", "start", "Upload", id="upload.start"),
    ]

    def __init__(self, campaign: str | None = None) -> None:
        super().__init__()
        self.campaign = campaign or ""
        self.plan: UploadPlan | None = None
        self.checked: UploadPlan | None = None
        self.cancel_event: threading.Event | None = None
        self.started_at: float | None = None
        self.running = False

    def compose(self) -> ComposeResult:
        yield Header()
        with ContentSwitcher(initial="step-source", id="steps"):
            with Vertical(id="step-source", classes="step"):
                yield Static("[b]1 Source[/] · 2 Check · 3 Upload", classes="status")
                with Horizontal(classes="field"):
                    yield Label("campaign ")
                    yield Input(self.campaign, id="upload-campaign", placeholder="campaign id")
                with TabbedContent(id="source-tabs"):
                    with TabPane(f"Bucket key ({self.bucket_label()})", id="tab-bucket"):
                        yield OptionList(id="keys")
                    with TabPane("Local file", id="tab-file"):
                        with Horizontal(classes="field"):
                            yield Label("path ")
                            yield Input(id="upload-path", placeholder="/path/to/codes.csv")
                        with Horizontal(classes="field"):
                            yield Label("type ")
                            yield TypeChoice(id="upload-type")
                yield Static("enter on a key or a path checks the file; nothing is written yet", id="source-hint", classes="hint")
            with Vertical(id="step-check", classes="step"):
                yield Static("1 Source · [b]2 Check[/] · 3 Upload", classes="status")
                yield Static("", id="check-summary")
                with VerticalScroll(classes="preview"):
                    yield Static("", id="check-lines")
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Upload (ctrl+u)", id="start", variant="primary")
                    yield Button("Back (esc)", id="back")
            with Vertical(id="step-run", classes="step"):
                yield Static("1 Source · 2 Check · [b]3 Upload[/]", classes="status")
                yield Static("", id="run-source")
                yield ProgressBar(id="progress", show_eta=False)
                yield Static("", id="run-stats")
                yield Static("", id="run-result", classes="result")
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Done", id="done", variant="primary", disabled=True)
        yield Footer(compact=True)

    def bucket_label(self) -> str:
        return self.service.describe().objects or "no bucket configured"

    def on_mount(self) -> None:
        if self.campaign:
            self.list_keys(self.campaign)
            self.query_one("#keys", OptionList).focus()
        else:
            self.query_one("#upload-campaign", Input).focus()

    # -- step 1: source ---------------------------------------------------------------------

    @on(Input.Submitted, "#upload-campaign")
    def campaign_submitted(self, event: Input.Submitted) -> None:
        self.campaign = event.value.strip()
        if self.campaign:
            self.list_keys(self.campaign)
            self.query_one("#keys", OptionList).focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="keys")
    def list_keys(self, campaign: str) -> None:
        self.post_message(KeysListed(campaign, self.service.list_keys(ME, campaign)))

    def on_keys_listed(self, message: KeysListed) -> None:
        keys = self.query_one("#keys", OptionList)
        keys.clear_options()
        if not message.keys:
            keys.add_option(Option(f"no files under codes/{message.campaign}/", disabled=True))
            return
        keys.add_options(Option(f"{info.key}  [dim]{info.size:,} bytes[/]", id=info.key) for info in message.keys)
        keys.highlighted = 0

    @on(OptionList.OptionSelected, "#keys")
    def key_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.check(UploadPlan(self.current_campaign(), CodeType.TM, key=event.option.id))

    @on(Input.Submitted, "#upload-path")
    def path_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            path = str(Path(event.value.strip()).expanduser())
            self.check(UploadPlan(self.current_campaign(), self.query_one("#upload-type", TypeChoice).code_type, path=path))

    def current_campaign(self) -> str:
        return self.query_one("#upload-campaign", Input).value.strip()

    # -- step 2: check ----------------------------------------------------------------------

    def check(self, plan: UploadPlan) -> None:
        self.plan = plan
        self.checked = None
        self.query_one("#source-hint", Static).update(f"checking {escape(plan.source)}…")
        self.preview(plan)

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview")
    def preview(self, plan: UploadPlan) -> None:
        if plan.key:
            code_type, report = self.service.preview_key(ME, plan.campaign, plan.key)
        else:
            code_type, report = plan.code_type, self.service.preview_file(ME, plan.path)
        self.post_message(PreviewReady(plan.source, code_type, report))

    def on_preview_ready(self, message: PreviewReady) -> None:
        plan = self.plan
        if plan is None or plan.source != message.source:
            return
        plan = UploadPlan(plan.campaign, message.code_type, plan.key, plan.path)
        self.plan = plan
        report = message.report
        self.query_one("#source-hint", Static).update("enter on a key or a path checks the file; nothing is written yet")
        verdict = (
            "[green]no problems found[/]"
            if report.ok
            else f"[red b]{report.problems_total:,} problem{'s' if report.problems_total != 1 else ''} found: fix the file, nothing will be uploaded[/]"
        )
        self.query_one("#check-summary", Static).update(
            f"[b]{escape(plan.source)}[/]\ncampaign [b]{escape(plan.campaign)}[/] · type [b]{plan.code_type.value}[/] · "
            f"{report.codes:,} codes on {report.lines:,} lines\n{verdict}"
        )
        lines = []
        if report.problems:
            more = report.problems_total - len(report.problems)
            lines += ["[b red]problems[/]"] + [f"  {escape(str(p))}" for p in report.problems]
            lines += [f"  … and {more:,} more"] if more else []
        lines += ["[b]first codes[/]"] + [f"  {escape(c)}" for c in report.first_codes]
        self.query_one("#check-lines", Static).update("\n".join(lines))
        start = self.query_one("#start", Button)
        start.disabled = not report.ok or report.codes == 0
        self.checked = plan if not start.disabled else None
        self.query_one(ContentSwitcher).current = "step-check"
        (start if not start.disabled else self.query_one("#back", Button)).focus()

    @on(Button.Pressed, "#back")
    def back_pressed(self) -> None:
        self.show_source()

    @on(Button.Pressed, "#start")
    def start_pressed(self) -> None:
        self.action_start()

    def show_source(self) -> None:
        self.query_one(ContentSwitcher).current = "step-source"
        self.query_one("#source-tabs", TabbedContent).focus()

    def action_start(self) -> None:
        plan = self.checked
        if plan is None or self.running or self.query_one(ContentSwitcher).current != "step-check":
            return
        body = (
            f"Upload {escape(plan.source)} into {escape(plan.campaign)} as {plan.code_type.value} codes.\n"
            "New codes become available; codes already stored keep their status and get a new saved date."
        )
        self.app.push_screen(ConfirmScreen("Upload codes?", body, "Upload"), partial(self._start_confirmed, plan))

    def _start_confirmed(self, plan: UploadPlan, confirmed: bool | None) -> None:
        if not confirmed:
            return
        self.running = True
        self.cancel_event = threading.Event()
        self.started_at = None
        self.query_one("#run-source", Static).update(f"uploading [b]{escape(plan.source)}[/] into {escape(plan.campaign)} ({plan.code_type.value})")
        self.query_one("#run-stats", Static).update("validating… (escape cancels)")
        self.query_one("#run-result", Static).update("")
        self.query_one("#progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#done", Button).disabled = True
        self.query_one(ContentSwitcher).current = "step-run"
        self.upload(plan, self.cancel_event)

    # -- step 3: run ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="upload")
    def upload(self, plan: UploadPlan, cancel: threading.Event) -> None:
        def progress(p: UploadProgress) -> None:
            self.post_message(UploadProgressed(p))

        try:
            if plan.key:
                result = self.service.upload_from_key(ME, plan.campaign, plan.key, progress=progress, cancel=cancel)
            else:
                result = self.service.upload_from_file(ME, plan.campaign, plan.code_type, plan.path, progress=progress, cancel=cancel)
        except Cancelled as exc:
            self.post_message(UploadCancelled(exc.message))
            return
        self.post_message(UploadFinished(result))

    def on_upload_progressed(self, message: UploadProgressed) -> None:
        p = message.progress
        bar = self.query_one("#progress", ProgressBar)
        now = self.console.monotonic()
        if p.phase == "validating":
            bar.update(total=None)
            size = f" of {p.total_bytes:,}" if p.total_bytes else ""
            self.query_one("#run-stats", Static).update(f"validating: {p.codes:,} codes, {p.bytes_read:,}{size} bytes read · escape cancels")
            self.started_at = now
            return
        bar.update(total=p.total_codes, progress=p.codes)
        elapsed = now - (self.started_at if self.started_at is not None else now)
        rate = p.codes / elapsed if elapsed > 0 else 0.0
        left = (p.total_codes or 0) - p.codes
        eta = _duration(left / rate) if rate > 0 else "–"
        self.query_one("#run-stats", Static).update(
            f"written {p.codes:,} of {p.total_codes:,} codes · {rate:,.0f} codes/s · ETA {eta} · escape cancels"
        )

    def on_upload_finished(self, message: UploadFinished) -> None:
        r = message.result
        self.finish(
            f"[green b]done[/] · in: {r.in_:,} · inserted: {r.inserted:,} · updated: {r.updated:,} · conflicts: {r.conflicts:,}"
            + ("\n[yellow]conflicts are codes already stored under the other type; they were left as they are[/]" if r.conflicts else "")
        )
        self.query_one("#run-stats", Static).update("")
        self.notify(f"uploaded {r.in_:,} codes: {r.inserted:,} inserted, {r.updated:,} updated, {r.conflicts:,} conflicts")

    def on_upload_cancelled(self, message: UploadCancelled) -> None:
        self.finish(f"[yellow b]cancelled[/] · {escape(message.detail)}")
        self.notify("upload cancelled", severity="warning")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "upload" and event.state == WorkerState.ERROR:
            error = event.worker.error
            self.finish(f"[red b]failed[/] · {escape(getattr(error, 'message', None) or str(error))}")
        if event.worker.group == "preview" and event.state == WorkerState.ERROR:
            self.query_one("#source-hint", Static).update("the check failed; see the message")

    def finish(self, text: str) -> None:
        self.running = False
        self.query_one("#run-result", Static).update(text)
        done = self.query_one("#done", Button)
        done.disabled = False
        done.focus()

    @on(Button.Pressed, "#done")
    def done_pressed(self) -> None:
        self.app.pop_screen()

    def action_escape(self) -> None:
        step = self.query_one(ContentSwitcher).current
        if self.running and self.cancel_event is not None:
            self.cancel_event.set()
            self.query_one("#run-stats", Static).update("cancelling after the batch in flight…")
        elif step == "step-check":
            self.show_source()
        else:
            self.app.pop_screen()

    def palette_commands(self) -> Iterable[SystemCommand]:
        if self.running:
            yield SystemCommand("Cancel upload", "Stop the upload after the batch in flight", self.action_escape)
        else:
            yield SystemCommand("Start upload", "Upload the checked file", self.action_start)
            yield SystemCommand("Close upload wizard", "Go back", self.action_escape)
