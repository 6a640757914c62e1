"""A code whose stored document fits no status (another tool wrote a string where a date
belongs) is shown by the lookup as such, instead of breaking the table and the detail pane."""

from __future__ import annotations

import pytest

from code_console.core.service import CodeService

from tests.conftest import T0, mongomock_store
from tests.ui.conftest import make_app, row, text
from tests.ui.test_lookup import find

pytestmark = pytest.mark.anyio


async def test_a_code_that_fits_no_status_is_shown_as_such(clock):
    store = mongomock_store()
    store.prepare()
    store.collection.insert_one(
        {"_id": {"campaign_id": "ORIG", "code": "BAD1"}, "type": "tm", "date": {"saved": T0, "reserved": "2026-03-01T08:00:00Z"}}
    )
    app = make_app(CodeService(store, clock=clock))
    async with app.run_test(size=(80, 24)) as pilot:
        await find(pilot, "BAD1", "ORIG")
        assert row(app, "ORIG/BAD1") == ["BAD1", "fits no status", "tm", "ORIG"]
        assert text(app, "#lookup-detail").splitlines()[0] == "BAD1 · tm · ORIG · fits no status"
