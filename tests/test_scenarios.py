"""The spec's five Example Scenarios, on SecantusDB over a socket and S3 over HTTP.

Volumes are scaled down (SecantusDB is a Python server) with the proportions and the exact
expected counts kept; the injected clock drives the 24-hour expiry.
"""

import threading

import pytest

from code_console.core.objects import S3Objects
from code_console.core.service import CodeService

from tests.conftest import ME

pytestmark = pytest.mark.realserver


@pytest.fixture
def world(s3_bucket, mongo_store, clock):
    client, bucket = s3_bucket

    def put(key: str, codes: list[str]) -> None:
        client.put_object(Bucket=bucket, Key=key, Body=("\n".join(codes) + "\n").encode())

    def make(**kw) -> CodeService:
        return CodeService(mongo_store, S3Objects(client, bucket), clock=clock, **kw)

    return put, make


def test_scenario_1_high_volume_launch(world, clock):
    """100,000 codes / 5,000 reserved by 1,000 requests / 4,800 assigned; scaled 1:50."""
    put, make = world
    service = make(batch_size=1_000)  # 2 batches, as 100,000 in batches of 50,000
    put("codes/TOUR/tm/launch.csv", [f"TM{i:06d}" for i in range(2_000)])
    batches = []
    result = service.upload_from_key(ME, "TOUR", "codes/TOUR/tm/launch.csv", progress=lambda p: batches.append(p) if p.phase == "writing" else None)
    assert result.to_dict() == {"in": 2_000, "inserted": 2_000, "updated": 0}
    # Two batches of 1,000, each written in one or more writes (sized to the store's speed).
    assert sorted({p.batch for p in batches}) == [1, 2] and {p.batches for p in batches} == {2}
    assert batches[-1].codes == 2_000

    # 100 codes reserved by 20 concurrent requests of 5 (5,000 by 1,000 requests of 5).
    got: list[list[str]] = []
    lock = threading.Lock()

    def fan():
        codes = service.reserve(ME, "TOUR", "tm", 5).codes
        with lock:
            got.append(codes)

    threads = [threading.Thread(target=fan) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    reserved = [c for batch in got for c in batch]
    assert len(got) == 20 and all(len(b) == 5 for b in got)
    assert len(reserved) == len(set(reserved)) == 100

    clock.advance(minutes=59)
    assert service.assign(ME, "TOUR", reserved[:96]).to_dict() == {"in": 96, "updated": 96}
    clock.advance(hours=24)
    assert service.count(ME, "TOUR", "tm") == {"available": 1_904, "reserved": 0, "assigned": 96}


def test_scenario_2_reupload_preserves_status(world, clock):
    """10,000 codes, 1,000 reserved, 500 assigned, re-upload; scaled 1:10."""
    put, make = world
    service = make()
    codes = [f"R{i:05d}" for i in range(1_000)]
    put("codes/C2/tm/codes.csv", codes)
    assert service.upload_from_key(ME, "C2", "codes/C2/tm/codes.csv").to_dict() == {"in": 1_000, "inserted": 1_000, "updated": 0}
    reserved = service.reserve(ME, "C2", "tm", 100).codes
    assert service.assign(ME, "C2", reserved[:50]).to_dict() == {"in": 50, "updated": 50}
    put("codes/C2/tm/codes.csv", [f"  {c}  " for c in codes])  # the corrected file: same codes, new format
    clock.advance(minutes=10)  # a later upload: one stamped the same instant counts the first one's codes as duplicates
    assert service.upload_from_key(ME, "C2", "codes/C2/tm/codes.csv").to_dict() == {"in": 1_000, "inserted": 0, "updated": 1_000}
    assert service.count(ME, "C2", "tm") == {"available": 900, "reserved": 50, "assigned": 50}


def test_scenario_3_expiry_and_reuse(world, clock):
    put, make = world
    service = make()
    put("codes/C3/tm/a.csv", [f"E{i:03d}" for i in range(100)])
    service.upload_from_key(ME, "C3", "codes/C3/tm/a.csv")
    first = service.reserve(ME, "C3", "tm", 100).codes  # 8:00
    first_rid = service.lookup(ME, first[0], "C3")[0].reserve_id
    clock.advance(hours=3)  # 11:00
    service.assign(ME, "C3", first[:60])
    unused = set(first[60:])
    clock.advance(hours=21, minutes=1)  # 8:01 next day
    assert service.count(ME, "C3", "tm") == {"available": 40, "reserved": 0, "assigned": 60}
    again = service.reserve(ME, "C3", "tm", 40).codes
    assert set(again) == unused
    records = [service.lookup(ME, c, "C3")[0] for c in again]
    assert {r.reserve_id for r in records} != {first_rid} and len({r.reserve_id for r in records}) == 1
    assert all(r.reserved == clock.now for r in records)
    assert service.count(ME, "C3", "tm") == {"available": 0, "reserved": 40, "assigned": 60}


class _Rotate:
    """A deterministic 'shuffle' that rotates the candidates, to stage the spec's race exactly."""

    def __init__(self, by: int) -> None:
        self.by = by

    def shuffle(self, items: list) -> None:
        items[:] = items[self.by :] + items[: self.by]


class _Staged:
    """A store proxy that lets instance A reserve right after B found its candidates, and records B's commands."""

    def __init__(self, store, before_first_update) -> None:
        self._store = store
        self._hook = before_first_update
        self.calls: list[tuple[str, int]] = []

    def find_available(self, *a, **kw):
        found = self._store.find_available(*a, **kw)
        self.calls.append(("find", len(found)))
        return found

    def compare_and_set(self, *a, **kw):
        if self._hook:
            hook, self._hook = self._hook, None
            hook()
        won = self._store.compare_and_set(*a, **kw)
        self.calls.append(("update", won))
        return won

    def holding(self, *a, **kw):
        held = self._store.holding(*a, **kw)
        self.calls.append(("read-back", len(held)))
        return held

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_scenario_4_concurrent_race(world, mongo_store, clock):
    put, make = world
    put("codes/C4/tm/a.csv", [f"K{i:02d}" for i in range(1, 31)])
    make().upload_from_key(ME, "C4", "codes/C4/tm/a.csv")
    a = CodeService(mongo_store, clock=clock, rng=_Rotate(0))
    got_a: list[str] = []
    staged = _Staged(mongo_store, lambda: got_a.extend(a.reserve(ME, "C4", "tm", 10).codes))
    b = CodeService(staged, clock=clock, rng=_Rotate(7))  # B's first pick overlaps A's by 3 codes
    got_b = b.reserve(ME, "C4", "tm", 10).codes
    assert sorted(got_a) == [f"K{i:02d}" for i in range(1, 11)]
    assert len(got_b) == 10 and not set(got_a) & set(got_b)
    # B: found candidates, won 7 of 10, read back 7 by reserveId, looked again and took the 3 missing.
    assert staged.calls == [("find", 30), ("update", 7), ("read-back", 7), ("find", 13), ("update", 3)]
    assert a.count(ME, "C4", "tm") == {"available": 10, "reserved": 20, "assigned": 0}


def test_scenario_5_mixed_types(world):
    put, make = world
    service = make()
    put("codes/CAMP123/tm/batch1.csv", [f"TM{i:04d}" for i in range(500)])
    put("codes/CAMP123/external/batch1.csv", [f"EX{i:05d}" for i in range(2_000)])
    assert service.upload_from_key(ME, "CAMP123", "codes/CAMP123/tm/batch1.csv").to_dict() == {"in": 500, "inserted": 500, "updated": 0}
    assert service.upload_from_key(ME, "CAMP123", "codes/CAMP123/external/batch1.csv").to_dict() == {"in": 2_000, "inserted": 2_000, "updated": 0}
    premium = service.reserve(ME, "CAMP123", "tm", 10).codes
    standard = service.reserve(ME, "CAMP123", "external", 25).codes
    assert all(c.startswith("TM") for c in premium) and len(premium) == 10
    assert all(c.startswith("EX") for c in standard) and len(standard) == 25
    assert service.count(ME, "CAMP123", "tm") == {"available": 490, "reserved": 10, "assigned": 0}
    assert service.count(ME, "CAMP123", "external") == {"available": 1_975, "reserved": 25, "assigned": 0}
