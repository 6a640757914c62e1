"""Reserve on SecantusDB: commands per call uncontended, and under 8 contending processes."""

from __future__ import annotations

import io
import multiprocessing
import random
import statistics
import time
import uuid
from collections import Counter

from code_console.core.models import LOCAL_OPERATOR as ME
from code_console.core.mongo import connect
from code_console.core.service import CodeService

from bench.common import CommandCounter


def _load(uri: str, db: str, campaign: str, codes: int) -> None:
    store = connect(uri, db, timeout_seconds=30, batch_timeout_seconds=600)
    store.prepare()
    service = CodeService(store, batch_size=2_000)
    service.upload_from_file(ME, campaign, "tm", io.BytesIO("".join(f"{campaign}{i:06d}\n" for i in range(codes)).encode()))
    store.close()


def uncontended(uri: str, calls: int = 100, count: int = 10) -> dict:
    db = f"bench_{uuid.uuid4().hex[:8]}"
    _load(uri, db, "U", calls * count + 500)
    counter = CommandCounter()
    store = connect(uri, db, timeout_seconds=30, batch_timeout_seconds=60, event_listeners=[counter])
    service = CodeService(store)
    per_call = []
    started = time.perf_counter()
    for _ in range(calls):
        counter.reset()
        assert len(service.reserve(ME, "U", "tm", count).codes) == count
        per_call.append(counter.total)
    seconds = time.perf_counter() - started
    store.collection.drop()
    store.close()
    return {"calls": calls, "cmds_mean": statistics.mean(per_call), "cmds_max": max(per_call), "calls_per_s": calls / seconds}


def _worker(uri, db, calls, seed, start, results):
    counter = CommandCounter()
    store = connect(uri, db, timeout_seconds=30, batch_timeout_seconds=60, event_listeners=[counter])
    service = CodeService(store, rng=random.Random(seed))
    rng = random.Random(seed)
    out = []
    start.wait()
    for _ in range(calls):
        asked = rng.randint(1, 10)
        counter.reset()
        got = service.reserve(ME, "H", "tm", asked).codes
        out.append((asked, got, counter.total))
    store.close()
    results.put(out)


def contended(uri: str, processes: int = 8, calls: int = 50, pool: int = 4_000) -> dict:
    """Demand (~2,200 codes) stays below stock: every call should get its full count."""
    db = f"bench_{uuid.uuid4().hex[:8]}"
    _load(uri, db, "H", pool)
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(processes + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(uri, db, calls, seed, start, results)) for seed in range(processes)]
    for p in procs:
        p.start()
    start.wait()
    began = time.perf_counter()
    rows = [r for _ in procs for r in results.get(timeout=900)]
    seconds = time.perf_counter() - began
    for p in procs:
        p.join(60)
    handed = [c for _, got, _ in rows for c in got]
    full = sum(1 for asked, got, _ in rows if len(got) == asked)
    cmds = sorted(n for _, _, n in rows)
    return {
        "processes": processes,
        "calls": len(rows),
        "codes": len(handed),
        "duplicates": len(handed) - len(set(handed)),
        "fulfilment_pct": 100.0 * full / len(rows),
        "cmds_p50": cmds[len(cmds) // 2],
        "cmds_p90": cmds[int(len(cmds) * 0.9)],
        "cmds_max": cmds[-1],
        "cmds_histogram": dict(sorted(Counter(cmds).items())),
        "calls_per_s": len(rows) / seconds,
    }
