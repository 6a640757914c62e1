"""Helpers shared by the benchmarks: a SecantusDB server, command counting, RSS."""

from __future__ import annotations

import resource
import time
from collections import Counter
from contextlib import contextmanager

from pymongo import monitoring


class CommandCounter(monitoring.CommandListener):
    """Counts the commands a client sends (pymongo command monitoring): round trips, not seconds."""

    IGNORED = {"endSessions", "ping", "hello", "isMaster", "createIndexes", "killCursors"}

    def __init__(self) -> None:
        self.names: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.names.values())

    def reset(self) -> None:
        self.names.clear()

    def started(self, event) -> None:
        if event.command_name not in self.IGNORED:
            self.names[event.command_name] += 1

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def secantus_server():
    from tests.servers import SecantusServer

    server = SecantusServer(test_commands=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
