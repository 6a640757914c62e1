"""Files as spreadsheets and tools really export them, built from public bug reports of CSV
import tools (issue 10). Each goes in with exactly the right codes, or is refused naming the
line and saying what to do; on the embedded store, mongomock and SecantusDB (the `service`
fixture), nothing written when refused.

Sources (the kind of file each case rebuilds):
- Excel "Unicode text" is tab-separated UTF-16 with a byte order mark:
  odoo/odoo#11792, HKUDS/Vibe-Trading#865, SpartnerNL/Laravel-Excel#2598 ("\\x00" in every row).
- A UTF-8 BOM before the first header cell breaks header recognition: dotCMS/core#36508,
  directus/directus#23332, OkayCMS/OkayCMS#420.
- A trailing delimiter on every line (Excel for Mac): jmoenig/Snap#2434, dataculturegroup/DataBasic#176,
  deephaven/deephaven-core#1800 (`A|B|C|`), mldbai/mldb#365.
- Semicolon files from decimal-comma locales: moxfield/moxfield-public#122, ryancramerdesign/ImportPagesCSV#26.
- Windows-1252/Latin-1 bytes: onaio/onadata#695, MISP/misp-modules#180 (UnicodeDecodeError).
- Quoted fields holding commas, ="0035866" leading-zero wrappers: edoceo.com/utilitas/csv-file-format.
- Classic Mac OS "CSV (Macintosh)" ends lines with CR only.
"""

from __future__ import annotations

import pytest

from code_console.core.models import ColumnSource, DelimiterSource, FileLayout, WarningKind

from tests.test_code_files import refused, stored, upload


def test_excel_unicode_text_utf16le_tab_separated_with_a_header(service):
    data = "Coupon Code\tValue\r\nSUMMER01\t10\r\nCAF\u00c910\t20\r\n".encode("utf-16")  # BOM FF FE, little-endian
    assert data[:2] == b"\xff\xfe"
    result = upload(service, data)
    assert result.to_dict() == {"in": 2, "inserted": 2, "updated": 0}
    assert result.layout == FileLayout(
        "\t", DelimiterSource.DETECTED, ("Coupon Code", "Value"), 1, 1, "Coupon Code", ColumnSource.HEADER, "utf-16-le"
    )
    assert stored(service) == ["CAF\u00c910", "SUMMER01"]


def test_utf16_big_endian_with_a_bom_one_code_per_line(service):
    data = b"\xfe\xff" + "code\nBE-1\nBE-2\n".encode("utf-16-be")
    assert upload(service, data).to_dict() == {"in": 2, "inserted": 2, "updated": 0}
    assert stored(service) == ["BE-1", "BE-2"]


def test_utf16_without_a_bom_is_refused_on_line_1_saying_what_to_do(service):
    err = refused(service, "code\r\nA1\r\nA2\r\n".encode("utf-16-le"))
    assert (err.code, err.line) == ("utf16_without_bom", 1)
    assert str(err) == (
        "line 1: looks like UTF-16 text without a byte order mark: save the file as CSV UTF-8 "
        "(or as Unicode text, which starts with one)"
    )


def test_utf8_bom_before_the_header_and_crlf(service):
    result = upload(service, b"\xef\xbb\xbfCode\r\nCRLF-1\r\nCRLF-2\r\n")
    assert (result.to_dict(), result.layout.header) == ({"in": 2, "inserted": 2, "updated": 0}, ("Code",))
    assert stored(service) == ["CRLF-1", "CRLF-2"]


@pytest.mark.parametrize(
    "data",
    [b"T1,\nT2,\n", b"Code,Value,\nT1,10,\nT2,20,\n", b"code|value|\nT1|1|\nT2|2|\n", b"T1;\r\nT2;\r\n"],
    ids=["comma", "comma-header", "bar-header", "semicolon-crlf"],
)
def test_a_trailing_delimiter_on_every_line(service, data):
    assert upload(service, data).to_dict() == {"in": 2, "inserted": 2, "updated": 0}
    assert stored(service) == ["T1", "T2"]


def test_classic_mac_cr_only_line_endings_with_two_columns(service):
    result = upload(service, b"Code,Value\rMAC-1,10\rMAC-2,20\r")
    assert result.to_dict() == {"in": 2, "inserted": 2, "updated": 0}
    assert result.layout.column_name == "Code"
    assert stored(service) == ["MAC-1", "MAC-2"]


def test_code_value_header_with_quoted_commas(service):
    result = upload(service, b'Code,Value\n"AB,1",10\n"CD,2","1,5"\n')
    assert result.to_dict() == {"in": 2, "inserted": 2, "updated": 0}
    assert stored(service) == ["AB,1", "CD,2"]


def test_semicolons_with_decimal_commas_and_no_header_name_the_semicolons(service):
    # csv.Sniffer alone took the comma: "--column 1" then stored "A1;10" (a code that does not exist).
    err = refused(service, b"DE-1;10,5\nDE-2;3,25\n")
    assert (err.code, err.line) == ("several_fields", 1)
    assert str(err).startswith("line 1: holds 2 values separated by semicolons (DE-1, 10,5)")
    result = upload(service, b"DE-1;10,5\nDE-2;3,25\n", column=1)
    assert (result.layout.delimiter, result.to_dict()) == (";", {"in": 2, "inserted": 2, "updated": 0})
    assert stored(service) == ["DE-1", "DE-2"]


def test_latin1_bytes_are_refused_naming_the_line_and_nothing_is_written(service):
    err = refused(service, b"code\nOK-1\nCAF\xc910\n")
    assert (err.code, err.line) == ("invalid_utf8", 3)
    assert str(err) == "line 3: is not valid UTF-8 text: save the file as CSV UTF-8 (it may be in Windows-1252 or Latin-1)"


def test_spreadsheet_damage_goes_in_with_warnings(service):
    result = upload(service, b'code\n1.23457E+11\n="00123"\n')
    assert [(w.kind, w.count) for w in result.warnings] == [(WarningKind.SCIENTIFIC_NOTATION, 1), (WarningKind.FORMULA, 1)]
    assert stored(service) == ["1.23457E+11", '="00123"']


def test_a_utf16_list_of_codes_for_assign(service, tmp_path):
    upload(service, b"AS-1\nAS-2\n")
    path = tmp_path / "assign.txt"
    path.write_bytes("AS-1\r\nAS-2\r\n".encode("utf-16"))
    assert service.read_code_list(path) == ["AS-1", "AS-2"]


def test_two_byte_order_marks_before_a_sep_line(service):
    # Found by the property test: a BOM the codec takes, then a second one written as text.
    data = b"\xff\xfe" + "\ufeffsep=;\ncode;value\nBB-1;1\n".encode("utf-16-le")
    result = upload(service, data)
    assert (result.layout.delimiter_source, result.layout.header) == (DelimiterSource.SEP_LINE, ("code", "value"))
    assert stored(service) == ["BB-1"]
