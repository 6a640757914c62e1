"""The product beside the original's algorithms (bench/original.py), on one SecantusDB and the same data.

Each function returns {"product": ..., "original": ...} figures (seconds are wall clock, commands
are counted with pymongo command monitoring). The product and the original each write their
own database of the same server, both with the same indexes; reads (count, listing) run on
the same collection.
"""

from __future__ import annotations

import io
import multiprocessing
import random
import statistics
import time
import uuid
from datetime import timedelta

from code_console.core.models import LOCAL_OPERATOR as ME, CodeType
from code_console.core.mongo import connect
from code_console.core.service import CodeService

from bench import original
from bench.common import CommandCounter

EXPIRED = timedelta(hours=25)


class Side:
    """A product store and an original collection, each in a fresh database of the server."""

    def __init__(self, uri: str) -> None:
        self.counter = CommandCounter()
        self.store = connect(uri, f"bench_p_{uuid.uuid4().hex[:8]}", timeout_seconds=60, batch_timeout_seconds=900, event_listeners=[self.counter])
        self.store.prepare()
        self.service = CodeService(self.store)
        # The original's algorithms run on a collection with the same indexes as the product's
        # (the original's three and the product's own): a deployment of the product has them all,
        # and SecantusDB's cost of a write grows with the indexes it maintains.
        self.twin = connect(uri, f"bench_o_{uuid.uuid4().hex[:8]}", timeout_seconds=60, batch_timeout_seconds=900)
        self.twin.prepare()
        self.original = self.twin.collection
        self.db_names = (self.store.collection.database.name, self.original.database.name)

    def now(self):
        return self.service.clock()

    def close(self) -> None:
        client = self.store.collection.database.client
        for name in self.db_names:
            client.drop_database(name)
        self.store.close()
        self.twin.close()


def _timed(call):
    began = time.perf_counter()
    result = call()
    return time.perf_counter() - began, result


def upload(uri: str, codes: int = 5_000) -> dict:
    """Upload `codes` new codes, then the same file again (a re-upload), each way."""
    side = Side(uri)
    try:
        names = [f"UP-{i:07d}" for i in range(codes)]
        data = ("\n".join(names) + "\n").encode()
        out: dict = {}
        side.counter.reset()
        seconds, first = _timed(lambda: side.service.upload_from_file(ME, "UP", "tm", io.BytesIO(data)))
        assert (first.inserted, first.updated) == (codes, 0), first.to_dict()
        out["upload"] = {"product": seconds, "product_cmds": side.counter.total}
        side.counter.reset()
        seconds, again = _timed(lambda: side.service.upload_from_file(ME, "UP", "tm", io.BytesIO(data)))
        assert (again.inserted, again.updated, again.conflicts, again.duplicates) == (0, codes, 0, 0), again.to_dict()
        out["reupload"] = {"product": seconds, "product_cmds": side.counter.total}
        seconds, result = _timed(lambda: original.upload(side.original, "UP", "tm", names, side.now()))
        assert result["inserted"] == codes, result
        out["upload"].update(original=seconds, original_cmds=1)
        seconds, result = _timed(lambda: original.upload(side.original, "UP", "tm", names, side.now()))
        assert result["updated"] == codes, result
        out["reupload"].update(original=seconds, original_cmds=1)
        return out
    finally:
        side.close()


def _stock(side: Side, fresh: int, expired: int) -> None:
    """`fresh` never-reserved codes and `expired` codes reserved 25 h ago, in both collections."""
    now = side.now()
    names = [f"S-{i:06d}" for i in range(fresh + expired)]
    side.store.write_batch("S", CodeType.TM, names, now)
    original.upload(side.original, "S", "tm", names, now)
    old = {"$set": {"date.reserved": now - EXPIRED, "reserveId": "expired-before-the-storm"}}
    for col in (side.store.collection, side.original):
        col.update_many({"_id.campaign_id": "S", "_id.code": {"$gte": f"S-{fresh:06d}"}}, old)


def _storm_worker(uri, db, which, calls, count, seed, start, results):
    store = connect(uri, db, timeout_seconds=60, batch_timeout_seconds=120)
    service = CodeService(store, rng=random.Random(seed))
    clock = service.clock
    out = []
    start.wait()
    for _ in range(calls):
        if which == "product":
            out.append(service.reserve(ME, "S", "tm", count).codes)
        else:
            out.append(original.reserve(store.collection.database.client[db]["codes"], "S", "tm", count, clock()))
    store.close()
    results.put(out)


def _storm(uri: str, db: str, which: str, processes: int, calls: int, count: int) -> tuple[float, list[list[str]]]:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(processes + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=_storm_worker, args=(uri, db, which, calls, count, seed, start, results)) for seed in range(processes)]
    for p in procs:
        p.start()
    start.wait()
    began = time.perf_counter()
    rows = [r for _ in procs for r in results.get(timeout=900)]
    seconds = time.perf_counter() - began
    for p in procs:
        p.join(60)
    return seconds, rows


def reserve_storm(uri: str, processes: int = 8, calls: int = 25, count: int = 5, fresh: int = 400, expired: int = 400) -> dict:
    """`processes` x `calls` reserves of `count` against a stock below demand, half of it expired reservations."""
    side = Side(uri)
    try:
        _stock(side, fresh, expired)
        stock = fresh + expired
        out: dict = {"stock": stock, "demand": processes * calls * count}
        for which, db in (("product", side.db_names[0]), ("original", side.db_names[1])):
            seconds, rows = _storm(uri, db, which, processes, calls, count)
            handed = [c for got in rows for c in got]
            out[which] = {"seconds": seconds, "codes": len(handed), "duplicates": len(handed) - len(set(handed)), "fulfilment_pct": 100.0 * len(handed) / stock}
        return out
    finally:
        side.close()


def count(uri: str, codes: int = 5_000, repeat: int = 5) -> dict:
    """The three status counts of one campaign and type, on the same collection."""
    side = Side(uri)
    try:
        names = [f"N-{i:06d}" for i in range(codes)]
        side.store.write_batch("N", CodeType.TM, names, side.now())
        got = side.service.reserve(ME, "N", "tm", codes // 10).codes
        side.service.assign(ME, "N", got[: codes // 20])
        expected = {"available": codes - codes // 10, "reserved": codes // 10 - codes // 20, "assigned": codes // 20}
        figures: dict = {}
        for which in ("product", "original"):
            times = []
            for _ in range(repeat):
                side.counter.reset()
                if which == "product":
                    seconds, result = _timed(lambda: side.service.count(ME, "N", "tm"))
                else:
                    seconds, result = _timed(lambda: original.count(side.store.collection, "N", "tm", side.now()))
                assert result == expected, (which, result)
                times.append(seconds)
            figures[which] = {"cmds": side.counter.total, "seconds": statistics.median(times)}
        return figures
    finally:
        side.close()


def listing(uri: str, sizes=(10, 100, 300), codes_each: int = 3) -> dict:
    """Every campaign with its counts, at each number of campaigns, on the same collection."""
    side = Side(uri)
    try:
        made = 0
        out: dict = {}
        for size in sizes:
            now = side.now()
            while made < size:
                side.store.write_batch(f"L{made:05d}", CodeType.TM, [f"L{made}-{k}" for k in range(codes_each)], now)
                made += 1
            side.counter.reset()
            seconds, found = _timed(lambda: side.service.campaigns(ME))
            assert len(found) == size
            product = {"cmds": side.counter.total, "seconds": seconds}
            side.counter.reset()
            seconds, found = _timed(lambda: original.listing(side.store.collection, side.now()))
            assert len(found) == size
            out[size] = {"product": product, "original": {"cmds": side.counter.total, "seconds": seconds}}
        return out
    finally:
        side.close()
