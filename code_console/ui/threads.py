"""The executor behind every thread worker: one daemon thread per job, never waited for.

Textual runs `@work(thread=True)` jobs on the event loop's default executor. The standard
ThreadPoolExecutor is joined when the loop closes and again when the interpreter exits, so a
worker blocked inside a pymongo call (a stalled server, a 120 s batch timeout) held quitting
for minutes, and a ctrl+c there ended in a traceback from `threading`. A blocked pymongo
call cannot be interrupted from Python; quitting therefore does not wait for it. Writes are
stopped by the cancel event the upload checks before each batch, not by joining threads.
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import Future, ThreadPoolExecutor

_names = itertools.count(1)


class DaemonExecutor(ThreadPoolExecutor):
    """Runs each job on a daemon thread of its own; shutdown() returns at once."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="console-worker")

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to the worker, which reports it
                future.set_exception(exc)
            else:
                future.set_result(result)

        threading.Thread(target=run, name=f"console-worker-{next(_names)}", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # Never wait: a job may be blocked in a call that no Python code can interrupt.
        return None


def run_bounded(job, seconds: float, name: str) -> bool:
    """Run `job` on a daemon thread and wait at most `seconds`; True if it finished in time."""
    done = threading.Event()

    def run() -> None:
        try:
            job()
        except BaseException:  # noqa: BLE001 - cleanup at exit: nothing left to tell the user
            pass
        finally:
            done.set()

    threading.Thread(target=run, name=name, daemon=True).start()
    return done.wait(seconds)
