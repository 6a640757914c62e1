"""What the console says when the store is away or busy (issue 12, points 2 and 8): never "no
campaigns yet" for an outage, never an outage for a busy server, and old numbers with their time."""

from __future__ import annotations

import pytest

from code_console.ui.messages import CampaignsLoaded, StoreStateChanged
from code_console.ui.policy import StoreState

from tests.ui.conftest import Messages, arrived, make_app, settle, shown, text

pytestmark = pytest.mark.anyio


async def test_store_down_at_start_says_it_cannot_reach_the_store(flaky):
    store, service = flaky
    store.down = True
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert text(app, "#browser-empty") == (
            "Cannot reach the store (embedded (SQLite ~/.local/share/code-console/codes.sqlite3)).\n"
            "The console keeps trying; campaigns appear when it answers."
        )
        assert "No campaigns yet" not in text(app, "#browser-empty")
        assert text(app, "#browser-status") == "cannot reach the store, retrying · manual refresh"
        assert app.sub_title == "STORE UNREACHABLE · as local-operator · embedded (SQLite ~/.local/share/code-console/codes.sqlite3) · s3://codes"
        assert not app.screen.query_one("#campaigns").display


async def test_a_busy_store_is_slow_not_unreachable(flaky):
    store, service = flaky
    store.slow = True
    messages = Messages()
    app = make_app(service)
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await settle(pilot)
        assert app.store_state is StoreState.SLOW
        assert "STORE UNREACHABLE" not in app.sub_title
        assert app.sub_title.startswith("STORE SLOW · ")
        assert text(app, "#browser-empty") == (
            "The store is slow to answer (busy, not down).\nThe console keeps trying; campaigns appear when it answers."
        )
        assert [n.title for n in app._notifications] == ["Store slow"]
        back = messages.expect(StoreStateChanged, lambda m: m.ok)
        store.slow = False
        await pilot.press("r")
        await arrived(back)
        await settle(pilot)
        assert app.sub_title == "as local-operator · embedded (SQLite ~/.local/share/code-console/codes.sqlite3) · s3://codes"


async def test_during_an_outage_the_numbers_show_when_they_were_read(flaky):
    store, service = flaky
    times = iter(["09:30:15", "09:41:02"])
    from datetime import datetime

    app = make_app(service, wall_clock=lambda: datetime.strptime(f"2026-03-01 {next(times)}", "%Y-%m-%d %H:%M:%S"))
    messages = Messages()
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await settle(pilot)
        assert text(app, "#browser-status") == "3 campaigns · 2 low on stock (!) · sorted by campaign · manual refresh · enter opens"
        store.down = True
        await pilot.press("r")
        await settle(pilot)
        assert text(app, "#browser-status").startswith("cannot reach the store: counts from 09:30:15 · 3 campaigns")
        # At 80 columns the time is what stays.
        assert shown(app, "#browser-status").startswith("cannot reach the store: counts from 09:30:15 · 3 campaigns")
        store.down = False
        fresh = messages.expect(CampaignsLoaded)
        await pilot.press("r")
        await arrived(fresh)
        await settle(pilot)
        assert text(app, "#browser-status").startswith("3 campaigns")
