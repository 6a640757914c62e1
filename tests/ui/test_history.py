"""The code's history in the lookup's detail pane, and the operator in the header (issue 14)."""

from __future__ import annotations

import hashlib
import io
import random
from datetime import timedelta

import pytest

from code_console.core.audit import AuditTrail
from code_console.core.models import Channel, Principal
from code_console.core.service import CodeService

from tests.stores import embedded_store
from tests.ui.conftest import make_app, settle, text
from tests.ui.test_lookup import find

pytestmark = pytest.mark.anyio

ALICE = Principal("alice", supreme=True, channel=Channel.CONSOLE)
BOB = Principal("bob", supreme=True, channel=Channel.CLI)
SHA = hashlib.sha256(b"FAN-0001\n").hexdigest()
VERIFIER = Principal("verification-service", supreme=True, channel=Channel.API, request_id="req-7")


def lived(clock):
    """One code's full life: upload, reserve, expiry, reserve by another caller, a stale release refused, assign."""
    store = embedded_store()
    service = CodeService(store, clock=clock, rng=random.Random(1))
    service.subscribe(AuditTrail(store, timedelta(days=3650)))
    service.upload_from_file(ALICE, "SPRING-TOUR", "tm", io.BytesIO(b"FAN-0001\n"), source_name="batch1.csv")
    clock.advance(minutes=2)
    first = service.reserve(BOB, "SPRING-TOUR", "tm", 1, key="support-hold-1")
    clock.advance(hours=25)
    second = service.reserve(VERIFIER, "SPRING-TOUR", "tm", 1, key="verify-42")
    clock.advance(minutes=1)
    service.release(BOB, "SPRING-TOUR", ["FAN-0001"], reserve_id=first.reserve_id)
    clock.advance(minutes=1)
    service.assign(VERIFIER, "SPRING-TOUR", ["FAN-0001"], reserve_id=second.reserve_id)
    return service


async def test_the_detail_pane_shows_the_codes_history(clock):
    service = lived(clock)
    app = make_app(service, operator=ALICE)
    async with app.run_test(size=(100, 30)) as pilot:
        await find(pilot, "FAN-0001", "SPRING-TOUR")
        await settle(pilot)
        assert text(app, "#lookup-history").splitlines() == [
            "history of FAN-0001 (6 entries, oldest first)",
            f"2026-03-01 08:00:00  uploaded from batch1.csv (sha256 {SHA[:12]}, 1 code) · alice (console)",
            "2026-03-01 08:02:00  reserved under support-hold-1 · bob (cli)",
            "2026-03-02 08:02:00  hold support-hold-1 expired (TTL 24 h); the code is available again",
            "2026-03-02 09:02:00  reserved under verify-42, taking over expired hold support-hold-1 · verification-service (api) req req-7",
            "2026-03-02 09:03:00  release naming reserveId support-hold-1 refused: held by another reservation · bob (cli)",
            "2026-03-02 09:04:00  assigned (reserveId verify-42) · verification-service (api) req req-7",
        ]


async def test_a_release_made_in_the_console_joins_the_history_with_the_operator(clock):
    store = embedded_store()
    service = CodeService(store, clock=clock)
    service.subscribe(AuditTrail(store, timedelta(days=3650)))
    service.upload_from_file(ALICE, "VIP", "tm", io.BytesIO(b"V1\n"), source_name="vip.csv")
    held = service.reserve(BOB, "VIP", "tm", 1)
    app = make_app(service, operator=Principal("carol", supreme=True, channel=Channel.CONSOLE))
    async with app.run_test(size=(100, 30)) as pilot:
        assert "as carol" in text(app, "ConsoleHeader")
        await find(pilot, "V1", "VIP")
        await pilot.press("x", "y")
        await settle(pilot)
        await settle(pilot)
        lines = text(app, "#lookup-history").splitlines()
        assert lines[0] == "history of V1 (3 entries, oldest first)"
        assert lines[-1] == f"2026-03-01 08:00:00  released (reserveId {held.reserve_id}) · carol (console)"
    event = service.history(ALICE, "VIP", kind="released").events[0]
    assert (event.actor, event.channel) == ("carol", "console")


async def test_the_wizard_warns_when_the_same_file_was_uploaded_before(clock, tmp_path):
    """The check step lists the campaign's last uploads and names the first upload of this very file."""
    from textual.widgets import Input, TabbedContent

    store = embedded_store()
    service = CodeService(store, clock=clock)
    service.subscribe(AuditTrail(store, timedelta(days=3650)))
    data = b"GIFT-1\nGIFT-2\nGIFT-3\n"
    service.upload_from_file(BOB, "GIFTS", "tm", io.BytesIO(data), source_name="gifts.csv")  # 08:00 by bob
    clock.advance(hours=1)
    service.upload_from_file(ALICE, "GIFTS", "tm", io.BytesIO(b"OTHER-1\n"), source_name="other.csv")  # 09:00 by alice
    clock.advance(hours=1)
    path = tmp_path / "gifts-again.csv"
    path.write_bytes(data)
    app = make_app(service, operator=ALICE)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_upload("GIFTS")
        await settle(pilot)
        app.screen.query_one(TabbedContent).active = "tab-file"
        await pilot.pause()
        field = app.screen.query_one("#upload-path", Input)
        field.focus()
        field.value = str(path)
        await pilot.press("enter")
        await settle(pilot)
        assert text(app, "#check-uploads").splitlines() == [
            f"this same file (sha256 {hashlib.sha256(data).hexdigest()[:12]}) was uploaded before: "
            "first 2026-03-01 08:00:00 gifts.csv by bob (cli), 3 codes",
            "last uploads to GIFTS",
            "  2026-03-01 09:00:00 other.csv by alice (console), 1 code",
            "  2026-03-01 08:00:00 gifts.csv by bob (cli), 3 codes",
        ]
        await pilot.press("ctrl+u", "y")
        await settle(pilot)
    [again, *_] = service.uploads(ALICE, "GIFTS", sha256=hashlib.sha256(data).hexdigest())
    assert (again.actor, again.channel, again.details["source"]) == ("alice", "console", "gifts-again.csv")


async def test_the_activity_feed_is_live(clock):
    """`e` on a campaign opens its activity; a change made elsewhere (the API) appears on the next poll."""
    import asyncio

    from code_console.ui.screens.activity import ActivityScreen

    from tests.ui.conftest import row

    service = lived(clock)
    app = make_app(service, operator=ALICE, refresh_seconds=0.05)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_campaign("SPRING-TOUR")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, ActivityScreen)
        events = service.history(ALICE, "SPRING-TOUR").events
        assert [row(app, e.id) for e in events] == [
            ["2026-03-02 09:04:00", "assigned", "verification-service", "api", "1 of 1 assigned · reserveId verify-42 · FAN-0001"],
            ["2026-03-02 09:03:00", "released", "bob", "cli",
             "0 of 1 released · reserveId support-hold-1 · FAN-0001: held by another reservation"],
            ["2026-03-02 09:02:00", "reserved", "verification-service", "api", "1 of 1 under verify-42"],
            ["2026-03-01 08:02:00", "reserved", "bob", "cli", "1 of 1 under support-hold-1"],
            ["2026-03-01 08:00:00", "uploaded", "alice", "console", f"batch1.csv, 1 code (sha256 {SHA[:8]})"],
        ]
        clock.advance(minutes=1)
        service.upload_from_file(VERIFIER, "SPRING-TOUR", "tm", io.BytesIO(b"FAN-0002\n"), source_name="late.csv")
        for _ in range(200):  # the feed's own timer reads it again
            if app.screen.query_one("DataTable").row_count == 6:
                break
            await asyncio.sleep(0.02)
        newest = service.history(ALICE, "SPRING-TOUR", limit=1).events[0]
        assert row(app, newest.id)[:4] == ["2026-03-02 09:05:00", "uploaded", "verification-service", "api"]
        assert app.screen.query_one("DataTable").get_row_index(newest.id) == 0


def test_a_long_history_shows_its_newest_lines_and_counts_the_rest():
    from rich.text import Text

    from code_console.core.audit import HistoryLine
    from code_console.ui.widgets.history import history_text

    from tests.conftest import T0

    lines = [HistoryLine(T0 + timedelta(minutes=i), f"change {i}", "bob", "cli") for i in range(10)]
    shown = Text.from_markup(history_text("C1", lines, max_lines=3)).plain.splitlines()
    assert shown == [
        "history of C1 (10 entries, oldest first)",
        "7 earlier entries not shown (code-console history)",
        "2026-03-01 08:07:00  change 7 · bob (cli)",
        "2026-03-01 08:08:00  change 8 · bob (cli)",
        "2026-03-01 08:09:00  change 9 · bob (cli)",
    ]
    assert Text.from_markup(history_text("C1", [])).plain == "history of C1: no recorded change"
