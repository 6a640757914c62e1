"""Export: rows, formula cells neutralised, on every store; 200,000 codes with flat memory; the CLI."""

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import time
import tracemalloc

import pytest

from code_console.core.errors import Cancelled, Forbidden, InvalidInput
from code_console.core.export import neutralise, render
from code_console.core.models import CodeRecord, CodeType, Principal, Status
from code_console.core.service import CodeService
from code_console.core.sqlite import SqliteStore

from tests.conftest import ME, T0
from tests.stores import embedded_path


def upload(service, campaign, code_type, codes):
    service.upload_from_file(ME, campaign, code_type, io.BytesIO(("\n".join(codes) + "\n").encode()))


def read_csv(chunks) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8"), newline="")))


def test_export_rows_statuses_and_formula_cells(service, clock):
    upload(service, "C1", "tm", ["B2", "=1+2", "+SUM(A1)", "-5", "@cmd", "A1", "\"plain,comma\""])
    upload(service, "C1", "external", ["X1"])
    upload(service, "C2", "tm", ["ZZ"])
    clock.advance(minutes=1)
    reservation = service.reserve(ME, "C1", "tm", 7)
    service.release(ME, "C1", ["A1", "B2", "plain,comma", "-5", "@cmd"])
    clock.advance(minutes=1)
    service.assign(ME, "C1", ["=1+2"])
    clock.advance(minutes=1)
    export = service.export(ME, "C1", "tm")
    assert export.total == 7 and export.file_name(__import__("code_console.core.export", fromlist=["x"]).ExportFormat.CSV) == "C1-tm.csv"
    rows = read_csv(render(export.records, "csv"))
    saved, reserved, assigned = "2026-03-01T08:00:00.000Z", "2026-03-01T08:01:00.000Z", "2026-03-01T08:02:00.000Z"
    rid = reservation.reserve_id
    assert rows == [
        ["code", "type", "status", "saved", "reserved", "assigned", "reserveId"],
        ["'+SUM(A1)", "tm", "reserved", saved, reserved, "", rid],
        ["'-5", "tm", "available", saved, "", "", ""],
        ["'=1+2", "tm", "assigned", saved, reserved, assigned, rid],
        ["'@cmd", "tm", "available", saved, "", "", ""],
        ["A1", "tm", "available", saved, "", "", ""],
        ["B2", "tm", "available", saved, "", "", ""],
        ["plain,comma", "tm", "available", saved, "", "", ""],
    ]
    reserved_only = service.export(ME, "C1", "tm", "reserved")
    lines = b"".join(render(reserved_only.records, "jsonl")).decode().splitlines()
    assert reserved_only.total == 1
    assert [json.loads(line) for line in lines] == [
        {"code": "+SUM(A1)", "type": "tm", "status": "reserved", "saved": saved, "reserved": reserved, "assigned": None, "reserveId": rid}
    ]


def test_export_checks_before_reading(service):
    with pytest.raises(Forbidden):
        service.export(Principal("someone"), "C1", "tm")
    with pytest.raises(InvalidInput) as err:
        service.export(ME, "C1", "")
    assert err.value.code == "invalid_type"
    with pytest.raises(InvalidInput) as err:
        service.export(ME, "C1", "tm", "lost")
    assert err.value.code == "invalid_status"


@pytest.mark.parametrize("cell", ["=HYPERLINK(x)", "+1", "-1", "@SUM(1)", "\tX", "\rX"])
def test_formula_cells_get_a_quote(cell):
    assert neutralise(cell) == "'" + cell
    record = CodeRecord("C", CodeType.TM, cell, Status.AVAILABLE, T0, None, None, None)
    assert read_csv(render([record], "csv"))[1][0] == "'" + cell


def test_plain_cells_stay_and_render_is_cancellable():
    assert [neutralise(c) for c in ("A=1", "1-2", "'x", "")] == ["A=1", "1-2", "'x", ""]

    class Now:
        def is_set(self):
            return True

    record = CodeRecord("C", CodeType.TM, "A", Status.AVAILABLE, T0, None, None, None)
    with pytest.raises(Cancelled):
        list(render([record], "csv", cancel=Now()))


EXPORT_CODES = 200_000
PEAK_BOUND_BYTES = 8 * 1024 * 1024  # measured: 1.1 MB


def big_service() -> CodeService:
    service = CodeService(SqliteStore(embedded_path()), clock=lambda: T0)
    data = "".join(f"BIG{i:07d}\n" for i in range(EXPORT_CODES)).encode()
    service.upload_from_file(ME, "BIG", "tm", io.BytesIO(data))
    return service


def test_export_of_200000_codes_keeps_memory_flat():
    service = big_service()
    digest, size, rows = hashlib.sha256(), 0, 0
    tracemalloc.start()
    began = time.perf_counter()
    try:
        export = service.export(ME, "BIG", "tm")
        for chunk in render(export.records, "csv"):
            digest.update(chunk)
            size += len(chunk)
            rows += chunk.count(b"\r\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    seconds = time.perf_counter() - began
    print(f"export of {EXPORT_CODES:,} codes: {size:,} bytes in {seconds:.1f} s, peak traced memory {peak / 1e6:.2f} MB")
    assert export.total == EXPORT_CODES
    assert rows == EXPORT_CODES + 1  # the header
    # Records held all at once would take hundreds of MB; a page of 1,000 takes about one.
    assert peak < PEAK_BOUND_BYTES, f"peak {peak:,} bytes"
    assert size > PEAK_BOUND_BYTES  # the output itself would not fit under the bound


def test_cli_export_to_a_file_and_to_stdout(tmp_path):
    path = embedded_path()
    service = CodeService(SqliteStore(path))
    upload(service, "CLI", "tm", [f"K{i:04d}" for i in range(2500)] + ["=cmd"])
    service.reserve(ME, "CLI", "tm", 10)
    service.close()
    env = {**os.environ, "CODE_CONSOLE_SQLITE_PATH": str(path)}
    env.pop("CODE_CONSOLE_MONGO_URI", None)
    out = tmp_path / "codes.csv"
    run = subprocess.run([sys.executable, "-m", "code_console", "export", "CLI", "--type", "tm", "--output", str(out)],
                         capture_output=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    assert run.stderr.decode().splitlines()[1:] == [f"code-console: exported 2,501 codes to {out}"]
    rows = read_csv([out.read_bytes()])
    assert len(rows) == 2502 and rows[1][0] == "'=cmd" and rows[2][:3] == ["K0000", "tm", rows[2][2]]
    assert sorted(os.listdir(tmp_path)) == ["codes.csv"]  # no temporary file left
    run = subprocess.run([sys.executable, "-m", "code_console", "export", "CLI", "--type", "tm", "--status", "reserved", "--format", "jsonl"],
                         capture_output=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    lines = [json.loads(line) for line in run.stdout.decode().splitlines()]
    assert len(lines) == 10 and {line["status"] for line in lines} == {"reserved"}
    bad = subprocess.run([sys.executable, "-m", "code_console", "export", "CLI", "--type", "vip"], capture_output=True, env=env, timeout=120)
    assert bad.returncode == 2 and bad.stdout == b""
    assert bad.stderr.decode().splitlines()[1].startswith("code-console: invalid_type: ")


def test_cli_usage(tmp_path):
    path = embedded_path()
    service = CodeService(SqliteStore(path))
    upload(service, "USE", "tm", [f"K{i:04d}" for i in range(100)])
    service.assign(ME, "USE", service.reserve(ME, "USE", "tm", 24).codes)
    service.close()
    env = {**os.environ, "CODE_CONSOLE_SQLITE_PATH": str(path)}
    env.pop("CODE_CONSOLE_MONGO_URI", None)
    run = subprocess.run([sys.executable, "-m", "code_console", "usage", "USE"], capture_output=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    tm = json.loads(run.stdout)["types"]["tm"]
    assert (tm["available"], tm["assigned"], tm["assignedPerHour"], tm["timeToEmpty"]) == (76, 24, 1.0, "3 d 4 h")
    assert run.stderr.decode().splitlines()[1:] == [
        "code-console: tm: 3 d 4 h at 1 assigned/h over 24h",
        "code-console: external: empty at 0 assigned/h over 24h",
    ]
