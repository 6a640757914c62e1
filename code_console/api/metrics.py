"""Prometheus metrics in the text exposition format (version 0.0.4), kept in process.

Requests and latency by route template (never the raw path, so campaigns cannot blow up the
label set), method and status; codes reserved, assigned and released by this instance.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple, int] = defaultdict(int)
        # key -> [bucket counts..., +Inf count], sum
        self._latency_counts: dict[tuple, list[int]] = {}
        self._latency_sums: dict[tuple, float] = defaultdict(float)
        self._codes: dict[tuple, int] = defaultdict(int)  # (operation,) -> codes

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (("route", route), ("method", method), ("status", str(status)))
        with self._lock:
            self._requests[key] += 1
            counts = self._latency_counts.get(key)
            if counts is None:
                counts = self._latency_counts[key] = [0] * (len(LATENCY_BUCKETS) + 1)
            counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
            self._latency_sums[key] += seconds

    def codes(self, operation: str, n: int) -> None:
        if n > 0:
            with self._lock:
                self._codes[(("operation", operation),)] += n

    def requests_total(self, route: str, method: str, status: int) -> int:
        with self._lock:
            return self._requests.get((("route", route), ("method", method), ("status", str(status))), 0)

    def render(self) -> str:
        with self._lock:
            requests = dict(self._requests)
            counts = {k: list(v) for k, v in self._latency_counts.items()}
            sums = dict(self._latency_sums)
            codes = dict(self._codes)
        lines = [
            "# HELP code_console_http_requests_total HTTP requests handled, by route template, method and status.",
            "# TYPE code_console_http_requests_total counter",
        ]
        for key in sorted(requests):
            lines.append(f"code_console_http_requests_total{_labels(key)} {requests[key]}")
        lines += [
            "# HELP code_console_http_request_duration_seconds HTTP request latency, by route template, method and status.",
            "# TYPE code_console_http_request_duration_seconds histogram",
        ]
        for key in sorted(counts):
            cumulative = 0
            for bound, n in zip(LATENCY_BUCKETS + (float("inf"),), counts[key]):
                cumulative += n
                le = "+Inf" if bound == float("inf") else repr(bound)
                lines.append(f"code_console_http_request_duration_seconds_bucket{_labels(key + (('le', le),))} {cumulative}")
            lines.append(f"code_console_http_request_duration_seconds_sum{_labels(key)} {sums[key]:.6f}")
            lines.append(f"code_console_http_request_duration_seconds_count{_labels(key)} {cumulative}")
        lines += [
            "# HELP code_console_codes_total Codes reserved, assigned and released through this instance.",
            "# TYPE code_console_codes_total counter",
        ]
        for operation in ("reserved", "assigned", "released"):
            key = (("operation", operation),)
            lines.append(f"code_console_codes_total{_labels(key)} {codes.get(key, 0)}")
        return "\n".join(lines) + "\n"
