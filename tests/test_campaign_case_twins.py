"""Issue 10 item 5: codes that differ only by letter case from codes ALREADY IN THE CAMPAIGN
are warned about (they never block), in the upload's result, the preview (the wizard's check),
the command line's stderr and the API's `warnings`; on the embedded store and on SecantusDB.

The check is bounded: the first upload.CAMPAIGN_TWIN_WINDOW codes of a file are compared,
through an index (a NOCASE index on SQLite, a case-insensitive collated index on MongoDB).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import types

import pytest

from code_console.core import upload as upload_module
from code_console.core.models import CodeType, CodeWarning, WarningExample, WarningKind
from code_console.core.mongo import MongoStore
from code_console.core.service import CodeService

from tests.conftest import ME, secantus_store

CAFE_UPPER = "CAF\u00c910"  # CAFÉ10
CAFE_LOWER = "caf\u00e910"  # café10


# `store`: every store (tests/conftest.py; mongomock through tests/mongomock_compat.py's stand-in for collations).


@pytest.fixture
def twin_service(store, clock) -> CodeService:
    service = CodeService(store, clock=clock)
    service.upload_from_file(ME, "C1", "tm", io.BytesIO(f"SUMMER01\nWinter02\n{CAFE_LOWER}\nSAME1\n".encode()))
    service.upload_from_file(ME, "OTHER", "tm", io.BytesIO(b"autumn03\n"))
    return service


def test_store_finds_the_codes_that_differ_only_by_case(twin_service):
    store = twin_service.store
    asked = ["summer01", "SUMMER01", "WINTER02", "winter02", CAFE_UPPER, "SAME1", "AUTUMN03", "new9"]
    assert store.case_twins("C1", asked) == {
        "summer01": "SUMMER01",
        "WINTER02": "Winter02",
        "winter02": "Winter02",
        CAFE_UPPER: CAFE_LOWER,
    }  # SUMMER01 and SAME1 are stored as they are; AUTUMN03's twin is in another campaign
    assert store.case_twins("OTHER", asked) == {"AUTUMN03": "autumn03"}
    assert store.case_twins("EMPTY", asked) == {}
    assert store.case_twins("C1", []) == {}


def test_upload_warns_about_twins_already_in_the_campaign_and_uploads_all(twin_service):
    data = f"code\nsummer01\nWINTER02\nnew9\nSUMMER01\n{CAFE_UPPER}\nsummer01\n".encode()
    result = twin_service.upload_from_file(ME, "C1", "tm", io.BytesIO(data))
    assert result.counts() == {"in": 6, "inserted": 4, "updated": 1, "duplicates": 1}
    twins = [w for w in result.warnings if w.kind is WarningKind.CASE_TWIN_STORED]
    assert twins == [
        CodeWarning(
            WarningKind.CASE_TWIN_STORED,
            4,
            (
                WarningExample(2, "summer01", "SUMMER01"),
                WarningExample(3, "WINTER02", "Winter02"),
                WarningExample(6, CAFE_UPPER, CAFE_LOWER),
                WarningExample(7, "summer01", "SUMMER01"),
            ),
        )
    ]
    assert twins[0].to_dict() == {
        "kind": "case_twin_stored",
        "count": 4,
        "examples": [
            {"line": 2, "code": "summer01", "other": "SUMMER01"},
            {"line": 3, "code": "WINTER02", "other": "Winter02"},
            {"line": 6, "code": CAFE_UPPER, "other": CAFE_LOWER},
            {"line": 7, "code": "summer01", "other": "SUMMER01"},
        ],
        "message": "4 codes differ only by letter case from codes already in the campaign: line 2 summer01 (like SUMMER01), "
        f"line 3 WINTER02 (like Winter02), line 6 {CAFE_UPPER} (like {CAFE_LOWER}), line 7 summer01 (like SUMMER01)",
    }
    # Within the file, summer01 / SUMMER01 are twins too: that is the file's own warning.
    assert [(w.kind, w.count) for w in result.warnings] == [(WarningKind.CASE_TWIN, 1), (WarningKind.CASE_TWIN_STORED, 4)]
    # The warning blocks nothing: every code is stored as written.
    assert sorted(c.code for c in twin_service.store.scan("C1", 100)) == sorted(
        ["SUMMER01", "Winter02", CAFE_LOWER, "SAME1", "summer01", "WINTER02", "new9", CAFE_UPPER]
    )


def test_a_re_upload_of_the_same_codes_has_no_twin_warning(twin_service):
    result = twin_service.upload_from_file(ME, "C1", "tm", io.BytesIO(f"SUMMER01\nWinter02\n{CAFE_LOWER}\n".encode()))
    assert (result.counts(), result.warnings) == ({"in": 3, "inserted": 0, "updated": 3}, ())


def test_the_check_is_bounded_and_says_so(twin_service, monkeypatch):
    monkeypatch.setattr(upload_module, "CAMPAIGN_TWIN_WINDOW", 2)
    result = twin_service.upload_from_file(ME, "C1", "tm", io.BytesIO(b"summer01\nok1\nwinter02\n"))
    assert [w.to_dict() for w in result.warnings] == [
        {
            "kind": "case_twin_stored",
            "count": 1,
            "examples": [{"line": 1, "code": "summer01", "other": "SUMMER01"}],
            "message": "1 code differs only by letter case from a code already in the campaign "
            "(among the first 2 codes of the file; the rest were not compared): line 1 summer01 (like SUMMER01)",
            "checked": 2,
        }
    ]


def test_preview_of_a_file_and_of_a_key_compares_with_the_campaign(twin_service, tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"summer01\nfresh1\n")
    expected = [CodeWarning(WarningKind.CASE_TWIN_STORED, 1, (WarningExample(1, "summer01", "SUMMER01"),))]
    assert twin_service.preview_file(ME, path, campaign_id="C1").warnings == expected
    assert twin_service.preview_file(ME, path).warnings == []  # no campaign: nothing to compare with
    assert twin_service.preview_file(ME, path, campaign_id="OTHER").warnings == []
    assert twin_service.counts(ME, "C1", "tm").total == 4  # nothing written


def test_secantus_serves_the_twin_lookup_from_the_collated_index(secantus):
    store: MongoStore = secantus_store(secantus)
    try:
        store.write_batch("C1", CodeType.TM, ["ABC1", "x"], store.server_time())
        plan = (
            store.collection.find({"_id.campaign_id": "C1", "_id.code": {"$in": ["abc1"]}}, {"_id.code": 1})
            .collation({"locale": "en", "strength": 2})
            .explain()
        )
        stage = plan["queryPlanner"]["winningPlan"]
        while "inputStage" in stage:
            stage = stage["inputStage"]
        assert (stage["stage"], stage["indexName"]) == ("IXSCAN", "case_folded_code")
        assert plan["executionStats"]["totalKeysExamined"] == 1
    finally:
        store.collection.drop()
        store.close()


test_secantus_serves_the_twin_lookup_from_the_collated_index = pytest.mark.realserver(
    test_secantus_serves_the_twin_lookup_from_the_collated_index
)


def test_command_line_prints_the_warning_on_stderr(tmp_path):
    env = {**os.environ, "CODE_CONSOLE_SQLITE_PATH": str(tmp_path / "codes.sqlite3")}
    for key in ("CODE_CONSOLE_MONGO_URI", "CODE_CONSOLE_S3_BUCKET"):
        env.pop(key, None)
    (tmp_path / "a.csv").write_bytes(b"SUMMER01\n")
    (tmp_path / "b.csv").write_bytes(b"code\nsummer01\nnew1\n")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "code_console", *args], capture_output=True, env=env, timeout=120, cwd=tmp_path)

    first = run("upload", "C1", "--type", "tm", "--file", "a.csv")
    assert first.returncode == 0, first.stderr.decode()
    second = run("upload", "C1", "--type", "tm", "--file", "b.csv")
    assert second.returncode == 0, second.stderr.decode()
    assert json.loads(second.stdout)["warnings"][0]["kind"] == "case_twin_stored"
    assert second.stderr.decode().splitlines()[1:] == [
        "code-console: read: delimiter ',' (default); header on line 1 skipped (code); codes from column 1 'code' (named by the header)",
        "code-console: warning: 1 code differs only by letter case from a code already in the campaign: line 2 summer01 (like SUMMER01)",
    ]


def test_the_time_budget_ends_the_check_and_a_failing_store_never_fails_the_upload(twin_service, monkeypatch):
    ticks = iter(range(1_000))  # a clock that moves one second each time it is read
    monkeypatch.setattr(upload_module, "time", types.SimpleNamespace(monotonic=lambda: float(next(ticks))))
    monkeypatch.setattr(upload_module, "TWIN_SLICE", 1)
    monkeypatch.setattr(upload_module, "CAMPAIGN_TWIN_SECONDS", 1.5)
    result = twin_service.upload_from_file(ME, "C1", "tm", io.BytesIO(b"summer01\nwinter02\n"))
    # t=0 the budget starts; t=1 summer01 is compared; t=2 the budget is spent: winter02 is not.
    assert [w.message for w in result.warnings] == [
        "1 code differs only by letter case from a code already in the campaign "
        "(among the first 1 code of the file; the rest were not compared): line 1 summer01 (like SUMMER01)"
    ]
    monkeypatch.setattr(upload_module, "CAMPAIGN_TWIN_SECONDS", 10_000.0)

    from code_console.core.errors import StoreUnavailable

    def down(*args):
        raise StoreUnavailable(None, "MongoDB did not answer in time (test)", slow=True)

    monkeypatch.setattr(twin_service.store, "case_twins", down)
    result = twin_service.upload_from_file(ME, "C1", "tm", io.BytesIO(b"summer01\nfresh7\n"))
    assert (result.counts(), result.warnings) == ({"in": 2, "inserted": 1, "updated": 1}, ())
