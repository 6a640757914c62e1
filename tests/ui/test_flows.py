"""Pilot tests of every console flow, driven by keys, with exact expected counts."""

from __future__ import annotations

import asyncio
import threading

import pytest
from textual.widgets import Button, ContentSwitcher, DataTable, Input, OptionList, Static, TabbedContent, TextArea

from code_console.core.models import LOCAL_OPERATOR as ME, StatusCounts, UploadProgress, UploadResult
from code_console.ui.dialogs.codes import CodesDialog
from code_console.ui.dialogs.confirm import ConfirmScreen
from code_console.ui.dialogs.help import HelpScreen
from code_console.ui.dialogs.outcome import OutcomeScreen
from code_console.ui.dialogs.reserve import ReserveDialog
from code_console.ui.dialogs.reserved import ReservedScreen
from code_console.ui.messages import CampaignsLoaded, CountsLoaded, StoreStateChanged, UploadFinished, UploadProgressed
from code_console.ui.screens.browser import BrowserScreen
from code_console.ui.screens.campaign import CampaignScreen
from code_console.ui.screens.lookup import LookupScreen
from code_console.ui.screens.upload import UploadScreen
from code_console.ui.widgets.counts import CountPanel
from code_console.ui.widgets.status import StatusLine

from tests.stores import embedded_store
from tests.ui.conftest import FlakyStore, GatedStore, Messages, arrived, make_app, make_service, panel, row, settle, text

pytestmark = pytest.mark.anyio


async def test_browse_reserve_save_assign_release(service, tmp_path):
    save_dir = tmp_path / "data" / "codes"
    app = make_app(service, save_dir=save_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert [key.value for key in table.rows] == ["PARTNER-PROMO", "SPRING-TOUR", "VIP-PRESALE"]
        # Low stock is marked in the browser too: ext 1,000 < 1,200 and tm 120 < 150.
        assert row(app, "SPRING-TOUR") == ["SPRING-TOUR", "no recent use", "2,000", "0", "0", "1,000!", "0", "0"]
        assert row(app, "VIP-PRESALE") == ["VIP-PRESALE", "no recent use", "120!", "0", "0", "0", "0", "0"]
        assert text(app, "#browser-status") == "3 campaigns · 2 low on stock (!) · sorted by campaign · manual refresh · enter opens"

        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen) and app.screen.campaign == "SPRING-TOUR"
        assert panel(app, "tm") == StatusCounts(2000, 0, 0)
        assert panel(app, "external") == StatusCounts(1000, 0, 0)

        # Reserve 5 tm codes: an empty form, a confirmation that says what changes, the result.
        await pilot.press("v")
        assert isinstance(app.screen, ReserveDialog)
        assert app.screen.query_one("#reserve-count", Input).value == ""
        await pilot.press("5", "enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Reserve 5 tm codes in SPRING-TOUR" in text(app, "#confirm-body")
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ReservedScreen)
        codes = app.screen.codes
        reserve_id = "00000000-0000-4000-8000-000000000001"  # the first key make_app hands out
        assert app.screen.outcome.reservation.reserve_id == reserve_id
        assert text(app, "#reserved-id") == f"reserveId {reserve_id}  (c copies)"
        assert len(codes) == 5 and len(set(codes)) == 5
        assert app.screen.query_one("#reserved-codes", TextArea).text.split() == codes
        assert {r.reserve_id for c in codes for r in service.lookup(ME, c)} == {reserve_id}

        # Save them: under the data directory, readable by the user only.
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = save_dir / f"reserved-SPRING-TOUR-tm-{reserve_id}.txt"
        assert saved.read_text().split() == codes
        assert saved.stat().st_mode & 0o777 == 0o600
        assert isinstance(app.screen, CampaignScreen)
        assert text(app, "#last-result") == f"saved 5 reserved codes to {saved}\nreserveId {reserve_id}"
        assert panel(app, "tm") == StatusCounts(1995, 5, 0)

        # Assign three of them: the form opens empty.
        await pilot.press("a")
        assert isinstance(app.screen, CodesDialog)
        assert app.screen.query_one("#codes-text", TextArea).text == ""
        app.screen.query_one("#codes-text", TextArea).load_text("\n".join(codes[:3]))
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Assign 3 codes in SPRING-TOUR" in text(app, "#confirm-body")
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen)
        assert panel(app, "tm") == StatusCounts(1995, 2, 3)
        assert text(app, "#last-result") == "assigned 3 of 3 codes"

        # Release all five: only the two still reserved change.
        await pilot.press("x")
        app.screen.query_one("#codes-text", TextArea).load_text(" ".join(codes))
        await pilot.press("ctrl+s")
        assert "Release 5 codes in SPRING-TOUR" in text(app, "#confirm-body")
        await pilot.press("y")
        await settle(pilot)
        # The three assigned ones are listed, with why they did not change.
        assert isinstance(app.screen, OutcomeScreen)
        assert text(app, "#outcome-reasons") == "left as they were:\n  3 assigned (never released)"
        await pilot.press("escape")
        await settle(pilot)
        assert panel(app, "tm") == StatusCounts(1997, 0, 3)
        assert text(app, "#last-result") == "released 2 of 5 codes · 3 assigned (never released)"

        # Back in the browser the row shows the new counts.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen)
        assert row(app, "SPRING-TOUR") == ["SPRING-TOUR", "tm 665 d 16 h", "1,997", "0", "3", "1,000!", "0", "0"]


async def test_cancelled_confirmation_changes_nothing_and_keeps_the_form(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("v", "1", "2", "enter", "n")
        await settle(pilot)
        # Back in the form, as it was, with the focus in the count.
        assert isinstance(app.screen, ReserveDialog)
        assert app.screen.query_one("#reserve-count", Input).value == "12"
        assert app.focused is app.screen.query_one("#reserve-count", Input)
        await pilot.press("escape")
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
        await pilot.press("s", "s")  # by time to empty, then by tm available, ascending
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


async def test_upload_progress_shows_batches_codes_rate_and_eta(bucket, clock):
    service = make_service(embedded_store(), bucket, clock)
    ticks = iter([9.0, 10.0, 11.0, 12.0])
    app = make_app(service, monotonic=lambda: next(ticks))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(UploadScreen("SPRING-TOUR"))
        await settle(pilot)
        screen = app.screen
        screen.running, screen.cancel_event = True, threading.Event()  # as after "Upload? y"
        stats = screen.query_one("#run-stats", StatusLine)
        seen = []
        for p in (
            UploadProgress("validating", 65_536, None, 1_000_000, 4_000_000),
            UploadProgress("validating", 240_000, 240_000, 4_000_000, 4_000_000),  # t=10: writing starts
            UploadProgress("writing", 5_000, 240_000, 4_000_000, 4_000_000, 2, 48),  # t=11
            UploadProgress("writing", 20_000, 240_000, 4_000_000, 4_000_000, 5, 48),  # t=12
        ):
            screen.on_upload_progressed(UploadProgressed(p))
            seen.append(stats.full_text)
        # Cancelling: said at once, and later reports do not overwrite it.
        await pilot.press("escape")
        assert screen.cancel_event.is_set()  # set on the key, not after the batch
        seen.append(stats.full_text)
        screen.on_upload_progressed(UploadProgressed(UploadProgress("writing", 25_000, 240_000, 4_000_000, 4_000_000, 6, 48)))
        seen.append(stats.full_text)
    assert seen == [
        "checking the file: 65,536 codes · 1,000,000 of 4,000,000 bytes read · escape cancels",
        "checking the file: 240,000 codes · 4,000,000 of 4,000,000 bytes read · escape cancels",
        "writing batch 2 of 48 · 5,000 of 240,000 codes written · 5,000 codes/s · ETA 0:47 · escape cancels",
        "writing batch 5 of 48 · 20,000 of 240,000 codes written · 10,000 codes/s · ETA 0:22 · escape cancels",
        "cancelling: no new batch starts · writing batch 5 of 48 finishes first · escape again leaves",
        "cancelling: no new batch starts · writing batch 5 of 48 finishes first · escape again leaves",
    ]


async def test_upload_progress_messages_replace_each_other(service):
    """A screen that falls behind skips to the newest report instead of drawing stale ones."""
    handled: list[int] = []

    class Recording(UploadScreen):
        def on_upload_progressed(self, message) -> None:
            handled.append(message.progress.codes)

    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = Recording("SPRING-TOUR")
        app.push_screen(screen)
        await settle(pilot)
        handled.clear()
        for codes in (100, 200, 300, 400, 500):  # posted faster than the screen handles them
            screen.post_message(UploadProgressed(UploadProgress("writing", codes, 500, 1, 1, codes // 100, 5)))
        screen.post_message(UploadFinished(UploadResult(500, 500, 0)))
        await settle(pilot)
    assert handled == [500]


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
        assert row(app, f"SPRING-TOUR/{codes[0]}") == [codes[0], "reserved", "tm", "SPRING-TOUR"]
        reserve_id = service.lookup(ME, codes[0])[0].reserve_id
        assert len(reserve_id) == 36  # a dashed UUID v4, as the original service makes them
        # The detail pane: every field, the reserveId whole, within 80 columns.
        assert text(app, "#lookup-detail").splitlines() == [
            f"{codes[0]} · tm · SPRING-TOUR · reserved",
            "saved 2026-03-01 08:00:00 · reserved 2026-03-01 08:00:00",
            "assigned –",
            f"reserveId {reserve_id}",
        ]

        await pilot.press("x")
        assert f"Release {codes[0]} in SPRING-TOUR" in text(app, "#confirm-body")
        await pilot.press("y")
        await settle(pilot)
        assert row(app, f"SPRING-TOUR/{codes[0]}")[1] == "available"
        assert text(app, "#lookup-status").startswith("released 1 of 1 code · 1 record for code")
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
        # The view moves to the reservation and keeps its three codes, marked released.
        assert text(app, "#lookup-status").startswith(f"released 3 of 3 codes · reservation {reserve_id}: 3 codes, 0 reserved")
        assert [row(app, f"SPRING-TOUR/{c}")[1] for c in codes[1:]] == ["released"] * 3
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
        assert text(app, "#lookup-status").startswith(f"reservation {reserve_id}: 3 codes, 2 reserved")
        statuses = sorted(row(app, f"VIP-PRESALE/{c}")[1] for c in codes)
        assert statuses == ["assigned", "reserved", "reserved"]
        await pilot.press("X")
        await settle(pilot)
        assert "3 codes carry it, 2 of them reserved" in text(app, "#confirm-body")
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, OutcomeScreen)  # the assigned one, and why it stayed
        assert text(app, "#outcome-reasons") == "left as they were:\n  1 assigned (never released)"
        await pilot.press("escape")
        await settle(pilot)
        # Still the reservation: the assigned code keeps its reserveId, the two released are marked.
        assert text(app, "#lookup-status").startswith(
            f"released 2 of 3 codes · 1 assigned (never released) · reservation {reserve_id}: 3 codes, 0 reserved"
        )
        assert sorted(row(app, f"VIP-PRESALE/{c}")[1] for c in codes) == ["assigned", "released", "released"]
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

        went_down = messages.expect(StoreStateChanged, lambda m: not m.ok)
        store.down = True
        await arrived(went_down)  # a timed poll failed: reported once, no modal
        assert "STORE UNREACHABLE" in app.sub_title
        assert isinstance(app.screen, CampaignScreen)
        # The numbers stay, dimmed, with the time they were read.
        assert text(app, "#campaign-title").startswith("SPRING-TOUR · cannot reach the store: counts from 09:30:15 ·")
        assert app.screen.query_one("#panel-tm", CountPanel).has_class("stale")

        # A user action while it is down: said in the form, which stays open; the app keeps running.
        await pilot.press("v", "5", "enter", "y")
        await settle(pilot)
        assert isinstance(app.screen, ReserveDialog)
        assert text(app, "#reserve-error").startswith("Store unreachable: MongoDB is unreachable (test outage)")
        assert str(app.screen.query_one("#ok", Button).label) == "Retry"
        await pilot.press("escape")
        assert isinstance(app.screen, CampaignScreen)

        came_back = messages.expect(StoreStateChanged, lambda m: m.ok)
        fresh = messages.expect(CountsLoaded)
        store.down = False
        await arrived(came_back)  # the timer kept polling and noticed by itself
        await arrived(fresh)
        await pilot.pause()
        assert "STORE UNREACHABLE" not in app.sub_title
        assert panel(app, "tm") == StatusCounts(2000, 0, 0)
        assert not app.screen.query_one("#panel-tm", CountPanel).has_class("stale")
        assert app.is_running


class BlockingStore(FlakyStore):
    """Holds campaign_ids until released and records how many run at once."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.release = threading.Event()
        self.entered = threading.Event()
        self.active = self.most = self.calls = 0
        self._lock = threading.Lock()

    def counts(self, campaign_id, cutoff, code_type=None):
        if campaign_id is not None:
            return self.inner.counts(campaign_id, cutoff, code_type)
        with self._lock:
            self.calls += 1
            self.active += 1
            self.most = max(self.most, self.active)
        self.entered.set()
        self.release.wait(10)
        with self._lock:
            self.active -= 1
        return self.inner.counts(campaign_id, cutoff)


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
        assert row(app, "SPRING-TOUR")[2] == "2,000"


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


async def test_upload_failing_on_the_store_is_said_in_the_wizard(flaky):
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
        assert isinstance(app.screen, UploadScreen)  # said in place, not in a dialog on top
        assert text(app, "#run-result") == "failed · MongoDB is unreachable (test outage)"
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
        assert text(app, "#browser-empty") == "No campaigns yet: press u to upload codes."
        assert "embedded (SQLite ~/.local/share/code-console/codes.sqlite3) · s3://codes" in app.sub_title
