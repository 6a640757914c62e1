"""Jepsen-style runs on one SecantusDB: worker processes (tests/jepsen/worker.py) reserve, assign
and release, some of them late, their histories checked by tests/jepsen/history.py.

Expiry is reachable within the run: the workers' reservation TTL is TTL seconds, and a worker
acts late on holds older than 1.2 × TTL (always naming its reservation). Experiments:
- db-clock: six workers on this machine's clock;
- skewed: six workers under faketime (−25 h, −10 min, +10 min, +2 h, +10 years, none);
- nemesis: six workers while updates fail now and then, before or after they are applied
  (indeterminate operations; codes stranded by an applied reserve whose caller never heard back);
- broken-reserve: six workers whose reserve skips the guard (JEPSEN_BROKEN_RESERVE=1): the
  checker must find the codes held twice.
Each prints its row of the table (run with -s to see it; JEPSEN_REPORT=<path> appends it as JSON).
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from code_console.core.models import LOCAL_OPERATOR
from code_console.core.mongo import connect
from code_console.core.service import CodeService
from code_console.core.sqlite import SqliteStore

from tests.jepsen.history import check, read_history, table
from tests.ownership_hosts import FAKETIME, faked_now

pytestmark = pytest.mark.realserver

TTL = 2.0
SECONDS = 12.0
POOL = int(os.environ.get("JEPSEN_POOL", "150"))
ROWS: list = []


def experiment(secantus, folder, offsets: list[str | None], *, broken: bool = False, nemesis: bool = False, embedded: bool = False):
    db = f"jep_{uuid.uuid4().hex[:10]}"
    if embedded:
        uri = f"sqlite:{folder / 'codes.sqlite3'}"
        store = SqliteStore(uri.removeprefix("sqlite:"))
    else:
        uri = secantus.uri
        store = connect(uri, db, timeout_seconds=30, batch_timeout_seconds=60)
    store.prepare()
    service = CodeService(store, reservation_ttl=timedelta(seconds=TTL))
    service.upload_from_file(LOCAL_OPERATOR, "J", "tm", io.BytesIO("".join(f"J{i:04d}\n" for i in range(POOL)).encode()))
    env = {**os.environ, "JEPSEN_BROKEN_RESERVE": "1" if broken else "0", "JEPSEN_TRACE": "1",
           "JEPSEN_PAUSE": "0.02" if embedded else "0"}
    paths, procs = [], []
    for process, offset in enumerate(offsets):
        path = folder / f"p{process}.jsonl"
        cmd = [sys.executable, "-m", "tests.jepsen.worker", uri, db, "J", str(process), str(process + 7), str(SECONDS), str(TTL), str(path)]
        if offset:
            cmd = [FAKETIME, "-f", offset, *cmd]
        procs.append(subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE))
        paths.append(path)
    stop = threading.Event()
    faults = threading.Thread(target=inject_faults, args=(secantus, stop), daemon=True) if nemesis else None
    if faults:
        faults.start()
    try:
        for p in procs:
            _, err = p.communicate(timeout=SECONDS + 120)
            assert p.returncode == 0, err.decode()[-2000:]
    finally:
        stop.set()
        if faults:
            faults.join(30)
    ops, meta = read_history(paths)
    final = {s.code: {"reserveId": s.reserve_id, "assigned": s.assigned} for s in store.scan("J", 1_000)}
    counts = service.count(LOCAL_OPERATOR, "J", "tm")
    if not embedded:
        store.collection.database.client.drop_database(db)
    store.close()
    uncertainty = max(m["uncertainty"] for m in meta if m["type"] == "end")
    report = check(ops, final, POOL, counts, TTL, uncertainty)
    (folder / "final.json").write_text(json.dumps({"final": final, "counts": counts}, default=str))
    if report.valid != broken:
        shutil.rmtree(folder)  # kept only when the check says what the experiment did not expect
    return report, uncertainty


def inject_faults(secantus, stop: threading.Event) -> None:
    """The nemesis: every 0.3-0.8 s the next two updates fail, alternately before they run (the
    connection drops) and after they ran (a write concern error: applied, but the caller is told
    the store did not confirm it). Both reach the caller as indeterminate."""
    from tests.faults.conftest import FailPoints

    points = FailPoints(secantus)
    rng = random.Random(3)
    kinds = [{"closeConnection": True}, {"writeConcernError": {"code": 100, "errmsg": "injected: not confirmed"}}]
    try:
        n = 0
        while not stop.wait(rng.uniform(0.3, 0.8)):
            points.fail(["update"], times=2, **kinds[n % 2])
            n += 1
    finally:
        points.off()
        points.close()


def histories(request) -> Path:
    """Where an experiment's histories go: kept after the run (JEPSEN_DIR, default
    $TMPDIR/jepsen-histories/<test>), so that a failed check can be read line by line."""
    root = Path(os.environ.get("JEPSEN_DIR") or Path(tempfile.gettempdir()) / "jepsen-histories")
    folder = root / f"{request.node.name}-{time.strftime('%H%M%S')}"
    folder.mkdir(parents=True)
    return folder


def record(name: str, offsets, report, uncertainty) -> None:
    shown = ",".join(o or "0" for o in offsets)
    ROWS.append((name, shown, report))
    print(f"\nJEPSEN {name}: clock uncertainty <= {uncertainty * 1000:.1f} ms\n{table(ROWS[-1:])}")
    for problem in report.problems[:5]:
        print("  ", problem)
    if os.environ.get("JEPSEN_REPORT"):
        with open(os.environ["JEPSEN_REPORT"], "a") as fh:
            fh.write(json.dumps({"experiment": name, "offsets": shown, "uncertainty_s": uncertainty, **report.row()}) + "\n")


def test_db_clock_history_keeps_one_code_one_holder(secantus, request):
    offsets = [None] * 6
    report, uncertainty = experiment(secantus, histories(request), offsets)
    record("db-clock", offsets, report, uncertainty)
    assert report.valid, report.problems[:10]
    assert report.ok > 100 and report.late > 10  # the history did exercise late callers


def test_embedded_store_history_keeps_one_code_one_holder(secantus, request):
    offsets = [None] * 6
    report, uncertainty = experiment(secantus, histories(request), offsets, embedded=True)
    record("embedded", offsets, report, uncertainty)
    assert report.valid, report.problems[:10]
    assert report.ok > 100 and report.late > 10


def test_skewed_hosts_history_keeps_one_code_one_holder(secantus, request):
    if FAKETIME is None:
        pytest.skip("faketime is not installed (Debian: apt-get install faketime); CI installs it")
    offsets = ["-25h", "-10m", "+10m", "+2h", "+10y", None]
    assert faked_now("+10y").year >= 2035  # faketime really moves the workers' datetime.now()
    report, uncertainty = experiment(secantus, histories(request), offsets)
    record("skewed", offsets, report, uncertainty)
    assert report.valid, report.problems[:10]
    assert report.ok > 100 and report.late > 10


def test_history_with_failing_writes_keeps_one_code_one_holder(secantus, request):
    offsets = [None] * 6
    report, uncertainty = experiment(secantus, histories(request), offsets, nemesis=True)
    record("nemesis", offsets, report, uncertainty)
    assert report.valid, report.problems[:10]
    assert report.indeterminate > 0 and report.ok > 100


def test_the_checker_catches_a_reserve_that_skips_the_guard(secantus, request):
    offsets = [None] * 6
    report, uncertainty = experiment(secantus, histories(request), offsets, broken=True)
    record("broken-reserve", offsets, report, uncertainty)
    assert not report.valid
    assert report.duplicated > 0
