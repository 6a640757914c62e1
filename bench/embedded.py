"""The embedded store (the demo's): upload 100,000 codes, then the counts the console refreshes."""

from __future__ import annotations

import io
import statistics
import time

from code_console.core.models import LOCAL_OPERATOR as ME
from code_console.core.service import CodeService

from tests.stores import embedded_store


def run(codes: int = 100_000) -> dict:
    service = CodeService(embedded_store())
    data = "".join(f"E{i:07d}\n" for i in range(codes)).encode()
    began = time.perf_counter()
    result = service.upload_from_file(ME, "DEMO", "tm", io.BytesIO(data))
    upload_s = time.perf_counter() - began
    assert result.inserted == codes
    service.reserve(ME, "DEMO", "tm", 5_000).codes
    times = []
    for _ in range(10):
        began = time.perf_counter()
        service.campaigns(ME)
        times.append(time.perf_counter() - began)
    return {"codes": codes, "upload_s": upload_s, "refresh_ms": 1000 * statistics.median(times)}
