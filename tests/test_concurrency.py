"""Never hand one code to two callers: 8 processes reserving from one SecantusDB, demand > stock."""

import io
import multiprocessing
import uuid
from collections import Counter

import pytest

from code_console.core.mongo import connect
from code_console.core.service import CodeService

from tests.conftest import ME
from tests.reserve_worker import hammer

pytestmark = pytest.mark.realserver

PROCESSES = 8
CALLS = 25
POOL = 1_000


def test_processes_never_share_a_code(secantus):
    db = f"conc_{uuid.uuid4().hex[:10]}"
    store = connect(secantus.uri, db, timeout_seconds=30, batch_timeout_seconds=120)
    store.prepare()
    service = CodeService(store)
    service.upload_from_file(ME, "HOT", "tm", io.BytesIO("".join(f"H{i:05d}\n" for i in range(POOL)).encode()))

    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [ctx.Process(target=hammer, args=(secantus.uri, db, "HOT", CALLS, seed, start, results)) for seed in range(PROCESSES)]
    for p in procs:
        p.start()
    calls = [c for _ in procs for c in results.get(timeout=600)]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0

    handed = [code for c in calls for code in c["got"]]
    duplicates = sum(n - 1 for n in Counter(handed).values() if n > 1)
    demand = sum(c["asked"] for c in calls)
    short = [c for c in calls if len(c["got"]) < c["asked"]]
    print(f"\nprocesses={PROCESSES} calls={len(calls)} demand={demand} pool={POOL} handed={len(handed)} "
          f"duplicates={duplicates} short_calls={len(short)} "
          f"commands/call={Counter(c['commands'] for c in calls)}")

    assert len(calls) == PROCESSES * CALLS
    assert demand > POOL
    assert duplicates == 0
    # Stock ran out and every code went to exactly one caller.
    assert len(handed) == POOL
    # A call came back short only once the pool was empty: every call that began after a
    # short call ended got nothing.
    first_short_end = min(c["ended"] for c in short)
    assert all(not c["got"] for c in calls if c["began"] > first_short_end)
    # Each call's codes are stored under one reserveId, and no two calls share one.
    stored = {d["_id"]["code"]: d.get("reserveId") for d in store.collection.find({"_id.campaign_id": "HOT"}, {"reserveId": 1})}
    rids_per_call = []
    for c in calls:
        if c["got"]:
            rids = {stored[code] for code in c["got"]}
            assert len(rids) == 1 and None not in rids
            rids_per_call.append(rids.pop())
    assert len(rids_per_call) == len(set(rids_per_call))
    assert service.count(ME, "HOT", "tm") == {"available": 0, "reserved": POOL, "assigned": 0}
    store.collection.drop()
    store.close()


def test_processes_racing_on_the_same_keys_get_one_answer_per_key(secantus):
    from tests.test_sqlite_concurrency import race_on_keys

    db = f"keys_{uuid.uuid4().hex[:10]}"
    store = connect(secantus.uri, db, timeout_seconds=30, batch_timeout_seconds=120)
    store.prepare()
    race_on_keys(("mongo", secantus.uri, db), store)
    store.collection.database.client.drop_database(db)
    store.close()
