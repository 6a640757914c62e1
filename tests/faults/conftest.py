"""Fault-test helpers: a SecantusDB of the test's own (killable, with data on disk), fail points,
stored-data snapshots and the figures each fault test reports.

Every fault test prints one line `FAULT <name> attempted=.. acknowledged=.. failed=.. duplicated=..
lost=.. recovery_s=..`; with FAULT_REPORT=<path> set, the same figures are appended there as JSON.
"""

from __future__ import annotations

import json
import os
import time

import pymongo
import pytest

from tests.servers import SecantusServer, secantus_binary


@pytest.fixture
def own_server(tmp_path):
    """A SecantusDB for this test alone, storing on disk so data survives kill + restart on its port."""
    if secantus_binary() is None:
        pytest.skip("secantusd-py is not installed (pip install secantusdb)")
    server = SecantusServer(storage_path=str(tmp_path / "db"))
    server.start()
    yield server
    server.kill()  # its data is thrown away with tmp_path; a clean shutdown takes seconds


@pytest.fixture(scope="module")
def fault_server():
    """A SecantusDB with test commands for one module's fail-point tests (never killed)."""
    if secantus_binary() is None:
        pytest.skip("secantusd-py is not installed (pip install secantusdb)")
    server = SecantusServer()
    server.start()
    yield server
    server.kill()


class FailPoints:
    """configureFailPoint on a server started with --enable-test-commands, from a client of its own."""

    def __init__(self, server: SecantusServer) -> None:
        self._client = pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=5000)

    def fail(self, commands: list[str], *, times: int = 1, skip: int = 0, **data) -> None:
        mode = {"times": times, "skip": skip} if skip else {"times": times}
        self._client.admin.command({"configureFailPoint": "failCommand", "mode": mode, "data": {"failCommands": commands, **data}})

    def off(self) -> None:
        self._client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})

    def close(self) -> None:
        self._client.close()


@pytest.fixture
def fail_points(fault_server):
    fp = FailPoints(fault_server)
    yield fp
    fp.off()
    fp.close()


def snapshot(collection) -> list[dict]:
    """Every stored document, without _id, in code order: compared before and after a fault."""
    return sorted(collection.find({}), key=lambda d: (d["_id"]["campaign_id"], d["_id"]["code"]))


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05):
    """Poll a condition that no event announces (a write landing on the server) up to a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def report(name: str, **figures) -> None:
    line = " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
    print(f"\nFAULT {name} {line}")
    path = os.environ.get("FAULT_REPORT")
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps({"fault": name, **figures}) + "\n")
