"""Streaming CSV -> codes.

One code per record, first field; RFC 4180 quoting; UTF-8 with or without BOM; LF or CRLF;
surrounding whitespace trimmed; empty lines skipped. Problems are reported with their line.
The reader never holds more than one buffer of the file.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterator

from code_console.core.errors import BadFile

READ_CHUNK = 256 * 1024


class _CountingReader(io.RawIOBase):
    """Adapts any object with read(n) (a file, an S3 StreamingBody) to a raw stream.

    Counts bytes for progress and can copy them to a spool file (a tee), so that an S3 object
    is downloaded once even though the upload reads it twice (validate, then write).
    """

    def __init__(self, source, tee: BinaryIO | None = None) -> None:
        self._source = source
        self._tee = tee
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._source.read(len(buffer))
        if not data:
            return 0
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        if self._tee is not None:
            self._tee.write(data)
        return n


def _describe(code: str, line: int, max_length: int) -> BadFile | None:
    """Return the problem with a code that failed the fast checks, or None if it is fine."""
    if len(code) > max_length:
        return BadFile("code_too_long", f"code is {len(code)} characters long; the maximum is {max_length}", line)
    for ch in code:
        if ch == "\x00":
            return BadFile("not_text", "contains a NUL byte: this is not a text file", line)
        if "\udc80" <= ch <= "\udcff":
            return BadFile("invalid_utf8", "is not valid UTF-8 text", line)
        if unicodedata.category(ch) == "Cc" and ch != "\t":
            return BadFile("not_text", f"contains the control character U+{ord(ch):04X}: this is not a text file", line)
    return None


OnProblem = Callable[[BadFile], None]


def _raise(problem: BadFile) -> None:
    raise problem


def iter_codes(
    source,
    *,
    max_length: int,
    on_problem: OnProblem = _raise,
    tee: BinaryIO | None = None,
    counter: list[int] | None = None,
) -> Iterator[tuple[int, str]]:
    """Yield (line, code) for each code in a binary CSV stream.

    A problem is passed to on_problem (which raises by default); when it returns, the record
    is skipped. `counter`, if given, receives the bytes read so far in counter[0].
    """
    raw = _CountingReader(source, tee)
    text = io.TextIOWrapper(
        io.BufferedReader(raw, READ_CHUNK), encoding="utf-8-sig", errors="surrogateescape", newline=""
    )
    reader = csv.reader(text, strict=True)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            on_problem(BadFile("bad_csv", f"malformed CSV: {exc}", reader.line_num or 1))
            # The csv module cannot resume after a structural error.
            break
        if counter is not None:
            counter[0] = raw.bytes_read
        if not row:
            continue
        code = row[0].strip()
        if not code:
            continue
        if len(code) > max_length or not code.isprintable():
            problem = _describe(code, reader.line_num, max_length)
            if problem is not None:
                on_problem(problem)
                continue
        yield reader.line_num, code
    if counter is not None:
        counter[0] = raw.bytes_read


@dataclass
class FileReport:
    """What a dry run of a file found: for the upload wizard's preview."""

    codes: int = 0
    lines: int = 0
    first_codes: list[str] = field(default_factory=list)
    problems: list[BadFile] = field(default_factory=list)
    problems_total: int = 0

    @property
    def ok(self) -> bool:
        return self.problems_total == 0


def scan(source, *, max_length: int, preview: int = 10, max_problems: int = 20) -> FileReport:
    """Read a whole stream without writing anything; collect the first codes and problems."""
    report = FileReport()

    def collect(problem: BadFile) -> None:
        report.problems_total += 1
        if len(report.problems) < max_problems:
            report.problems.append(problem)

    for line, code in iter_codes(source, max_length=max_length, on_problem=collect):
        report.codes += 1
        report.lines = line
        if len(report.first_codes) < preview:
            report.first_codes.append(code)
    return report
