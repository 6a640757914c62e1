"""One Jepsen-style client process: reserves (with and without keys), assigns and releases on a
shared MongoDB, some of it late (after its reservation expired), and records every operation
and its answer as JSON lines: an `invoke` line, then `ok`, `fail` (it certainly did not happen)
or `info` (indeterminate: it may or may not have happened).

Times in the history are the database's clock as this process knows it (DatabaseClock), as
epoch seconds: one timeline for every process whatever its host's clock says (run it under
`faketime` to skew the host). The last line is `{"type": "end", "uncertainty": s}`: the
largest half round trip of this process's clock syncs (its bound).

    python -m tests.jepsen.worker URI DB CAMPAIGN PROCESS SEED SECONDS TTL OUT

With JEPSEN_BROKEN_RESERVE=1 in its environment, the store's reserve is deliberately broken
(tests only): it looks for candidates as if every reservation had expired and its
compare-and-set skips the guard, so it takes codes other callers hold.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone

from code_console.core.contract import Change
from code_console.core.errors import CodeConsoleError, StoreUnavailable
from code_console.core.models import LOCAL_OPERATOR
from code_console.core.mongo import ASSIGNED, CAMPAIGN, CODE, RESERVE_ID, RESERVED, connect
from code_console.core.service import CodeService


def break_reserve(store) -> None:
    """The deliberately broken reserve: candidates include live holds, and the compare-and-set
    takes any unassigned code whatever state it was seen in."""
    find, cas = store.find_available, store.compare_and_set

    def find_available(campaign_id, code_type, cutoff, limit):
        return find(campaign_id, code_type, cutoff + timedelta(days=3650), limit)

    def compare_and_set(campaign_id, change, groups, now, reserve_id=None):
        if change is not Change.RESERVE:
            return cas(campaign_id, change, groups, now, reserve_id)
        codes = [c for cs in groups.values() for c in cs]
        flt = {CAMPAIGN: campaign_id, ASSIGNED: None, CODE: {"$in": codes}}
        return store.collection.update_many(flt, {"$set": {RESERVED: now, RESERVE_ID: reserve_id}}).modified_count

    store.find_available, store.compare_and_set = find_available, compare_and_set


class Recorder:
    def __init__(self, out, process: int, clock) -> None:
        self.out, self.process, self.clock, self.n = out, process, clock, 0

    def now(self) -> float:
        return self.clock().timestamp()

    def write(self, **line) -> None:
        self.out.write(json.dumps({"process": self.process, **line}) + "\n")

    def call(self, f: str, value: dict, action, late: bool = False):
        """Record an invoke, run `action`, record its completion; returns the result or None."""
        self.n += 1
        op = self.n
        self.write(type="invoke", op=op, f=f, value=value, late=late, time=self.now())
        try:
            result = action()
        except StoreUnavailable as exc:
            self.write(type="info", op=op, f=f, value=value, error=exc.code, time=self.now())
            return None
        except CodeConsoleError as exc:
            self.write(type="fail", op=op, f=f, value=value, error=exc.code, time=self.now())
            return None
        self.write(type="ok", op=op, f=f, value={**value, **_answer(result)}, late=late, time=self.now())
        return result


def _answer(result) -> dict:
    if hasattr(result, "reserve_id"):
        return {"reserveId": result.reserve_id, "codes": list(result.codes)}
    if hasattr(result, "unchanged"):
        unchanged = result.unchanged_dict()
        return {"in": result.in_, "updated": result.updated, "unchanged": unchanged}
    return {"counts": result}


def trace_store(store, rec: Recorder) -> None:
    """Record every compare-and-set and candidate search as `trace` lines (the checker skips them):
    what a failed check is explained by."""
    find, cas = store.find_available, store.compare_and_set

    def find_available(campaign_id, code_type, cutoff, limit):
        found = find(campaign_id, code_type, cutoff, limit)
        rec.write(type="trace", f="find", cutoff=cutoff.timestamp(), found=[[c.code, c.seen.reserve_id, _ts(c.seen.reserved)] for c in found],
                  time=rec.now())
        return found

    def compare_and_set(campaign_id, change, groups, now, reserve_id=None):
        won = cas(campaign_id, change, groups, now, reserve_id)
        seen = [[s.reserve_id, _ts(s.reserved), codes] for s, codes in groups.items()]
        rec.write(type="trace", f="cas", change=change.value, rid=reserve_id, now=now.timestamp(), seen=seen, won=won, time=rec.now())
        return won

    store.find_available, store.compare_and_set = find_available, compare_and_set


def _ts(value):
    return value.timestamp() if isinstance(value, datetime) else value


def run(uri: str, db: str, campaign: str, process: int, seed: int, seconds: float, ttl: float, out) -> None:
    if uri.startswith("sqlite:"):  # the embedded store: one SQLite file shared by the processes
        from code_console.core.sqlite import SqliteStore

        store = SqliteStore(uri.removeprefix("sqlite:"), timeout_seconds=30)
    else:
        store = connect(uri, db, timeout_seconds=10, batch_timeout_seconds=30)
    if os.environ.get("JEPSEN_BROKEN_RESERVE") == "1":
        break_reserve(store)
    service = CodeService(store, reservation_ttl=timedelta(seconds=ttl), rng=random.Random(seed))
    rng = random.Random(seed)
    rec = Recorder(out, process, service.clock)
    if os.environ.get("JEPSEN_TRACE") == "1":
        trace_store(store, rec)
    rec.write(type="start", host_time=datetime.now(timezone.utc).isoformat(), time=rec.now())
    holds: list[dict] = []  # {"rid", "codes", "at", "named"}: what this process believes it holds
    me = LOCAL_OPERATOR
    end = time.monotonic() + seconds
    uncertainty = service.clock.uncertainty.total_seconds()
    pause = float(os.environ.get("JEPSEN_PAUSE", "0"))  # seconds between operations (pacing a fast store)
    while time.monotonic() < end:
        time.sleep(pause)
        uncertainty = max(uncertainty, service.clock.uncertainty.total_seconds())
        now = rec.now()
        fresh = [h for h in holds if now - h["at"] < ttl / 2 and not h["aside"]]
        late = [h for h in holds if now - h["at"] > ttl * 1.2]
        r = rng.random()
        if r < 0.40 or not holds:
            count = rng.randint(1, 4)
            key = f"p{process}-{rec.n + 1}" if rng.random() < 0.3 else None
            got = rec.call("reserve", {"count": count, "key": key}, lambda: service.reserve(me, campaign, "tm", count, key=key))
            if got is not None and got.codes:
                # One hold in five is set aside to come back only after it expired, so every
                # history has late callers however fast the store consumes the others.
                aside = rng.random() < 0.2
                holds.append({"rid": got.reserve_id, "codes": list(got.codes), "at": rec.now(), "key": key, "aside": aside})
            if got is not None and key and rng.random() < 0.3:  # a keyed retry: the same answer
                rec.call("reserve", {"count": count, "key": key}, lambda: service.reserve(me, campaign, "tm", count, key=key))
        elif r < 0.50:
            rec.call("count", {}, lambda: service.count(me, campaign, "tm"))
        else:
            # Late callers always name their reservation (the guarantee); on-time ones sometimes don't.
            pick_late = late and (rng.random() < 0.5 or not fresh)
            if not pick_late and not fresh:
                time.sleep(0.01)
                continue
            h = rng.choice(late if pick_late else fresh)
            named = True if pick_late else rng.random() < 0.7
            rid = h["rid"] if named else None
            codes = rng.sample(h["codes"], rng.randint(1, len(h["codes"])))
            what = rng.random()
            value = {"codes": codes, "reserveId": rid, "holder": h["rid"]}
            if what < 0.35:
                rec.call("assign", value, lambda: service.assign(me, campaign, codes, reserve_id=rid), late=bool(pick_late))
            elif what < 0.85 or not named:
                rec.call("release", value, lambda: service.release(me, campaign, codes, reserve_id=rid), late=bool(pick_late))
            else:
                codes = h["codes"]
                value = {"codes": None, "reserveId": rid, "holder": h["rid"]}
                rec.call("release", value, lambda: service.release_reservation(me, campaign, rid), late=bool(pick_late))
            h["codes"] = [c for c in h["codes"] if c not in codes]
            if not h["codes"]:
                holds.remove(h)
    rec.write(type="end", uncertainty=uncertainty, time=rec.now())
    store.close()


def main(argv: list[str]) -> int:
    uri, db, campaign, process, seed, seconds, ttl, path = argv
    with open(path, "w", buffering=1) as out:
        run(uri, db, campaign, int(process), int(seed), float(seconds), float(ttl), out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
