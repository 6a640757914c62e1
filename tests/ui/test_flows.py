"""Pilot tests of every console flow, driven by keys, with exact expected counts."""

from __future__ import annotations

import asyncio
import threading

import pytest

from textual.widgets import Button, ContentSwitcher, DataTable, Input, OptionList, Static, TabbedContent, TextArea

from tests.stores import embedded_store
from code_console.core.models import LOCAL_OPERATOR as ME
from code_console.core.models import StatusCounts
from code_console.ui.messages import CampaignsLoaded, CountsLoaded, StoreStatusChanged
from code_console.ui.screens.actions import CodesDialog, ReserveDialog, ReservedScreen
from code_console.ui.screens.browser import BrowserScreen
from code_console.ui.screens.campaign import CampaignScreen
from code_console.ui.screens.dialogs import ConfirmScreen, ErrorScreen, HelpScreen
from code_console.ui.screens.lookup import LookupScreen
from code_console.ui.screens.upload import UploadScreen
from code_console.ui.widgets.counts import CountPanel

from tests.ui.conftest import FlakyStore, GatedStore, Messages, arrived, make_app, make_service, settle

pytestmark = pytest.mark.anyio


def row(app, key: str) -> list[str]:
    return [getattr(cell, "plain", cell) for cell in app.screen.query_one(DataTable).get_row(key)]


def panel(app, code_type: str) -> StatusCounts:
    return app.screen.query_one(f"#panel-{code_type}", CountPanel).counts


def text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_browse_reserve_save_assign_release(service, tmp_path):
    app = make_app(service, save_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert [key.value for key in table.rows] == ["PARTNER-PROMO", "SPRING-TOUR", "VIP-PRESALE"]
        assert row(app, "SPRING-TOUR") == ["SPRING-TOUR", "2,000", "0", "0", "1,000", "0", "0"]
        assert row(app, "VIP-PRESALE") == ["VIP-PRESALE", "120", "0", "0", "0", "0", "0"]

        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen) and app.screen.campaign == "SPRING-TOUR"
        assert panel(app, "tm") == StatusCounts(2000, 0, 0)
        assert panel(app, "external") == StatusCounts(1000, 0, 0)

        # Reserve 5 tm codes: dialog, confirmation that says what changes, result.
        await pilot.press("v")
        assert isinstance(app.screen, ReserveDialog)
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Reserve 5 tm codes in SPRING-TOUR" in text(app, "#confirm-body")
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ReservedScreen)
        codes = app.screen.codes
        assert len(codes) == 5 and len(set(codes)) == 5
        assert app.screen.query_one("#reserved-codes", TextArea).text.split() == codes

        # Save them to a file.
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = tmp_path / "reserved-SPRING-TOUR-tm-5.txt"
        assert saved.read_text().split() == codes
        assert isinstance(app.screen, CampaignScreen)
        assert panel(app, "tm") == StatusCounts(1995, 5, 0)

        # Assign three of them (the dialog offers the reserved codes; keep three).
        await pilot.press("a")
        assert isinstance(app.screen, CodesDialog)
        assert app.screen.query_one("#codes-text", TextArea).text.split() == codes
        app.screen.query_one("#codes-text", TextArea).load_text("\n".join(codes[:3]))
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Assign 3 codes in SPRING-TOUR" in text(app, "#confirm-body")
        await pilot.press("y")
        await settle(pilot)
        assert panel(app, "tm") == StatusCounts(1995, 2, 3)
        assert "assigned 3 of 3 codes" in text(app, "#last-result")

        # Release all five: only the two still reserved change.
        await pilot.press("x")
        await pilot.press("ctrl+s")
        assert "Release 5 codes in SPRING-TOUR" in text(app, "#confirm-body")
        await pilot.press("y")
        await settle(pilot)
        assert panel(app, "tm") == StatusCounts(1997, 0, 3)
        assert "released 2 of 5 codes (in: 5, updated: 2)" in text(app, "#last-result")

        # Back in the browser the row shows the new counts.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen)
        assert row(app, "SPRING-TOUR") == ["SPRING-TOUR", "1,997", "0", "3", "1,000", "0", "0"]


async def test_cancelled_confirmation_changes_nothing(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("v", "enter", "n")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen)
        assert service.counts(ME, "SPRING-TOUR", "tm") == StatusCounts(2000, 0, 0)


async def test_assign_codes_from_a_file(service, tmp_path):
    codes = service.reserve(ME, "VIP-PRESALE", "tm", 4).codes
    path = tmp_path / "verified.txt"
    path.write_text("\n".join(codes[:3]) + "\n")
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert panel(app, "tm") == StatusCounts(116, 4, 0)
        await pilot.press("a")
        app.screen.query_one("#codes-file", Input).value = str(path)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"Assign 3 codes from {path} in VIP-PRESALE" in text(app, "#confirm-body")
        await pilot.press("y")
        await settle(pilot)
        assert panel(app, "tm") == StatusCounts(116, 1, 3)


async def test_filter_as_you_type_and_sort_by_any_column(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "t")
        table = app.screen.query_one(DataTable)
        assert [key.value for key in table.rows] == ["PARTNER-PROMO", "SPRING-TOUR"]
        await pilot.press("o")
        assert [key.value for key in table.rows] == ["SPRING-TOUR"]
        assert "1 of 3 campaigns" in text(app, "#browser-status")
        await pilot.press("escape")  # clears the filter, back to the table
        assert [key.value for key in table.rows] == ["PARTNER-PROMO", "SPRING-TOUR", "VIP-PRESALE"]
        await pilot.press("s")  # by tm available, ascending
        assert [key.value for key in table.rows] == ["PARTNER-PROMO", "VIP-PRESALE", "SPRING-TOUR"]
        await pilot.press("S")  # reversed
        assert [key.value for key in table.rows] == ["SPRING-TOUR", "VIP-PRESALE", "PARTNER-PROMO"]
        await pilot.press("s", "s", "s")  # ext avail, reversed
        assert [key.value for key in table.rows] == ["PARTNER-PROMO", "SPRING-TOUR", "VIP-PRESALE"]
        assert "sorted by ext avail (reversed)" in text(app, "#browser-status")
        await pilot.press("enter")  # the cursor followed SPRING-TOUR through filter and sorts
        await settle(pilot)
        assert app.screen.campaign == "SPRING-TOUR"


async def test_upload_wizard_from_a_bucket_key(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, UploadScreen)
        keys = app.screen.query_one("#keys", OptionList)
        assert [keys.get_option_at_index(i).id for i in range(keys.option_count)] == [
            "codes/SPRING-TOUR/external/batch1.csv",
            "codes/SPRING-TOUR/external/batch2.csv",
            "codes/SPRING-TOUR/tm/batch1.csv",
            "codes/SPRING-TOUR/tm/broken.csv",
        ]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen.query_one(ContentSwitcher).current == "step-check"
        summary = text(app, "#check-summary")
        assert "type external · 500 codes on 500 lines" in summary
        assert "no problems found" in summary
        await pilot.press("ctrl+u")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert "in: 500 · inserted: 500 · updated: 0 · conflicts: 0" in text(app, "#run-result")
        await pilot.press("enter")  # Done
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen)
        assert panel(app, "external") == StatusCounts(1500, 0, 0)


async def test_upload_wizard_shows_problems_and_writes_nothing(service, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"GOOD-1\n" + b"X" * 200 + b"\nGOOD-2\nBAD\x00CODE\n")
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("u")  # from the browser: the selected campaign, PARTNER-PROMO
        await settle(pilot)
        app.screen.query_one(TabbedContent).active = "tab-file"
        await pilot.pause()
        path = app.screen.query_one("#upload-path", Input)
        path.focus()
        path.value = str(bad)
        await pilot.press("enter")
        await settle(pilot)
        assert "type tm · 2 codes on 3 lines" in text(app, "#check-summary")
        assert "2 problems found" in text(app, "#check-summary")
        lines = text(app, "#check-lines")
        assert "line 2: code is 200 characters long; the maximum is 128" in lines
        assert "line 4: contains a NUL byte" in lines
        assert app.screen.query_one("#start", Button).disabled
        await pilot.press("ctrl+u")
        assert isinstance(app.screen, UploadScreen)  # no confirmation: nothing to upload
        await pilot.press("escape", "escape")  # check -> source -> close
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen)
    assert service.counts(ME, "PARTNER-PROMO", "tm") == StatusCounts(0, 0, 0)


async def test_upload_cancelled_midway_keeps_written_batches_only(bucket, clock):
    inner = embedded_store()
    service = make_service(inner, bucket, clock)
    gated = GatedStore(inner)
    service.store = gated
    service.batch_size = 100
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_upload("SPRING-TOUR")
        await settle(pilot)
        await pilot.press("down", "enter")  # external/batch2.csv, 500 codes
        await settle(pilot)
        await pilot.press("ctrl+u", "y")
        assert await asyncio.to_thread(gated.held.wait, 10)  # batch 2 of 5 is being written
        await pilot.press("escape")
        assert "cancelling" in text(app, "#run-stats")
        gated.gate.set()
        await settle(pilot)
        result = text(app, "#run-result")
        assert "cancelled" in result
        assert "upload cancelled after 200 of 500 codes (200 inserted, 0 updated)" in result
        assert isinstance(app.screen, UploadScreen) and app.is_running
    assert service.counts(ME, "SPRING-TOUR", "external") == StatusCounts(1200, 0, 0)


async def test_upload_progress_shows_codes_rate_and_eta(bucket, clock):
    service = make_service(embedded_store(), bucket, clock)
    service.batch_size = 100
    ticks = iter([10.0, 11.0, 12.0, 13.0, 14.0, 15.0])
    seen: list[str] = []

    class Recording(UploadScreen):
        # Textual runs this before UploadScreen's own handler: it sees what the last message left.
        def on_upload_progressed(self, message) -> None:
            seen.append(str(self.query_one("#run-stats", Static).render()))

        def on_upload_finished(self, message) -> None:
            seen.append(str(self.query_one("#run-stats", Static).render()))

    app = make_app(service, monotonic=lambda: next(ticks))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(Recording("SPRING-TOUR"))
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("ctrl+u", "y")
        await settle(pilot)
        assert "in: 500 · inserted: 500" in text(app, "#run-result")
    # Validation ends at t=10, then one batch of 100 codes per second: 100 codes/s.
    assert seen == [
        "validating… (escape cancels)",
        "validating: 500 codes, 8,524 of 8,524 bytes read · escape cancels",
        "written 100 of 500 codes · 100 codes/s · ETA 0:04 · escape cancels",
        "written 200 of 500 codes · 100 codes/s · ETA 0:03 · escape cancels",
        "written 300 of 500 codes · 100 codes/s · ETA 0:02 · escape cancels",
        "written 400 of 500 codes · 100 codes/s · ETA 0:01 · escape cancels",
        "written 500 of 500 codes · 100 codes/s · ETA 0:00 · escape cancels",
    ]


async def test_lookup_and_release_a_code_then_its_reservation(service):
    codes = service.reserve(ME, "SPRING-TOUR", "tm", 4).codes
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        assert isinstance(app.screen, LookupScreen)
        await pilot.press(*codes[0], "enter")
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        first = row(app, f"SPRING-TOUR/{codes[0]}")
        assert first[:4] == ["SPRING-TOUR", "tm", codes[0], "reserved"]
        assert first[4:6] == ["2026-03-01 08:00:00", "2026-03-01 08:00:00"] and first[6] == "–"
        reserve_id = first[7]
        assert len(reserve_id) == 36  # a dashed UUID v4, as the original service makes them

        await pilot.press("x")
        assert "Release " + codes[0] + " in SPRING-TOUR" in text(app, "#confirm-body")
        await pilot.press("y")
        await settle(pilot)
        assert row(app, f"SPRING-TOUR/{codes[0]}")[3] == "available"
        assert "released 1 of 1 codes" in text(app, "#lookup-status")
        assert service.counts(ME, "SPRING-TOUR", "tm") == StatusCounts(1997, 3, 0)

        code = app.screen.query_one("#lookup-code", Input)
        code.value = codes[1]
        code.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert table.has_focus
        await pilot.press("X")
        await settle(pilot)
        assert f"Release reservation {reserve_id} in SPRING-TOUR: 3 codes carry it, 3 of them reserved" in text(app, "#confirm-body")
        await pilot.press("y")
        await settle(pilot)
        assert "released 3 of 3 codes (in: 3, updated: 3)" in text(app, "#lookup-status")
        assert service.counts(ME, "SPRING-TOUR", "tm") == StatusCounts(2000, 0, 0)


async def test_lookup_by_reserve_id_and_assigned_codes_stay(service):
    codes = service.reserve(ME, "VIP-PRESALE", "tm", 3).codes
    service.assign(ME, "VIP-PRESALE", codes[:1])
    reserve_id = service.lookup(ME, codes[0])[0].reserve_id
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        app.screen.query_one("#lookup-campaign", Input).value = "VIP-PRESALE"
        await pilot.press(*reserve_id, "enter")
        await settle(pilot)
        assert "3 records for reservation" in text(app, "#lookup-status")
        statuses = sorted(row(app, f"VIP-PRESALE/{c}")[3] for c in codes)
        assert statuses == ["assigned", "reserved", "reserved"]
        await pilot.press("X")
        await settle(pilot)
        assert "3 codes carry it, 2 of them reserved" in text(app, "#confirm-body")
        await pilot.press("y")
        await settle(pilot)
        assert "released 2 of 3 codes" in text(app, "#lookup-status")
    assert service.counts(ME, "VIP-PRESALE", "tm") == StatusCounts(119, 0, 1)


async def test_lookup_of_an_unknown_code(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("l", *"NOPE", "enter")
        await settle(pilot)
        assert "no code 'NOPE' found" in text(app, "#lookup-status")
        assert app.screen.query_one(DataTable).row_count == 0


async def test_store_down_then_back_the_console_stays_up_and_recovers(flaky):
    store, service = flaky
    messages = Messages()
    app = make_app(service, refresh_seconds=0.05)
    loaded = messages.expect(CampaignsLoaded)
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await arrived(loaded)
        await pilot.press("down", "enter")
        await arrived(messages.expect(CountsLoaded))
        await settle(pilot)

        went_down = messages.expect(StoreStatusChanged, lambda m: not m.ok)
        store.down = True
        await arrived(went_down)  # a timed poll failed: reported once, no modal
        assert "STORE UNREACHABLE" in app.sub_title
        assert isinstance(app.screen, CampaignScreen)

        # A user action while it is down: an error modal, and the app keeps running.
        await pilot.press("v", "enter", "y")
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert "MongoDB is unreachable" in text(app, "#error-message")
        await pilot.press("escape")
        assert isinstance(app.screen, CampaignScreen)

        came_back = messages.expect(StoreStatusChanged, lambda m: m.ok)
        fresh = messages.expect(CountsLoaded)
        store.down = False
        await arrived(came_back)  # the timer kept polling and noticed by itself
        await arrived(fresh)
        await pilot.pause()
        assert "STORE UNREACHABLE" not in app.sub_title
        assert panel(app, "tm") == StatusCounts(2000, 0, 0)
        assert app.is_running


class BlockingStore(FlakyStore):
    """Holds campaign_ids until released and records how many run at once."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.release = threading.Event()
        self.entered = threading.Event()
        self.active = self.most = self.calls = 0
        self._lock = threading.Lock()

    def campaign_ids(self):
        with self._lock:
            self.calls += 1
            self.active += 1
            self.most = max(self.most, self.active)
        self.entered.set()
        self.release.wait(10)
        with self._lock:
            self.active -= 1
        return self.inner.campaign_ids()


async def test_refresh_never_piles_polls_up(bucket, clock):
    inner = embedded_store()
    service = make_service(inner, bucket, clock)
    store = BlockingStore(inner)
    service.store = store
    app = make_app(service)  # manual refresh: only keys poll
    async with app.run_test(size=(80, 24)) as pilot:
        assert await asyncio.to_thread(store.entered.wait, 10)
        await pilot.press("r", "r", "r", "r")  # while the first poll hangs
        browser = app.screen
        assert browser.poller.polls == 1 and store.calls == 1
        store.release.set()
        await settle(pilot)
        # The four presses collapse into one poll after the slow one.
        assert browser.poller.polls == 2 and store.calls == 2 and store.most == 1
        assert row(app, "SPRING-TOUR")[1] == "2,000"


async def test_timed_polls_run_one_after_another(bucket, clock):
    inner = embedded_store()
    service = make_service(inner, bucket, clock)
    store = BlockingStore(inner)
    store.release.set()
    service.store = store
    messages = Messages()
    count = {"n": 0}
    third = asyncio.Event()

    def hook(message):
        messages(message)
        if isinstance(message, CampaignsLoaded):
            count["n"] += 1
            if count["n"] == 3:
                third.set()

    app = make_app(service, refresh_seconds=0.02)
    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        await arrived(third)
        assert store.most == 1
        await pilot.press("p")  # pause: no timer is left behind
        await settle(pilot)
        polls = app.screen.poller.polls
        assert app.screen.poller._timer is None
        assert "refresh paused" in text(app, "#browser-status")
        await pilot.press("r")  # a key still refreshes now
        await settle(pilot)
        assert app.screen.poller.polls == polls + 1


async def test_command_palette_reaches_screen_actions(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("ctrl+p", *"Reserve codes")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReserveDialog)


async def test_help_screen_lists_the_keys(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, BrowserScreen)


async def test_low_stock_warning_per_type(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "enter")  # VIP-PRESALE: 120 tm codes, threshold 150
        await settle(pilot)
        tm = app.screen.query_one("#panel-tm", CountPanel)
        assert tm.low and tm.has_class("low-stock")
        assert "LOW STOCK: 120 left (< 150)" in str(tm.query_one(".stock", Static).render())
        assert not app.screen.query_one("#panel-external", CountPanel).low  # no codes of that type
        await pilot.press("escape", "up", "enter")  # SPRING-TOUR external: 1,000 < 1,200
        await settle(pilot)
        assert app.screen.query_one("#panel-external", CountPanel).low
        assert not app.screen.query_one("#panel-tm", CountPanel).low


async def test_upload_failing_on_the_store_shows_one_error_and_the_wizard_says_failed(flaky):
    store, service = flaky
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_upload("SPRING-TOUR")
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        store.down = True
        await pilot.press("ctrl+u", "y")
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, UploadScreen)  # one failure, one modal
        assert "failed · MongoDB is unreachable" in text(app, "#run-result")
        assert "STORE UNREACHABLE" in app.sub_title
        store.down = False
    assert service.counts(ME, "SPRING-TOUR", "external") == StatusCounts(1000, 0, 0)


async def test_every_action_is_in_the_command_palette(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Filter campaigns", "Sort by next column", "Reverse sort", "Refresh campaigns",
                      "Pause or resume refresh", "Upload codes", "Open PARTNER-PROMO", "Look up a code", "Help: keys", "Quit"):
            assert title in titles
        assert titles.count("Upload codes") == 1
        await pilot.press("down", "enter")
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Reserve codes", "Assign codes", "Release codes", "Refresh counts", "Pause or resume refresh",
                      "Upload codes", "Back to campaigns", "Look up a code"):
            assert title in titles
        await pilot.press("l")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Release selected code", "Release whole reservation"} <= set(titles)


async def test_an_empty_store_says_how_to_start(bucket, clock):
    from code_console.core.service import CodeService

    app = make_app(CodeService(embedded_store(), bucket, clock=clock))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(DataTable).row_count == 0
        assert "no campaigns yet: press u to upload codes" in text(app, "#browser-status")
        assert "embedded (in-process, not persisted) · s3://codes" in app.sub_title
