"""The campaign view's rates, time to empty and assignment chart; the browser's column; the export dialog."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from datetime import timedelta

import pytest
from textual.widgets import Input

from code_console.core.models import LOCAL_OPERATOR as ME, CodeType
from code_console.ui.widgets.activity import ActivityChart, binned
from code_console.ui.widgets.usage import UsageLines

from tests.stores import embedded_store
from tests.ui.conftest import FlakyStore, make_app, make_service, row, settle, text

pytestmark = pytest.mark.anyio


def history(service, clock) -> None:
    """SPRING-TOUR tm: 30 reserved 3 h ago (24 assigned), 12 reserved 20 min ago (6 assigned)."""
    start = clock.now
    clock.now = start - timedelta(hours=3)
    first = service.reserve(ME, "SPRING-TOUR", "tm", 30).codes
    service.assign(ME, "SPRING-TOUR", first[:24])
    clock.now = start - timedelta(minutes=20)
    second = service.reserve(ME, "SPRING-TOUR", "tm", 12).codes
    service.assign(ME, "SPRING-TOUR", second[:6])
    clock.now = start


def panel_text(app, code_type: str) -> list[str]:
    return app.screen.query_one(f"#panel-{code_type} UsageLines", UsageLines).plain.splitlines()


def chart(app, code_type: str) -> ActivityChart:
    return app.screen.query_one(f"#panel-{code_type} ActivityChart", ActivityChart)


async def test_rates_time_to_empty_and_the_window(service, clock):
    history(service, clock)
    app = make_app(service)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        # 2,000 - 30 assigned - 12 held = 1,958 available; 30 assigned in 24 h: 1.25/h.
        assert panel_text(app, "tm") == ["empty in 65 d 6 h at 1.25/h", "1.75/h reserved · 1.25/h assigned · over 24h"]
        assert panel_text(app, "external") == ["time to empty: no recent use", "0/h reserved · 0/h assigned · over 24h"]
        tm = chart(app, "tm")
        assert tm.caption_text == "assigned per hour, last 24 h"
        assert tm.data == (0,) * 20 + (24, 0, 0, 6)
        assert chart(app, "external").caption_text == "assigned per hour, none in the last 24 h"
        await pilot.press("w")  # 7 days
        await settle(pilot)
        assert panel_text(app, "tm")[0] == "empty in 456 d 20 h at 0.179/h"  # 1,958 x 168 / 30 = 10,964.8 h
        assert chart(app, "tm").caption_text == "assigned per 4 h, last 7 d"  # 168 hours binned to fit 50 columns
        await pilot.press("w")  # 1 hour: per minute
        await settle(pilot)
        assert panel_text(app, "tm") == ["empty in 13 d 14 h at 6/h", "12/h reserved · 6/h assigned · over 1h"]
        assert chart(app, "tm").data[39] == 6  # (now - 60 min + 39 min, now - 60 min + 40 min] and sum(chart(app, "tm").data) == 6
        assert "rates over 1h" in text(app, "#campaign-title")


async def test_browser_column_says_the_soonest_empty_type(service, clock):
    history(service, clock)
    app = make_app(service)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert row(app, "SPRING-TOUR")[:3] == ["SPRING-TOUR", "tm 65 d 6 h", "1,958"]
        assert row(app, "VIP-PRESALE")[1] == "no recent use"


class GatedPages(FlakyStore):
    """Holds the second export page until `gate` is set."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.gate = threading.Event()
        self.held = threading.Event()
        self.pages = 0

    def page(self, *args, **kwargs):
        self.pages += 1
        if self.pages == 2:
            self.held.set()
            self.gate.wait(10)
        return self.inner.page(*args, **kwargs)


async def test_export_dialog_writes_the_file(service, tmp_path):
    service.reserve(ME, "SPRING-TOUR", "external", 5)
    app = make_app(service)
    target = tmp_path / "out" / "ext.csv"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        dialog = app.screen
        dialog.query_one("#export-type").query("RadioButton")[1].value = True  # external
        dialog.query_one("#export-status").query("RadioButton")[2].value = True  # reserved
        await settle(pilot)
        path = dialog.query_one("#export-path", Input)
        assert path.value == "/srv/code-console/SPRING-TOUR-external-reserved.csv"  # follows the choices
        path.value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#last-result").render().plain == f"exported 5 reserved external codes to {target}"
    rows = list(csv.reader(io.StringIO(target.read_text(), newline="")))
    assert len(rows) == 6 and {r[2] for r in rows[1:]} == {"reserved"} and {r[1] for r in rows[1:]} == {"external"}
    assert target.stat().st_mode & 0o777 == 0o600


async def test_export_dialog_can_be_stopped(bucket, clock, tmp_path):
    store = GatedPages(embedded_store())
    service = make_service(store, bucket, clock)
    app = make_app(service)
    target = tmp_path / "exports" / "all.csv"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.press("enter")
        assert await asyncio.to_thread(store.held.wait, 10)
        await pilot.press("escape")  # stops at the next chunk
        store.gate.set()
        await settle(pilot)
        assert app.screen.query_one("#last-result").render().plain == "export stopped after 1,000 codes: no file written"
    assert list(target.parent.iterdir()) == []  # neither the file nor its partial


def test_bins_add_neighbours_and_keep_the_newest_whole():
    assert binned([1, 2, 3, 4, 5], 5) == ([1, 2, 3, 4, 5], 1)
    assert binned([1, 2, 3, 4, 5], 2) == ([3, 12], 3)
    assert binned(list(range(168)), 24) == ([sum(range(i * 7, i * 7 + 7)) for i in range(24)], 7)


async def test_alerts_recorded_by_a_checker_show_in_the_console(service, clock):
    from code_console.core.alerts import AlertChecker, AlertPolicy

    service.reserve(ME, "SPRING-TOUR", "tm", 1_900)  # 100 left
    fired = AlertChecker(service, ME, AlertPolicy(thresholds={CodeType.TM: 0, CodeType.EXTERNAL: 0}, per_campaign={"SPRING-TOUR": {"tm": 500}})).check().fired
    assert [a.delivery_id for a in fired] == ["SPRING-TOUR|tm|low_stock#1"]
    app = make_app(service)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        toasts = [n.message for n in app._notifications]
        assert toasts == ["SPRING-TOUR tm: 100 codes available, below 500 (empty in no recent use)\nrecorded (not delivered to a webhook)"]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert str(app.screen.query_one("#panel-tm .stock").render()) == "LOW STOCK: 100 left (< 150) · alert recorded"
        assert len(app._notifications) == 1  # shown once per crossing


async def test_export_dialog_never_overwrites_a_file(service, tmp_path):
    target = tmp_path / "taken.csv"
    target.write_text("mine\n")
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert "a file of that name exists already (exports never overwrite)" in str(app.screen.query_one("#export-error").render())
    assert target.read_text() == "mine\n"
