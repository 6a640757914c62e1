"""The upload pipeline: validate a whole CSV stream, then write its codes in batches.

Validation first means a rejected file writes nothing at all. The first pass (csvcodes'
CodeReader) writes the valid codes, one per line, to a temporary file; the second reads them
back without parsing CSV again. So any stream (S3, stdin, an HTTP body) is read from its
source once and memory stays flat whatever the file's size: nothing here holds more than one
block or one batch of codes.
"""

from __future__ import annotations

import itertools
import tempfile
import time

from code_console.core.csvcodes import WARNING_EXAMPLES, CodeBlock, CodeReader, Digesting
from code_console.core.errors import Cancelled, StoreUnavailable
from code_console.core.models import (
    Cancel,
    Clock,
    CodeType,
    CodeWarning,
    ProgressCallback,
    UploadProgress,
    UploadResult,
    WarningExample,
    WarningKind,
)

# The bound of the check against the campaign (case twins already stored): the first this many
# codes of a file are compared, IN-chunk by IN-chunk, through the store's case-insensitive index
# (about 200 queries on MongoDB); the warning says so when a file has more.
CAMPAIGN_TWIN_WINDOW = 100_000
# ...and for at most this long in all (the check only warns: it must not make an upload slow),
# asking the store TWIN_SLICE codes at a time. Measured on SecantusDB (a 20,000-code campaign):
# 100,000 new codes take about 2 s; a re-upload of codes already stored about 25 s, so there the
# budget ends the check first. On SQLite 100,000 codes take 0.5 s.
CAMPAIGN_TWIN_SECONDS = 10.0
TWIN_SLICE = 1_000

# Writes aim at this many seconds each (see _WriteSize), from FIRST_WRITE codes, never fewer than MIN_WRITE.
WRITE_SECONDS = 0.5
FIRST_WRITE = 1_000
MIN_WRITE = 100


def run_upload(
    store,
    campaign_id: str,
    code_type: CodeType,
    source,
    size: int | None,
    *,
    clock: Clock,
    batch_size: int,
    max_length: int,
    column: str | int | None = None,
    progress: ProgressCallback | None = None,
    cancel: Cancel | None = None,
) -> UploadResult:
    """Upload the codes of a binary CSV stream into one campaign and type.

    `column` chooses the code column (a header name or a 1-based number; see csvcodes).
    Returns the exact counts, `in == inserted + updated + conflicts + duplicates`, where a
    duplicate is a repeat of a code earlier in the file: counted here within a batch, and by
    the store (`BatchWrite.duplicates`) across batches. A code stored under the other type is
    a conflict each time it appears in a different batch. Also returns the file's warnings
    and layout. Raises BadFile (naming the line), including for a file with no codes, before
    anything is written; or Cancelled.
    """
    digest = Digesting(source)
    reader = CodeReader(digest, max_length=max_length, column=column)
    twins = StoredTwins(store, campaign_id)
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", prefix="code-console-upload-") as spool:
        total = 0
        for block in reader.blocks():
            _check(cancel)
            twins.add(block)  # before anything is written: the campaign as it was
            if progress and total:  # the blocks before this one; the last block's report is the final one below
                progress(UploadProgress("validating", total, None, reader.bytes_read, size))
            spool.write(block.text)
            spool.write("\n")
            total += len(block.codes)
        if total == 0:
            raise reader.no_codes_problem()
        _check(cancel)
        read_bytes = reader.bytes_read
        if progress:
            progress(UploadProgress("validating", total, total, read_bytes, read_bytes))
        spool.seek(0)

        now = clock()
        batches = -(-total // batch_size)
        inserted = updated = conflicts = duplicates = done = 0
        writes = _WriteSize(batch_size)
        try:
            for number in range(1, batches + 1):
                batch = [line[:-1] for line in itertools.islice(spool, batch_size)]
                unique = list(dict.fromkeys(batch))  # the store's contract: codes unique within a batch
                repeats = len(batch) - len(unique)
                duplicates += repeats
                done += repeats  # read and counted; nothing to write for them
                start = 0
                while start < len(unique):
                    if cancel is not None and cancel.is_set():
                        # Checked before every write: nothing starts after the user's answer.
                        raise Cancelled(
                            None,
                            f"upload cancelled after {done:,} of {total:,} codes "
                            f"({inserted:,} inserted, {updated:,} updated); re-running it is safe and completes it",
                        )
                    part = unique[start : start + writes.size]
                    began = time.monotonic()
                    written = store.write_batch(campaign_id, code_type, part, now)
                    writes.took(len(part), time.monotonic() - began)
                    start += len(part)
                    inserted += written.inserted
                    updated += written.updated
                    conflicts += written.conflicts
                    duplicates += written.duplicates
                    done += len(part)
                    if progress:
                        progress(UploadProgress("writing", done, total, read_bytes, read_bytes, number, batches))
        except BaseException as exc:
            # Cancelled, the store failing, ^C: what was written is a change like any other, and
            # the audit trail records it (CodeService reads `partial`) with how far it got.
            if done:
                exc.partial = UploadResult(  # type: ignore[attr-defined]
                    in_=done, inserted=inserted, updated=updated, conflicts=conflicts, duplicates=duplicates,
                    layout=reader.layout, sha256=digest.hexdigest(), saved=now,
                )
            raise
        return UploadResult(
            in_=done,
            inserted=inserted,
            updated=updated,
            conflicts=conflicts,
            duplicates=duplicates,
            warnings=tuple(reader.warnings()) + twins.warnings(),
            layout=reader.layout,
            sha256=digest.hexdigest(),
            saved=now,
        )


class StoredTwins:
    """Codes of a file that differ only by letter case from codes already in the campaign.

    Fed each block as it is read (before any write), it asks the store (Store.case_twins) about
    the first codes of the file, at most CAMPAIGN_TWIN_WINDOW of them and for at most
    CAMPAIGN_TWIN_SECONDS, and keeps a count and the first WARNING_EXAMPLES examples (line,
    code, the stored twin). A store that fails or is slow ends the check, never the upload.
    warnings() gives () or one CodeWarning(CASE_TWIN_STORED), with `checked` set when some codes
    of the file were not compared.
    """

    def __init__(self, store, campaign_id: str, window: int | None = None, seconds: float | None = None) -> None:
        self._store = store
        self._campaign = campaign_id
        self._window = CAMPAIGN_TWIN_WINDOW if window is None else window
        self._seconds = CAMPAIGN_TWIN_SECONDS if seconds is None else seconds
        self._deadline: float | None = None
        self.checked = 0
        self.skipped = 0  # codes of the file not compared (past the window or the time budget)
        self.count = 0
        self.examples: list[WarningExample] = []

    def add(self, block: CodeBlock) -> None:
        if self._deadline is None:
            self._deadline = time.monotonic() + self._seconds
        for start in range(0, len(block.codes), TWIN_SLICE):
            codes = block.codes[start : start + TWIN_SLICE]
            if self.checked >= self._window or time.monotonic() > self._deadline:
                self.skipped += len(codes)
                continue
            codes = codes[: self._window - self.checked]
            lines = block.lines[start : start + len(codes)]
            self.skipped += min(TWIN_SLICE, len(block.codes) - start) - len(codes)
            try:
                found = self._store.case_twins(self._campaign, list(dict.fromkeys(codes)))
            except StoreUnavailable:
                # Only a warning: the upload goes on (its writes say whether the store is there).
                self._deadline = 0.0
                self.skipped += len(codes)
                continue
            self.checked += len(codes)
            for code, line in zip(codes, lines):
                other = found.get(code)
                if other is not None:
                    self.count += 1
                    if len(self.examples) < WARNING_EXAMPLES:
                        self.examples.append(WarningExample(line, code, other))

    def warnings(self) -> tuple[CodeWarning, ...]:
        if not self.count:
            return ()
        checked = self.checked if self.skipped else None
        return (CodeWarning(WarningKind.CASE_TWIN_STORED, self.count, tuple(self.examples), checked=checked),)


class _WriteSize:
    """How many codes one write sends: about WRITE_SECONDS' worth on this store, measured as it
    goes, so that a cancel is answered within a couple of seconds even on a slow server (on
    SecantusDB a whole 50,000-code batch took 63 s) while a fast one still writes big batches."""

    def __init__(self, batch_size: int) -> None:
        self.most = batch_size
        self.size = min(FIRST_WRITE, batch_size)

    def took(self, codes: int, seconds: float) -> None:
        if codes < self.size:
            return  # a short last write says nothing about the rate
        # Doubled below WRITE_SECONDS (so a write takes 0.5-1 s, each under 2 s): fewer, larger
        # writes; each write is one round trip and a probe more (bench: 5 writes for 5,000 codes
        # on SecantusDB where 3 do, and a re-upload 1.2x the original's single bulk).
        if seconds < WRITE_SECONDS:
            self.size = min(self.most, self.size * 2)
        elif seconds > WRITE_SECONDS * 2:
            self.size = max(MIN_WRITE, self.size // 2)


def _check(cancel: Cancel | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled(None, "upload cancelled before anything was written")
