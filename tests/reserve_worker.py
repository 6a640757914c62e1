"""A separate process that hammers reserve on a shared store (used by the concurrency tests):
MongoDB (`hammer`) or one SQLite file (`hammer_sqlite`)."""

from __future__ import annotations

import random
import time


def hammer(uri: str, db: str, campaign: str, calls: int, seed: int, start, results) -> None:
    from code_console.core.mongo import connect

    store = connect(uri, db, timeout_seconds=30, batch_timeout_seconds=60)
    _hammer(store, campaign, calls, seed, start, results)


def hammer_sqlite(path: str, campaign: str, calls: int, seed: int, start, results) -> None:
    from code_console.core.sqlite import SqliteStore

    _hammer(SqliteStore(path, timeout_seconds=30), campaign, calls, seed, start, results)


def _hammer(store, campaign: str, calls: int, seed: int, start, results) -> None:
    from code_console.core.models import LOCAL_OPERATOR
    from code_console.core.service import CodeService

    rounds: list[int] = []

    class Counting:
        """Counts the store calls each reserve makes (round trips, not seconds)."""

        def __getattr__(self, name):
            target = getattr(store, name)
            if not callable(target):
                return target

            def call(*a, **kw):
                rounds[-1] += 1
                return target(*a, **kw)

            return call

    service = CodeService(Counting(), rng=random.Random(seed))
    rng = random.Random(seed)
    out = []
    start.wait()
    for _ in range(calls):
        asked = rng.randint(1, 10)
        rounds.append(0)
        began = time.monotonic()
        got = service.reserve(LOCAL_OPERATOR, campaign, "tm", asked).codes
        out.append({"asked": asked, "got": got, "began": began, "ended": time.monotonic(), "commands": rounds[-1]})
    store.close()
    results.put(out)


def open_store(spec: tuple):
    """A store from a picklable spec: ("sqlite", path) or ("mongo", uri, db)."""
    if spec[0] == "sqlite":
        from code_console.core.sqlite import SqliteStore

        return SqliteStore(spec[1], timeout_seconds=30)
    from code_console.core.mongo import connect

    return connect(spec[1], spec[2], timeout_seconds=30, batch_timeout_seconds=60)


def keyed(spec: tuple, campaign: str, keys: list[tuple[str, int]], seed: int, start, results) -> None:
    """Reserve with every (key, count) of `keys`, in an order of its own; puts {key: codes}."""
    from code_console.core.models import LOCAL_OPERATOR
    from code_console.core.service import CodeService

    store = open_store(spec)
    service = CodeService(store, rng=random.Random(seed))
    order = list(keys)
    random.Random(seed).shuffle(order)
    start.wait()
    answers = {key: service.reserve(LOCAL_OPERATOR, campaign, "tm", count, key=key).codes for key, count in order}
    store.close()
    results.put(answers)
