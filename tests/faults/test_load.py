"""Load held: keyed reserve calls from 8 processes on one SecantusDB, with releases and
assignments recycling the pools. 0 duplicates, and at rest available + reserved + assigned
equals what was uploaded, for every campaign and type.

The default run makes 1,000 calls (about three minutes on a 2-core machine, SecantusDB being a
Python server that serialises the 8 processes); LOAD_CALLS=10000 runs the full figure from the issue.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import statistics
import time
import uuid
from collections import Counter, defaultdict

import pytest

from code_console.core.mongo import connect
from code_console.core.service import CodeService

from tests.conftest import ME
from tests.faults.conftest import report
from tests.faults.load_worker import POOLS, load

pytestmark = pytest.mark.realserver

PROCESSES = 8
CALLS = int(os.environ.get("LOAD_CALLS", "1000"))
# 4 pools of 1,500 codes. About 40% of calls keep or assign their codes (3 on average), so a
# 10,000-call run empties the pools about halfway and the later calls come back short. Larger
# pools (LOAD_PER_POOL=4000, 16,000 codes) made SecantusDB stop answering any command for over
# 60 s after ~700 calls from 8 processes, with or without j:true (one process: no stall): a
# limit of the test server, measured and left as an opt-in until it is understood.
PER_POOL = int(os.environ.get("LOAD_PER_POOL") or 1_500)


@pytest.mark.timeout(900)
def test_load_held_no_duplicates_and_counts_balance(secantus):
    db = f"load_{uuid.uuid4().hex[:10]}"
    store = connect(secantus.uri, db, timeout_seconds=30, batch_timeout_seconds=120)
    store.prepare()
    service = CodeService(store)
    for n, (campaign, code_type) in enumerate(POOLS):
        body = "".join(f"P{n}-{i:05d}\n" for i in range(PER_POOL)).encode()
        service.upload_from_file(ME, campaign, code_type, io.BytesIO(body))

    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(PROCESSES + 1), ctx.Queue()
    share = [CALLS // PROCESSES + (1 if i < CALLS % PROCESSES else 0) for i in range(PROCESSES)]
    procs = [ctx.Process(target=load, args=(secantus.uri, db, share[i], i, start, results)) for i in range(PROCESSES)]
    for p in procs:
        p.start()
    start.wait()
    began = time.monotonic()
    calls = [c for _ in procs for c in results.get(timeout=1800)]
    wall = time.monotonic() - began
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(calls) == CALLS

    # A code may pass from one caller to the next only after the first released it.
    holdings = defaultdict(list)
    for c in calls:
        for code in c["got"]:
            holdings[(c["pool"][0], code)].append(c)
    duplicated = 0
    for held in holdings.values():
        held.sort(key=lambda c: c["reserved"])
        for before, after in zip(held, held[1:]):
            if before["released_at"] is None or after["reserved"] <= before["released_at"]:
                duplicated += 1

    # At rest each code is in the state its last holder left it.
    stored = {(d["_id"]["campaign_id"], d["_id"]["code"]): d for d in store.collection.find({})}
    lost = 0
    for (campaign, code), held in holdings.items():
        last, doc = held[-1], stored[(campaign, code)]
        if last["action"] == "release":
            lost += doc.get("reserveId") is not None or "reserved" in doc["date"]
        else:
            lost += doc.get("reserveId") != last["key"] or (("assigned" in doc["date"]) != (last["action"] == "assign"))

    expected = Counter()
    for held in holdings.values():
        last = held[-1]
        if last["action"] != "release":
            expected[(*last["pool"], "assigned" if last["action"] == "assign" else "reserved")] += 1
    balanced = True
    for campaign, code_type in POOLS:
        counts = service.count(ME, campaign, code_type)
        balanced &= sum(counts.values()) == PER_POOL
        balanced &= counts["assigned"] == expected[(campaign, code_type, "assigned")]
        balanced &= counts["reserved"] == expected[(campaign, code_type, "reserved")]

    latencies = sorted(c["reserved"] - c["began"] for c in calls)
    handed = sum(len(c["got"]) for c in calls)
    actions = Counter(c["action"] for c in calls)
    report("load", processes=PROCESSES, calls=CALLS, codes_handed=handed, short_calls=sum(len(c["got"]) < c["asked"] for c in calls),
           releases=actions["release"], assigns=actions["assign"], duplicated=duplicated, lost=lost,
           wall_s=wall, calls_per_s=CALLS / wall, reserve_p50_ms=1000 * statistics.median(latencies),
           reserve_p99_ms=1000 * latencies[int(0.99 * (len(latencies) - 1))])
    assert duplicated == 0
    assert lost == 0
    assert balanced
    store.collection.drop()
    store.close()
