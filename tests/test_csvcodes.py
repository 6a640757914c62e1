"""The CSV rules of DESIGN.md, on the streaming parser alone."""

import io

import pytest

from code_console.core import csvcodes
from code_console.core.csvcodes import MAX_LINE_BYTES, WARNING_EXAMPLES, iter_codes, scan
from code_console.core.errors import BadFile, InvalidInput
from code_console.core.models import ColumnSource, DelimiterSource, FileLayout, WarningKind


def codes(data: bytes, max_length: int = 32, column=None) -> list[str]:
    return [c for _, c in iter_codes(io.BytesIO(data), max_length=max_length, column=column)]


def error(data: bytes, max_length: int = 32, column=None) -> BadFile:
    with pytest.raises(BadFile) as info:
        codes(data, max_length, column)
    return info.value


def test_plain_lines():
    assert codes(b"A1\nA2\nA3\n") == ["A1", "A2", "A3"]


def test_no_trailing_newline():
    assert codes(b"A1\nA2") == ["A1", "A2"]


def test_bom_is_stripped():
    assert codes("\ufeffA1\nA2\n".encode()) == ["A1", "A2"]


def test_crlf():
    assert codes(b"A1\r\nA2\r\n") == ["A1", "A2"]


def test_several_fields_without_a_header_are_refused_naming_the_line():
    # It used to store A1 and drop "extra" without a word.
    err = error(b'"A1",extra\n"A,2"\n"A""3"\nA4,x,y\n')
    assert (err.code, err.line) == ("several_fields", 1)


def test_quotes_with_a_chosen_column():
    data = b'"A1",extra\n"A,2"\n"A""3"\nA4,x,y\n'
    assert [c for _, c in iter_codes(io.BytesIO(data), max_length=32, column=1)] == ["A1", "A,2", 'A"3', "A4"]


def test_blank_and_whitespace_lines_skipped_and_trimmed():
    assert codes(b"\n  \n  A1  \n\t A2\t\n\n\n") == ["A1", "A2"]


def test_utf8_codes_kept():
    assert codes("CAF\u00c9-1\n\u00fcber\n".encode()) == ["CAF\u00c9-1", "\u00fcber"]


def test_empty_file():
    assert codes(b"") == []


def test_line_numbers_count_physical_lines():
    got = list(iter_codes(io.BytesIO(b"A1\n\n\nA2\r\n"), max_length=8))
    assert got == [(1, "A1"), (4, "A2")]


def test_invalid_utf8_names_the_line():
    err = error(b"A1\nA2\nbad\xff\xfe\n")
    assert err.code == "invalid_utf8"
    assert err.line == 3
    assert "line 3" in str(err)


def test_nul_byte_names_the_line():
    err = error(b"A1\nA\x002\n")
    assert err.code == "not_text"
    assert err.line == 2
    assert "NUL" in str(err)


def test_overlong_code_names_the_line_and_the_limit():
    err = error(b"A1\n" + b"X" * 33 + b"\n", max_length=32)
    assert err.code == "code_too_long"
    assert err.line == 2
    assert "33" in str(err) and "32" in str(err)


def test_binary_file_is_refused():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"
    err = error(png)
    assert err.code in ("invalid_utf8", "not_text")
    assert err.line == 1


def test_control_character_is_refused():
    err = error(b"A1\nA\x072\n")
    assert err.code == "control_character"
    assert err.line == 2
    assert str(err) == "line 2: contains the control character U+0007 at position 2"


def test_unterminated_quote_is_malformed_csv():
    err = error(b'A1\n"A2\n')
    assert err.code == "bad_csv"


def test_scan_collects_preview_and_problems_without_raising():
    report = scan(io.BytesIO(b"A1\nA2\nbad\xff\nA3\n" + b"Y" * 40 + b"\n"), max_length=32, preview=2)
    assert report.codes == 3
    assert report.first_codes == ["A1", "A2"]
    assert [(p.code, p.line) for p in report.problems] == [("invalid_utf8", 3), ("code_too_long", 5)]
    assert not report.ok


def test_stream_read_in_chunks_has_flat_memory():
    # A reader that only ever hands out small chunks: the parser must not need the whole file.
    class Trickle:
        def __init__(self, data):
            self.buf = io.BytesIO(data)
            self.largest = 0

        def read(self, n=-1):
            self.largest = max(self.largest, n)
            return self.buf.read(min(n, 4096) if n > 0 else 4096)

    data = b"".join(b"CODE%07d\n" % i for i in range(200_000))
    source = Trickle(data)
    n = sum(1 for _ in iter_codes(source, max_length=32))
    assert n == 200_000
    assert source.largest <= 256 * 1024


# -- files as spreadsheets and partners export them (issue 10) ---------------------------


def report(data: bytes, max_length: int = 32, **kw):
    return scan(io.BytesIO(data), max_length=max_length, **kw)


def test_excel_sep_line_names_the_delimiter_and_is_not_data():
    r = report(b"sep=;\ncode;value\nSUMMER01;10\n")
    assert r.first_codes == ["SUMMER01"] and r.codes == 1 and r.lines == 3 and r.ok
    assert r.layout == FileLayout(";", DelimiterSource.SEP_LINE, ("code", "value"), 2, 1, "code", ColumnSource.HEADER)


def test_report_lines_are_the_last_code_and_the_lines_read():
    r = report(b"A1\nA2\n\n\nA\x073\n")
    assert (r.codes, r.lines, r.lines_read, r.problems_total) == (2, 2, 5, 1)


@pytest.mark.parametrize(
    "data, delimiter",
    [
        (b"SEP=|\ncode|Two\nA1|2\n", "|"),  # vscode_rainbow_csv #108
        (b'"sep=\t"\ncode\tvalue\nA1\t2\n', "\t"),  # a tab must be quoted to survive some editors
        (b"sep=~\r\ncode~x\r\nA1~2\r\n", "~"),  # export-to-csv #43 writes any delimiter
        ("\ufeffsep=,\ncode,x\nA1,2\n".encode(), ","),
    ],
)
def test_sep_line_variants(data, delimiter):
    r = report(data)
    assert (r.layout.delimiter, r.layout.delimiter_source, r.first_codes) == (delimiter, DelimiterSource.SEP_LINE, ["A1"])


def test_a_sep_line_without_one_delimiter_is_refused():
    err = error(b"sep=ab\nA1\n")
    assert (err.code, err.line) == ("bad_sep_line", 1)


@pytest.mark.parametrize(
    "data, delimiter",
    [
        (b"code;value\nA1;1,5\nA2;2,5\nA3;3,5\n", ";"),  # decimal commas in a semicolon file
        (b"code\tvalue\nA1\t10\nA2\t20\n", "\t"),
        (b"code|value\nA1|10\nA2|20\n", "|"),
        (b'code,desc\nA1,"x, y"\nA2,"z, w"\n', ","),
    ],
)
def test_delimiter_is_detected(data, delimiter):
    r = report(data)
    assert (r.layout.delimiter, r.layout.delimiter_source, r.first_codes) == (delimiter, DelimiterSource.DETECTED, ["A1", "A2", "A3"][: r.codes])


def test_blank_crlf_lines_do_not_hide_the_delimiter():
    # Found by test_csv_dialects: csv.Sniffer took the blank "\r" line for a row without ';'.
    r = report(b"code;value\r\n\r\nA1;0\r\n")
    assert (r.layout.delimiter, r.layout.delimiter_source, r.first_codes) == (";", DelimiterSource.DETECTED, ["A1"])
    assert report(b"\r\nA1;0\r\n", column=1).first_codes == ["A1"]


def test_one_column_file_uses_the_default_comma():
    r = report(b"A1\nA2\n")
    assert (r.layout.delimiter, r.layout.delimiter_source, r.layout.header) == (",", DelimiterSource.DEFAULT, None)


@pytest.mark.parametrize(
    "header",
    ["code", "Codes", "COUPON", "coupon code", "Coupon_Code", "voucher-code", "Voucher Code", "PROMO", "promo_code", "Promo Codes", "\ufeffcode", " code "],
)
def test_header_names_are_recognised_and_skipped(header):
    r = report(f"{header}\nA1\nA2\n".encode())
    assert r.first_codes == ["A1", "A2"]
    assert r.layout.header == (header.strip("\ufeff "),) and r.layout.header_line == 1


def test_header_names_the_code_column():
    r = report(b"id,Voucher Code,value\n1,A1,10\n2,A2,20\n")
    assert r.first_codes == ["A1", "A2"]
    assert (r.layout.column, r.layout.column_name, r.layout.column_source) == (2, "Voucher Code", ColumnSource.HEADER)


def test_a_header_naming_two_code_columns_is_refused():
    err = error(b"code,voucher\nA1,B1\n")
    assert (err.code, err.line) == ("ambiguous_column", 1)


def test_column_chosen_by_name_or_number():
    data = b"id;ref;value\n1;R1;10\n2;R2;20\n"
    assert report(data, column="ref").first_codes == ["R1", "R2"]
    assert report(data, column="REF").layout.column == 2
    # By number, a first row that names no code column is data.
    assert report(b"1;R1;10\n2;R2;20\n", column=2).first_codes == ["R1", "R2"]
    assert report(b"1;R1;10\n2;R2;20\n", column="2").first_codes == ["R1", "R2"]
    # By number with a recognised header: the header is still skipped.
    assert report(b"code;other\nA1;B1\n", column=2).first_codes == ["B1"]


def test_column_that_does_not_exist_is_refused():
    err = error(b"id,ref\n1,R1\n", column="code2")
    assert (err.code, err.line) == ("no_such_column", 1)
    assert "no column is named 'code2': the first row holds 'id', 'ref'" in str(err)
    err = error(b"code,value\nA1,1\n", column=3)
    assert (err.code, err.line) == ("no_such_column", 1)


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "0"])
def test_invalid_column_choice(bad):
    with pytest.raises(InvalidInput) as info:
        codes(b"A1\n", column=bad)
    assert info.value.code == "invalid_column"


def test_several_codes_on_one_row_name_the_first_such_line():
    err = error(b"A1\nA2,A3\nA4,A5\n")
    assert (err.code, err.line) == ("several_fields", 2)
    assert "holds 2 values separated by commas (A2, A3)" in str(err)
    assert "choose the column that holds the codes" in str(err)


def test_one_filled_field_is_one_code():
    # Exports often leave empty cells around the only value.
    assert codes(b"A1,\nA2, ,\n,A3\n") == ["A1", "A2", "A3"]


def test_whitespace_around_a_quoted_field_is_treated_alike_on_both_sides():
    assert codes(b'  "QUOTED1"\n"QUOTED2" \n "QUOTED3" \n') == ["QUOTED1", "QUOTED2", "QUOTED3"]


@pytest.mark.parametrize("data", [b"A1\nA2\nA3\n", b"A1\r\nA2\r\nA3\r\n", b"A1\rA2\rA3\r", b"A1\r\nA2\nA3", "\ufeffA1\r\nA2\rA3".encode()])
def test_line_endings_and_bom(data):
    assert list(iter_codes(io.BytesIO(data), max_length=8)) == [(1, "A1"), (2, "A2"), (3, "A3")]


def test_a_quoted_code_with_a_line_break_is_refused_at_its_first_line():
    err = error(b'A1\n"A2\nA3"\n')
    assert (err.code, err.line) == ("control_character", 2)


def test_a_line_break_in_an_ignored_column_is_fine():
    assert codes(b'code,desc\nA1,"two\nlines"\nA2,x\n') == ["A1", "A2"]


def test_an_open_quote_in_an_ignored_column_is_refused():
    # Otherwise A2 and A3 would vanish into A1's description.
    err = error(b'code,desc\nA1,"oops\nA2,x\nA3,y\n')
    assert (err.code, err.line) == ("bad_csv", 2)


def test_a_line_longer_than_the_limit_is_refused_and_stops_reading():
    data = b"A1\nA2\n" + b"X," * (MAX_LINE_BYTES // 2 + 10) + b"\nA3\n"
    r = report(data)
    assert r.first_codes == ["A1", "A2"] and r.codes == 2
    assert [(p.code, p.line) for p in r.problems] == [("line_too_long", 3)]
    assert str(r.problems[0]) == f"line 3: is longer than {MAX_LINE_BYTES:,} bytes; nothing after it was read"
    # An earlier problem is still the first one reported.
    assert (error(b"A1\nA\t2\n" + data[6:]).code, error(b"A1\nA\t2\n" + data[6:]).line) == ("control_character", 2)
    far = b"".join(b"C%05d\n" % i for i in range(20_000)) + data[6:]  # past the first block and the sniffed lines
    assert (error(far).code, error(far).line) == ("line_too_long", 20_001)


def test_no_codes_is_a_problem_saying_what_the_file_holds():
    for data, text in [
        (b"", "no codes to upload: the file is empty"),
        (b"code\n", "no codes to upload: the file has a header (line 1: code) and no codes under it"),
        (b"code,value\n,1\n", "no codes to upload: the file has a header (line 1: code, value) and no codes under it"),
        (b"\n\n  \r\n", "no codes to upload: the file has only blank lines"),
        (b"sep=;\n", "no codes to upload: the file has a sep= line and no codes"),
    ]:
        r = report(data)
        assert r.codes == 0 and [(p.code, str(p)) for p in r.problems] == [("no_codes", text)], data


# -- warnings -------------------------------------------------------------------------------


def test_spreadsheet_damage_is_a_warning_with_lines():
    # Codes as public bug reports show them after a spreadsheet: react-csv #136, intune samples #140,
    # bloom #4458 (219E01BE -> 2.19E+26), ObjCSV #10 and CsvHelper #758 (="...").
    data = b'sep=;\ncode\n1.23457E+11\n"4,687E+11"\n8.96529E+19\n2.19E+26\nPROMO-E+1\n="00123"\nOK1\n'
    r = report(data)
    assert r.ok and r.codes == 7
    by_kind = {w.kind: w for w in r.warnings}
    assert set(by_kind) == {WarningKind.SCIENTIFIC_NOTATION, WarningKind.FORMULA}
    assert by_kind[WarningKind.SCIENTIFIC_NOTATION].count == 4
    assert [(e.line, e.code) for e in by_kind[WarningKind.SCIENTIFIC_NOTATION].examples] == [
        (3, "1.23457E+11"), (4, "4,687E+11"), (5, "8.96529E+19"), (6, "2.19E+26"),
    ]
    assert [(e.line, e.code) for e in by_kind[WarningKind.FORMULA].examples] == [(8, '="00123"')]


def test_warning_examples_are_bounded_and_counts_exact():
    data = "".join(f"{i}.5E+1{i % 10}\n" for i in range(50)).encode()
    [w] = report(data).warnings
    assert (w.kind, w.count, len(w.examples)) == (WarningKind.SCIENTIFIC_NOTATION, 50, WARNING_EXAMPLES)


def test_case_twins_within_the_file():
    r = report(b"abc1\nXYZ\nABC1\nAbc1\nabc1\n")
    [w] = r.warnings
    assert (w.kind, w.count) == (WarningKind.CASE_TWIN, 2)
    assert [(e.line, e.code, e.other) for e in w.examples] == [(3, "ABC1", "abc1"), (4, "Abc1", "abc1")]
    assert w.message == "2 codes differ only by letter case from another code of the file: line 3 ABC1 (like abc1), line 4 Abc1 (like abc1)"
    assert r.duplicates == 1


def test_case_twins_across_blocks(monkeypatch):
    monkeypatch.setattr(csvcodes, "BLOCK_CODES", 3)
    r = report(b"ABC\nD1\nD2\nD3\nD4\nD5\nabc\n")
    [w] = r.warnings
    assert [(e.line, e.code, e.other) for e in w.examples] == [(7, "abc", "ABC")]


def test_duplicates_are_counted_exactly_within_the_window(monkeypatch):
    monkeypatch.setattr(csvcodes, "BLOCK_CODES", 2)
    r = report(b"A1\nA2\nA1\nA3\nA1\nA2\n")
    assert (r.codes, r.duplicates, r.duplicates_exact) == (6, 3, True)
    monkeypatch.setattr(csvcodes, "DISTINCT_WINDOW", 2)
    r = report(b"A1\nA2\nA3\nA4\nA1\nA4\n")
    assert (r.duplicates, r.duplicates_exact) == (1, False)  # A4 could not be remembered: a lower bound


@pytest.mark.parametrize("given", ["9" * 5000, "1234567", "１２"])
def test_a_column_number_too_long_to_be_one_is_refused_not_crashed(given):
    with pytest.raises(InvalidInput) as err:
        csvcodes.parse_column(given)
    assert err.value.code == "invalid_column"
    assert err.value.message.endswith("is not a column number from 1 to 999,999")


def test_a_column_number_beyond_the_first_row_is_refused_naming_it():
    with pytest.raises(BadFile) as err:
        list(iter_codes(io.BytesIO(b"\nA1,10\nA2,20\n"), max_length=128, column=99))
    assert err.value.code == "no_such_column"
    assert err.value.line == 2
    assert err.value.message == "line 2: column 99 was chosen but the first row has 2 columns ('A1', '10')"


@pytest.mark.parametrize(
    "data, line",
    [
        ("code\nODD01\nODD02\n".encode("utf-16") + b"\x00", 4),  # an odd byte at the end
        ("code\nOK1\n".encode("utf-16") + b"\x00\xd8" + "X1\n".encode("utf-16-le"), 3),  # a lone surrogate
    ],
)
def test_invalid_utf16_is_refused_naming_its_line_never_a_traceback(data, line):
    with pytest.raises(BadFile) as err:
        list(iter_codes(io.BytesIO(data), max_length=128))
    assert (err.value.code, err.value.line) == ("invalid_utf16", line)
    assert err.value.message.endswith(
        "is not valid UTF-16 text (a byte is missing or a surrogate stands alone): save the file as CSV UTF-8"
    )
