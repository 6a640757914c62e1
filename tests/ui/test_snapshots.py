"""Snapshots of every screen at 80x24 and 120x36.

Volatile output is fixed: the clock is a FakeClock, there is no demo traffic and no refresh
timer (polls happen when the test asks), cursors do not blink (tests/ui/conftest.py), the
upload rate clock, the wall clock and the reservation keys are fixed.
Update baselines with `pytest tests/ui/test_snapshots.py --snapshot-update` and review the SVGs.
"""

from __future__ import annotations

import asyncio

import pytest

from code_console.core.models import LOCAL_OPERATOR as ME, CodeType
from code_console.demo import seed_history
from code_console.ui.screens.upload import UploadScreen

from tests.ui.conftest import make_app, make_service, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]


async def open_campaign(pilot, downs: int) -> None:
    await settle(pilot)
    await pilot.press(*(["down"] * downs), "enter")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_browser(snap_compare, service, size):
    service.reserve(ME, "SPRING-TOUR", "tm", 40).codes

    async def run_before(pilot):
        await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_campaign_panels_and_chart(snap_compare, service, size):
    async def run_before(pilot):
        await open_campaign(pilot, 1)
        for count in (150, 300, 450):
            codes = service.reserve(ME, "SPRING-TOUR", "tm", count).codes
            service.assign(ME, "SPRING-TOUR", codes[: count // 2])
            service.reserve(ME, "SPRING-TOUR", "external", count // 3).codes
            await pilot.press("r")
            await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


HISTORY = {("SPRING-TOUR", CodeType.TM): 40, ("SPRING-TOUR", CodeType.EXTERNAL): 20}


@pytest.mark.parametrize("size", SIZES)
def test_campaign_rates_time_to_empty_and_charts(snap_compare, service, size):
    """A day of traffic behind the campaign: rates, time to empty and assignments per hour."""
    seed_history(service, per_hour=HISTORY)

    async def run_before(pilot):
        await open_campaign(pilot, 1)

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_campaign_last_hour_per_minute(snap_compare, service, size):
    """The 1 h window: rates over the last hour, assignments per minute."""
    seed_history(service, per_hour=HISTORY)

    async def run_before(pilot):
        await open_campaign(pilot, 1)
        await pilot.press("w", "w")  # 24 h -> 7 d -> 1 h
        await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_export_dialog(snap_compare, service, size):
    async def run_before(pilot):
        await open_campaign(pilot, 1)
        await pilot.press("e")
        await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_campaign_low_stock(snap_compare, service, size):
    async def run_before(pilot):
        await open_campaign(pilot, 2)

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_reserve_dialog(snap_compare, service, size):
    async def run_before(pilot):
        await open_campaign(pilot, 1)
        await pilot.press("v")

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_reserve_confirmation(snap_compare, service, size):
    async def run_before(pilot):
        await open_campaign(pilot, 1)
        await pilot.press("v", "1", "2", "enter")

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_reserve_form_refuses_a_bad_count(snap_compare, service, size):
    async def run_before(pilot):
        await open_campaign(pilot, 1)
        await pilot.press("v", *"1.5")

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_reserved_codes(snap_compare, service, size):
    async def run_before(pilot):
        await open_campaign(pilot, 1)
        await pilot.press("v", "5", "enter", "y")
        await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_assign_dialog(snap_compare, service, size):
    async def run_before(pilot):
        await open_campaign(pilot, 1)
        await pilot.press("v", "5", "enter", "y")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)  # back on the campaign: it polls once more
        await pilot.press("a")
        await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_upload_source(snap_compare, service, size):
    async def run_before(pilot):
        await open_campaign(pilot, 1)
        await pilot.press("u")
        await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_upload_check_with_problems(snap_compare, service, size):
    async def run_before(pilot):
        await open_campaign(pilot, 1)
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("down", "down", "down", "enter")  # tm/broken.csv
        await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


PARTNER_EXPORT = (
    b"sep=;\r\nVoucher Code;value\r\nSUMMER01;10\r\nsummer01;10\r\n1.23457E+11;5\r\nSUMMER02;5\r\nSUMMER02;5\r\n"
)


@pytest.mark.parametrize("size", SIZES)
def test_upload_check_with_warnings(snap_compare, service, size):
    """A check that passes: how the file was read (sep= line, header, column), warnings, repeats."""
    service.objects.put("codes/SPRING-TOUR/tm/a-partner.csv", PARTNER_EXPORT)

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.push_screen(UploadScreen("SPRING-TOUR"))
        await settle(pilot)
        await pilot.press("down", "down", "enter")  # tm/a-partner.csv
        await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_upload_check_needs_a_column(snap_compare, service, size):
    """Several values per row and no header: Upload unavailable, and why; the cursor in the column field."""
    service.objects.put("codes/SPRING-TOUR/tm/a-export.csv", b"A1,10,x\nA2,20,y\nA3,30,z\n")

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.push_screen(UploadScreen("SPRING-TOUR"))
        await settle(pilot)
        await pilot.press("down", "down", "enter")  # tm/a-export.csv
        await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_upload_done(snap_compare, service, size):
    async def run_before(pilot):
        await settle(pilot)
        pilot.app.push_screen(UploadScreen("SPRING-TOUR"))
        await settle(pilot)
        await pilot.press("down", "enter")  # external/batch2.csv
        await settle(pilot)
        await pilot.press("ctrl+u", "y")
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_lookup(snap_compare, service, size):
    reserve_id = "3b9e6f2a-5c1d-4e8f-9a7b-2d4c6e8f0a1b"  # a key is its reserveId: stable on every run
    codes = service.reserve(ME, "SPRING-TOUR", "tm", 3, key=reserve_id).codes
    service.assign(ME, "SPRING-TOUR", codes[:1])

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("l", *reserve_id)
        pilot.app.screen.query_one("#lookup-campaign").value = "SPRING-TOUR"
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, service, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_store_unreachable(snap_compare, flaky, size):
    store, service = flaky

    async def run_before(pilot):
        await open_campaign(pilot, 1)
        store.down = True
        await pilot.press("r")  # the refresh fails: old numbers, dimmed, with their time
        await settle(pilot)
        pilot.app.clear_notifications()  # before the dialog: a toast under a modal stays drawn
        await pilot.pause()
        await pilot.press("v", "5", "enter", "y")
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_store_down_at_start(snap_compare, flaky, size):
    store, service = flaky
    store.down = True

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_release_outcome(snap_compare, bucket, clock, size):
    from tests.stores import embedded_store
    from tests.ui.test_outcomes import Answers

    service = make_service(embedded_store(), bucket, clock)
    service.__class__ = Answers

    async def run_before(pilot):
        await open_campaign(pilot, 1)
        await pilot.press("x", *"STT-1", "ctrl+s", "y")
        await settle(pilot)

    assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_quit_during_an_upload(snap_compare, bucket, clock, size):
    from tests.stores import embedded_store
    from tests.ui.test_quit import HeldStore

    inner = embedded_store()
    service = make_service(inner, bucket, clock)
    store = HeldStore(inner)
    service.store = store
    service.batch_size = 100

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.open_upload("SPRING-TOUR")
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("ctrl+u", "y")
        await asyncio.to_thread(store.held.wait, 10)
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()

    try:
        assert snap_compare(make_app(service), terminal_size=size, run_before=run_before)
    finally:
        store.gate.set()
