"""Documents in the original's shape with what real collections accumulate, on SecantusDB.

A `date` without `saved` (or no `date`), a `reserveId` left without `date.reserved` (the
original's release unsets only the date), a reservation from before reserveIds, fields the
product does not know, codes an older version stored with spaces or invisible characters at
their ends. The product must never crash on them, `count` and `reserve` must agree, and
`check` (CodeService.check, what `code-console check CAMPAIGN` prints) must report what does
not fit. Faults not fixed here are `xfail(strict=True)` with their reason.
"""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pymongo
import pytest

from code_console.core.models import LOCAL_OPERATOR as ME
from code_console.core.mongo import connect
from code_console.core.service import CodeService

from tests.api.conftest import hs256, running, settings_for
from tests.conftest import T0, FakeClock

pytestmark = pytest.mark.realserver

NOW = T0
OLD = "5b0c0e7e-2f4f-4c53-9a51-0b5d7c1f6a10"  # a reservation the original released (its reserveId stays)
LIVE = "0f5e3c8a-9d0b-4e1c-8a5d-3e2b1c0d9f87"
GONE = "7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
SAVED = NOW - timedelta(days=30)


def doc(campaign: str, code, **fields) -> dict:
    return {"_id": {"campaign_id": campaign, "code": code}, "type": "tm", **fields}


CRUFT = [
    doc("CRUFT", "OK-1", date={"saved": SAVED}),
    doc("CRUFT", "OK-2", date={"saved": SAVED}),
    doc("CRUFT", "NO-SAVED-1", date={}),
    doc("CRUFT", "NO-SAVED-2", date={"reserved": NOW - timedelta(hours=2)}, reserveId=LIVE),
    doc("CRUFT", "NO-SAVED-3", date={"reserved": NOW - timedelta(hours=30)}, reserveId=GONE),
    doc("CRUFT", "NO-DATE"),
    doc("CRUFT", "REL-1", date={"saved": SAVED}, reserveId=OLD),
    doc("CRUFT", "REL-2", date={"saved": SAVED}, reserveId=OLD),
    doc("CRUFT", "OLD-RES", date={"saved": SAVED, "reserved": NOW - timedelta(hours=1)}),
    doc("CRUFT", "EXTRA-1", date={"saved": SAVED, "released": NOW - timedelta(hours=50)}, batch="2019-07"),
    doc("CRUFT", "EXTRA-2", date={"saved": SAVED, "assigned": NOW - timedelta(hours=3)}, userId="u-9"),
    doc("CRUFT", " SPACE-1 ", date={"saved": SAVED}),
    doc("CRUFT", "SPACE-2\u200b", date={"saved": SAVED}),
]
AVAILABLE = sorted(["OK-1", "OK-2", "NO-SAVED-1", "NO-SAVED-3", "NO-DATE", "REL-1", "REL-2", "EXTRA-1", " SPACE-1 ", "SPACE-2\u200b"])
RESERVED = ["NO-SAVED-2", "OLD-RES"]


@pytest.fixture
def cruft(secantus):
    """(raw collection, service at NOW): the documents above and any a test adds."""
    name = f"cruft_{uuid.uuid4().hex[:10]}"
    client = pymongo.MongoClient(secantus.uri, tz_aware=True)
    col = client[name]["codes"]
    col.insert_many([dict(d) for d in CRUFT])
    store = connect(secantus.uri, name, timeout_seconds=30, batch_timeout_seconds=60)
    yield col, CodeService(store, clock=FakeClock(NOW))
    store.close()
    client.drop_database(name)
    client.close()


def stored(col, campaign: str = "CRUFT") -> dict:
    return {d["_id"]["code"]: d for d in col.find({"_id.campaign_id": campaign})}


def test_count_and_reserve_agree_and_nothing_crashes(cruft):
    col, service = cruft
    assert service.count(ME, "CRUFT", "tm") == {"available": 10, "reserved": 2, "assigned": 1}
    reservation = service.reserve(ME, "CRUFT", "tm", 50)
    assert reservation.codes == AVAILABLE  # as stored, spaces and all: the original handed them out so too
    assert service.count(ME, "CRUFT", "tm") == {"available": 0, "reserved": 12, "assigned": 1}
    after = stored(col)
    assert {c: after[c]["reserveId"] for c in AVAILABLE} == {c: reservation.reserve_id for c in AVAILABLE}
    assert after["NO-SAVED-2"]["reserveId"] == LIVE and "reserveId" not in after["OLD-RES"]  # live ones untouched
    assert after["NO-DATE"]["date"] == {"reserved": NOW}  # reserving creates the date the original would have
    # Released by this product: date.reserved and reserveId both go (the original's own release kept reserveId).
    released = service.release(ME, "CRUFT", ["REL-1", "NO-SAVED-2", "OLD-RES"])
    assert (released.in_, released.updated) == (3, 3)
    assert [set(stored(col)[c]) for c in ("REL-1", "NO-SAVED-2", "OLD-RES")] == [{"_id", "type", "date"}] * 3
    assert service.count(ME, "CRUFT", "tm") == {"available": 3, "reserved": 9, "assigned": 1}


def test_a_code_stored_with_spaces_at_its_ends_is_assigned_released_and_found_as_reserve_gave_it(cruft):
    """The verification service sends back the string reserve gave it; the original matched it
    exactly. Without that, the code stays reserved, expires and goes to a second user."""
    col, service = cruft
    with running(service, settings_for()) as api:
        auth = {"Authorization": f"Bearer {hs256()}"}
        codes = api.http.get("/CRUFT/reserve", params={"count": 50, "type": "tm"}, headers=auth).json()["data"]
        assert " SPACE-1 " in codes and "SPACE-2\u200b" in codes
        assigned = api.http.post("/CRUFT/assign", json={"codes": [" SPACE-1 "]}, headers=auth).json()["data"]
        assert assigned == {"count": {"in": 1, "updated": 1}, "unchanged": {}}
        released = api.http.post("/CRUFT/release", json={"codes": ["SPACE-2\u200b"]}, headers=auth).json()["data"]
        assert released == {"count": {"in": 1, "updated": 1}, "unchanged": {}}
    assert set(stored(col)[" SPACE-1 "]["date"]) == {"saved", "reserved", "assigned"}
    assert set(stored(col)["SPACE-2\u200b"]["date"]) == {"saved"}
    [found] = service.lookup(ME, " SPACE-1 ", "CRUFT")
    assert (found.code, found.status.value) == (" SPACE-1 ", "assigned")
    assert service.count(ME, "CRUFT", "tm") == {"available": 1, "reserved": 10, "assigned": 2}
    # A code given in its normal form still finds the normal document first.
    assert [r.code for r in service.lookup(ME, "OK-1", "CRUFT")] == ["OK-1"]


def test_check_reports_what_does_not_fit(cruft):
    col, service = cruft
    report = service.check(ME, "CRUFT").to_dict()
    assert report["documents"] == 13
    assert {kind: (m["count"], [e["code"] for e in m["examples"]]) for kind, m in report["misfits"].items()} == {
        "no_date": (4, ["NO-DATE", "NO-SAVED-1", "NO-SAVED-2", "NO-SAVED-3"]),
        "code_not_normalized": (2, [" SPACE-1 ", "SPACE-2\u200b"]),
    }
    # A reserveId left by the original's release, a reservation from before reserveIds and fields
    # the product does not know are the original's own: not reported.


def test_fields_the_product_does_not_know_survive_every_operation(cruft):
    col, service = cruft
    before = stored(col)
    reservation = service.reserve(ME, "CRUFT", "tm", 50)
    assert "EXTRA-1" in reservation.codes
    service.assign(ME, "CRUFT", ["EXTRA-1", "EXTRA-2"])
    service.release(ME, "CRUFT", ["EXTRA-1"])
    upload = service.upload_from_file(ME, "CRUFT", "tm", io.BytesIO(b"EXTRA-1\nEXTRA-2\n"))
    assert (upload.inserted, upload.updated) == (0, 2)
    after = stored(col)
    assert (after["EXTRA-1"]["batch"], after["EXTRA-1"]["date"]["released"]) == ("2019-07", before["EXTRA-1"]["date"]["released"])
    assert after["EXTRA-2"]["userId"] == "u-9"
    assert after["EXTRA-2"]["date"]["assigned"] == before["EXTRA-2"]["date"]["assigned"]  # never overwritten


def test_a_date_that_is_not_an_object_is_in_no_status_and_never_crashes(cruft):
    col, service = cruft
    col.insert_many([
        doc("DATES", "OK-1", date={"saved": SAVED}),
        doc("DATES", "NULL-DATE", date=None),
        doc("DATES", "TEXT-DATE", date="2019-07-04T10:00:00.000Z"),
    ])  # fmt: skip
    before = stored(col, "DATES")
    assert service.reserve(ME, "DATES", "tm", 5).codes == ["OK-1"]
    assert service.count(ME, "DATES", "tm") == {"available": 0, "reserved": 1, "assigned": 0}
    assert service.assign(ME, "DATES", ["NULL-DATE", "TEXT-DATE"]).updated == 0
    after = stored(col, "DATES")
    assert {c: after[c] for c in ("NULL-DATE", "TEXT-DATE")} == {c: before[c] for c in ("NULL-DATE", "TEXT-DATE")}
    # A re-upload leaves them as they are and says so: conflicts (documents it cannot change), not duplicates.
    result = service.upload_from_file(ME, "DATES", "tm", io.BytesIO(b"NULL-DATE\nTEXT-DATE\n"))
    assert result.to_dict() == {"in": 2, "inserted": 0, "updated": 0, "conflicts": 2}
    assert stored(col, "DATES")["TEXT-DATE"] == before["TEXT-DATE"] and stored(col, "DATES")["NULL-DATE"] == before["NULL-DATE"]
    assert service.check(ME, "DATES").counts == {"date_not_object": 2}


def test_a_re_upload_sees_a_reversed_id_when_its_batch_starts_with_a_stored_code(cruft):
    # A batch whose first code is stored is written as upserts by `_id.campaign_id`/`_id.code`,
    # which match the document whatever the order of its `_id` fields.
    col, service = cruft
    col.insert_one({"_id": {"code": "REV-1", "campaign_id": "IDS"}, "type": "tm", "date": {"saved": SAVED, "assigned": SAVED}})
    assert service.count(ME, "IDS", "tm") == {"available": 0, "reserved": 0, "assigned": 1}
    result = service.upload_from_file(ME, "IDS", "tm", io.BytesIO(b"REV-1\nNEW-1\n"))
    assert result.to_dict() == {"in": 2, "inserted": 1, "updated": 1}
    assert col.count_documents({"_id.campaign_id": "IDS"}) == 2
    assert service.reserve(ME, "IDS", "tm", 2).codes == ["NEW-1"]


def test_a_reversed_id_alone_is_updated_never_doubled_and_check_names_it(cruft):
    col, service = cruft
    col.insert_one({"_id": {"code": "REV-1", "campaign_id": "IDS"}, "type": "tm", "date": {"saved": SAVED, "assigned": SAVED}})
    assert service.count(ME, "IDS", "tm") == {"available": 0, "reserved": 0, "assigned": 1}
    result = service.upload_from_file(ME, "IDS", "tm", io.BytesIO(b"REV-1\n"))
    assert result.to_dict() == {"in": 1, "inserted": 0, "updated": 1}
    assert col.count_documents({"_id.campaign_id": "IDS"}) == 1
    assert service.reserve(ME, "IDS", "tm", 1).codes == []
    # check names it, by kind, with the example; the document keeps its own `_id` order.
    report = service.check(ME, "IDS").to_dict()
    assert {kind: (m["count"], m["examples"]) for kind, m in report["misfits"].items()} == {
        "id_not_original": (1, [{"code": "REV-1", "found": None}])
    }
    assert list(col.find_one({"_id.campaign_id": "IDS"})["_id"]) == ["code", "campaign_id"]


@pytest.mark.xfail(
    strict=True,
    reason="a document whose `_id` holds {code, campaign_id} in the other order (written by another "
    "tool) is a different `_id` value: a batch whose first code is new is inserted first, and only a "
    "duplicate-key error counts as 'already stored', so a re-upload adds a second, available document "
    "beside the assigned one and reserve can hand the assigned code out (the original's upsert by `_id` "
    "equality does the same). Fix: upserts for every batch (2.5x the insert's time on SecantusDB); "
    "meanwhile check reports such documents (id_not_original)",
)
def test_a_reversed_id_is_seen_by_a_re_upload_and_never_doubled(cruft):
    col, service = cruft
    col.insert_one({"_id": {"code": "REV-1", "campaign_id": "IDS"}, "type": "tm", "date": {"saved": SAVED, "assigned": SAVED}})
    assert service.count(ME, "IDS", "tm") == {"available": 0, "reserved": 0, "assigned": 1}
    result = service.upload_from_file(ME, "IDS", "tm", io.BytesIO(b"NEW-1\nREV-1\n"))
    assert result.to_dict() == {"in": 2, "inserted": 1, "updated": 1}
    assert col.count_documents({"_id.campaign_id": "IDS"}) == 2
    assert service.reserve(ME, "IDS", "tm", 2).codes == ["NEW-1"]
