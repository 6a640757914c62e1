"""SIGKILL the SecantusDB process during an upload and during a storm of keyed reserve calls,
restart it on the same port and storage, and check what survived and what a re-run does."""

from __future__ import annotations

import io
import multiprocessing
import threading
import time
from collections import Counter

import pytest

from code_console.core.errors import StoreUnavailable
from code_console.core.mongo import connect
from code_console.core.service import CodeService

from tests.conftest import ME, FakeClock
from tests.faults.conftest import report
from tests.faults.storm_worker import storm

pytestmark = pytest.mark.realserver


def _file(codes) -> io.BytesIO:
    return io.BytesIO("".join(f"{c}\n" for c in codes).encode())


def _statuses(store, campaign) -> dict:
    return {d["_id"]["code"]: (d.get("reserveId"), d["date"].get("reserved"), d["date"].get("assigned"))
            for d in store.collection.find({"_id.campaign_id": campaign})}


def test_kill_during_upload_fails_clearly_and_rerun_converges(own_server):
    store = connect(own_server.uri, "kill_upload", timeout_seconds=2, batch_timeout_seconds=5)
    store.prepare()
    clock = FakeClock()
    service = CodeService(store, clock=clock, batch_size=200)
    # Stored before the kill: 1,000 codes, 60 reserved under a key, 20 of those assigned.
    service.upload_from_file(ME, "KU", "tm", _file(f"K{i:05d}" for i in range(1000)))
    held = service.reserve(ME, "KU", "tm", 60, key="before-kill").codes
    service.assign(ME, "KU", sorted(held)[:20])
    before = _statuses(store, "KU")
    clock.advance(minutes=1)

    file_codes = [f"K{i:05d}" for i in range(3000)]  # 15 batches of 200
    written: list[int] = []  # codes acknowledged so far, batch by batch
    trigger = threading.Event()

    def progress(p) -> None:
        if p.phase == "writing":
            written.append(p.codes)
            if p.codes >= 1400:
                trigger.set()

    killed_at: list[float] = []

    def killer() -> None:
        trigger.wait()
        own_server.kill()  # the upload goes on writing the next batch meanwhile
        killed_at.append(time.monotonic())

    thread = threading.Thread(target=killer)
    thread.start()
    with pytest.raises(StoreUnavailable) as err:
        service.upload_from_file(ME, "KU", "tm", _file(file_codes), progress=progress)
    failed_at = time.monotonic()
    thread.join()
    assert "MongoDB" in str(err.value)
    assert failed_at - killed_at[0] < 30  # failed within the timeouts, not hung
    acknowledged = written[-1]
    assert 1400 <= acknowledged < 3000

    restarted = time.monotonic()
    own_server.start()
    stored = {d["_id"]["code"] for d in store.collection.find({"_id.campaign_id": "KU"}, {"_id": 1})}
    lost = [c for c in file_codes[:acknowledged] if c not in stored]
    assert lost == []  # every acknowledged batch survived the kill (writes are journaled)
    assert {c: s for c, s in _statuses(store, "KU").items() if c in before} == before

    result = service.upload_from_file(ME, "KU", "tm", _file(file_codes))
    recovery = time.monotonic() - restarted
    assert result.to_dict() == {"in": 3000, "inserted": 3000 - len(stored), "updated": len(stored)}
    assert sorted(d["_id"]["code"] for d in store.collection.find({"_id.campaign_id": "KU"})) == file_codes
    assert {c: s for c, s in _statuses(store, "KU").items() if c in before} == before
    assert service.count(ME, "KU", "tm") == {"available": 2940, "reserved": 40, "assigned": 20}
    store.close()
    report("kill.upload", attempted=2, acknowledged=1, failed=1, codes_acknowledged_before_kill=acknowledged,
           codes_stored_at_restart=len(stored), duplicated=0, lost=len(lost), fail_s=failed_at - killed_at[0],
           recovery_s=recovery)


PROCESSES = 4
CALLS = 25
MOST = 100  # calls per process while the kill is pending (at most 5 codes each: within POOL)
POOL = 2_000
KILL_AFTER = 30


def test_kill_during_reserve_storm_keyed_retries_get_their_codes(own_server):
    db = "kill_storm"
    store = connect(own_server.uri, db, timeout_seconds=5, batch_timeout_seconds=30)
    store.prepare()
    service = CodeService(store)
    service.upload_from_file(ME, "KS", "tm", _file(f"S{i:05d}" for i in range(POOL)))

    ctx = multiprocessing.get_context("spawn")
    start, acked, kill_now, restarted, results = ctx.Barrier(PROCESSES), ctx.Value("i", 0), ctx.Event(), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=storm, args=(own_server.uri, db, "KS", CALLS, MOST, seed, start, acked, KILL_AFTER, kill_now, restarted, results))
        for seed in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    assert kill_now.wait(300)
    killed = time.monotonic()
    own_server.kill()
    own_server.start()
    up = time.monotonic()
    restarted.set()
    calls = [c for _ in procs for c in results.get(timeout=600)]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0

    failed_attempts = sum(len(c["errors"]) for c in calls)
    hit = [c for c in calls if c["errors"]]
    assert PROCESSES * CALLS <= len(calls) <= PROCESSES * MOST
    assert hit, "the kill should have failed at least one call"
    assert all("retrying with the same key" in e for c in hit for e in c["errors"])
    assert all(c["got"] is not None and len(c["got"]) == c["asked"] for c in calls)  # every retry got its codes

    handed = [code for c in calls for code in c["got"]]
    duplicated = sum(n - 1 for n in Counter(handed).values() if n > 1)
    stored = {d["_id"]["code"]: d.get("reserveId") for d in store.collection.find({"_id.campaign_id": "KS"}, {"reserveId": 1})}
    lost = [code for c in calls for code in c["got"] if stored.get(code) != c["key"]]
    returned = {code: c["key"] for c in calls for code in c["got"]}
    # Held under a key but never returned to that key's caller.
    strays = sum(1 for code, rid in stored.items() if rid is not None and returned.get(code) != rid)
    recovery = min(c["ended"] for c in hit) - killed  # kill -> first retried call answered
    all_recovered = max(c["ended"] for c in hit) - killed
    report("kill.reserve-storm", processes=PROCESSES, attempted=len(calls) + failed_attempts, calls=len(calls),
           acknowledged=len(calls), failed_attempts=failed_attempts, calls_hit=len(hit), duplicated=duplicated,
           lost=len(lost), stray_codes=strays, downtime_s=up - killed, recovery_s=recovery,
           all_hit_calls_done_s=all_recovered)
    assert duplicated == 0
    assert lost == []  # every code a caller received is stored under that caller's key
    assert strays == 0  # and nothing else is held under any key
    assert service.count(ME, "KS", "tm") == {"available": POOL - len(handed), "reserved": len(handed), "assigned": 0}
    store.close()
