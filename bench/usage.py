"""Usage (rates and time to empty): commands and time of `CodeService.usage` on SecantusDB at
20,000 codes with a day of traffic, next to the counts it includes. `python -m bench.usage`."""

from __future__ import annotations

import io
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

from code_console.core.models import LOCAL_OPERATOR as ME
from code_console.core.mongo import connect
from code_console.core.service import CodeService

from bench.common import CommandCounter, secantus_server


def run(uri: str, size: int = 20_000, hours: int = 24, per_hour: int = 100) -> dict:
    counter = CommandCounter()
    store = connect(uri, f"bench_{uuid.uuid4().hex[:8]}", timeout_seconds=60, batch_timeout_seconds=600, event_listeners=[counter])
    store.prepare()
    now = [datetime(2026, 3, 1, tzinfo=timezone.utc)]
    service = CodeService(store, clock=lambda: now[0], batch_size=5_000)
    service.upload_from_file(ME, "U", "tm", io.BytesIO("".join(f"U{i:06d}\n" for i in range(size)).encode()))
    for _ in range(hours):  # a day of traffic: per hour, `per_hour` reserved and half of them assigned
        now[0] += timedelta(hours=1)
        got = service.reserve(ME, "U", "tm", per_hour).codes
        service.assign(ME, "U", got[: per_hour // 2])
    out: dict = {"codes": size, "events": hours * per_hour * 3 // 2}
    for window in ("24h", "7d"):
        times, cmds = [], 0
        for _ in range(3):
            counter.reset()
            began = time.perf_counter()
            usage = service.usage(ME, "U", window)
            times.append(time.perf_counter() - began)
            cmds = counter.total
        tm = next(iter(usage.types.values()))
        out[window] = {"cmds": cmds, "ms_median": 1000 * statistics.median(times), "assigned": tm.assigned, "tte": str(tm.time_to_empty)}
    times = []
    for _ in range(3):
        began = time.perf_counter()
        service.campaign_counts(ME, "U")
        times.append(time.perf_counter() - began)
    out["counts_ms_median"] = 1000 * statistics.median(times)
    from code_console.core.export import render

    counter.reset()
    began = time.perf_counter()
    size_bytes = sum(len(chunk) for chunk in render(service.export(ME, "U", "tm").records, "csv"))
    out["export"] = {"codes": size, "bytes": size_bytes, "s": time.perf_counter() - began, "cmds": counter.total}
    store.collection.drop()
    store.close()
    return out


if __name__ == "__main__":
    with secantus_server() as server:
        print(run(server.uri))
    sys.exit(0)
