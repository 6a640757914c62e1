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
    assert notes(limited) == ["code-console: more events before these: raise --limit, or narrow with --since"]
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
