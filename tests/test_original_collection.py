"""The whole product on a `codes` collection the original service wrote (tests/original_collection.py),
on SecantusDB: `code-console serve` and the command line start on it, count it exactly, reserve
from it (never an assigned or live-reserved code; expired ones are taken), assign, release,
re-upload into it, look it up; afterwards every document still has the original's shape, so the
original could still read it (a rollback stays possible).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from datetime import timedelta, timezone

import httpx
import pymongo
import pytest

from code_console.core.models import LOCAL_OPERATOR as ME
from code_console.core.mongo import connect
from code_console.core.service import CodeService

from tests.api.conftest import SECRET, hs256
from tests.conftest import FakeClock
from tests.original_collection import (
    ORIGINAL_INDEXES,
    UUID4,
    assert_original_shape,
    index_table,
    original_reserve,
    shape_problems,
    write_original_collection,
)
from tests.servers import ServeProcess

pytestmark = pytest.mark.realserver

# What the product adds: secondary, non-unique indexes on the original's fields (the last one
# under a case-insensitive collation, for the upload's warning about case twins in the campaign).
PRODUCT_INDEXES = {
    "case_folded_code": ([("_id.campaign_id", 1), ("_id.code", 1)], {}),
    "_id.campaign_id_1_reserveId_1_date.assigned_1_date.reserved_1__id.code_1": (
        [("_id.campaign_id", 1), ("reserveId", 1), ("date.assigned", 1), ("date.reserved", 1), ("_id.code", 1)],
        {},
    ),
    # A code in any campaign, and an upload's upsert by {campaign, code, type} (one index, so a point lookup).
    "_id.code_1__id.campaign_id_-1_type_1": ([("_id.code", 1), ("_id.campaign_id", -1), ("type", 1)], {}),
    # The reserve's search for fresh, then expired, codes: one bounded range each.
    "_id.campaign_id_1_type_1_date.assigned_1_date.reserved_1": (
        [("_id.campaign_id", 1), ("type", 1), ("date.assigned", 1), ("date.reserved", 1)],
        {},
    ),
}
ID_INDEX = {"_id_": ([("_id", 1)], {})}
ORIGINAL_INDEXES_TABLE = dict(ORIGINAL_INDEXES)


@pytest.fixture
def original(secantus):
    """A fresh database holding the original's collection, its times relative to the server's clock."""
    name = f"orig_{uuid.uuid4().hex[:10]}"
    client = pymongo.MongoClient(secantus.uri, tz_aware=True)
    now = client.admin.command("hello")["localTime"]  # naive UTC (a command's reply ignores tz_aware)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000, tzinfo=timezone.utc)
    written = write_original_collection(client[name], now)
    written.db_name, written.uri = name, secantus.uri
    yield written
    client.drop_database(name)
    client.close()


def documents(collection, campaign: str = "ORIG-1") -> dict[str, dict]:
    return {d["_id"]["code"]: d for d in collection.find({"_id.campaign_id": campaign})}


def env_for(original, bucket: tuple | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE_CONSOLE_")}
    env.update(
        CODE_CONSOLE_MONGO_URI=original.uri,
        CODE_CONSOLE_MONGO_DB=original.db_name,
        CODE_CONSOLE_MONGO_TIMEOUT_SECONDS="30",
        CODE_CONSOLE_JWT_SECRET=SECRET,
    )
    if bucket is not None:
        client, name = bucket
        env.update(CODE_CONSOLE_S3_BUCKET=name, CODE_CONSOLE_S3_ENDPOINT_URL=client.meta.endpoint_url)
    return env


def cli(env: dict[str, str], *args: str):
    result = subprocess.run([sys.executable, "-m", "code_console", *args], capture_output=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def data(response: httpx.Response, correlation_id: str):
    """The original's envelope, its correlation id echoed in `meta` and in the header."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data", "meta"} and body["meta"]["correlationId"] == correlation_id
    assert response.headers["x-titan-correlation-id"] == correlation_id
    return body["data"]


def test_start_up_creates_no_unique_index_and_keeps_the_original_s(original, s3_bucket):
    before = index_table(original.collection)
    assert before == {**ORIGINAL_INDEXES_TABLE, **ID_INDEX}
    env = env_for(original, s3_bucket)
    counts = cli(env, "count", "ORIG-1", "--type", "tm")  # the command line starts on it (and prepares the store)
    assert counts == {"available": 15, "reserved": 4, "assigned": 4}
    server = ServeProcess(env)
    try:
        server.wait_listening()
        beat = httpx.get(f"http://127.0.0.1:{server.port}/heartbeat", timeout=30)
        assert (beat.status_code, beat.json()) == (200, {"status": "ok"})
    finally:
        server.stop()
    assert server.proc.returncode == 0, "".join(server.lines[-20:])
    # The original's three indexes as they were, plus the product's secondary non-unique ones; no unique one.
    assert index_table(original.collection) == {**ORIGINAL_INDEXES_TABLE, **PRODUCT_INDEXES, **ID_INDEX}
    # The product's own collections beside `codes`: reservation keys (empty until a key is used)
    # and the audit trail (empty until a change is made).
    assert sorted(original.collection.database.list_collection_names()) == ["codes", "events", "reservations"]
    assert original.collection.database["reservations"].count_documents({}) == 0
    assert original.collection.database["events"].count_documents({}) == 0


def test_the_whole_product_on_the_original_collection(original, s3_bucket):
    w = original
    col = w.collection
    s3, bucket = s3_bucket
    env = env_for(w, s3_bucket)
    other_before = documents(col, "ORIG-2")
    server = ServeProcess(env)
    try:
        server.wait_listening()
        http = httpx.Client(base_url=f"http://127.0.0.1:{server.port}", headers={"Authorization": f"Bearer {hs256()}"}, timeout=60)
        n = iter(range(1, 100))

        def call(method: str, path: str, **kw):
            cid = f"orig-{next(n)}"
            response = http.request(method, path, headers={"x-titan-correlation-id": cid}, **kw)
            return data(response, cid), response

        # count, exactly, as the original would have counted
        assert call("GET", "/ORIG-1/codes/count", params={"type": "tm"})[0] == {"available": 15, "reserved": 4, "assigned": 4}
        assert call("GET", "/ORIG-1/codes/count", params={"type": "external"})[0] == {"available": 5, "reserved": 1, "assigned": 1}
        assert call("GET", "/ORIG-2/codes/count", params={"type": "tm", "status": "available"})[0] == {"available": 1}

        # reserve: every available code (fresh, released by the original, expired, exactly 24 h old),
        # never an assigned or a live-reserved one, nor another campaign's
        before = documents(col)
        reserved, response = call("GET", "/ORIG-1/reserve", params={"count": 20, "type": "tm"})
        assert reserved == w.available
        reserve_id = response.headers["Reservation-Id"]
        assert UUID4.fullmatch(reserve_id)
        after = documents(col)
        for code in reserved:
            assert after[code]["reserveId"] == reserve_id
            assert after[code]["date"]["saved"] == before[code]["date"]["saved"]
            assert abs(after[code]["date"]["reserved"] - w.now) < timedelta(minutes=5)
        untouched = set(before) - set(reserved)
        assert {c: after[c] for c in untouched} == {c: before[c] for c in untouched}
        assert call("GET", "/ORIG-1/codes/count", params={"type": "tm"})[0] == {"available": 0, "reserved": 19, "assigned": 4}

        # assign: two of ours, one the original reserved, one the original assigned (kept), one unknown
        mine = reserved
        assigned, _ = call("POST", "/ORIG-1/assign", json={"codes": [mine[0], mine[1], "TM-L01", "TM-D01", "NOPE-1"]})
        assert assigned == {"count": {"in": 5, "updated": 3}, "unchanged": {"already_assigned": ["TM-D01"], "not_found": ["NOPE-1"]}}
        assert documents(col)["TM-D01"]["date"] == before["TM-D01"]["date"]  # never overwritten

        # release: one of ours, one the original reserved, two assigned (never released)
        released, _ = call("POST", "/ORIG-1/release", json={"codes": [mine[2], "TM-L02", "TM-S01", mine[0]]})
        assert released == {"count": {"in": 4, "updated": 2}, "unchanged": {"already_assigned": ["TM-S01", mine[0]]}}
        for code in (mine[2], "TM-L02"):
            assert set(documents(col)[code]) == {"_id", "type", "date"} and set(documents(col)[code]["date"]) == {"saved"}
        assert call("GET", "/ORIG-1/codes/count", params={"type": "tm"})[0] == {"available": 2, "reserved": 14, "assigned": 7}

        # re-upload from the bucket: existing codes are updated in place, statuses kept, no second document
        s3.put_object(Bucket=bucket, Key="codes/ORIG-1/tm/reupload.csv", Body=b"TM-L03\nTM-S02\nTM-R01\nTM-NEW01\nTM-NEW02\n")
        before = documents(col)
        uploaded, _ = call("POST", "/ORIG-1/codes", json={"fileKey": "codes/ORIG-1/tm/reupload.csv"})
        assert uploaded == {"count": {"in": 5, "inserted": 2, "updated": 3}}
        after = documents(col)
        for code in ("TM-L03", "TM-S02", "TM-R01"):
            assert after[code]["date"]["saved"] > before[code]["date"]["saved"]
            assert {k: v for k, v in after[code]["date"].items() if k != "saved"} == {k: v for k, v in before[code]["date"].items() if k != "saved"}
            assert after[code].get("reserveId") == before[code].get("reserveId")
        assert col.count_documents({"_id.code": {"$in": ["TM-L03", "TM-S02", "TM-R01"]}, "_id.campaign_id": "ORIG-1"}) == 3
        assert call("GET", "/ORIG-1/codes/count", params={"type": "tm"})[0] == {"available": 4, "reserved": 14, "assigned": 7}

        # a file that brings a code stored under the other type: a conflict, and the code is not moved
        s3.put_object(Bucket=bucket, Key="codes/ORIG-1/external/cross.csv", Body=b"TM-A05\nEX-NEW01\n")
        before = documents(col)
        crossed, _ = call("POST", "/ORIG-1/codes", json={"fileKey": "codes/ORIG-1/external/cross.csv"})
        assert crossed == {"count": {"in": 2, "inserted": 1, "updated": 0, "conflicts": 1}}
        assert documents(col)["TM-A05"] == before["TM-A05"]
        assert call("GET", "/ORIG-1/codes/count", params={"type": "external"})[0] == {"available": 6, "reserved": 1, "assigned": 1}
        http.close()
    finally:
        server.stop()
    assert server.proc.returncode == 0, "".join(server.lines[-20:])

    # the command line, on the same collection: lookup and a reserve of its own
    [live] = cli(env, "lookup", "TM-L03", "--campaign", "ORIG-1")
    stored = documents(col)["TM-L03"]
    assert live == {
        "campaignId": "ORIG-1",
        "type": "tm",
        "code": "TM-L03",
        "status": "reserved",
        "date": {"saved": stored["date"]["saved"].isoformat(), "reserved": stored["date"]["reserved"].isoformat(), "assigned": None},
        "reserveId": w.reserve_ids["live"],
    }
    everywhere = cli(env, "lookup", "TM-L01")
    assert sorted((r["campaignId"], r["status"]) for r in everywhere) == [("ORIG-1", "assigned"), ("ORIG-2", "available")]
    assert cli(env, "reserve", "ORIG-1", "--type", "external", "--count", "10") == sorted(w.ext_fresh + ["EX-NEW01"])

    # the other campaign was never touched, and every document is still the original's
    assert documents(col, "ORIG-2") == other_before
    assert assert_original_shape(col) == 23 + 7 + 3 + 2 + 1


def test_a_reservation_exactly_24_hours_old_is_available_one_a_millisecond_younger_is_not(original):
    w = original
    store = connect(w.uri, w.db_name, timeout_seconds=30, batch_timeout_seconds=60)
    try:
        clock = FakeClock(w.now)
        # One more reservation by the original, a millisecond younger than the boundary one.
        younger = original_reserve(w.collection, "ORIG-1", ["TM-A08"], w.now - timedelta(hours=24) + timedelta(milliseconds=1))
        service = CodeService(store, clock=clock)
        assert service.count(ME, "ORIG-1", "tm") == {"available": 14, "reserved": 5, "assigned": 4}
        assert [r.status.value for r in service.lookup(ME, "TM-B01", "ORIG-1")] == ["available"]
        assert [r.status.value for r in service.lookup(ME, "TM-A08", "ORIG-1")] == ["reserved"]
        taken = service.reserve(ME, "ORIG-1", "tm", 20)
        assert "TM-B01" in taken.codes and "TM-A08" not in taken.codes and len(taken.codes) == 14
        clock.advance(milliseconds=1)
        again = service.reserve(ME, "ORIG-1", "tm", 20)
        assert again.codes == ["TM-A08"]
        assert w.collection.find_one({"_id.code": "TM-A08", "_id.campaign_id": "ORIG-1"})["reserveId"] == again.reserve_id != younger
        assert_original_shape(w.collection)
    finally:
        store.close()


def test_a_keyed_reservation_keeps_the_original_s_shape(original):
    """A reservation key is the reserveId; its record goes to a collection of its own, `reservations`."""
    w = original
    store = connect(w.uri, w.db_name, timeout_seconds=30, batch_timeout_seconds=60)
    try:
        service = CodeService(store, clock=FakeClock(w.now))
        first = service.reserve(ME, "ORIG-1", "tm", 3, key="order-77")
        assert service.reserve(ME, "ORIG-1", "tm", 3, key="order-77").codes == first.codes
        assert {d["_id"]["code"] for d in w.collection.find({"reserveId": "order-77"})} == set(first.codes)
        assert [r["_id"] for r in w.collection.database["reservations"].find()] == ["order-77"]
        assert_original_shape(w.collection, re.compile(f"{UUID4.pattern}|order-77\\Z"))
    finally:
        store.close()


def test_the_shape_check_catches_what_the_original_could_not_read():
    from datetime import datetime

    saved = datetime(2026, 3, 1, tzinfo=timezone.utc)
    good = {"_id": {"campaign_id": "C", "code": "A"}, "type": "tm", "date": {"saved": saved}}
    assert shape_problems(good) == []
    assert shape_problems({**good, "reserveId": "b3c1e1e4-8d7a-4c1e-9f00-1234567890ab"}) == []
    assert shape_problems({"_id": good["_id"], "date": good["date"], "type": "tm"}) == []  # MongoDB 5's $set order
    assert shape_problems({**good, "_id": {"code": "A", "campaign_id": "C"}}) == ["_id {'code': 'A', 'campaign_id': 'C'}"]
    assert shape_problems({**good, "campaignId": "C"}) == ["fields ['_id', 'type', 'date', 'campaignId']"]
    assert shape_problems({**good, "date": {"saved": saved.isoformat()}}) == [f"date types {{'saved': '{saved.isoformat()}'}}"]
    assert shape_problems({**good, "date": {"reserved": saved}}) == [f"date {{'reserved': {saved!r}}}"]
    assert shape_problems({**good, "type": "TM"}) == ["type 'TM'"]
    assert shape_problems({**good, "reserveId": "r-1"}) == ["reserveId 'r-1'"]


def test_on_an_empty_database_the_original_s_indexes_are_made_under_its_driver_s_names(secantus):
    name = f"orig_empty_{uuid.uuid4().hex[:10]}"
    store = connect(secantus.uri, name, timeout_seconds=30, batch_timeout_seconds=60)
    try:
        store.prepare()
        assert index_table(store.collection) == {**ORIGINAL_INDEXES_TABLE, **PRODUCT_INDEXES, **ID_INDEX}
    finally:
        store.collection.database.client.drop_database(name)
        store.close()
