"""Issue 10, the last case and item 7, on the embedded store AND SecantusDB: documents another
tool wrote that do not fit the schema (date.reserved as an ISO string, as an export round trip
leaves it; date.saved as text; an unknown type; on MongoDB also a code that is a number, a
missing date). Nothing crashes; `count` and `reserve` agree (a code counted available can be
reserved); `lookup` answers; `check` reports them by kind with examples and changes nothing.
"""

from __future__ import annotations

import io
import json
import os
import random
import sqlite3
import subprocess
import sys
from datetime import timedelta

import pytest

from code_console.core import status as rules
from code_console.core.models import LOCAL_OPERATOR as ME, CodeType, Status
from code_console.core.mongo import _stored
from code_console.core.service import CodeService

from tests.conftest import T0, FakeClock, mongomock_store, secantus_store
from tests.stores import embedded_store

ISO = "2026-03-01T07:00:00.000Z"


def misfit_service(kind: str, request) -> tuple[CodeService, object]:
    """A service on `kind` whose campaign D holds A, B, C as uploaded, then B's reservation
    date rewritten as an ISO string, a code of an unknown type and a code whose saved date is text."""
    clock = FakeClock(T0)
    if kind == "embedded":
        store = embedded_store()
        request.addfinalizer(store.close)
    else:
        store = secantus_store(request.getfixturevalue("secantus"))
        request.addfinalizer(lambda: (store.collection.drop(), store.close()))
    service = CodeService(store, clock=clock)
    service.upload_from_file(ME, "D", "tm", io.BytesIO(b"A\nB\nC\n"))
    if kind == "embedded":
        with sqlite3.connect(store.path) as conn:
            conn.execute("UPDATE codes SET reserved = ?, reserve_id = 'r-1' WHERE campaign_id = 'D' AND code = 'B'", [ISO])
            conn.execute("INSERT INTO codes (campaign_id, code, type, saved) VALUES ('D', 'P1', 'promo', 0)")
            conn.execute("INSERT INTO codes (campaign_id, code, type, saved) VALUES ('D', 'S1', 'tm', 'yesterday')")
    else:
        col = store.collection
        col.update_one({"_id.campaign_id": "D", "_id.code": "B"}, {"$set": {"date.reserved": ISO, "reserveId": "r-1"}})
        saved = T0 - timedelta(days=1)
        col.insert_many(
            [
                {"_id": {"campaign_id": "D", "code": "P1"}, "type": "promo", "date": {"saved": saved}},
                {"_id": {"campaign_id": "D", "code": "S1"}, "type": "tm", "date": {"saved": "yesterday"}},
            ]
        )
    return service, store


@pytest.fixture(params=["embedded", pytest.param("secantus", marks=pytest.mark.realserver)])
def misfits(request):
    return misfit_service(request.param, request)


def test_count_and_reserve_agree_and_lookup_answers(misfits):
    service, _ = misfits
    # B (reserved: text) is neither available nor reserved; P1 (type promo) is in no pool;
    # S1 (saved: text) is available: a code with no reservation can be handed out.
    assert service.count(ME, "D", "tm") == {"available": 3, "reserved": 0, "assigned": 0}
    assert sorted(service.reserve(ME, "D", "tm", 3).codes) == ["A", "C", "S1"]
    assert service.reserve(ME, "D", "tm", 1).codes == []
    b = service.lookup(ME, "B", "D")
    assert [(r.code, r.status, r.problems) for r in b] == [("B", None, (f"reserved_not_date: str '{ISO}'",))]
    p1 = service.lookup(ME, "P1", "D")
    assert [(r.code, r.code_type, r.problems) for r in p1] == [("P1", "promo", ("unknown_type: str 'promo'",))]


def test_check_reports_them_by_kind_with_examples_and_changes_nothing(misfits):
    service, _ = misfits
    before = service.count(ME, "D", "tm")
    report = service.check(ME, "D").to_dict()
    assert report["documents"] == 5
    assert {kind: (v["count"], v["examples"]) for kind, v in report["misfits"].items()} == {
        "reserved_not_date": (1, [{"code": "B", "found": f"str '{ISO}'"}]),
        "saved_not_date": (1, [{"code": "S1", "found": "str 'yesterday'"}]),
        "unknown_type": (1, [{"code": "P1", "found": "str 'promo'"}]),
    }
    assert service.count(ME, "D", "tm") == before


def test_releasing_a_code_whose_reservation_date_is_text_returns_it_to_the_pool(misfits):
    service, _ = misfits
    assert service.release(ME, "D", ["B"]).updated == 1
    assert service.count(ME, "D", "tm") == {"available": 4, "reserved": 0, "assigned": 0}


def test_the_command_line_prints_lookup_and_check_without_a_traceback(request, tmp_path):
    service, store = misfit_service("embedded", request)
    env = {k: v for k, v in os.environ.items() if k not in ("CODE_CONSOLE_MONGO_URI", "CODE_CONSOLE_S3_BUCKET")}
    env["CODE_CONSOLE_SQLITE_PATH"] = str(store.path)

    def run(*args):
        return subprocess.run([sys.executable, "-m", "code_console", *args], capture_output=True, env=env, timeout=120)

    for args in (("lookup", "B", "--campaign", "D"), ("lookup", "P1"), ("check", "D"), ("count", "D", "--type", "tm")):
        result = run(*args)
        assert result.returncode in (0, 1), (args, result.stderr.decode())
        assert "Traceback" not in result.stderr.decode(), (args, result.stderr.decode())
    assert json.loads(run("count", "D", "--type", "tm").stdout) == {"available": 3, "reserved": 0, "assigned": 0}


@pytest.fixture(params=["mongomock", pytest.param("secantus", marks=pytest.mark.realserver)])
def mongo_store(request):
    if request.param == "mongomock":
        store = mongomock_store()
        store.prepare()
        request.addfinalizer(store.close)
    else:
        store = secantus_store(request.getfixturevalue("secantus"))
        request.addfinalizer(lambda: (store.collection.drop(), store.close()))
    return store


def test_misfits_first_in_the_candidate_range_never_hide_the_available_codes(mongo_store):
    """The reserve's candidate search asks the index for the assigned and reserved conditions
    only and checks the rest of the rule itself: 40 misfits that sort first in that range (a
    code that is a number, a `date` that is text), fresh and expired, more than a reserve's
    window, must not make the pool look empty."""
    old = T0 - timedelta(days=2)
    misfits = []
    for i in range(20):
        misfits.append({"_id": {"campaign_id": "M", "code": i}, "type": "tm", "date": {"saved": old}})
        misfits.append({"_id": {"campaign_id": "M", "code": 100 + i}, "type": "tm", "date": {"saved": old, "reserved": old}, "reserveId": "r-old"})
    misfits.append({"_id": {"campaign_id": "M", "code": "TEXT"}, "type": "tm", "date": "2026-03-01"})
    mongo_store.collection.insert_many(misfits)
    mongo_store.write_batch("M", CodeType.TM, ["F1", "F2"], old)
    mongo_store.write_batch("M", CodeType.TM, ["E1"], old)
    mongo_store.collection.update_one({"_id.campaign_id": "M", "_id.code": "E1"}, {"$set": {"date.reserved": old, "reserveId": "r-gone"}})
    cutoff = T0 - timedelta(hours=24)
    found = mongo_store.find_available("M", CodeType.TM, cutoff, 2)
    assert sorted(c.code for c in found) == ["F1", "F2"]
    found = mongo_store.find_available("M", CodeType.TM, cutoff, 5)
    assert sorted((c.code, c.seen.reserve_id) for c in found) == [("E1", "r-gone"), ("F1", None), ("F2", None)]
    service = CodeService(mongo_store, clock=FakeClock(T0))
    assert service.count(ME, "M", "tm") == {"available": 3, "reserved": 0, "assigned": 0}
    assert service.reserve(ME, "M", "tm", 1).codes in (["E1"], ["F1"], ["F2"])
    assert len(service.reserve(ME, "M", "tm", 5).codes) == 2
    assert service.reserve(ME, "M", "tm", 1).codes == []


def test_the_candidates_are_exactly_the_codes_the_rule_calls_available(mongo_store):
    """400 documents of mixed shapes (seeded): fresh, expired, held, assigned, a code that is not
    a string, a `date` that is text, null or a list, reserved dates that are text or null,
    another type, another campaign). Asked for every candidate, then for small windows, the
    search returns exactly the codes status.holds calls available, each once."""
    rng = random.Random(16)
    now = T0
    cutoff = now - timedelta(hours=24)
    old, recent = now - timedelta(hours=30), now - timedelta(hours=2)
    shapes = [
        lambda: {"date": {"saved": old}},
        lambda: {"date": {"saved": old, "reserved": old}, "reserveId": "r-old"},
        lambda: {"date": {"saved": old, "reserved": cutoff}, "reserveId": "r-edge"},
        lambda: {"date": {"saved": old, "reserved": recent}, "reserveId": "r-now"},
        lambda: {"date": {"saved": old, "reserved": old, "assigned": recent}, "reserveId": "r-a"},
        lambda: {"date": {"saved": old, "assigned": recent}},
        lambda: {"date": {"saved": old, "reserved": "2026-03-01T07:00:00.000Z"}, "reserveId": "r-text"},
        lambda: {"date": {"saved": old, "reserved": None}},
        lambda: {"date": "2026-03-01"},
        lambda: {"date": None},
        lambda: {"date": [{"saved": old}]},
        lambda: {},
    ]
    docs = []
    for i in range(400):
        code: object = f"C{i:04d}" if rng.random() < 0.85 else i
        campaign = "R" if rng.random() < 0.9 else "OTHER"
        doc = {"_id": {"campaign_id": campaign, "code": code}, "type": "tm" if rng.random() < 0.9 else "promo", **rng.choice(shapes)()}
        docs.append(doc)
    mongo_store.collection.insert_many(docs)
    rule, params = rules.STATUS_RULES[Status.AVAILABLE], {rules.CUTOFF: cutoff}
    expected = sorted(
        _stored(d).code
        for d in mongo_store.collection.find({"_id.campaign_id": "R", "type": "tm"})
        if rules.holds(rule, _stored(d).values(), params)
    )
    assert 100 < len(expected) < 300  # the mix is what the test says it is
    found = [c.code for c in mongo_store.find_available("R", CodeType.TM, cutoff, 1_000)]
    assert sorted(found) == expected and len(set(found)) == len(found)
    for window in (1, 7, 31):
        some = [c.code for c in mongo_store.find_available("R", CodeType.TM, cutoff, window)]
        assert len(some) == window and set(some) <= set(expected), window


def test_arrays_where_the_rule_wants_a_value_are_never_handed_out_and_count_agrees(mongo_store):
    """A query's null matches an array holding null, and a list reserveId cannot be compared and
    set; found by a tester: `date.assigned: [null]` was counted assigned but reserved, a list
    reserveId or `date.reserved: [null, <date>]` made reserve raise TypeError, and `type: [tm]`
    made count raise. Now each is in no pool, and count and reserve agree on the rest."""
    old = T0 - timedelta(days=2)
    odd = [
        {"_id": {"campaign_id": "Q", "code": "ASSIGNED-LIST"}, "type": "tm", "date": {"saved": old, "assigned": [None]}},
        {"_id": {"campaign_id": "Q", "code": "RESERVED-LIST"}, "type": "tm", "date": {"saved": old, "reserved": [None, old]}},
        {"_id": {"campaign_id": "Q", "code": "ID-LIST"}, "type": "tm", "date": {"saved": old}, "reserveId": ["r"]},
        {"_id": {"campaign_id": "Q", "code": "ID-DOC"}, "type": "tm", "date": {"saved": old, "reserved": old}, "reserveId": {"r": 1}},
        {"_id": {"campaign_id": "Q", "code": "TYPE-LIST"}, "type": ["tm"], "date": {"saved": old}},
    ]
    mongo_store.collection.insert_many(odd)
    mongo_store.write_batch("Q", CodeType.TM, ["GOOD"], old)
    service = CodeService(mongo_store, clock=FakeClock(T0))
    assert service.count(ME, "Q", "tm") == {"available": 1, "reserved": 0, "assigned": 1}
    assert service.reserve(ME, "Q", "tm", 6).codes == ["GOOD"]
    assert service.reserve(ME, "Q", "tm", 1).codes == []
    assert service.count(ME, "Q", "tm") == {"available": 0, "reserved": 1, "assigned": 1}
    kinds = service.check(ME, "Q").to_dict()["misfits"]
    assert {k: v["count"] for k, v in kinds.items()} == {"reserve_id_not_string": 2, "unknown_type": 1, "reserved_not_date": 1, "assigned_not_date": 1}
    assert [(r.code, r.problems) for r in service.lookup(ME, "TYPE-LIST", "Q")] == [("TYPE-LIST", ("unknown_type: list ['tm']",))]
