"""Core calls run in the threadpool: a slow MongoDB call never stalls the event loop."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from code_console.core.service import CodeService
from code_console.core.sqlite import SqliteStore

from tests.api.conftest import running, settings_for, upload_csv
from tests.stores import embedded_path


class GatedStore(SqliteStore):
    """A thread's first find_available waits at a barrier: it returns only once `parties` calls
    are inside it at once (a call that lost a race and looks again is not held)."""

    def __init__(self, parties: int) -> None:
        super().__init__(embedded_path())
        self.barrier = threading.Barrier(parties, timeout=20)
        self._waited = threading.local()

    def find_available(self, *args, **kwargs):
        if not getattr(self._waited, "done", False):
            self._waited.done = True
            self.barrier.wait()
        return super().find_available(*args, **kwargs)


def test_blocked_core_calls_leave_the_event_loop_free(clock):
    calls = 6
    store = GatedStore(calls + 1)  # the test itself is the last party
    with running(CodeService(store, clock=clock), settings_for()) as api:
        upload_csv(api, "GATE", "tm", [f"G{i}" for i in range(50)])
        with ThreadPoolExecutor(calls) as pool:
            pending = [pool.submit(api.get, "/GATE/reserve", params={"count": 2, "type": "tm"}) for _ in range(calls)]
            # The reserves block inside the store until all six are in at once, which can only
            # happen if each runs in its own worker thread; meanwhile the loop keeps answering.
            for _ in range(3):
                assert api.http.get("/heartbeat", timeout=5).status_code == 200
                assert api.get("/GATE/codes/count", params={"type": "tm"}, timeout=5).json()["data"]["available"] == 50
            store.barrier.wait()  # raises BrokenBarrierError unless all six calls arrived together
            results = [f.result(timeout=30) for f in pending]
    got = [code for r in results for code in r.json()["data"]]
    assert [r.status_code for r in results] == [200] * calls
    assert len(got) == 2 * calls and len(set(got)) == 2 * calls


def test_core_never_imports_fastapi_or_starlette():
    probe = (
        "import sys, code_console.core, code_console.core.service, code_console.core.mongo, code_console.runtime; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'uvicorn', 'jwt')); "
        "print(','.join(bad))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
