"""Issue 10: code files as spreadsheets and partners export them, uploaded into every store.

Each case checks the exact codes in the store (read back through reserve, which must be able to
hand out every stored code) or the exact error and line, with nothing written. The `service`
fixture runs each test on the embedded store, mongomock and SecantusDB.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap

import pytest

from code_console.core.code_rule import normalize_code
from code_console.core.errors import BadFile, InvalidInput
from code_console.core.models import ColumnSource, DelimiterSource, FileLayout, WarningKind
from code_console.core.service import CodeService

from tests.conftest import ME

CAFE_NFC = "CAF\u00c910"
CAFE_NFD = "CAFE\u0301" + "10"


def upload(service: CodeService, data: bytes, campaign: str = "C1", **kw):
    return service.upload_from_file(ME, campaign, "tm", io.BytesIO(data), **kw)


def stored(service: CodeService, campaign: str = "C1") -> list[str]:
    """Every code of the campaign, sorted: reserved all at once (so each one can be handed out)."""
    total = service.counts(ME, campaign, "tm").total
    if total == 0:
        return []
    codes = service.reserve(ME, campaign, "tm", total).codes
    assert len(codes) == total
    return codes


def refused(service: CodeService, data: bytes, **kw) -> BadFile:
    with pytest.raises(BadFile) as info:
        upload(service, data, **kw)
    assert service.campaigns(ME) == []  # nothing written
    return info.value


def test_excel_sep_line_and_header(service):
    result = upload(service, b"sep=;\ncode;value\nSUMMER01;10\n")
    assert result.to_dict() == {"in": 1, "inserted": 1, "updated": 0}
    assert result.layout == FileLayout(";", DelimiterSource.SEP_LINE, ("code", "value"), 2, 1, "code", ColumnSource.HEADER)
    assert stored(service) == ["SUMMER01"]


def test_code_header_is_not_a_code(service):
    assert upload(service, b"code\nA1\nA2\n").to_dict() == {"in": 2, "inserted": 2, "updated": 0}
    assert stored(service) == ["A1", "A2"]
    assert service.lookup(ME, "code", "C1") == []


def test_six_codes_on_one_line_are_refused_then_taken_from_a_chosen_column(service):
    err = refused(service, b"A1,A2,A3,A4,A5,A6\n")
    assert (err.code, err.line) == ("several_fields", 1)
    assert str(err) == (
        "line 1: holds 6 values separated by commas (A1, A2, A3, …): put one code per line, "
        "or choose the column that holds the codes (by its header name or number)"
    )
    assert upload(service, b"A1,A2,A3,A4,A5,A6\n", column=3).to_dict() == {"in": 1, "inserted": 1, "updated": 0}
    assert stored(service) == ["A3"]


def test_thirty_thousand_codes_on_one_line_are_refused(service):
    line = ",".join(f"C{i:05d}" for i in range(30_000)).encode() + b"\n"
    err = refused(service, line)
    assert (err.code, err.line, err.details["fields"]) == ("several_fields", 1, 30_000)
    assert upload(service, line, column="30000").to_dict() == {"in": 1, "inserted": 1, "updated": 0}
    assert stored(service) == ["C29999"]


def test_zero_width_space_inside_is_refused_naming_the_line(service):
    err = refused(service, "OK1\nZW\u200b1\n".encode())
    assert (err.code, err.line) == ("invisible_character", 2)
    assert str(err) == "line 2: contains the invisible character U+200B ZERO WIDTH SPACE at position 3"


def test_zero_width_space_around_is_trimmed_and_the_code_completes_its_life(service):
    assert upload(service, "\u200bZW2\u200b\n\ufeffZW3\u00a0\n".encode()).to_dict() == {"in": 2, "inserted": 2, "updated": 0}
    assert stored(service) == ["ZW2", "ZW3"]  # reserved, then:
    assert service.assign(ME, "C1", ["ZW2"]).to_dict() == {"in": 1, "updated": 1}
    assert service.release(ME, "C1", ["\u200bZW3"]).to_dict() == {"in": 1, "updated": 1}
    assert service.count(ME, "C1", "tm") == {"available": 1, "reserved": 0, "assigned": 1}


def test_tab_inside_a_code_is_refused_naming_the_line(service):
    err = refused(service, b"sep=,\nOK1\nTA\tB1\n")
    assert (err.code, err.line) == ("control_character", 3)
    assert str(err) == "line 3: contains the control character U+0009 (tab) at position 3"


def test_whitespace_around_quoted_codes_is_treated_alike(service):
    assert upload(service, b'  "QUOTED1"\n"QUOTED2" \n').to_dict() == {"in": 2, "inserted": 2, "updated": 0}
    assert stored(service) == ["QUOTED1", "QUOTED2"]


def test_composed_and_decomposed_forms_are_one_code(service):
    result = upload(service, f"{CAFE_NFC}\n{CAFE_NFD}\n".encode())
    assert result.to_dict() == {"in": 2, "inserted": 1, "updated": 0, "duplicates": 1}
    assert stored(service) == [CAFE_NFC]
    assert [r.code for r in service.lookup(ME, CAFE_NFD, "C1")] == [CAFE_NFC]
    assert [r.code for r in service.lookup(ME, CAFE_NFC, "C1")] == [CAFE_NFC]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "no codes to upload: the file is empty"),
        (b"code\n", "no codes to upload: the file has a header (line 1: code) and no codes under it"),
        (b"Coupon Code;Value\r\n", "no codes to upload: the file has a header (line 1: Coupon Code, Value) and no codes under it"),
        (b"\n\n   \n\r\n", "no codes to upload: the file has only blank lines"),
    ],
    ids=["empty", "header-only", "header-only-2", "blank-lines"],
)
def test_a_file_with_no_codes_is_refused(service, data, message):
    err = refused(service, data)
    assert (err.code, err.line, str(err)) == ("no_codes", None, message)


def test_duplicates_have_their_own_count_within_and_across_batches(store, clock):
    service = CodeService(store, clock=clock, batch_size=2)
    result = upload(service, b"A1\nA2\nA1\nA3\nA3\nA1\n")  # batches: [A1 A2] [A1 A3] [A3 A1]
    assert result.to_dict() == {"in": 6, "inserted": 3, "updated": 0, "duplicates": 3}
    clock.advance(seconds=1)
    assert upload(service, b"A1\nA2\nA1\n").to_dict() == {"in": 3, "inserted": 0, "updated": 2, "duplicates": 1}
    assert stored(service) == ["A1", "A2", "A3"]


def test_warnings_do_not_block_and_reach_the_result(service):
    result = upload(service, b'sep=;\ncode\n1.23457E+11\n="00123"\nabc9\nABC9\n')
    assert stored(service) == ["1.23457E+11", "="
                               '"00123"', "ABC9", "abc9"]
    assert result.to_dict()["warnings"] == [
        {
            "kind": "scientific_notation",
            "count": 1,
            "examples": [{"line": 3, "code": "1.23457E+11"}],
            "message": "1 code looks like a number a spreadsheet wrote in scientific notation (digits are lost): line 3 1.23457E+11",
        },
        {
            "kind": "formula",
            "count": 1,
            "examples": [{"line": 4, "code": '="00123"'}],
            "message": '1 code is wrapped in a spreadsheet formula such as ="00123": line 4 ="00123"',
        },
        {
            "kind": "case_twin",
            "count": 1,
            "examples": [{"line": 6, "code": "ABC9", "other": "abc9"}],
            "message": "1 code differs only by letter case from another code of the file: line 6 ABC9 (like abc9)",
        },
    ]
    assert [w.kind for w in result.warnings] == [WarningKind.SCIENTIFIC_NOTATION, WarningKind.FORMULA, WarningKind.CASE_TWIN]


def test_preview_reports_the_layout_warnings_and_repeats(service, tmp_path):
    path = tmp_path / "partner.csv"
    path.write_bytes("\ufeffid;Voucher_Code;value\r\n1;V1;10\r\n2;v1;10\r\n3;V2;10\r\n4;V2;10\r\n".encode())
    report = service.preview_file(ME, path)
    assert (report.codes, report.lines, report.first_codes, report.ok) == (4, 5, ["V1", "v1", "V2", "V2"], True)
    assert report.layout == FileLayout(";", DelimiterSource.DETECTED, ("id", "Voucher_Code", "value"), 1, 2, "Voucher_Code", ColumnSource.HEADER)
    assert [(w.kind, w.count) for w in report.warnings] == [(WarningKind.CASE_TWIN, 1)]
    assert (report.duplicates, report.duplicates_exact) == (1, True)
    assert service.preview_file(ME, path, column=1).first_codes == ["1", "2", "3", "4"]
    assert service.campaigns(ME) == []


# -- one rule at every entry point ---------------------------------------------------------

AWKWARD = [
    # (code as a caller sends it, stored form or None when every entry point must refuse it)
    (CAFE_NFC, CAFE_NFC),
    (CAFE_NFD, CAFE_NFC),
    ("\u200bZW1\u200b", "ZW1"),
    ("\u00a0NB1\u00a0", "NB1"),
    ("\ufeffBOM1", "BOM1"),
    ("TA\tB1", None),
    ("ZW\u200bIN", None),
    ("NB\u00a0IN", None),
    ("X" * 129, None),
    ("\u200b", None),
]


@pytest.mark.parametrize("code, expected", AWKWARD, ids=[repr(c)[:16] for c, _ in AWKWARD])
def test_upload_assign_release_and_lookup_accept_or_refuse_alike(service, code, expected):
    outcomes = {}

    def attempt(name, call):
        try:
            call()
            outcomes[name] = True
        except InvalidInput:  # BadFile for the file, InvalidCode for the lists and the lookup
            outcomes[name] = False

    # sep=, so that a tab stays inside the code rather than becoming the detected delimiter.
    attempt("upload", lambda: upload(service, b"sep=,\n" + code.encode() + b"\n"))
    attempt("lookup", lambda: service.lookup(ME, code, "C1"))
    if expected is not None:
        assert stored(service) == [expected]
        assert [r.code for r in service.lookup(ME, code, "C1")] == [expected]
    attempt("release", lambda: service.release(ME, "C1", [code]))
    attempt("assign", lambda: service.assign(ME, "C1", [code]))
    assert outcomes == dict.fromkeys(["upload", "lookup", "release", "assign"], expected is not None)
    if expected is not None:
        assert service.count(ME, "C1", "tm") == {"available": 0, "reserved": 0, "assigned": 1}
        assert normalize_code(code, max_length=128) == expected


# -- memory: a 50 MB row of commas ----------------------------------------------------------

RSS_PROBE = textwrap.dedent(
    """
    import json, resource, sys
    from code_console.core.errors import BadFile
    from tests.stores import embedded_store
    from code_console.core.models import LOCAL_OPERATOR
    from code_console.core.service import CodeService

    def status_kib(key):
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith(key + ":"))

    service = CodeService(embedded_store())
    base = status_kib("VmRSS")
    try:
        # Start the high-water mark afresh (Linux clear_refs "5"): imports may have peaked higher.
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        peak = lambda: status_kib("VmHWM")
    except OSError:
        peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB; an upper bound
    try:
        service.upload_from_file(LOCAL_OPERATOR, "C1", "tm", sys.argv[1])
        error = None
    except BadFile as exc:
        error = [exc.code, exc.line, str(exc)]
    print(json.dumps({"error": error, "growth_mib": (peak() - base) / 1024, "campaigns": len(service.campaigns(LOCAL_OPERATOR))}))
    """
)


def test_a_50_mb_row_of_commas_is_refused_with_bounded_memory(tmp_path):
    path = tmp_path / "commas.csv"
    with open(path, "wb") as fh:
        fh.write(b"CODE1")
        for _ in range(50):
            fh.write(b"," * 1_000_000)
        fh.write(b"\nCODE2\n")
    out = subprocess.run([sys.executable, "-c", RSS_PROBE, str(path)], capture_output=True, text=True, timeout=120, check=True)
    figures = json.loads(out.stdout)
    assert figures["error"] == ["line_too_long", 1, "line 1: is longer than 1,048,576 bytes; nothing after it was read"]
    assert figures["campaigns"] == 0
    # Before the bound the csv module held the row as 50 million fields: +441 MiB.
    assert figures["growth_mib"] < 150, figures
    print(f"peak RSS growth for a 50 MB row: {figures['growth_mib']:.1f} MiB")
