"""`code-console serve` as a process: start-up failures are clear, and the API runs on MongoDB."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from code_console.core.service import CodeService

from tests.api.conftest import SECRET, data, running, settings_for, upload_csv
from tests.servers import free_port


def _serve(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE_CONSOLE_")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "code_console", "serve", "--host", "127.0.0.1", "--port", "0", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line(done: subprocess.CompletedProcess, code: str) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"code-console: {code}: "), done.stderr
    return lines[0]


def test_serve_without_a_jwt_key_exits_2_with_a_clear_message():
    done = _serve({})
    assert done.returncode == 2
    assert "CODE_CONSOLE_JWT_SECRET" in one_line(done, "jwt_not_configured")


def test_serve_with_a_short_secret_exits_2():
    done = _serve({"CODE_CONSOLE_JWT_SECRET": "short", "CODE_CONSOLE_MONGO_URI": "mongodb://127.0.0.1:1"})
    assert done.returncode == 2
    assert "at least 32" in one_line(done, "jwt_secret_too_short")


def test_serve_without_mongodb_refuses_unless_told_embedded():
    done = _serve({"CODE_CONSOLE_JWT_SECRET": SECRET})
    assert done.returncode == 2
    assert "--embedded" in one_line(done, "mongo_not_configured")
    both = _serve({"CODE_CONSOLE_JWT_SECRET": SECRET, "CODE_CONSOLE_MONGO_URI": "mongodb://127.0.0.1:1"}, "--embedded")
    assert both.returncode == 2
    one_line(both, "store_ambiguous")


@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_serve_with_a_port_out_of_range_is_one_clear_line(port):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE_CONSOLE_")}
    env["CODE_CONSOLE_JWT_SECRET"] = SECRET
    done = subprocess.run(
        [sys.executable, "-m", "code_console", "serve", "--embedded", "--port", port], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "65535" in one_line(done, "invalid_port")


def test_serve_listens_on_8080_by_default():
    from code_console.cli import _parser

    assert _parser().parse_args(["serve"]).port == 8080


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
        assert api.http.get("/heartbeat").json() == {"status": "ok"}
        assert api.get("/heartbeat").json()["store"].startswith("mongodb://127.0.0.1:")
        assert data(upload_csv(api, "MDB", "tm", [f"D{i}" for i in range(30)])) == {"count": {"in": 30, "inserted": 30, "updated": 0}}
        first = api.get("/MDB/reserve", params={"count": 6, "type": "tm"}, headers={"Idempotency-Key": "mdb-1"})
        got = data(first)
        assert len(set(got)) == 6 and first.headers["Reservation-Id"] == "mdb-1"
        retry = data(api.get("/MDB/reserve", params={"count": 6, "type": "tm"}, headers={"Idempotency-Key": "mdb-1"}))
        assert sorted(retry) == sorted(got)
        assert data(api.post("/MDB/assign", json={"codes": got[:2]})) == {"count": {"in": 2, "updated": 2}, "unchanged": {}}
        assert data(api.post("/MDB/release", json={"codes": got})) == {"count": {"in": 6, "updated": 4}, "unchanged": {"already_assigned": got[:2]}}
        assert data(api.get("/MDB/codes/count", params={"type": "tm"})) == {"available": 28, "reserved": 0, "assigned": 2}
        assert data(api.get("/MDB/codes/count", params={"type": "tm", "status": "available"})) == {"available": 28}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--ttl", "99999999999999999999"], "argument --ttl: must be a number of seconds from 1 to 2,592,000"),
        (["--ttl", "0"], "argument --ttl: must be a number of seconds from 1 to 2,592,000"),
        (["--subject", ""], "argument --subject: must be 1-256 printable characters"),
    ],
)
def test_token_refuses_a_lifetime_or_subject_no_one_should_mint(args, message):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE_CONSOLE_")}
    done = subprocess.run(
        [sys.executable, "-m", "code_console", "token", *args],
        capture_output=True, text=True, timeout=60, env={**env, "CODE_CONSOLE_JWT_SECRET": SECRET},
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines()[-1] == f"code-console token: error: {message}"
