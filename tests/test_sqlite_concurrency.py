"""Never hand one code to two callers on the embedded store: processes reserving from one SQLite file, demand > stock.

The same check as tests/test_concurrency.py (SecantusDB), on the file every command of one
machine shares: each process opens its own SqliteStore on the file, writers queue on its lock
(BEGIN IMMEDIATE), and the compare-and-set decides who wins each code.
"""

import io
import multiprocessing

from code_console.core.service import CodeService
from code_console.core.sqlite import SqliteStore

from tests.conftest import ME
from tests.reserve_worker import hammer_sqlite
from tests.stores import embedded_path
from tests.storm import check_storm, run_storm

PROCESSES = 6
CALLS = 25
POOL = 600


def test_processes_sharing_one_sqlite_file_never_share_a_code():
    path = embedded_path()
    store = SqliteStore(path)
    service = CodeService(store)
    service.upload_from_file(ME, "HOT", "tm", io.BytesIO("".join(f"H{i:05d}\n" for i in range(POOL)).encode()))

    calls = run_storm(hammer_sqlite, lambda seed: (str(path), "HOT", CALLS, seed), PROCESSES, 300)
    stored = {code: s.reserve_id for code, s in store.states("HOT", [f"H{i:05d}" for i in range(POOL)]).items()}
    check_storm(f"sqlite processes={PROCESSES}", calls, PROCESSES * CALLS, POOL, stored, service, "HOT")
    store.close()


KEYS = [(f"order-{n}", 1 + n % 7) for n in range(30)]  # 30 keys asking 1-7 codes: 115 codes in all


def test_processes_racing_on_the_same_keys_get_one_answer_per_key():
    """Every process calls every key, in its own order, at once: each key is one reservation,
    made once (insert_key decides, the lease guards the maker), and every caller gets its answer."""
    path = embedded_path()
    store = SqliteStore(path)
    race_on_keys(("sqlite", str(path)), store)
    store.close()


def race_on_keys(spec: tuple, store) -> None:
    """The keyed race on any store (tests/test_concurrency.py runs it on SecantusDB)."""
    from tests.reserve_worker import keyed

    service = CodeService(store)
    service.upload_from_file(ME, "KEYS", "tm", io.BytesIO("".join(f"K{i:04d}\n" for i in range(200)).encode()))

    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [ctx.Process(target=keyed, args=(spec, "KEYS", KEYS, seed, start, results)) for seed in range(PROCESSES)]
    for p in procs:
        p.start()
    answers = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0

    for key, count in KEYS:
        given = {tuple(a[key]) for a in answers}
        assert len(given) == 1, key  # every process got the same codes for the key
        assert len(given.pop()) == count
    handed = [code for key, _ in KEYS for code in answers[0][key]]
    assert len(handed) == len(set(handed)) == sum(count for _, count in KEYS) == 115
    # Each key's codes carry the key as their reserveId; nothing else is reserved.
    for key, _ in KEYS:
        assert sorted(s.code for s in store.holding("KEYS", key, 100)) == answers[0][key]
    assert service.count(ME, "KEYS", "tm") == {"available": 85, "reserved": 115, "assigned": 0}
