"""A separate process for the load test: keyed reserve calls on random pools, each followed by a
release, an assignment or nothing, with the times a duplicate check needs."""

from __future__ import annotations

import random
import time

POOLS = [("L1", "tm"), ("L1", "external"), ("L2", "tm"), ("L2", "external")]


def load(uri: str, db: str, calls: int, seed: int, start, results) -> None:
    from code_console.core.models import LOCAL_OPERATOR as me
    from code_console.core.mongo import connect
    from code_console.core.service import CodeService

    store = connect(uri, db, timeout_seconds=30, batch_timeout_seconds=60)
    service = CodeService(store, rng=random.Random(seed))
    rng = random.Random(seed)
    out = []
    start.wait()
    for i in range(calls):
        campaign, code_type = rng.choice(POOLS)
        key = f"L{seed}-{i}"
        asked = rng.randint(1, 5)
        began = time.monotonic()
        got = service.reserve(me, campaign, code_type, asked, key=key).codes
        reserved = time.monotonic()
        roll, action, released_at = rng.random(), "keep", None
        if got and roll < 0.6:
            action, released_at = "release", time.monotonic()
            service.release(me, campaign, got)
        elif got and roll < 0.75:
            action = "assign"
            service.assign(me, campaign, got)
        out.append({"pool": (campaign, code_type), "key": key, "asked": asked, "got": got, "began": began,
                    "reserved": reserved, "action": action, "released_at": released_at})
    store.close()
    results.put(out)
