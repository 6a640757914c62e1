"""`code-console serve` as a process: start-up failures are clear, and the API runs on MongoDB."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from code_console.core.service import CodeService

from tests.api.conftest import SECRET, running, settings_for, upload_csv
from tests.servers import free_port


def _serve(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE_CONSOLE_")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "code_console", "serve", "--host", "127.0.0.1", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_without_a_jwt_key_exits_2_with_a_clear_message():
    done = _serve({})
    assert done.returncode == 2
    assert "jwt_not_configured" in done.stderr and "CODE_CONSOLE_JWT_SECRET" in done.stderr


def test_serve_with_mongodb_unreachable_exits_5():
    done = _serve(
        {
            "CODE_CONSOLE_JWT_SECRET": SECRET,
            "CODE_CONSOLE_MONGO_URI": f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
            "CODE_CONSOLE_MONGO_TIMEOUT_SECONDS": "0.5",
        }
    )
    assert done.returncode == 5
    assert "store_unavailable" in done.stderr


@pytest.mark.realserver
def test_every_route_on_mongodb(mongo_store, clock):
    with running(CodeService(mongo_store, clock=clock), settings_for()) as api:
        assert api.http.get("/heartbeat").json()["store"].startswith("mongodb://127.0.0.1:")
        assert upload_csv(api, "MDB", "tm", [f"D{i}" for i in range(30)]).json() == {"count": {"in": 30, "inserted": 30, "updated": 0}}
        got = api.get("/MDB/reserve", params={"count": 6, "type": "tm"}, headers={"Idempotency-Key": "mdb-1"}).json()
        assert len(set(got)) == 6
        retry = api.get("/MDB/reserve", params={"count": 6, "type": "tm"}, headers={"Idempotency-Key": "mdb-1"}).json()
        assert sorted(retry) == sorted(got)
        assert api.post("/MDB/assign", json={"codes": got[:2]}).json() == {"count": {"in": 2, "updated": 2}}
        assert api.post("/MDB/release", json={"codes": got}).json() == {"count": {"in": 6, "updated": 4}}
        assert api.get("/MDB/codes/count", params={"type": "tm"}).json() == {"available": 28, "reserved": 0, "assigned": 2}
        assert api.get("/MDB/codes/count", params={"type": "tm", "status": "available"}).json() == {"available": 28}
