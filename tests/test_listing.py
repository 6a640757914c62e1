"""The campaign listing (the console's browser refresh) costs the same commands whatever the number of campaigns."""

import uuid
from datetime import datetime, timezone

import pytest
from pymongo import monitoring

from code_console.core.models import CodeType, StatusCounts
from code_console.core.mongo import connect
from code_console.core.service import CodeService

from tests.conftest import ME
from tests.stores import embedded_store

pytestmark = pytest.mark.realserver
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event):
        self.names.append(event.command_name)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def fill(store, campaigns: range) -> None:
    for n in campaigns:
        store.write_batch(f"L{n:04d}", CodeType.TM, [f"C{n}-1", f"C{n}-2"], NOW)
        if n % 2:
            store.write_batch(f"L{n:04d}", CodeType.EXTERNAL, [f"X{n}"], NOW)


def test_listing_is_one_command_at_10_and_at_150_campaigns(secantus, clock):
    # 150 campaigns with both types for half of them: 225 rows, past the server's default first batch (101).
    commands = Commands()
    store = connect(secantus.uri, f"list_{uuid.uuid4().hex[:8]}", timeout_seconds=30, batch_timeout_seconds=60, event_listeners=[commands])
    store.prepare()
    service = CodeService(store, clock=clock)
    try:
        fill(store, range(10))
        commands.names.clear()
        at_10 = service.campaigns(ME)
        sent_10 = list(commands.names)
        fill(store, range(10, 150))
        commands.names.clear()
        at_150 = service.campaigns(ME)
        sent_150 = list(commands.names)
    finally:
        store.collection.drop()
        store.close()
    assert (len(at_10), len(at_150)) == (10, 150)
    assert sent_10 == sent_150 == ["aggregate"]
    assert at_150[-1].campaign_id == "L0149"
    assert at_150[-1].counts == {CodeType.TM: StatusCounts(2, 0, 0), CodeType.EXTERNAL: StatusCounts(1, 0, 0)}


def test_embedded_listing_is_one_query_at_10_and_at_150_campaigns(clock):
    store = embedded_store()
    service = CodeService(store, clock=clock)
    statements: list[str] = []
    try:
        with store._read() as conn:
            conn.set_trace_callback(statements.append)
        fill(store, range(10))
        statements.clear()
        at_10 = service.campaigns(ME)
        sent_10 = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        fill(store, range(10, 150))
        statements.clear()
        at_150 = service.campaigns(ME)
        sent_150 = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    finally:
        store.close()
    assert (len(at_10), len(at_150)) == (10, 150)
    assert len(sent_10) == len(sent_150) == 1
