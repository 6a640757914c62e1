"""The console's browser on a `codes` collection the original service wrote (tests/original_collection.py),
on SecantusDB: its campaigns with their exact counts, and a campaign's panels."""

from __future__ import annotations

import uuid
from datetime import timezone

import pymongo
import pytest
from textual.widgets import DataTable

from code_console.core.models import CodeType, StatusCounts
from code_console.core.mongo import connect
from code_console.core.service import CodeService
from code_console.ui.screens.campaign import CampaignScreen

from tests.original_collection import assert_original_shape, write_original_collection
from tests.ui.conftest import make_app, panel, row, settle

pytestmark = [pytest.mark.anyio, pytest.mark.realserver]

NO_LOW_STOCK = {CodeType.TM: 0, CodeType.EXTERNAL: 0}


@pytest.fixture
def original_service(secantus):
    name = f"orig_ui_{uuid.uuid4().hex[:10]}"
    client = pymongo.MongoClient(secantus.uri, tz_aware=True)
    now = client.admin.command("hello")["localTime"].replace(tzinfo=timezone.utc)
    written = write_original_collection(client[name], now.replace(microsecond=now.microsecond // 1000 * 1000))
    store = connect(secantus.uri, name, timeout_seconds=30, batch_timeout_seconds=60)
    yield written, CodeService(store)  # the database's clock, as in production
    store.close()
    client.drop_database(name)
    client.close()


async def test_the_browser_shows_the_original_s_campaigns_with_exact_counts(original_service):
    written, service = original_service
    app = make_app(service, low_stock=NO_LOW_STOCK)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert [key.value for key in app.screen.query_one(DataTable).rows] == ["ORIG-1", "ORIG-2"]
        # campaign, time to empty, then tm available / reserved / assigned, then external's
        assert row(app, "ORIG-1") == ["ORIG-1", "tm 5 d", "15", "4", "4", "5", "1", "1"]
        assert row(app, "ORIG-2") == ["ORIG-2", "tm 12 h", "1", "0", "2", "0", "0", "0"]
        assert app.sub_title.startswith("as local-operator · mongodb://127.0.0.1:")

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen) and app.screen.campaign == "ORIG-1"
        assert panel(app, "tm") == StatusCounts(15, 4, 4) == written.expected_counts()["ORIG-1"][CodeType.TM]
        assert panel(app, "external") == StatusCounts(5, 1, 1)
    assert_original_shape(written.collection)
