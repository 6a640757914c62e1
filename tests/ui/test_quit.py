"""Quitting: with an upload running the console asks; the answer stops every write and the app
leaves at once, whatever the store is doing (a worker blocked in a store call is not waited for).

The real process against a stalled SecantusDB is in tests/faults/test_console_faults.py.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from code_console.core.models import LOCAL_OPERATOR as ME, StatusCounts
from code_console.ui.app import UPLOAD_ENDED_WHILE_ASKING, QuitConfirmation
from code_console.ui.screens.browser import BrowserScreen
from code_console.ui.screens.upload import UploadScreen

from tests.stores import embedded_store
from tests.ui.conftest import FlakyStore, make_app, make_service, settle, text

pytestmark = pytest.mark.anyio

QUIT_BOUND = 2.0


class HeldStore(FlakyStore):
    """Holds write_batch number `hold` until `gate` is set; records the writing thread."""

    def __init__(self, inner, hold: int = 2) -> None:
        super().__init__(inner)
        self.hold = hold
        self.gate = threading.Event()
        self.held = threading.Event()
        self.started = 0
        self.writer: threading.Thread | None = None

    def write_batch(self, *args, **kwargs):
        self.started += 1
        self.writer = threading.current_thread()
        if self.started == self.hold:
            self.held.set()
            if not self.gate.wait(30):
                raise RuntimeError("test gate never opened")
        return self.inner.write_batch(*args, **kwargs)


class HeldPolls(FlakyStore):
    """Holds every campaign listing until `gate` is set: a store that stopped answering."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.gate = threading.Event()
        self.entered = threading.Event()

    def counts(self, campaign_id, cutoff, code_type=None):
        if campaign_id is not None:
            return self.inner.counts(campaign_id, cutoff, code_type)
        self.entered.set()
        self.gate.wait(30)
        return self.inner.counts(campaign_id, cutoff)


def held_service(bucket, clock, store_class=HeldStore):
    inner = embedded_store()
    service = make_service(inner, bucket, clock)
    store = store_class(inner)
    service.store = store  # tests may reach in; the console never does
    service.batch_size = 100
    return service, store


async def start_upload(pilot, store) -> None:
    app = pilot.app
    await settle(pilot)
    app.open_upload("SPRING-TOUR")
    await settle(pilot)
    await pilot.press("down", "enter")  # external/batch2.csv: 500 codes, 5 batches of 100
    await settle(pilot)
    await pilot.press("ctrl+u", "y")
    assert await asyncio.to_thread(store.held.wait, 10)  # batch 2 of 5 is being written
    assert app.focused is None  # no field of a hidden step takes the keys typed now


async def exited(app) -> float:
    """Seconds until the app's task ends (its shutdown included)."""
    began = time.monotonic()
    await asyncio.wait_for(asyncio.shield(app._task), QUIT_BOUND * 5)
    return time.monotonic() - began


@pytest.mark.parametrize("key", ["q", "ctrl+q"])
async def test_quit_during_an_upload_asks_then_leaves_at_once_and_starts_no_batch(bucket, clock, key):
    service, store = held_service(bucket, clock)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_upload(pilot, store)
        await pilot.press(key)
        assert isinstance(app.screen, QuitConfirmation)
        assert text(app, "#confirm-body") == (
            "An upload is running (writing batch 1 of 5: 100 of 500 codes written).\n"
            "Cancelling starts no new batch; the batch already sent may still land. "
            "Re-running the upload later completes it safely."
        )
        await pilot.press("y")
        took = await exited(app)
        # The worker is still blocked inside batch 2: the app did not wait for it.
        assert store.writer.is_alive() and not store.gate.is_set()
    assert took < QUIT_BOUND
    assert app.exit_notes == [
        "code-console: quit during the upload of codes/SPRING-TOUR/external/batch2.csv into SPRING-TOUR: "
        "100 of 500 codes were written when you answered; the batch being written then (up to 100 codes) "
        "may still land, and no batch started after. Re-running the upload completes it safely."
    ]
    store.gate.set()  # the store answers batch 2 (sent before the answer) ...
    store.writer.join(10)
    assert not store.writer.is_alive()
    # ... and no batch started after the answer: 2 of 5 batches were ever begun.
    assert store.started == 2
    assert service.counts(ME, "SPRING-TOUR", "external") == StatusCounts(1200, 0, 0)


async def test_quit_answered_no_keeps_the_upload_going(bucket, clock):
    service, store = held_service(bucket, clock)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_upload(pilot, store)
        await pilot.press("q", "n")
        assert isinstance(app.screen, UploadScreen) and app.is_running
        assert not app.screen.cancel_event.is_set()
        store.gate.set()
        await settle(pilot)
        assert text(app, "#run-result") == "done · in: 500 · inserted: 500 · updated: 0 · conflicts: 0"
    assert service.counts(ME, "SPRING-TOUR", "external") == StatusCounts(1500, 0, 0)


async def test_quit_while_the_store_hangs_leaves_at_once(bucket, clock):
    service, store = held_service(bucket, clock, HeldPolls)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await asyncio.to_thread(store.entered.wait, 10)  # the first poll hangs
        assert isinstance(app.screen, BrowserScreen)
        await pilot.press("q")  # nothing is being written: no question
        took = await exited(app)
        assert not store.gate.is_set()
    assert took < QUIT_BOUND
    store.gate.set()


async def test_ctrl_c_tells_how_to_quit_and_does_not_quit(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.is_running
        assert [n.message for n in app._notifications] == ["Press [b]ctrl+q[/b] to quit the app"]


async def test_an_upload_that_ends_while_the_question_is_open_is_not_cancelled_by_the_answer(bucket, clock):
    """Asked to cancel a running upload, the user waits; the upload finishes meanwhile. The open
    question must not go on claiming a cancel: it is replaced by one that says it ended."""
    service, store = held_service(bucket, clock)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_upload(pilot, store)
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, QuitConfirmation)
        store.gate.set()  # the upload goes on to its end behind the question
        for _ in range(100):
            await settle(pilot)
            if not isinstance(app.screen, QuitConfirmation):
                break
        assert text(app, "#confirm-body") == UPLOAD_ENDED_WHILE_ASKING
        await pilot.press("n")  # stay: the wizard shows the whole result
        assert isinstance(app.screen, UploadScreen)
        assert text(app, "#run-result") == "done · in: 500 · inserted: 500 · updated: 0 · conflicts: 0"
        assert app.exit_notes == []
    assert service.counts(ME, "SPRING-TOUR", "external") == StatusCounts(1500, 0, 0)
