"""The command line, as a script would use it: subprocesses against SecantusDB and S3 over HTTP."""

import json
import os
import subprocess
import sys
import uuid

import pytest

pytestmark = pytest.mark.realserver


@pytest.fixture
def cli(secantus, s3_bucket, tmp_path):
    client, bucket = s3_bucket
    env = {
        **os.environ,
        "CODE_CONSOLE_MONGO_URI": secantus.uri,
        "CODE_CONSOLE_MONGO_DB": f"cli_{uuid.uuid4().hex[:8]}",
        "CODE_CONSOLE_S3_BUCKET": bucket,
        "CODE_CONSOLE_S3_ENDPOINT_URL": f"http://127.0.0.1:{client.meta.endpoint_url.rsplit(':', 1)[1]}",
    }

    def run(*args, stdin: bytes | None = None):
        return subprocess.run(
            [sys.executable, "-m", "code_console", *args], input=stdin, capture_output=True, env=env, timeout=120, cwd=tmp_path
        )

    run.client, run.bucket = client, bucket
    return run


def notes(result) -> list[str]:
    """stderr after its first line, which names the store that answered."""
    lines = result.stderr.decode().splitlines()
    assert lines and lines[0].startswith("code-console: store: mongodb://127.0.0.1:"), lines
    return lines[1:]


def ok(result):
    assert result.returncode == 0, result.stderr.decode()
    notes(result)
    return json.loads(result.stdout)


def fails(result, status: int, code: str):
    assert result.returncode == status
    assert result.stdout == b""
    lines = notes(result)
    assert len(lines) == 1 and lines[0].startswith(f"code-console: {code}: "), lines
    return lines[0]


def test_full_lifecycle(cli, tmp_path):
    codes = tmp_path / "codes.csv"
    codes.write_text("".join(f"CLI{i:03d}\n" for i in range(20)))
    assert ok(cli("upload", "CAMP", "--type", "tm", "--file", str(codes))) == {"in": 20, "inserted": 20, "updated": 0}
    cli.client.put_object(Bucket=cli.bucket, Key="codes/CAMP/external/x.csv", Body=b"X1\nX2\nCLI001\n")
    assert ok(cli("upload", "CAMP", "--file-key", "codes/CAMP/external/x.csv")) == {"in": 3, "inserted": 2, "updated": 0, "conflicts": 1}
    reserved = cli("reserve", "CAMP", "--type", "tm", "--count", "5")
    got = ok(reserved)
    assert isinstance(got, list) and len(set(got)) == 5
    [reserve_id] = [line.split(": ")[-1] for line in notes(reserved)]
    assert len(reserve_id) == 36 and reserve_id[14] == "4"  # a dashed UUID v4
    assert ok(cli("assign", "CAMP", *got[:2])) == {"count": {"in": 2, "updated": 2}}
    release_file = tmp_path / "release.txt"
    release_file.write_text("\n".join(got) + "\n")
    released = cli("release", "CAMP", "--codes-file", str(release_file))
    assert ok(released) == {"count": {"in": 5, "updated": 3}, "unchanged": {"already_assigned": got[:2]}}
    assert notes(released) == [f"code-console: 2 not changed (already assigned): {got[0]}, {got[1]}"]
    assert ok(cli("count", "CAMP", "--type", "tm")) == {"available": 18, "reserved": 0, "assigned": 2}
    assert ok(cli("count", "CAMP", "--type", "tm", "--status", "assigned")) == {"assigned": 2}
    assert ok(cli("campaigns")) == [
        {"campaignId": "CAMP", "counts": {"tm": {"available": 18, "reserved": 0, "assigned": 2}, "external": {"available": 2, "reserved": 0, "assigned": 0}}}
    ]
    [record] = ok(cli("lookup", got[0]))
    assert record["status"] == "assigned" and record["campaignId"] == "CAMP" and record["type"] == "tm"


def test_upload_from_stdin_and_reserve_key(cli):
    assert ok(cli("upload", "K", "--type", "external", "--file", "-", stdin=b"A\nB\nC\nD\n")) == {"in": 4, "inserted": 4, "updated": 0}
    first = ok(cli("reserve", "K", "--type", "external", "--count", "2", "--key", "order-77"))
    assert ok(cli("reserve", "K", "--type", "external", "--count", "2", "--key", "order-77")) == first
    assert ok(cli("count", "K", "--type", "external")) == {"available": 2, "reserved": 2, "assigned": 0}
    rid_release = ok(cli("release", "K", "--reserve-id", "order-77"))
    assert rid_release == {"count": {"in": 2, "updated": 2}}


def test_upload_column_warnings_and_duplicates_on_stderr(cli, tmp_path):
    partner = tmp_path / "partner.csv"
    partner.write_bytes(b"sep=;\nid;Voucher Code;value\n1;V1;10\n2;1.23457E+11;10\n3;V1;10\n")
    result = cli("upload", "P", "--type", "tm", "--file", str(partner))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {k: out[k] for k in ("in", "inserted", "updated", "duplicates")} == {"in": 3, "inserted": 2, "updated": 0, "duplicates": 1}
    assert [w["kind"] for w in out["warnings"]] == ["scientific_notation"]
    assert notes(result) == [
        "code-console: read: delimiter ';' (sep= line); header on line 2 skipped (id, Voucher Code, value); "
        "codes from column 2 'Voucher Code' (named by the header)",
        "code-console: warning: 1 code looks like a number a spreadsheet wrote in scientific notation (digits are lost): line 4 1.23457E+11",
        "code-console: warning: 1 code repeats a code earlier in the file: stored once, counted under duplicates",
    ]

    row = tmp_path / "row.csv"
    row.write_bytes(b"A1,A2,A3,A4,A5,A6\n")
    line = fails(cli("upload", "R", "--type", "tm", "--file", str(row)), 2, "several_fields")
    assert line.startswith("code-console: several_fields: line 1: holds 6 values separated by commas")
    chosen = cli("upload", "R", "--type", "tm", "--file", str(row), "--column", "2")
    assert json.loads(chosen.stdout) == {"in": 1, "inserted": 1, "updated": 0}
    assert notes(chosen) == ["code-console: read: delimiter ',' (detected); codes from column 2 (chosen)"]
    assert ok(cli("reserve", "R", "--type", "tm", "--count", "5")) == ["A2"]


@pytest.mark.parametrize(
    "args, status, code",
    [
        (("reserve", "C", "--type", "tm", "--count", "0"), 2, "invalid_count"),
        (("reserve", "C", "--type", "tm", "--count", "abc"), 2, "invalid_count"),
        (("reserve", "C", "--type", "gold", "--count", "1"), 2, "invalid_type"),
        (("count", "C", "--type", "vip"), 2, "invalid_type"),
        (("upload", "C", "--file-key", "codes/D/tm/a.csv"), 2, "invalid_key"),
        (("upload", "C", "--file-key", "codes/C/tm/missing.csv"), 4, "object_not_found"),
        (("upload", "C", "--file", "/nonexistent.csv", "--type", "tm"), 4, "file_not_found"),
        (("upload", "C", "--file", "/dev/null"), 2, "invalid_type"),
        (("assign", "C"), 2, "invalid_codes"),
    ],
)
def test_errors_are_one_line_with_status(cli, args, status, code):
    fails(cli(*args), status, code)


def test_bad_file_names_the_line_and_stores_nothing(cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"OK1\nOK2\nBAD\xff\n")
    line = fails(cli("upload", "C", "--type", "tm", "--file", str(bad)), 2, "invalid_utf8")
    assert "line 3" in line
    assert ok(cli("campaigns")) == []


def test_unreachable_mongodb_is_a_clear_error_within_the_timeout(tmp_path):
    from tests.servers import free_port

    env = {**os.environ, "CODE_CONSOLE_MONGO_URI": f"mongodb://127.0.0.1:{free_port()}", "CODE_CONSOLE_MONGO_TIMEOUT_SECONDS": "1"}
    result = subprocess.run([sys.executable, "-m", "code_console", "count", "C", "--type", "tm"], capture_output=True, env=env, timeout=60)
    fails(result, 5, "store_unavailable")


def test_lookup_finds_a_reservation_by_its_reserve_id_given_the_campaign(cli, tmp_path):
    codes = tmp_path / "codes.csv"
    codes.write_text("R1\nR2\nR3\n")
    ok(cli("upload", "RCAMP", "--type", "tm", "--file", str(codes)))
    reserved = cli("reserve", "RCAMP", "--type", "tm", "--count", "2", "--key", "order-9")
    assert len(json.loads(reserved.stdout)) == 2
    found = cli("lookup", "order-9", "--campaign", "RCAMP")
    assert sorted(r["code"] for r in ok(found)) == sorted(json.loads(reserved.stdout))
    assert notes(found) == ["code-console: reservation order-9: 2 codes"]
    nothing = cli("lookup", "order-9")
    assert ok(nothing) == []
    assert notes(nothing) == ["code-console: no such code (to find a reservation by its reserveId, give --campaign)"]
