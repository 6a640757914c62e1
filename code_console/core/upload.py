"""The upload pipeline: validate a whole CSV stream, then write its codes in batches.

Validation first means a rejected file writes nothing at all. The first pass writes the
clean codes, one per line, to a temporary file; the second reads them back without parsing
CSV again. So any stream (S3, stdin, an HTTP body) is read from its source once and memory
stays flat whatever the file's size.
"""

from __future__ import annotations

import itertools
import tempfile

from code_console.core.csvcodes import iter_codes
from code_console.core.errors import Cancelled
from code_console.core.models import Cancel, Clock, CodeType, ProgressCallback, UploadProgress, UploadResult

# Codes validated between two progress reports (and cancel checks) of the first pass.
PROGRESS_EVERY = 65_536


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
    progress: ProgressCallback | None = None,
    cancel: Cancel | None = None,
) -> UploadResult:
    """Upload the codes of a binary CSV stream into one campaign and type.

    Returns the exact counts (`in == inserted + updated + conflicts + duplicates`). Raises
    BadFile (naming the line) before anything is written, or Cancelled.
    """
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", prefix="code-console-upload-") as spool:
        counter = [0]
        total = 0
        pending: list[str] = []
        for _, code in iter_codes(source, max_length=max_length, counter=counter):
            pending.append(code)
            if len(pending) == PROGRESS_EVERY:
                spool.write("\n".join(pending) + "\n")
                total += len(pending)
                pending.clear()
                _check(cancel)
                if progress:
                    progress(UploadProgress("validating", total, None, counter[0], size))
        if pending:
            spool.write("\n".join(pending) + "\n")
            total += len(pending)
        _check(cancel)
        read_bytes = counter[0]
        if progress:
            progress(UploadProgress("validating", total, total, read_bytes, read_bytes))
        spool.seek(0)

        now = clock()
        batches = -(-total // batch_size)
        inserted = updated = conflicts = duplicates = done = 0
        for number in range(1, batches + 1):
            batch = [line[:-1] for line in itertools.islice(spool, batch_size)]
            written = store.write_batch(campaign_id, code_type, batch, now)
            inserted += written.inserted
            updated += written.updated
            conflicts += written.conflicts
            duplicates += written.duplicates
            done += len(batch)
            if progress:
                progress(UploadProgress("writing", done, total, read_bytes, read_bytes, number, batches))
            if cancel is not None and cancel.is_set() and done < total:
                raise Cancelled(
                    None,
                    f"upload cancelled after {done:,} of {total:,} codes "
                    f"({inserted:,} inserted, {updated:,} updated); re-running it is safe and completes it",
                )
        return UploadResult(in_=done, inserted=inserted, updated=updated, conflicts=conflicts, duplicates=duplicates)


def _check(cancel: Cancel | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled(None, "upload cancelled before anything was written")
