"""The Textual console: one app, one service, every store call in a thread worker.

Failures of those workers all arrive in `worker_changed` and are judged by the one error
policy (ui/policy.py): the store going away or slowing down becomes a header mark and one
notification (polls keep trying, so the console recovers by itself); a failed user action is
said in the form it came from, which stays open, or else in a dialog. Nothing a worker raises
stops the app, and nothing a worker is blocked in holds quitting (ui/threads.py).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections import deque
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

from rich.text import Text
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from code_console.core.models import LOCAL_OPERATOR, Channel, CodeType, Principal
from code_console.core.service import CodeService
from code_console.ui.dialogs.codes import CodesDialog
from code_console.ui.dialogs.confirm import ConfirmScreen
from code_console.ui.dialogs.error import ErrorScreen
from code_console.ui.dialogs.help import HelpScreen
from code_console.ui.dialogs.outcome import OutcomeScreen
from code_console.ui.dialogs.reserve import ReserveDialog
from code_console.ui.dialogs.reserved import ReservedScreen
from code_console.ui.fit import Part
from code_console.ui.keys import KeyRow, key_rows
from code_console.ui.messages import StoreStateChanged
from code_console.ui.policy import Reaction, StoreState, judge
from code_console.ui.saving import default_save_dir
from code_console.ui.screens.activity import ActivityScreen
from code_console.ui.screens.base import ConsoleScreen
from code_console.ui.screens.browser import BrowserScreen
from code_console.ui.screens.campaign import CampaignScreen
from code_console.ui.screens.lookup import LookupScreen
from code_console.ui.screens.upload import UploadScreen
from code_console.ui.threads import DaemonExecutor, run_bounded
from code_console.ui.typing_guard import TypingGuard, type_into
from code_console.ui.widgets.tables import RowTable

# Worker groups that talk to the store; their success means the store answers.
STORE_GROUPS = frozenset({"campaigns", "counts", "action", "lookup", "reservation", "history", "activity"})
# Timed polls: their failures are reported once per outage (the header), not in a dialog each time.
POLL_GROUPS = frozenset({"campaigns", "counts", "activity"})
HISTORY = 240
# App shortcuts that a dialog must not trigger (ctrl+q still quits from anywhere).
NOT_IN_DIALOGS = frozenset({"lookup", "help", "request_quit", "traffic_pause", "traffic_faster", "traffic_slower"})
TRAFFIC = Binding.Group("Traffic")
# Quitting waits this long for the store connection to close, then goes anyway.
CLOSE_SECONDS = 0.5


def local_now() -> datetime:
    return datetime.now().astimezone()


def short_label(label: str) -> str:
    """A backend label for a narrow header: `mongodb://u@h:27017/?x` -> `mongodb h:27017`."""
    if "://" in label:
        scheme, _, rest = label.partition("://")
        hosts = rest.split("@")[-1].split("/")[0].split("?")[0].split(",")
        return f"{scheme} {hosts[0]}" + (f" +{len(hosts) - 1}" if len(hosts) > 1 else "")
    return label.split(" (")[0]


class CodeConsoleApp(App[None]):
    CSS_PATH = "console.tcss"
    TITLE = "code-console"
    BINDINGS = [
        Binding("ctrl+p", "command_palette", "palette", show=False, priority=True, tooltip="command palette: every action, searchable"),
        # Footers show a screen's own keys first; app keys a screen has room for are repeated
        # there (shown), so that every footer fits 80 columns.
        Binding("l", "lookup", "Lookup", show=False, id="app.lookup", tooltip="look up a code, or a reservation by its reserveId"),
        Binding("question_mark,f1", "help", "Help", id="app.help", tooltip="this list of keys"),
        Binding("q", "request_quit", "Quit", id="app.quit", tooltip="quit; while an upload runs, asks whether to cancel it"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="app.quit_anywhere", tooltip="quit from anywhere, a dialog too"),
        Binding("t", "traffic_pause", "Traffic", show=False, id="app.traffic", group=TRAFFIC, tooltip="demo: pause the simulated traffic, faster, slower"),
        Binding("plus,equals_sign", "traffic_faster", "Faster", show=False, id="app.faster", group=TRAFFIC),
        Binding("minus", "traffic_slower", "Slower", show=False, id="app.slower", group=TRAFFIC),
    ]

    def __init__(
        self,
        service: CodeService,
        *,
        refresh_seconds: float | None = 2.0,
        low_stock: dict[CodeType, int] | int = 1_000,
        demo: bool = False,
        traffic=None,
        prepare: Callable[[], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = local_now,
        save_dir: Path | None = None,
        new_reservation_key: Callable[[], str] = lambda: str(uuid.uuid4()),
        operator: Principal | None = None,
    ) -> None:
        super().__init__()
        self.service = service
        # Who acts through this console (runtime.operator), recorded with every change it makes.
        self.operator = operator or replace(LOCAL_OPERATOR, channel=Channel.CONSOLE)
        self.backends = service.describe()
        self.refresh_seconds = refresh_seconds
        self.low_stock = low_stock if isinstance(low_stock, dict) else {t: low_stock for t in CodeType}
        self.demo = demo
        self.traffic = traffic
        self.monotonic = monotonic
        self.wall_clock = wall_clock
        self.save_dir = save_dir or default_save_dir()
        # Each reserve the console makes carries a key (a dashed UUID v4, also its reserveId),
        # so that retrying after a lost answer returns the same codes.
        self.new_reservation_key = new_reservation_key
        self.store_state = StoreState.OK
        self.store_detail = ""
        self.history: dict[tuple[str, CodeType], deque[int]] = {}
        self.typing_guard = TypingGuard()
        self.exit_notes: list[str] = []  # printed on the terminal once the app has left it
        self._prepare = prepare
        self._prepared = False

    # -- start ----------------------------------------------------------------------------

    def on_load(self) -> None:
        # Thread workers run on daemon threads that quitting never waits for (ui/threads.py).
        asyncio.get_running_loop().set_default_executor(DaemonExecutor())

    def on_mount(self) -> None:
        self.show_sub_title()
        self.push_screen(BrowserScreen())
        if self.traffic is not None:
            self.traffic.start()

    def on_unmount(self) -> None:
        if self.traffic is not None:
            self.traffic.stop(wait=False)

    def ensure_ready(self) -> None:
        """Run the one-time store preparation (indexes) from a worker, until it succeeds once."""
        if self._prepare is not None and not self._prepared:
            self._prepare()
            self._prepared = True

    # -- the header -----------------------------------------------------------------------

    def header_parts(self) -> list[Part]:
        """What the header says after the app's name, most important parts kept longest."""
        parts: list[Part] = []
        if self.demo:
            parts.append(Part(Text("DEMO", style="bold"), 90))
            if self.traffic is not None:
                parts.append(Part(self.traffic.describe(), 20))
        if self.store_state is StoreState.UNREACHABLE:
            parts.append(Part(Text("STORE UNREACHABLE", style="bold reverse red"), 95))
        elif self.store_state is StoreState.SLOW:
            parts.append(Part(Text("STORE SLOW", style="bold reverse yellow"), 95))
        parts.append(Part(f"as {self.operator.subject}", 5))
        parts.append(Part(self.backends.store, 50, short=short_label(self.backends.store)))
        if self.backends.objects is not None and not self.demo:
            parts.append(Part(self.backends.objects, 10))
        return parts

    def show_sub_title(self) -> None:
        self.sub_title = " · ".join(p.plain for p in self.header_parts())

    @property
    def ttl_text(self) -> str:
        seconds = self.service.reservation_ttl.total_seconds()
        return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds:g} s"

    def record_available(self, campaign: str, code_type: CodeType, available: int) -> list[int]:
        series = self.history.setdefault((campaign, code_type), deque(maxlen=HISTORY))
        series.append(available)
        return list(series)

    def show_alerts(self, records) -> None:
        """Alerts recorded by `code-console watch` or `serve` (CodeService.alerts): a toast for
        each crossing not shown yet while its condition holds; `active_alerts` for the panels."""
        seen: set = getattr(self, "alerts_seen", set())
        self.alerts_seen = seen
        self.active_alerts = {r.key: r for r in records if r.low}
        for record in sorted(self.active_alerts.values(), key=lambda r: r.changed):
            crossing = f"{record.key}#{record.crossing}"
            if crossing in seen:
                continue
            seen.add(crossing)
            title = "Low-stock alert" if record.kind == "low_stock" else "Runs out soon"
            sent = "sent to the webhook" if record.delivered else "recorded (not delivered to a webhook)"
            self.notify(f"{record.detail.get('message', record.key)}\n{sent}", title=title, severity="warning", timeout=10)

    # -- keys -----------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded and event.character:
            field = self.typing_guard.redirect(event, self.focused, self.screen)
            if field is not None:
                type_into(field, event.character)
                return
        elif isinstance(event, events.Key) and not event.is_forwarded:
            self.typing_guard.redirect(event, self.focused, self.screen)
        elif isinstance(event, events.MouseDown):
            self.typing_guard.reset()
        await super().on_event(event)

    def move_focus(self, widget) -> None:
        """Focus `widget` unless the user is typing into a field on this screen (a result that
        arrives while they type must not take their keys)."""
        if self.typing_guard.typing_into(self.focused) is self.focused and self.focused is not None:
            return
        widget.focus()

    # -- the one failure path -------------------------------------------------------------

    def worker_changed(self, worker: Worker, state: WorkerState, form=None) -> None:
        if state == WorkerState.SUCCESS and worker.group in STORE_GROUPS:
            self.set_store_state(StoreState.OK)
        elif state == WorkerState.ERROR:
            self.report_failure(worker.group, worker.error, form)

    def set_store_state(self, state: StoreState, detail: str = "") -> None:
        if state is self.store_state:
            self.store_detail = detail or self.store_detail
            return
        self.store_state, self.store_detail = state, detail
        self.show_sub_title()
        if state is StoreState.OK:
            self.notify("The store answers again; counts are live.", title="Store is back", timeout=6)
        elif state is StoreState.SLOW:
            self.notify(f"{detail}\nThe server is busy, not down; the console keeps trying.", title="Store slow", severity="warning", timeout=10)
        else:
            self.notify(f"{detail}\nThe console keeps trying.", title="Store unreachable", severity="error", timeout=10)
        for screen in self.screen_stack:
            if isinstance(screen, ConsoleScreen):
                screen.store_state_changed()
        self.post_message(StoreStateChanged(state, detail))

    def report_failure(self, group: str | None, error: BaseException | None, form=None) -> None:
        verdict = judge(error)
        if verdict.store is not None:
            self.set_store_state(verdict.store, verdict.message)
        if verdict.reaction is Reaction.QUIET:
            return
        if verdict.reaction is Reaction.OUTAGE and group in POLL_GROUPS:
            return  # the header and the stale-counts line say it; a dialog every poll would not help
        if form is not None and form.has_form():
            form.show_error(verdict)
            return
        self.push_screen(ErrorScreen(verdict.title, verdict.message))

    # -- navigation -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action.startswith("traffic_") and self.traffic is None:
            return False
        if action in NOT_IN_DIALOGS and isinstance(self.screen, ModalScreen):
            return False
        return True

    def open_campaign(self, campaign: str) -> None:
        self.push_screen(CampaignScreen(campaign))

    def open_upload(self, campaign: str | None = None) -> None:
        self.push_screen(UploadScreen(campaign))

    def action_lookup(self) -> None:
        if not isinstance(self.screen, LookupScreen):
            campaign = getattr(self.screen, "campaign", None)
            self.push_screen(LookupScreen(campaign if isinstance(campaign, str) else None))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(help_rows()))

    # -- quitting -------------------------------------------------------------------------

    def running_upload(self) -> UploadScreen | None:
        return next((s for s in self.screen_stack if isinstance(s, UploadScreen) and s.running), None)

    def action_request_quit(self) -> None:
        self.ask_to_quit()

    async def action_quit(self) -> None:
        self.ask_to_quit()

    def ask_to_quit(self) -> None:
        upload = self.running_upload()
        if upload is None or isinstance(self.screen, QuitConfirmation):
            self.quit_now()
            return
        self.push_screen(
            QuitConfirmation("Cancel the upload and quit?", upload.quit_question(), "Cancel upload and quit", danger=True, cancel_label="Keep uploading"),
            self._quit_answered,
        )

    def _quit_answered(self, confirmed: bool | None) -> None:
        if confirmed:
            self.quit_now()

    def upload_ended(self) -> None:
        """An upload ended (done, failed or cancelled): a question about cancelling it, still open,
        would now claim a cancel that cannot happen. Ask again, truthfully."""
        if isinstance(self.screen, QuitConfirmation) and self.running_upload() is None:
            self.screen.dismiss(None)
            self.push_screen(
                ConfirmScreen("The upload has ended", UPLOAD_ENDED_WHILE_ASKING, "Quit", cancel_label="Stay"),
                self._quit_answered,
            )

    def quit_now(self) -> None:
        """Stop every job (no upload batch starts after this) and leave without waiting for any."""
        for screen in self.screen_stack:
            if isinstance(screen, ConsoleScreen):
                screen.stop_work()
        self.workers.cancel_all()
        self.exit()

    # -- demo traffic ---------------------------------------------------------------------

    def action_traffic_pause(self) -> None:
        paused = self.traffic.toggle_pause()
        self.notify("demo traffic paused" if paused else f"demo traffic resumed at {self.traffic.rate}/s", timeout=3)
        self.show_sub_title()

    def action_traffic_faster(self) -> None:
        self.traffic.faster()
        self.show_sub_title()

    def action_traffic_slower(self) -> None:
        self.traffic.slower()
        self.show_sub_title()

    # -- command palette ------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        own = list(screen.palette_commands()) if isinstance(screen, ConsoleScreen) else []
        yield from own
        yield SystemCommand("Look up a code", "Find a code or a reservation and release it", self.action_lookup)
        if not any(command.title == "Upload codes" for command in own):
            yield SystemCommand("Upload codes", "Open the upload wizard", lambda: self.open_upload(getattr(screen, "campaign", None) or None))
        yield SystemCommand("Help: keys", "List every key of the console", self.action_help)
        if self.traffic is not None:
            yield SystemCommand("Pause or resume demo traffic", "The simulated verification service", self.action_traffic_pause)
            yield SystemCommand("Demo traffic faster", "More reservations per second", self.action_traffic_faster)
            yield SystemCommand("Demo traffic slower", "Fewer reservations per second", self.action_traffic_slower)
        yield from super().get_system_commands(screen)


UPLOAD_ENDED_WHILE_ASKING = "It ended while you were deciding, so quitting now cancels nothing. Stay to see its result."


class QuitConfirmation(ConfirmScreen):
    """Asked when quitting would cancel an upload."""


def help_rows() -> list[KeyRow]:
    """Every documented key, by where it works: the help screen and the README's key table."""
    return key_rows(
        [
            ("everywhere", [CodeConsoleApp]),
            ("campaigns", [BrowserScreen, RowTable]),
            ("campaign", [CampaignScreen]),
            ("activity", [ActivityScreen]),
            ("upload", [UploadScreen]),
            ("lookup", [LookupScreen]),
            ("dialogs", [ConfirmScreen, ReserveDialog, CodesDialog, ReservedScreen, OutcomeScreen]),
        ]
    )


def low_stock_thresholds(settings) -> dict[CodeType, int]:
    per_type = settings.console.low_stock_thresholds
    return {t: int(per_type.get(t.value, settings.console.low_stock_threshold)) for t in CodeType}


def run_console(demo: bool = False) -> int:
    from code_console import runtime

    if demo:
        print("code-console demo: seeding sample campaigns…", file=sys.stderr)
        wired = runtime.demo()
        prepare = None
    else:
        # The store prepares from a worker, so that the console starts (and keeps retrying)
        # while MongoDB is still unreachable.
        wired = runtime.configured(prepare=False)
        prepare = wired.service.prepare
    settings, service, traffic = wired.settings, wired.service, wired.traffic
    app = CodeConsoleApp(
        service,
        refresh_seconds=settings.console.refresh_seconds,
        low_stock=low_stock_thresholds(settings),
        demo=demo,
        traffic=traffic,
        prepare=prepare,
        operator=runtime.operator(settings, Channel.CONSOLE),
    )
    try:
        app.run()
    except KeyboardInterrupt:
        pass  # a SIGINT from outside the terminal: leave as from `q`, without a traceback
    closed = True
    try:
        wired.cleanup()
        # A stalled server can hold a client's close for its whole socket timeout: bounded.
        closed = run_bounded(service.close, CLOSE_SECONDS, "close-store")
    except KeyboardInterrupt:
        closed = False
    code = app.return_code or 0
    for note in app.exit_notes:
        print(note)
    if not closed:
        # The store did not let go in time: pymongo's exit handlers would wait for its
        # threads too (a second each). Leave now; the terminal is already restored.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
