"""Counts: round trips per count, and time on SecantusDB at 1,000 and 20,000 codes (and the upload rate there)."""

from __future__ import annotations

import io
import statistics
import time
import uuid

from code_console.core.models import LOCAL_OPERATOR as ME
from code_console.core.mongo import connect
from code_console.core.service import CodeService

from bench.common import CommandCounter


def run(uri: str, sizes=(1_000, 20_000)) -> dict:
    out: dict = {}
    for size in sizes:
        counter = CommandCounter()
        store = connect(uri, f"bench_{uuid.uuid4().hex[:8]}", timeout_seconds=30, batch_timeout_seconds=600, event_listeners=[counter])
        store.prepare()
        service = CodeService(store, batch_size=5_000)
        data = io.BytesIO("".join(f"N{i:06d}\n" for i in range(size)).encode())
        began = time.perf_counter()
        service.upload_from_file(ME, "N", "tm", data)
        upload_s = time.perf_counter() - began
        got = service.reserve(ME, "N", "tm", size // 10).codes
        service.assign(ME, "N", got[: size // 20])
        times = []
        for _ in range(5):
            counter.reset()
            began = time.perf_counter()
            counts = service.count(ME, "N", "tm")
            times.append(time.perf_counter() - began)
        assert counts == {"available": size - size // 10, "reserved": size // 10 - size // 20, "assigned": size // 20}, counts
        out[size] = {"cmds": counter.total, "ms_median": 1000 * statistics.median(times), "upload_codes_per_s": size / upload_s}
        store.collection.drop()
        store.close()
    return out
