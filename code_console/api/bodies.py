"""Request bodies with bounded memory: JSON parsed off the event loop, CSV spooled to disk.

A JSON body is counted as it arrives and refused (413) past `api_max_json_bytes`, before any
parsing; it is spooled (memory up to 1 MiB, then a temporary file), then parsed in a worker
thread, at most `api_json_parse_concurrency` at once. Before parsing, a body with more
values than any legitimate request could hold is refused (400) without building them, and
nesting too deep for the parser is a 400, not a crash. So six hostile bodies at once cost the
server a few parses' worth of memory, not six.
"""

from __future__ import annotations

import json
import re
import tempfile
from typing import Any

import anyio
from starlette.requests import Request

from code_console.core.errors import InvalidInput, TooLarge
from code_console.core.service import MAX_CODES_PER_CALL

# A streamed body stays in memory up to this size, then spills to a temporary file.
SPOOL_MEMORY_BYTES = 1024 * 1024
# Values any legitimate body holds at most: the codes of one call plus a few fields.
MAX_JSON_VALUES = MAX_CODES_PER_CALL + 64
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


async def spool(request: Request, limit: int):
    """The request body in a spooled temporary file, counted as it arrives (TooLarge past `limit`)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(None, f"the request body ({int(declared):,} bytes) is over the limit of {limit:,} bytes")
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES, prefix="code-console-body-")
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise TooLarge(None, f"the request body is over the limit of {limit:,} bytes")
            body.write(chunk)
        body.seek(0)
    except BaseException:
        body.close()
        raise
    return body


class JsonReader:
    """Reads JSON request bodies within a size limit, parsing a bounded number at once."""

    def __init__(self, *, max_bytes: int, concurrency: int) -> None:
        self.max_bytes = max_bytes
        self._limiter = anyio.CapacityLimiter(concurrency)

    async def read(self, request: Request) -> Any:
        body = await spool(request, self.max_bytes)
        try:
            return await anyio.to_thread.run_sync(_parse, body, limiter=self._limiter)
        finally:
            body.close()


def _parse(body) -> Any:
    raw = body.read()
    if not raw.strip():
        raise InvalidInput("invalid_json", "the request body is empty; expected JSON")
    _check_value_count(raw)
    try:
        return json.loads(raw)
    except RecursionError:
        raise InvalidInput("invalid_json", "the request body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("invalid_json", "the request body is not valid JSON") from None


def _check_value_count(raw: bytes) -> None:
    """Refuse a body with more values than a legitimate one holds, before building them.

    Values in arrays and objects are separated by commas; commas inside strings do not count.
    The quick count covers every legitimate body; only a suspicious one pays for the exact count.
    """
    if raw.count(b",") <= MAX_JSON_VALUES:
        return
    if _JSON_STRING.sub(b'""', raw).count(b",") > MAX_JSON_VALUES:
        raise InvalidInput(
            "invalid_json", f"the request body holds more than {MAX_JSON_VALUES:,} values; at most {MAX_CODES_PER_CALL:,} codes per call"
        )
