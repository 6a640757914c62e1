"""The CSV rules of DESIGN.md, on the streaming parser alone."""

import io

import pytest

from code_console.core.csvcodes import iter_codes, scan
from code_console.core.errors import BadFile


def codes(data: bytes, max_length: int = 32) -> list[str]:
    return [c for _, c in iter_codes(io.BytesIO(data), max_length=max_length)]


def error(data: bytes, max_length: int = 32) -> BadFile:
    with pytest.raises(BadFile) as info:
        codes(data, max_length)
    return info.value


def test_plain_lines():
    assert codes(b"A1\nA2\nA3\n") == ["A1", "A2", "A3"]


def test_no_trailing_newline():
    assert codes(b"A1\nA2") == ["A1", "A2"]


def test_bom_is_stripped():
    assert codes("\ufeffA1\nA2\n".encode()) == ["A1", "A2"]


def test_crlf():
    assert codes(b"A1\r\nA2\r\n") == ["A1", "A2"]


def test_quotes_and_first_field_only():
    assert codes(b'"A1",extra\n"A,2"\n"A""3"\nA4,x,y\n') == ["A1", "A,2", 'A"3', "A4"]


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
    assert err.code == "not_text"
    assert err.line == 2


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
