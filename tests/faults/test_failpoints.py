"""Injected command failures (configureFailPoint failCommand) on the reserve path and on upload batches.

Three outcomes a caller can meet, each made to happen on purpose:
- not applied: the connection drops before the server runs the command (closeConnection);
- applied, reply an error: the write ran but its acknowledgement failed (writeConcernError);
- applied late: the server runs the command after the client gave up (blockConnection past the
  client's socket timeout).
Each case must end in a correct stored state with a clear StoreUnavailable, or a correct result.

Every call runs under pymongo's per-operation timeout, within which the driver retries a
retryable read or write as often as it can: a fault that must surface is armed for many
attempts (PERSISTENT) and switched off once the call has failed.
"""

from __future__ import annotations

import io
import time
import uuid
from collections import Counter

import pytest

from code_console.core.errors import StoreUnavailable
from code_console.core.mongo import connect
from code_console.core.service import CodeService

from tests.conftest import ME, FakeClock
from tests.faults.conftest import report, snapshot, wait_until

pytestmark = pytest.mark.realserver

POOL = 300
PERSISTENT = 10_000  # attempts a fail point fails: more than the driver retries within a timeout


def _file(codes) -> io.BytesIO:
    return io.BytesIO("".join(f"{c}\n" for c in codes).encode())


@pytest.fixture
def store(fault_server):
    # 1 s socket timeout: a command the server holds longer is given up by the client.
    s = connect(fault_server.uri, f"fp_{uuid.uuid4().hex[:10]}", timeout_seconds=2, batch_timeout_seconds=1)
    s.prepare()
    yield s
    s.collection.drop()
    s.close()


@pytest.fixture
def service(store):
    svc = CodeService(store, clock=FakeClock(), batch_size=100)
    svc.upload_from_file(ME, "FP", "tm", _file(f"F{i:04d}" for i in range(POOL)))
    return svc


def _held(store, key) -> list[str]:
    return sorted(d["_id"]["code"] for d in store.collection.find({"_id.campaign_id": "FP", "reserveId": key}))


def _reserved_total(service) -> int:
    return service.count(ME, "FP", "tm")["reserved"]


# -- reserve: the conditional update ---------------------------------------------------------


def test_update_dropped_before_it_ran_then_keyed_retry_reserves_once(service, store, fail_points):
    before = snapshot(store.collection)
    fail_points.fail(["update"], closeConnection=True)
    with pytest.raises(StoreUnavailable) as err:
        service.reserve(ME, "FP", "tm", 5, key="drop-1").codes
    assert "retrying with the same key 'drop-1' is safe" in str(err.value)
    assert snapshot(store.collection) == before  # nothing applied

    got = service.reserve(ME, "FP", "tm", 5, key="drop-1").codes
    assert len(got) == 5 and sorted(got) == _held(store, "drop-1")
    assert service.reserve(ME, "FP", "tm", 5, key="drop-1").codes == sorted(got)
    assert service.count(ME, "FP", "tm") == {"available": POOL - 5, "reserved": 5, "assigned": 0}
    report("reserve.update.closeConnection(key)", attempted=3, acknowledged=2, failed=1, duplicated=0, lost=0, stranded=0)


def test_update_applied_but_unacknowledged_keyed_retry_returns_exactly_those_codes(service, store, fail_points):
    # The ambiguous case the key exists for: the server reserved codes, the caller saw an error.
    fail_points.fail(["update"], writeConcernError={"code": 100, "errmsg": "injected: write concern not confirmed"})
    with pytest.raises(StoreUnavailable) as err:
        service.reserve(ME, "FP", "tm", 7, key="wce-1").codes
    assert "outcome is unknown" in str(err.value) and "retrying with the same key" in str(err.value)
    applied = _held(store, "wce-1")
    assert len(applied) == 7  # it did run

    retried = service.reserve(ME, "FP", "tm", 7, key="wce-1").codes
    assert sorted(retried) == applied  # the same codes, none more
    assert _reserved_total(service) == 7
    report("reserve.update.writeConcernError(key)", attempted=2, acknowledged=1, failed=1, duplicated=0, lost=0, stranded=0)


def test_update_applied_but_unacknowledged_without_key_strands_codes_until_expiry(service, store, fail_points):
    # Documented limit: without a key the caller cannot learn which codes it was given.
    fail_points.fail(["update"], writeConcernError={"code": 100, "errmsg": "injected: write concern not confirmed"})
    with pytest.raises(StoreUnavailable) as err:
        service.reserve(ME, "FP", "tm", 4).codes
    assert "pass a reservation key" in str(err.value)
    stranded = _reserved_total(service)
    assert stranded == 4
    # They return to the pool when the reservation expires (TTL 24 h).
    service.clock.advance(hours=24, seconds=1)
    assert service.count(ME, "FP", "tm") == {"available": POOL, "reserved": 0, "assigned": 0}
    report("reserve.update.writeConcernError(no key)", attempted=1, acknowledged=0, failed=1, duplicated=0, lost=0, stranded=stranded)


def test_update_applied_after_the_client_gave_up_then_keyed_retry(service, store, fail_points):
    # The server holds the update 2.5 s; the client's socket timeout is 1 s.
    fail_points.fail(["update"], blockConnection=True, blockTimeMS=2500)
    began = time.monotonic()
    with pytest.raises(StoreUnavailable):
        service.reserve(ME, "FP", "tm", 6, key="late-1").codes
    assert time.monotonic() - began < 30
    landed = wait_until(lambda: _held(store, "late-1"))  # the late write lands
    assert len(landed) == 6
    assert sorted(service.reserve(ME, "FP", "tm", 6, key="late-1").codes) == landed
    assert _reserved_total(service) == 6
    report("reserve.update.blocked-past-timeout(key, retry after landing)", attempted=2, acknowledged=1, failed=1,
           duplicated=0, lost=0, stranded=0)


def test_keyed_retry_racing_a_late_write_never_returns_more_than_count(service, store, fail_points):
    # Held 4 s against a 1 s client timeout: the retry below has 3 s to finish before the late
    # write lands, even on a loaded machine.
    fail_points.fail(["update"], blockConnection=True, blockTimeMS=4000)
    with pytest.raises(StoreUnavailable):
        service.reserve(ME, "FP", "tm", 6, key="race-1").codes
    first = service.reserve(ME, "FP", "tm", 6, key="race-1").codes  # before the late write lands
    assert len(first) == 6 and _held(store, "race-1") == sorted(first)
    # The late write lands (it can only take codes still in the state it saw: no double hand-out).
    held = wait_until(lambda: (h := _held(store, "race-1")) and len(h) > 6 and h, timeout=15)
    assert set(first) <= set(held) and len(held) <= 12
    # The answer stays the first one; the codes the late write added go back to the pool.
    assert service.reserve(ME, "FP", "tm", 6, key="race-1").codes == first
    assert _held(store, "race-1") == first and _reserved_total(service) == 6
    assert service.reserve(ME, "FP", "tm", 6, key="race-1").codes == first
    report("reserve.update.blocked-past-timeout(key, retry racing the late write)", attempted=4, acknowledged=3, failed=1,
           duplicated=0, lost=0, stranded=0)


# -- reserve: the candidate search and the read-backs -----------------------------------------


def test_candidate_search_failing_once_is_retried_by_the_driver(service, store, fail_points):
    fail_points.fail(["find"], errorCode=6)  # HostUnreachable: a retryable read error
    got = service.reserve(ME, "FP", "tm", 5).codes
    assert len(got) == 5 and _reserved_total(service) == 5
    report("reserve.find.errorCode6x1", attempted=1, acknowledged=1, failed=0, duplicated=0, lost=0)


def test_candidate_search_failing_twice_fails_cleanly_and_changes_nothing(service, store, fail_points):
    before = snapshot(store.collection)
    fail_points.fail(["find"], times=PERSISTENT, closeConnection=True)
    with pytest.raises(StoreUnavailable) as err:
        service.reserve(ME, "FP", "tm", 5).codes
    fail_points.off()
    assert "MongoDB" in str(err.value)
    assert snapshot(store.collection) == before
    assert len(service.reserve(ME, "FP", "tm", 5).codes) == 5
    report("reserve.find.closeConnectionx2", attempted=2, acknowledged=1, failed=1, duplicated=0, lost=0)


def test_keyed_read_back_failing_then_retry(service, store, fail_points):
    first = service.reserve(ME, "FP", "tm", 5, key="rb-1").codes
    before = snapshot(store.collection)
    fail_points.fail(["find"], times=PERSISTENT, closeConnection=True)
    with pytest.raises(StoreUnavailable):
        service.reserve(ME, "FP", "tm", 5, key="rb-1").codes
    fail_points.off()
    assert snapshot(store.collection) == before
    assert service.reserve(ME, "FP", "tm", 5, key="rb-1").codes == sorted(first)
    report("reserve.readback(key lookup).closeConnectionx2", attempted=3, acknowledged=2, failed=1, duplicated=0, lost=0)


class RivalBeforeUpdate:
    """The real store, except that just before each conditional update a rival caller takes the
    first two candidates and the read-back that follows is armed to fail: a partial win whose
    read-back drops. Deterministic where a real race would be luck."""

    def __init__(self, store, fail_points) -> None:
        self._store = store
        self._fail_points = fail_points
        self.armed = True

    def __getattr__(self, name):
        return getattr(self._store, name)

    def compare_and_set(self, campaign_id, change, groups, now, reserve_id=None):
        if self.armed:
            self.armed = False
            taken = [code for codes in groups.values() for code in codes][:2]
            self._store.collection.update_many({"_id.campaign_id": campaign_id, "_id.code": {"$in": taken}},
                                               {"$set": {"reserveId": "rival", "date.reserved": now}})
            self._fail_points.fail(["find"], times=PERSISTENT, closeConnection=True)
        return self._store.compare_and_set(campaign_id, change, groups, now, reserve_id)


def test_partial_win_read_back_failing_then_keyed_retry(store, fail_points):
    svc = CodeService(store, clock=FakeClock())
    svc.upload_from_file(ME, "FP", "tm", _file(f"F{i:04d}" for i in range(POOL)))
    rival_store = RivalBeforeUpdate(store, fail_points)
    racing = CodeService(rival_store, clock=svc.clock)
    with pytest.raises(StoreUnavailable):
        racing.reserve(ME, "FP", "tm", 8, key="pw-1").codes
    fail_points.off()
    won = _held(store, "pw-1")
    assert len(won) == 6  # 8 tried, 2 lost to the rival, the read-back dropped
    got = racing.reserve(ME, "FP", "tm", 8, key="pw-1").codes
    assert len(got) == 8 and set(won) <= set(got) and sorted(got) == _held(store, "pw-1")
    rival = _held(store, "rival")
    assert len(rival) == 2 and not set(rival) & set(got)
    assert svc.count(ME, "FP", "tm")["reserved"] == 10
    report("reserve.readback(partial win).closeConnectionx2", attempted=2, acknowledged=1, failed=1, duplicated=0, lost=0)


# -- upload batches ---------------------------------------------------------------------------


def _prepared_campaign(store):
    """300 codes uploaded, 20 reserved under a key, 5 of those assigned: statuses to preserve."""
    clock = FakeClock()
    svc = CodeService(store, clock=clock, batch_size=100)
    svc.upload_from_file(ME, "UP", "external", _file(f"U{i:04d}" for i in range(300)))
    held = svc.reserve(ME, "UP", "external", 20, key="keep").codes
    svc.assign(ME, "UP", sorted(held)[:5])
    clock.advance(minutes=5)
    return svc


def _statuses(store) -> dict:
    return {d["_id"]["code"]: (d.get("reserveId"), d["date"].get("reserved"), d["date"].get("assigned"))
            for d in store.collection.find({"_id.campaign_id": "UP"})}


def test_upload_batch_insert_dropped_twice_then_rerun_converges(store, fail_points):
    svc = _prepared_campaign(store)
    before = _statuses(store)
    file_codes = [f"U{i:04d}" for i in range(600)]  # 300 known, 300 new: 6 batches
    # A batch inserts its new codes (batches 1-3 hold only known ones); the insert failing for good stops the upload at batch 4.
    fail_points.fail(["insert"], times=PERSISTENT, closeConnection=True)
    with pytest.raises(StoreUnavailable):
        svc.upload_from_file(ME, "UP", "external", _file(file_codes))
    fail_points.off()
    partial = store.collection.count_documents({"_id.campaign_id": "UP"})
    assert partial == 300
    svc.clock.advance(seconds=1)  # the re-run is a new upload: one stamped the same instant counts the first one's codes as duplicates
    result = svc.upload_from_file(ME, "UP", "external", _file(file_codes))
    assert result.to_dict() == {"in": 600, "inserted": 300, "updated": 300}
    assert sorted(d["_id"]["code"] for d in store.collection.find({"_id.campaign_id": "UP"})) == file_codes
    after = _statuses(store)
    assert {c: after[c] for c in before} == before  # every reserved/assigned status preserved
    assert svc.count(ME, "UP", "external") == {"available": 580, "reserved": 15, "assigned": 5}
    report("upload.insert.closeConnectionx2", attempted=2, acknowledged=1, failed=1, duplicated=0, lost=0)


def test_upload_batch_insert_dropped_once_is_retried_by_the_driver(store, fail_points):
    svc = _prepared_campaign(store)
    fail_points.fail(["insert"], closeConnection=True)
    result = svc.upload_from_file(ME, "UP", "external", _file(f"U{i:04d}" for i in range(400)))
    assert result.to_dict() == {"in": 400, "inserted": 100, "updated": 300}
    assert store.collection.count_documents({"_id.campaign_id": "UP"}) == 400
    report("upload.insert.closeConnectionx1", attempted=1, acknowledged=1, failed=0, duplicated=0, lost=0)


@pytest.mark.parametrize("fault", [{"closeConnection": True}, {"errorCode": 6}])
def test_upload_batch_refresh_failing_then_rerun_converges(store, fail_points, fault):
    svc = _prepared_campaign(store)
    before = _statuses(store)
    fail_points.fail(["update"], skip=1, times=PERSISTENT, **fault)  # the second batch's refresh of known codes
    with pytest.raises(StoreUnavailable):
        svc.upload_from_file(ME, "UP", "external", _file(f"U{i:04d}" for i in range(300)))
    fail_points.off()
    assert _statuses(store) == before
    svc.clock.advance(seconds=1)  # the re-run is a new upload: one stamped the same instant counts the first one's codes as duplicates
    result = svc.upload_from_file(ME, "UP", "external", _file(f"U{i:04d}" for i in range(300)))
    assert result.to_dict() == {"in": 300, "inserted": 0, "updated": 300}
    assert _statuses(store) == before
    # One saved date, the re-run's, on every code.
    assert list(Counter(d["date"]["saved"] for d in store.collection.find({"_id.campaign_id": "UP"})).values()) == [300]
    report(f"upload.update.{next(iter(fault))}", attempted=2, acknowledged=1, failed=1, duplicated=0, lost=0)
