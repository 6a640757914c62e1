"""`code-console history` (issue 14): a code's full life read back as JSON lines, newest first,
with the actor from CODE_CONSOLE_OPERATOR or else the login user; subprocesses on SecantusDB."""

import hashlib
import json
import subprocess
import sys
import time

import pytest

from tests.test_cli import cli, notes  # noqa: F401  (the fixture, shared)

pytestmark = pytest.mark.realserver

TTL = 1  # seconds: the hold expires while the test waits


def lines(result) -> list[dict]:
    assert result.returncode == 0, result.stderr.decode()
    notes(result)
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def as_(run, actor: str | None, *args):
    """Run as CODE_CONSOLE_OPERATOR=actor, or (None) as the login user `carol` (LOGNAME, USER)."""
    env = {"CODE_CONSOLE_RESERVATION_TTL_SECONDS": str(TTL), "LOGNAME": "carol", "USER": "carol"}
    env["CODE_CONSOLE_OPERATOR"] = actor or ""
    return run(*args, env=env)


@pytest.fixture
def run(cli):  # noqa: F811
    """Like `cli`, with some variables replaced; an empty CODE_CONSOLE_OPERATOR is removed."""

    def go(*args, env: dict):
        full = {**cli.env, **env}
        if not full.get("CODE_CONSOLE_OPERATOR"):
            full.pop("CODE_CONSOLE_OPERATOR", None)
        return subprocess.run([sys.executable, "-m", "code_console", *args], capture_output=True, env=full, timeout=120)

    return go


def test_a_codes_full_life_through_the_command_line(run, tmp_path):
    data = b"FAN-0001\n"
    path = tmp_path / "batch1.csv"
    path.write_bytes(data)
    assert as_(run, "alice", "upload", "CAMP", "--type", "tm", "--file", str(path)).returncode == 0
    first = as_(run, "bob", "reserve", "CAMP", "--type", "tm", "--count", "1", "--key", "hold-1")
    assert json.loads(first.stdout) == ["FAN-0001"]
    time.sleep(TTL + 0.3)  # the hold's TTL runs out (the database's clock)
    second = json.loads(as_(run, None, "reserve", "CAMP", "--type", "tm", "--count", "2", "--with-reserve-id").stdout)
    assert second["codes"] == ["FAN-0001"]
    refused = as_(run, "bob", "release", "CAMP", "FAN-0001", "--reserve-id", "hold-1")
    assert json.loads(refused.stdout)["unchanged"] == {"held_by_another_reservation": ["FAN-0001"]}
    assert as_(run, None, "assign", "CAMP", "FAN-0001", "--reserve-id", second["reserveId"]).returncode == 0

    history = lines(as_(run, "dave", "history", "CAMP", "--code", "FAN-0001"))
    assert [(e["kind"], e["actor"], e["channel"], e["reserveId"], e["codes"]) for e in history] == [
        ("assigned", "carol", "cli", second["reserveId"], {"FAN-0001": "assigned"}),
        ("released", "bob", "cli", "hold-1", {"FAN-0001": "held_by_another_reservation"}),
        ("reserved", "carol", "cli", second["reserveId"], {"FAN-0001": "reserved"}),
        ("reserved", "bob", "cli", "hold-1", {"FAN-0001": "reserved"}),
        ("uploaded", "alice", "cli", None, {}),
    ]
    assert [e["at"] for e in history] == sorted((e["at"] for e in history), reverse=True)
    assert history[2]["details"] == {"asked": 2, "given": 1, "expired": [{"code": "FAN-0001", "reserveId": "hold-1"}]}
    assert history[3]["key"] == "hold-1" and history[3]["details"] == {"asked": 1, "given": 1}
    assert history[4]["details"] == {
        "source": "batch1.csv", "sha256": hashlib.sha256(data).hexdigest(), "in": 1, "inserted": 1, "updated": 0,
    }
    assert all(e["requestId"] is None and e["campaignId"] == "CAMP" for e in history)

    held = lines(as_(run, "dave", "history", "CAMP", "--reserve-id", "hold-1"))
    assert [(e["kind"], e["actor"]) for e in held] == [("released", "bob"), ("reserved", "bob")]
    limited = as_(run, "dave", "history", "CAMP", "--limit", "2")
    assert [e["kind"] for e in lines(limited)] == ["assigned", "released"]
    cursor = lines(limited)[-1]["id"]
    assert notes(limited) == [f"code-console: more events before these: add --before {cursor} for the next page"]
    following = lines(as_(run, "dave", "history", "CAMP", "--limit", "2", "--before", cursor))
    assert [e["kind"] for e in following] == [e["kind"] for e in history[2:4]]
    assert lines(as_(run, "dave", "history", "CAMP", "--since", "2999-01-01")) == []
    assert len(lines(as_(run, "dave", "history", "CAMP", "--since", "1h"))) == 5


def test_bad_filters_are_one_line_errors(run):
    result = as_(run, "dave", "history", "CAMP", "--since", "yesterday")
    assert result.returncode == 2
    assert notes(result) == [
        "code-console: invalid_since: invalid time 'yesterday': give an ISO 8601 time (2026-03-01T08:00:00Z), a date, or a span such as 2h or 7d"
    ]
    result = as_(run, "dave", "history", "CAMP", "--limit", "0")
    assert result.returncode == 2 and notes(result)[0].startswith("code-console: invalid_limit: ")


def test_what_the_served_api_did_the_command_line_reads_with_the_token_subject(cli):  # noqa: F811
    """`code-console serve` (wired by runtime, trail included) records HTTP changes; `history` reads them."""
    import httpx

    from tests.api.conftest import SECRET, hs256
    from tests.servers import ServeProcess

    env = {**cli.env, "CODE_CONSOLE_JWT_SECRET": SECRET, "CODE_CONSOLE_API_LOG_LEVEL": "info"}
    server = ServeProcess(env)
    try:
        server.wait_listening()
        base = f"http://127.0.0.1:{server.port}"
        with httpx.Client(base_url=base, timeout=30) as http:
            auth = {"Authorization": f"Bearer {hs256(sub='verification-service')}"}
            up = http.post("/WEB/codes?type=tm", content=b"W1\nW2\n", headers={**auth, "Content-Type": "text/csv", "X-Correlation-ID": "u-9"})
            assert up.status_code == 200, up.text
            got = http.get("/WEB/reserve?count=1&type=tm", headers={**auth, "X-Correlation-ID": "r-9"})
            assert got.status_code == 200, got.text
            served = http.get("/WEB/events", headers=auth).json()["data"]["events"]
    finally:
        server.stop()
    history = [json.loads(line) for line in subprocess.run(
        [sys.executable, "-m", "code_console", "history", "WEB"], capture_output=True, env=cli.env, timeout=120, check=True
    ).stdout.decode().splitlines()]
    assert [(e["kind"], e["actor"], e["channel"], e["requestId"]) for e in history] == [
        ("reserved", "verification-service", "api", "r-9"),
        ("uploaded", "verification-service", "api", "u-9"),
    ]
    assert history == served
    assert history[0]["reserveId"] == got.headers["Reservation-Id"] and list(history[0]["codes"]) == got.json()["data"]
