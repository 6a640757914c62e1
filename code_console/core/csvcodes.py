"""Streaming CSV -> codes, for files as spreadsheets and partners export them.

The rules (DESIGN.md "CSV rules", issue 10), in the order they apply:

- Bytes: UTF-8 with or without a BOM, or UTF-16 with a BOM (Excel's "Unicode text", tab
  separated); UTF-16 without a BOM is refused on line 1. A physical line longer than
  MAX_LINE_BYTES is refused before any parser holds it, so memory stays bounded whatever the
  file holds. Invalid UTF-8 (a Windows-1252 or Latin-1 file, say) or a NUL byte in a code is
  refused naming the line.
- Lines end with LF, CRLF or CR.
- Delimiter: an Excel `sep=X` first line names it and is not data; otherwise csv.Sniffer picks
  one of , ; TAB | from the first lines; when it cannot tell (a one-column file), comma. When
  it picks the comma but every line holds the same number of semicolons and every comma sits
  between digits ("A1;10,5", a decimal-comma locale), the semicolon.
- Quoting: RFC 4180, with '"'. Spaces before an opening quote are skipped and text after a
  closing quote is kept (the csv module's non-strict mode), so `  "Q1"` and `"Q2" ` both give
  the quoted code once trimmed. A quote still open at the end of the file is refused.
- Header: the first non-blank row is a header if one of its cells names a code column
  (CODE_COLUMN_NAMES, any case, words joined by spaces, '_' or '-', after a BOM); it is skipped
  and reported, and that column holds the codes. The caller may choose the column instead
  (`column`: a header name, or a 1-based number).
- Rows: with neither a header nor a chosen column each row is one code, and a row with several
  non-empty fields is refused (taking its first field would silently drop the others).
- Codes: every field goes through the one code rule (code_rule.normalize_code); a field that
  is empty once trimmed is a blank cell and is skipped.
- Warnings, which never block: codes that look like spreadsheet damage (scientific notation,
  ="..." formula wrappers) and codes that differ only by letter case; scan() also counts
  repeated codes. (Case twins of codes already in the campaign need the store: upload.StoredTwins.)

Problems name the physical line (1-based, counting the sep= and header lines). Work is done a
block of BLOCK_CODES codes at a time, with C-level checks over the whole block, so that a clean
file costs little more than the csv module itself.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from code_console.core.code_rule import is_ignorable, normalize_code
from code_console.core.errors import BadFile, InvalidCode, InvalidInput
from code_console.core.models import (
    CodeWarning,
    ColumnSource,
    DelimiterSource,
    FileLayout,
    WarningExample,
    WarningKind,
)

READ_CHUNK = 256 * 1024  # bytes asked of the source at a time (a file, an S3 body)
# A physical line longer than this is refused. It holds a row of 30,000 short codes, so such a
# row is refused as "several codes" (the accurate message), and it is at least READ_CHUNK, so
# a line inside one chunk can never be too long and each chunk is checked in O(1).
MAX_LINE_BYTES = 1024 * 1024
BLOCK_CODES = 65_536  # codes validated together, and between two progress reports
SNIFF_CHARS = 16 * 1024  # csv.Sniffer reads at most this much, and...
SNIFF_LINES = 64  # ...at most this many lines
DELIMITERS = ",;\t|"
# The bound of the within-file checks (case twins; scan's repeat count): the first this many
# distinct codes are remembered, about 20 MB at most.
DISTINCT_WINDOW = 100_000
WARNING_EXAMPLES = 5

CODE_COLUMN_NAMES = frozenset(
    {
        "code", "codes",
        "coupon", "coupons", "coupon code", "coupon codes", "couponcode",
        "voucher", "vouchers", "voucher code", "voucher codes", "vouchercode",
        "promo", "promos", "promo code", "promo codes", "promocode",
    }
)  # fmt: skip

_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "'|'"}
_SURROGATE = re.compile("[\udc80-\udcff]")  # what errors="surrogateescape" makes of invalid UTF-8
# What invalid UTF-16 (an odd byte at the end, a lone surrogate) decodes to: a lone low
# surrogate no valid text decodes to, found and refused with its line like invalid UTF-8.
_BAD_UTF16 = "\udc00"
_UTF16_ERRORS = "code-console-bad-utf16"


def _mark_bad_utf16(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return _BAD_UTF16, exc.end


codecs.register_error(_UTF16_ERRORS, _mark_bad_utf16)
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[Ee]\+\d{1,3}")  # 1.23457E+11, 4,687E+11 (a decimal comma)
_WORD_BREAKS = re.compile(r"[\s_\-]+")
_SEP_LINE = re.compile(r'"?sep=(.)"?[ \r\n]*', re.IGNORECASE | re.DOTALL)

OnProblem = Callable[[BadFile], None]


def _raise(problem: BadFile) -> None:
    raise problem


MAX_COLUMN_DIGITS = 6  # no row of a code file has a million fields (a row is at most MAX_LINE_BYTES)


def _shorten(text: str, keep: int = 20) -> str:
    return text if len(text) <= keep else f"{text[:keep]}... ({len(text):,} characters)"


def parse_column(value: str | int | None) -> str | int | None:
    """The caller's code column: None (automatic), a 1-based number, or a header name.

    A string of digits is a number ("2" from a command line or a query string). Raises
    InvalidInput("invalid_column") for 0, a negative number, a bool or another type.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        digits = value.strip()
        if not digits.isascii() or len(digits) > MAX_COLUMN_DIGITS:
            raise InvalidInput("invalid_column", f"column number {_shorten(digits)} is not a column number from 1 to {10**MAX_COLUMN_DIGITS - 1:,}")
        value = int(digits)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInput("invalid_column", f"column must be a header name or a number from 1, not {value!r}")
    if isinstance(value, int) and value < 1:
        raise InvalidInput("invalid_column", f"column numbers start at 1, not {value}")
    return value.strip() if isinstance(value, str) else value


class _LineTooLong(Exception):
    """Raised from inside the byte stream: the current physical line passed MAX_LINE_BYTES."""


class _CountingReader(io.RawIOBase):
    """Adapts any object with read(n) (a file, an S3 StreamingBody) to a raw stream.

    Counts bytes for progress, and bounds the length of
    a physical line: the csv module's field_size_limit bounds a field, not a row, and a 50 MB
    row of commas would otherwise become 50 million fields in memory.
    """

    def __init__(self, source, max_line: int = MAX_LINE_BYTES) -> None:
        self._source = source
        self._max_line = max_line
        self._run = 0  # bytes since the last line break
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        # At most READ_CHUNK (<= max_line) at a time: a line that starts and ends inside one
        # chunk is then short enough, and only the line crossing chunk edges needs counting.
        data = self._source.read(min(len(buffer), READ_CHUNK))
        if not data:
            return 0
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        last = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if last < 0:
            self._run += n
        else:
            breaks = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
            if self._run + min(breaks) > self._max_line:
                raise _LineTooLong()
            self._run = n - last - 1
        if self._run > self._max_line:
            raise _LineTooLong()
        return n


@dataclass(frozen=True)
class CodeBlock:
    """Up to BLOCK_CODES valid codes in file order, their lines, and "\\n".join(codes)."""

    codes: list[str]
    lines: list[int]
    text: str


class CodeReader:
    """One pass over a binary CSV stream: how it is laid out, then its codes, block by block.

    `column` is parse_column()'s input. A problem goes to `on_problem` (which raises by
    default); when it returns, the row is skipped, or for a problem that leaves nothing
    readable after it (a line too long, malformed CSV, no usable column) reading stops.
    With `count_duplicates`, repeats of a code are counted (exactly among the first
    DISTINCT_WINDOW distinct codes; see `duplicates_exact`). After blocks() ends: `layout`,
    `lines` (physical lines read), `codes`, `warnings()`, `duplicates`.
    """

    def __init__(
        self,
        source,
        *,
        max_length: int,
        column: str | int | None = None,
        on_problem: OnProblem = _raise,
        count_duplicates: bool = False,
    ) -> None:
        self.max_length = max_length
        self._column = parse_column(column)
        self._on_problem = on_problem
        self._raw = _CountingReader(source)
        buffered = io.BufferedReader(self._raw, READ_CHUNK)
        self.encoding, self._encoding_problem = _encoding(buffered)
        utf16 = self.encoding.startswith("utf-16")
        self._text = io.TextIOWrapper(
            buffered, encoding="utf-16" if utf16 else "utf-8-sig",
            errors=_UTF16_ERRORS if utf16 else "surrogateescape", newline="",
        )
        self._checks = _FileChecks(count_duplicates)
        self._at_end = False  # the csv reader has taken the end-of-file sentinel line
        self._sep_line = False
        self._cut: int | None = None  # a line too long met while reading the first lines
        self._only = True  # each row is one code (no header, no chosen column)
        self._index = 0  # 0-based code column
        self.layout = FileLayout()
        self.lines = 0
        self.codes = 0
        self.stopped = False  # reading stopped early at a problem

    @property
    def bytes_read(self) -> int:
        return self._raw.bytes_read

    @property
    def duplicates(self) -> int:
        return self._checks.duplicates

    @property
    def duplicates_exact(self) -> bool:
        return self._checks.duplicates_exact

    def warnings(self) -> list[CodeWarning]:
        return self._checks.warnings()

    def no_codes_problem(self) -> BadFile:
        """The refusal of a file that held no codes, saying what it did hold."""
        if self.lines == 0:
            what = "the file is empty"
        elif self.layout.header is not None:
            what = f"the file has a header (line {self.layout.header_line}: {', '.join(self.layout.header)}) and no codes under it"
        elif self._sep_line:
            what = "the file has a sep= line and no codes"
        else:
            what = "the file has only blank lines"
        return BadFile("no_codes", f"no codes to upload: {what}")

    # -- reading ------------------------------------------------------------------------

    def blocks(self) -> Iterator[CodeBlock]:
        reader = self._open()
        if reader is None:
            return
        try:
            yield from self._read(reader)
        finally:
            self.lines = reader.line_num - 1 if self._at_end else reader.line_num
        if self._cut:
            self._stop(_line_too_long(self._cut))

    def _read(self, reader) -> Iterator[CodeBlock]:
        last = 0  # the line the previous row ended on
        fields: list[str] = []
        lines: list[int] = []
        try:
            first = None
            for row in reader:
                line = reader.line_num
                if self._at_end or any(not _is_blank(f) for f in row):
                    first = (row, last + 1, line)
                    break
                last = line
            if first is None or self._at_end:
                if first is not None:
                    self._take(*first)  # the first record runs to the end: a quote is open
                return
            if not self._choose_column(first[0], first[1]):
                return
            if self.layout.header is None:
                code = self._take(*first)
                if code is not None:
                    fields.append(code)
                    lines.append(first[1])
            last = first[2]
            index = self._index
            # The two loops below run once per row of the file: keep them lean.
            while True:
                add_field, add_line = fields.append, lines.append
                if self._only:
                    for row in reader:
                        line = reader.line_num
                        if line == last + 1 and len(row) == 1:
                            add_field(row[0])
                            add_line(line)
                        else:
                            code = self._take(row, last + 1, line)
                            if code is not None:
                                add_field(code)
                                add_line(last + 1)
                        last = line
                        if len(fields) >= BLOCK_CODES:
                            break
                else:
                    for row in reader:
                        line = reader.line_num
                        if line == last + 1 and len(row) > index:
                            add_field(row[index])
                            add_line(line)
                        else:
                            code = self._take(row, last + 1, line)
                            if code is not None:
                                add_field(code)
                                add_line(last + 1)
                        last = line
                        if len(fields) >= BLOCK_CODES:
                            break
                if len(fields) < BLOCK_CODES:
                    break
                block = self._block(fields, lines)
                fields, lines = [], []
                if block is not None:
                    yield block
            # The end-of-file sentinel's own row, when it was taken as a (blank) code.
            if self._at_end and lines and lines[-1] == reader.line_num:
                fields.pop()
                lines.pop()
        except _LineTooLong:
            yield from self._flush(fields, lines)
            self._stop(_line_too_long(reader.line_num + 1))
            return
        except csv.Error as exc:
            yield from self._flush(fields, lines)
            self._stop(self._csv_problem(exc, last + 1, reader.line_num))
            return
        yield from self._flush(fields, lines)

    def _open(self):
        """Read the first lines, honour a sep= line, find the delimiter; return the csv reader (None if stopped)."""
        if self._encoding_problem is not None:
            self._stop(self._encoding_problem)
            return None
        head: list[str] = []
        size = 0
        try:
            while len(head) < SNIFF_LINES and size < SNIFF_CHARS:
                line = self._text.readline()
                if not line:
                    break
                head.append(line)
                size += len(line)
        except _LineTooLong:
            # The lines before it are still read (their problems come first); then reading stops.
            self._cut = len(head) + 1
        delimiter, source = ",", DelimiterSource.DEFAULT
        if head and head[0].startswith("\ufeff"):
            head[0] = head[0].lstrip("\ufeff")  # a second BOM (the codec takes one): a file written twice over
        first = head[0] if head else ""
        if first[:4].lower() == "sep=" or first[:5].lower() == '"sep=':
            m = _SEP_LINE.fullmatch(first)
            sep = m.group(1) if m else ""
            if not sep or sep == '"' or sep.isalnum() or (sep.isspace() and sep != "\t"):
                self._stop(BadFile("bad_sep_line", f"starts with 'sep=' but does not name one delimiter character: {first.rstrip()[:40]!r}", 1))
                return None
            delimiter, source = sep, DelimiterSource.SEP_LINE
            head[0] = ""  # a blank row to the csv module: line numbers stay those of the file
            self._sep_line = True
        else:
            # csv.Sniffer splits lines on "\n" only and takes a blank CRLF line for a row without
            # delimiters: give it the non-blank lines, each without its line ending.
            sample = "\n".join(line.rstrip("\r\n") for line in head if line.strip())[:SNIFF_CHARS]
            # A NUL means a binary file: its rows are refused one by one, with no guessed delimiter.
            if sample and "\x00" not in sample:
                try:
                    sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
                except csv.Error:  # nothing to detect: a one-column file
                    sniffed = None
                if sniffed == "," and _semicolons_with_decimal_commas(sample):
                    sniffed = ";"
                if sniffed and sniffed in DELIMITERS:
                    delimiter, source = sniffed, DelimiterSource.DETECTED
        self.layout = FileLayout(delimiter=delimiter, delimiter_source=source, encoding=self.encoding)
        lines = iter(head) if self._cut else itertools.chain(head, self._text, self._end())
        return csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, skipinitialspace=True, strict=False)

    def _end(self) -> Iterator[str]:
        # One lone quote after the last line: it closes a quoted field left open (that record
        # then ends on this line, and is refused), or else reads as one blank field.
        self._at_end = True
        yield '"'

    def _choose_column(self, row: list[str], line: int) -> bool:
        """Decide from the first non-blank row: is it a header, and which column holds the codes?"""
        keys = [_header_key(cell) for cell in row]
        named = [i for i, key in enumerate(keys) if key in CODE_COLUMN_NAMES]
        cells = tuple(_trim(cell) for cell in row)
        chosen = self._column
        header = None
        if isinstance(chosen, str):
            matches = [i for i, key in enumerate(keys) if key == _header_key(chosen)]
            if not matches:
                self._stop(BadFile("no_such_column", f"no column is named {chosen!r}: the first row holds {_cells(cells)}", line))
                return False
            if len(matches) > 1:
                self._stop(BadFile("ambiguous_column", f"{len(matches)} columns are named {chosen!r}; choose one by its number", line))
                return False
            header, index, source = cells, matches[0], ColumnSource.CALLER
        elif isinstance(chosen, int):
            header = cells if named else None
            index, source = chosen - 1, ColumnSource.CALLER
            if header is not None and index >= len(header):
                self._stop(BadFile("no_such_column", f"column {chosen} was chosen but the header has {len(header)} columns ({_cells(cells)})", line))
                return False
            if header is None and index >= len(row):
                # Else every row reads as blank and the file is refused as "only blank lines".
                columns = f"{len(row)} column{'s' if len(row) != 1 else ''}"
                self._stop(BadFile("no_such_column", f"column {chosen} was chosen but the first row has {columns} ({_cells(cells)})", line))
                return False
        elif named:
            if len(named) > 1:
                which = ", ".join(f"{i + 1} {cells[i]!r}" for i in named)
                self._stop(BadFile("ambiguous_column", f"the header names several code columns ({which}): choose one by its name or number", line))
                return False
            header, index, source = cells, named[0], ColumnSource.HEADER
        else:
            index, source = 0, ColumnSource.ONLY
        self._only = source is ColumnSource.ONLY
        self._index = index
        self.layout = FileLayout(
            delimiter=self.layout.delimiter,
            delimiter_source=self.layout.delimiter_source,
            encoding=self.layout.encoding,
            header=header,
            header_line=line if header is not None else None,
            column=index + 1,
            column_name=header[index] if header is not None else None,
            column_source=source,
        )
        return True

    def _take(self, row: list[str], start: int, end: int) -> str | None:
        """The code field of a row the fast loop did not take (blank, several fields, several lines), or None."""
        if self._at_end:
            if end > start:
                self._stop(BadFile("bad_csv", "a quoted field opens on this line and is never closed", start))
            return None  # else: the end-of-file sentinel's own row
        if not row:
            return None
        if not self._only:
            return row[self._index] if len(row) > self._index else None
        if len(row) == 1:
            return row[0]
        filled = [f for f in row if not _is_blank(f)]
        if len(filled) <= 1:
            return filled[0] if filled else None
        problem = _not_text(filled, start)
        if problem is None:
            shown = ", ".join(_trim(f)[:24] for f in filled[:3]) + (", …" if len(filled) > 3 else "")
            problem = BadFile(
                "several_fields",
                f"holds {len(filled):,} values separated by {_DELIMITER_NAMES.get(self.layout.delimiter, repr(self.layout.delimiter))} "
                f"({shown}): put one code per line, or choose the column that holds the codes (by its header name or number)",
                start,
                fields=len(filled),
            )
        self._on_problem(problem)
        return None

    def _block(self, fields: list[str], lines: list[int]) -> CodeBlock | None:
        text = "\n".join(fields)
        if not self._plain(fields, text):
            codes, kept = [], []
            for line, value in zip(lines, fields):
                code = self._code(value, line)
                if code is not None:
                    codes.append(code)
                    kept.append(line)
            fields, lines, text = codes, kept, "\n".join(codes)
        if not fields:
            return None
        self._checks.add(fields, lines, text)
        self.codes += len(fields)
        return CodeBlock(fields, lines, text)

    def _plain(self, fields: list[str], text: str) -> bool:
        """True when every field is already a valid code: the code rule's fast path, once per block.

        Printable (no controls, no format characters, no space but U+0020), in NFC, no
        surrounding space, none empty, none too long: then normalize_code returns each unchanged.
        """
        flat = "".join(fields)
        return (
            flat.isprintable()
            and (flat.isascii() or unicodedata.is_normalized("NFC", text))
            and "" not in fields
            and text[0] != " "
            and text[-1] != " "
            and " \n" not in text
            and "\n " not in text
            and max(map(len, fields)) <= self.max_length
        )

    def _code(self, value: str, line: int) -> str | None:
        problem = _not_text([value], line)
        if problem is None:
            try:
                return normalize_code(value, max_length=self.max_length)
            except InvalidCode as exc:
                if exc.code == "empty_code":
                    return None  # a blank cell
                problem = BadFile(exc.code, exc.message, line, **exc.details)
        self._on_problem(problem)
        return None

    def _flush(self, fields: list[str], lines: list[int]) -> Iterator[CodeBlock]:
        if fields:
            block = self._block(fields, lines)
            if block is not None:
                yield block

    def _stop(self, problem: BadFile) -> None:
        self.stopped = True
        self._on_problem(problem)

    def _csv_problem(self, exc: csv.Error, start: int, line: int) -> BadFile:
        if "field larger than field limit" in str(exc):
            where = f"; it starts on line {start}: is a closing quote missing?" if line > start else ""
            return BadFile("bad_csv", f"a field is longer than {csv.field_size_limit():,} characters{where}", line)
        return BadFile("bad_csv", f"malformed CSV: {exc}", line)


class _FileChecks:
    """The warnings of one file, bounded: a count per kind, the first WARNING_EXAMPLES examples.

    Case twins are found within each block and between any code and the first DISTINCT_WINDOW
    distinct codes of the file (a dict of that many entries at most). With `count_duplicates`,
    repeats are counted likewise; `duplicates_exact` turns False once a code could not be
    remembered, and `duplicates` is then a lower bound.
    """

    def __init__(self, count_duplicates: bool) -> None:
        self.counts = {kind: 0 for kind in WarningKind}
        self.examples: dict[WarningKind, list[WarningExample]] = {kind: [] for kind in WarningKind}
        self._window: dict[str, str] = {}  # casefolded code -> a code of the file
        self._window_upper_ascii = True  # every code in the window is ASCII without lowercase
        self._seen: set[str] | None = set() if count_duplicates else None
        self.duplicates = 0
        self.duplicates_exact = True

    def add(self, codes: list[str], lines: list[int], text: str) -> None:
        # Substring tests over the block's text first: the per-code loops run only on a hit.
        if "E+" in text or "e+" in text:
            for line, code in zip(lines, codes):
                if ("E+" in code or "e+" in code) and _SCIENTIFIC.fullmatch(code):
                    self._warn(WarningKind.SCIENTIFIC_NOTATION, line, code)
        if '="' in text:
            for line, code in zip(lines, codes):
                if code.startswith('="'):
                    self._warn(WarningKind.FORMULA, line, code)
        self._case_twins(codes, lines, text)
        if self._seen is not None:
            self._repeats(codes)

    def _case_twins(self, codes: list[str], lines: list[int], text: str) -> None:
        upper_ascii = text.isascii() and text.upper() == text
        window = self._window
        full = len(window) >= DISTINCT_WINDOW
        if full and upper_ascii and self._window_upper_ascii:
            return  # ASCII codes without lowercase cannot differ only by case from each other
        folded = text.casefold()  # Unicode caseless matching (The Unicode Standard, 3.13)
        keys = folded.split("\n")
        distinct = set(keys)
        within = len(distinct) < len(codes) and len(distinct) < len(set(codes))
        if within or (window and not window.keys().isdisjoint(distinct)):
            first: dict[str, str] = {}
            for line, key, code in zip(lines, keys, codes):
                other = window.get(key)
                if other is None:
                    other = first.setdefault(key, code)
                if other != code:
                    self._warn(WarningKind.CASE_TWIN, line, code, other)
        if not full:
            room = DISTINCT_WINDOW - len(window)
            window.update(zip(keys[:room], codes[:room]))
            self._window_upper_ascii = self._window_upper_ascii and upper_ascii

    def _repeats(self, codes: list[str]) -> None:
        distinct = set(codes)
        self.duplicates += len(codes) - len(distinct)
        seen = self._seen
        if seen is None:  # not counting duplicates
            return
        new = distinct - seen
        self.duplicates += len(distinct) - len(new)
        room = DISTINCT_WINDOW - len(seen)
        if len(new) <= room:
            seen |= new
        else:
            seen.update(itertools.islice(new, max(room, 0)))
            self.duplicates_exact = False

    def _warn(self, kind: WarningKind, line: int, code: str, other: str | None = None) -> None:
        self.counts[kind] += 1
        if len(self.examples[kind]) < WARNING_EXAMPLES:
            self.examples[kind].append(WarningExample(line, code, other))

    def warnings(self) -> list[CodeWarning]:
        return [CodeWarning(kind, n, tuple(self.examples[kind])) for kind, n in self.counts.items() if n]


def _encoding(buffered: io.BufferedReader[Any]) -> tuple[str, BadFile | None]:
    """The file's encoding from its first bytes: UTF-16 when it starts with a UTF-16 byte order
    mark (Excel's "Unicode text", Notepad's "Unicode"), else UTF-8 (with or without a BOM).
    UTF-16 without a BOM (every other byte NUL) is refused: which byte order it is cannot be
    known for sure, and read as UTF-8 it would be refused line by line as binary."""
    try:
        head = buffered.peek(64)[:64]
    except _LineTooLong:
        return "utf-8", None
    if head.startswith(b"\xff\xfe"):
        return "utf-16-le", None
    if head.startswith(b"\xfe\xff"):
        return "utf-16-be", None
    pairs = len(head) // 2
    if pairs >= 2 and not head.startswith(b"\xef\xbb\xbf"):
        even_nuls, odd_nuls = head[0 : pairs * 2 : 2].count(0), head[1 : pairs * 2 : 2].count(0)
        if max(even_nuls, odd_nuls) >= pairs * 3 // 4 and min(even_nuls, odd_nuls) == 0:
            return "utf-8", BadFile(
                "utf16_without_bom",
                "looks like UTF-16 text without a byte order mark: save the file as CSV UTF-8 "
                "(or as Unicode text, which starts with one)",
                1,
            )
    return "utf-8", None


_DECIMAL_COMMA = re.compile(r"\d,\d")


def _semicolons_with_decimal_commas(sample: str) -> bool:
    """A semicolon file from a spreadsheet in a decimal-comma locale ("A1;10,5"): each line holds
    the same number of semicolons, and every comma sits between two digits. csv.Sniffer prefers
    the comma when both are consistent, which would cut "10,5" in two."""
    lines = [line for line in sample.split("\n") if line.strip()]
    if not lines or any(line.count('"') for line in lines):
        return False
    semicolons = {line.count(";") for line in lines}
    commas = sum(line.count(",") for line in lines)
    return len(semicolons) == 1 and semicolons != {0} and commas > 0 and commas == len(_DECIMAL_COMMA.findall(sample))


def _line_too_long(line: int) -> BadFile:
    return BadFile("line_too_long", f"is longer than {MAX_LINE_BYTES:,} bytes; nothing after it was read", line)


def _trim(value: str) -> str:
    start, end = 0, len(value)
    while start < end and is_ignorable(value[start]):
        start += 1
    while end > start and is_ignorable(value[end - 1]):
        end -= 1
    return value[start:end]


def _is_blank(value: str) -> bool:
    return not value or value.isspace() or all(map(is_ignorable, value))


def _header_key(cell: str) -> str:
    """"Coupon_Code", " PROMO-CODE", "\\ufeffcode" -> "coupon code", "promo code", "code"."""
    return " ".join(_WORD_BREAKS.split(_trim(cell).casefold())).strip()


def _cells(cells: tuple[str, ...]) -> str:
    shown = ", ".join(repr(c[:24]) for c in cells[:6])
    return shown + (f", … ({len(cells)} cells)" if len(cells) > 6 else "")


def _not_text(values: list[str], line: int) -> BadFile | None:
    """A NUL byte or invalid UTF-8 in these fields: the file is not (UTF-8) text there."""
    for value in values:
        if "\x00" in value:
            return BadFile("not_text", "contains a NUL byte: this is not a text file", line)
        if not value.isascii() and _BAD_UTF16 in value:
            return BadFile(
                "invalid_utf16",
                "is not valid UTF-16 text (a byte is missing or a surrogate stands alone): save the file as CSV UTF-8",
                line,
            )
        if not value.isascii() and _SURROGATE.search(value):
            return BadFile(
                "invalid_utf8",
                "is not valid UTF-8 text: save the file as CSV UTF-8 (it may be in Windows-1252 or Latin-1)",
                line,
            )
    return None


def iter_codes(
    source,
    *,
    max_length: int,
    column: str | int | None = None,
    on_problem: OnProblem = _raise,
    counter: list[int] | None = None,
) -> Iterator[tuple[int, str]]:
    """Yield (line, code) for each code of a binary CSV stream (CodeReader's rules).

    A problem is passed to on_problem (which raises by default); when it returns, the row is
    skipped. `counter`, if given, receives the bytes read so far in counter[0], per block.
    """
    reader = CodeReader(source, max_length=max_length, column=column, on_problem=on_problem)
    for block in reader.blocks():
        if counter is not None:
            counter[0] = reader.bytes_read
        yield from zip(block.lines, block.codes)
    if counter is not None:
        counter[0] = reader.bytes_read


class Digesting:
    """A source stream, hashed (SHA-256) as it is read: a file's digest with no second read."""

    def __init__(self, source) -> None:
        self._source = source
        self._hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        if data:
            self._hash.update(data)
        return data

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


@dataclass
class FileReport:
    """What a dry run of a file found, for the upload wizard: everything a front end shows, as data.

    layout         how the file was read: delimiter and how it was found (sep= line, detected,
                   default), the header row and its line (or None), the code column (1-based)
                   with its header name and why it was used
    codes          valid codes found
    lines          the line of the last valid code (0 if none); `lines_read`: physical lines read
    first_codes    the first `preview` codes
    problems       the first `max_problems` problems (BadFile: .code, .line, str() names the line)
    problems_total all problems; a file with no codes (and no other problem) has one, no_codes
    warnings       CodeWarning per kind: .kind, .count, .examples (line, code, other), .message
    duplicates     codes that repeat an earlier code of the file; a lower bound when
                   `duplicates_exact` is False (more than DISTINCT_WINDOW distinct codes)
    sha256         the file's SHA-256 (hex), when it was read to its end (None if reading stopped)
    """

    layout: FileLayout = field(default_factory=FileLayout)
    codes: int = 0
    lines: int = 0
    lines_read: int = 0
    first_codes: list[str] = field(default_factory=list)
    problems: list[BadFile] = field(default_factory=list)
    problems_total: int = 0
    warnings: list[CodeWarning] = field(default_factory=list)
    duplicates: int = 0
    duplicates_exact: bool = True
    sha256: str | None = None

    @property
    def ok(self) -> bool:
        """No problem: the file can be uploaded as it is."""
        return self.problems_total == 0


def scan(
    source,
    *,
    max_length: int,
    column: str | int | None = None,
    preview: int = 10,
    max_problems: int = 20,
    on_block: Callable[[CodeBlock], None] | None = None,
) -> FileReport:
    """Read a whole stream without writing anything: its layout, first codes, problems, warnings and repeats.

    `on_block`, if given, sees every block of valid codes (the service compares them with the campaign)."""
    report = FileReport()

    def collect(problem: BadFile) -> None:
        report.problems_total += 1
        if len(report.problems) < max_problems:
            report.problems.append(problem)

    digest = Digesting(source)
    reader = CodeReader(digest, max_length=max_length, column=column, on_problem=collect, count_duplicates=True)
    for block in reader.blocks():
        if on_block is not None:
            on_block(block)
        if len(report.first_codes) < preview:
            report.first_codes.extend(block.codes[: preview - len(report.first_codes)])
        report.lines = block.lines[-1]
    report.layout = reader.layout
    report.codes = reader.codes
    report.lines_read = reader.lines
    report.warnings = reader.warnings()
    report.duplicates = reader.duplicates
    report.duplicates_exact = reader.duplicates_exact
    report.sha256 = None if reader.stopped else digest.hexdigest()
    if report.codes == 0 and report.problems_total == 0:
        collect(reader.no_codes_problem())
    return report
