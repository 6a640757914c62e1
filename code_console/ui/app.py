"""The Textual console: one app, one service, every store call in a thread worker.

Failures of those workers all arrive in `worker_changed`: the store going away becomes a
notification and a header mark (polls keep trying, so the console recovers by itself);
a failed user action becomes an error modal. Nothing a worker raises stops the app.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from code_console.core.errors import CodeConsoleError, ObjectStoreUnavailable, StoreUnavailable
from code_console.core.models import CodeType
from code_console.core.service import CodeService
from code_console.ui.messages import StoreStatusChanged
from code_console.ui.screens.base import ConsoleScreen, steady
from code_console.ui.screens.browser import BrowserScreen
from code_console.ui.screens.campaign import CampaignScreen
from code_console.ui.screens.dialogs import ErrorScreen, HelpScreen
from code_console.ui.screens.lookup import LookupScreen
from code_console.ui.screens.upload import UploadScreen

# Worker groups that talk to the store; their success means the store answers.
STORE_GROUPS = frozenset({"campaigns", "counts", "action", "lookup", "reservation"})
# Timed polls: their failures are reported once per outage, not in a modal each time.
POLL_GROUPS = frozenset({"campaigns", "counts"})
HISTORY = 240


class CodeConsoleApp(App[None]):
    CSS_PATH = "console.tcss"
    TITLE = "code-console"
    BINDINGS = [
        Binding("l", "lookup", "Lookup", id="app.lookup"),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("t", "traffic_pause", "Traffic", id="app.traffic"),
        Binding("plus,equals_sign", "traffic_faster", "Faster", show=False, id="app.faster"),
        Binding("minus", "traffic_slower", "Slower", show=False, id="app.slower"),
        Binding("q", "quit", "Quit", id="app.quit"),
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
        save_dir: Path | None = None,
        steady_cursor: bool = False,
    ) -> None:
        super().__init__()
        self.service = service
        self.refresh_seconds = refresh_seconds
        self.low_stock = low_stock if isinstance(low_stock, dict) else {t: low_stock for t in CodeType}
        self.demo = demo
        self.traffic = traffic
        self.monotonic = monotonic
        self.save_dir = save_dir or Path.cwd()
        self.steady_cursor = steady_cursor
        self.store_ok = True
        self.history: dict[tuple[str, CodeType], deque[int]] = {}
        self._prepare = prepare
        self._prepared = threading.Event()

    # -- start ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.show_sub_title()
        self.push_screen(BrowserScreen())
        if self.traffic is not None:
            self.traffic.start()

    def on_unmount(self) -> None:
        if self.traffic is not None:
            self.traffic.stop()

    def ensure_ready(self) -> None:
        """Run the one-time store preparation (indexes) from a worker, until it succeeds once."""
        if self._prepare is not None and not self._prepared.is_set():
            self._prepare()
            self._prepared.set()

    def show_sub_title(self) -> None:
        parts = []
        if self.demo:
            parts.append("DEMO")
            if self.traffic is not None:
                parts.append(self.traffic.describe())
        if not self.store_ok:
            parts.append("STORE UNREACHABLE")
        backends = self.service.describe()
        parts.append(backends.store)
        if backends.objects is not None and not self.demo:
            parts.append(backends.objects)
        self.sub_title = " · ".join(parts)

    @property
    def ttl_text(self) -> str:
        hours = self.service.reservation_ttl.total_seconds() / 3600
        return f"{hours:g} h" if hours >= 1 else f"{self.service.reservation_ttl.total_seconds():g} s"

    def steady_widgets(self, screen: Screen) -> None:
        if self.steady_cursor:
            steady(screen)

    def record_available(self, campaign: str, code_type: CodeType, available: int) -> list[int]:
        series = self.history.setdefault((campaign, code_type), deque(maxlen=HISTORY))
        series.append(available)
        return list(series)

    # -- the one failure path -------------------------------------------------------------

    def worker_changed(self, worker: Worker, state: WorkerState) -> None:
        if state == WorkerState.SUCCESS and worker.group in STORE_GROUPS:
            self.set_store_ok(True)
        elif state == WorkerState.ERROR:
            self.report_failure(worker.group, worker.error)

    def set_store_ok(self, ok: bool, detail: str = "") -> None:
        if ok == self.store_ok:
            return
        self.store_ok = ok
        self.show_sub_title()
        if ok:
            self.notify("The store answers again; counts are live.", title="Store is back", timeout=6)
        else:
            self.notify(f"{detail}\nThe console keeps trying.", title="Store unreachable", severity="error", timeout=10)
        self.post_message(StoreStatusChanged(ok, detail))

    def report_failure(self, group: str, error: BaseException | None) -> None:
        if isinstance(error, StoreUnavailable):
            self.set_store_ok(False, error.message)
            if group in POLL_GROUPS:
                return
        if isinstance(error, ObjectStoreUnavailable) and group in POLL_GROUPS:
            self.notify(error.message, title="S3 unreachable", severity="error")
            return
        if isinstance(error, CodeConsoleError):
            title = {
                "store_unavailable": "Store unreachable",
                "object_store_unavailable": "S3 unreachable",
            }.get(error.code, f"Cannot do that ({error.code})")
            self.push_screen(ErrorScreen(title, error.message))
        elif isinstance(error, OSError):
            self.push_screen(ErrorScreen("File error", f"{error.strerror or error}: {getattr(error, 'filename', '') or ''}".strip(": ")))
        else:
            self.push_screen(ErrorScreen("Unexpected error", f"{type(error).__name__}: {error}"))

    # -- navigation -----------------------------------------------------------------------

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
            self.push_screen(HelpScreen())

    # -- demo traffic ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action.startswith("traffic_") and self.traffic is None:
            return False
        return True

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


def low_stock_thresholds(settings) -> dict[CodeType, int]:
    per_type = getattr(settings, "low_stock_thresholds", {}) or {}
    return {t: int(per_type.get(t.value, settings.low_stock_threshold)) for t in CodeType}


def run_console(demo: bool = False) -> int:
    from code_console.config import Settings
    from code_console.runtime import open_service

    settings = Settings()
    traffic = None
    bucket = None
    prepare = None
    if demo:
        from code_console.demo import SAMPLE_FILES, VerificationTraffic, seed, write_bucket

        # The demo always runs on the embedded store, whatever the environment configures.
        settings = settings.model_copy(update={"mongo_uri": None, "upload_batch_size": 2_000})
        bucket = tempfile.TemporaryDirectory(prefix="code-console-demo-")
        service = open_service(settings, objects=write_bucket(bucket.name))
        print("code-console demo: seeding sample campaigns…", file=sys.stderr)
        seed(service)
        pools = sorted({(f.campaign, f.code_type) for f in SAMPLE_FILES if f.upload})
        traffic = VerificationTraffic(service, pools)
    else:
        service = open_service(settings, ensure_indexes=False)
        prepare = service.prepare
    app = CodeConsoleApp(
        service,
        refresh_seconds=settings.refresh_seconds,
        low_stock=low_stock_thresholds(settings),
        demo=demo,
        traffic=traffic,
        prepare=prepare,
    )
    try:
        app.run()
    finally:
        if traffic is not None:
            traffic.stop()
        if bucket is not None:
            bucket.cleanup()
        service.close()
    return app.return_code or 0
