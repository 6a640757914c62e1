"""Fixtures for console tests: a small deterministic inventory, a store that can fail, a message recorder.

Apps run with refresh_seconds=None (polls happen only when the test or a key asks), a fixed
clock, a fixed wall clock and steady cursors, unless a test is about the timer itself.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pytest
from textual.reactive import reactive
from textual.widgets import DataTable, Input, TextArea
from textual.worker import WorkerFailed

from code_console.core.errors import StoreUnavailable
from code_console.core.models import CodeType, StatusCounts
from code_console.core.service import CodeService
from code_console.demo import SampleFile, seed, write_bucket
from code_console.ui.app import CodeConsoleApp
from code_console.ui.widgets.counts import CountPanel
from code_console.ui.widgets.status import StatusLine

from tests.conftest import FakeClock
from tests.stores import embedded_store

# The demo's shape at a size that keeps tests fast.
SMALL_FILES = (
    SampleFile("SPRING-TOUR", CodeType.TM, "batch1.csv", 2_000),
    SampleFile("SPRING-TOUR", CodeType.EXTERNAL, "batch1.csv", 1_000),
    SampleFile("SPRING-TOUR", CodeType.EXTERNAL, "batch2.csv", 500, upload=False),
    SampleFile("SPRING-TOUR", CodeType.TM, "broken.csv", 300, upload=False, problems=True),
    SampleFile("PARTNER-PROMO", CodeType.EXTERNAL, "partners.csv", 1_500),
    SampleFile("VIP-PRESALE", CodeType.TM, "vip.csv", 120),
)
LOW_STOCK = {CodeType.TM: 150, CodeType.EXTERNAL: 1_200}
SAVE_DIR = Path("/srv/code-console")  # shown in dialogs only; tests that save pass their own
WALL = datetime(2026, 3, 1, 9, 30, 15, tzinfo=timezone.utc)  # the console's local time in tests


class FlakyStore:
    """Wraps a store; while `down` is set every call raises StoreUnavailable, as MongoStore does."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.down = False
        self.slow = False  # reached but busy: the error says so (StoreUnavailable.slow)
        self.label = inner.label

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            if self.slow:
                raise StoreUnavailable(None, "MongoDB did not answer within 5 s (test: busy)", slow=True)
            if self.down:
                raise StoreUnavailable(None, "MongoDB is unreachable (test outage)")
            return attr(*args, **kwargs)

        return call


class GatedStore(FlakyStore):
    """Holds the second write_batch until `gate` is set, and says when it is held (cancel tests)."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.gate = threading.Event()
        self.held = threading.Event()
        self.batches = 0

    def write_batch(self, *args, **kwargs):
        self.batches += 1
        if self.batches == 2:
            self.held.set()
            if not self.gate.wait(10):
                raise RuntimeError("test gate never opened")
        return self.inner.write_batch(*args, **kwargs)


class Messages:
    """A run_test message hook: lets a test await a message instead of sleeping."""

    def __init__(self) -> None:
        self._waiters: list[tuple[type, Callable, asyncio.Event]] = []

    def __call__(self, message) -> None:
        for kind, predicate, event in self._waiters:
            if isinstance(message, kind) and predicate(message):
                event.set()

    def expect(self, kind: type, predicate: Callable = lambda m: True) -> asyncio.Event:
        event = asyncio.Event()
        self._waiters.append((kind, predicate, event))
        return event


async def arrived(event: asyncio.Event, timeout: float = 10) -> None:
    await asyncio.wait_for(event.wait(), timeout)


async def settle(pilot) -> None:
    """Wait until no worker runs and every message they posted has been handled."""
    for _ in range(10):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerFailed:
            pass  # a failing store call is reported by the app; tests check what the user sees
        await pilot.pause()
        if not any(w.is_running for w in pilot.app.workers):
            await pilot.pause()
            return


@pytest.fixture(autouse=True)
def steady_cursors(monkeypatch):
    """Cursors that do not blink, so that screenshots of the same state are identical.

    The switch lives here, not in the product: the console always blinks like any other app.
    """
    for cls in (Input, TextArea):
        steady = reactive(False, init=False)
        steady.__set_name__(cls, "cursor_blink")
        monkeypatch.setattr(cls, "cursor_blink", steady)


@pytest.fixture
def anyio_backend() -> str:
    # Async tests run on anyio's pytest plugin (anyio comes with FastAPI); Textual needs asyncio.
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bucket(tmp_path):
    objects = write_bucket(tmp_path / "bucket", SMALL_FILES)
    objects.label = "s3://codes"  # the folder path varies; screens must not
    return objects


def make_service(store, bucket, clock, batch_size: int = 2_000) -> CodeService:
    # A seeded rng: which codes a reservation picks is the same on every run.
    service = CodeService(store, bucket, clock=clock, batch_size=batch_size, rng=random.Random(3))
    seed(service, SMALL_FILES)
    return service


@pytest.fixture
def flaky(bucket, clock):
    store = FlakyStore(embedded_store())
    return store, make_service(store, bucket, clock)


@pytest.fixture
def service(flaky) -> CodeService:
    return flaky[1]


def numbered_keys():
    """Reservation keys shaped like the console's (dashed UUID v4), the same on every run."""
    counter = itertools.count(1)
    return lambda: str(uuid.UUID(int=next(counter), version=4))


def make_app(service, **kwargs) -> CodeConsoleApp:
    options = dict(
        refresh_seconds=None,
        low_stock=LOW_STOCK,
        save_dir=SAVE_DIR,
        monotonic=lambda: 100.0,
        wall_clock=lambda: WALL,
        new_reservation_key=numbered_keys(),
    )
    options.update(kwargs)
    return CodeConsoleApp(service, **options)


# -- what a user sees ------------------------------------------------------------------------


def row(app, key: str) -> list[str]:
    """A table row's cells as shown (low-stock cells end in "!")."""
    return [getattr(cell, "plain", cell).strip() for cell in app.screen.query_one(DataTable).get_row(key)]


def panel(app, code_type: str) -> StatusCounts:
    return app.screen.query_one(f"#panel-{code_type}", CountPanel).counts


def text(app, selector: str) -> str:
    """A Static's text, or a status line's full text (every part, whatever the width)."""
    widget = app.screen.query_one(selector)
    if isinstance(widget, StatusLine):
        return widget.full_text
    return str(widget.render())


def shown(app, selector: str) -> str:
    """A status line's text as drawn at the app's current width."""
    return str(app.screen.query_one(selector, StatusLine).render())
