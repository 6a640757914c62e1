"""A reserve storm across processes and its check, shared by the SecantusDB and SQLite tests:
processes reserve from one pool with demand above stock; every code must reach one caller."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from typing import Callable

from tests.conftest import ME


def run_storm(target: Callable, args_for: Callable[[int], tuple], processes: int, start_timeout: float) -> list[dict]:
    """Start `processes` spawned workers `target(*args_for(seed), start, results)` behind one
    barrier and return every call each recorded ({asked, got, began, ended, commands})."""
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(processes)
    results = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args_for(seed), start, results)) for seed in range(processes)]
    for p in procs:
        p.start()
    calls = [c for _ in procs for c in results.get(timeout=start_timeout)]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    return calls


def check_storm(label: str, calls: list[dict], expected_calls: int, pool: int, reserve_id_of: dict, service, campaign: str) -> None:
    """0 duplicates; all of the pool handed out; a call short only once the pool was empty; each
    call's codes under one reserveId of its own (`reserve_id_of`: code -> stored reserveId)."""
    handed = [code for c in calls for code in c["got"]]
    duplicates = sum(n - 1 for n in Counter(handed).values() if n > 1)
    demand = sum(c["asked"] for c in calls)
    short = [c for c in calls if len(c["got"]) < c["asked"]]
    print(f"\n{label} calls={len(calls)} demand={demand} pool={pool} handed={len(handed)} "
          f"duplicates={duplicates} short_calls={len(short)} "
          f"commands/call={sorted(Counter(c['commands'] for c in calls).items())}")

    assert len(calls) == expected_calls
    assert demand > pool
    assert duplicates == 0
    # Stock ran out and every code went to exactly one caller.
    assert len(handed) == pool
    # A call came back short only once the pool was empty: every call that began after a
    # short call ended got nothing.
    first_short_end = min(c["ended"] for c in short)
    assert all(not c["got"] for c in calls if c["began"] > first_short_end)
    # Each call's codes are stored under one reserveId, and no two calls share one.
    rids_per_call = []
    for c in calls:
        if c["got"]:
            rids = {reserve_id_of[code] for code in c["got"]}
            assert len(rids) == 1 and None not in rids
            rids_per_call.append(rids.pop())
    assert len(rids_per_call) == len(set(rids_per_call))
    assert service.count(ME, campaign, "tm") == {"available": 0, "reserved": pool, "assigned": 0}
