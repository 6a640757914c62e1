"""Prometheus metrics through prometheus_client, one registry per app (tests build many apps).

The product's names and the original service's side by side, so that its dashboards keep
working: `http_request_count` and `http_response_duration_seconds` (by path, method, status),
`code_console_http_requests_total` and `code_console_http_request_duration_seconds` (by route,
method, status), `code_console_codes_total` (by operation), and the process collectors
(CPU, memory, file descriptors, GC, Python).

Every label value comes from a fixed set, so /metrics stays small whatever arrives: the
route is the matched template or "unmatched", the method one of METHODS or "other", the
status a valid HTTP status or "other".
"""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, GCCollector, Histogram, PlatformCollector, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from code_console.core.models import ChangeEvent, EventKind

# generate_latest writes the classic text format, version 0.0.4.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
OTHER = "other"
OPERATIONS = ("reserved", "assigned", "released")


def method_label(method: str) -> str:
    return method if method in METHODS else OTHER


def status_label(status: int) -> str:
    return str(status) if isinstance(status, int) and 100 <= status <= 599 else OTHER


class _PlainCount(Collector):
    """A count exposed under its exact name, as the original's prom-client did (`http_request_count`,
    no `_total` suffix, which prometheus_client's Counter would add). Typed "untyped": PromQL's
    rate() and increase() work on it all the same."""

    def __init__(self, name: str, documentation: str, label_names: tuple[str, ...]) -> None:
        self.name, self.documentation, self.label_names = name, documentation, label_names
        self._lock = threading.Lock()
        self._values: dict[tuple[str, ...], int] = {}

    def inc(self, labels: tuple[str, ...]) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0) + 1

    def collect(self):
        metric = Metric(self.name, self.documentation, "unknown")
        with self._lock:
            values = sorted(self._values.items())
        for labels, value in values:
            metric.add_sample(self.name, dict(zip(self.label_names, labels)), value)
        yield metric

    def describe(self):
        yield Metric(self.name, self.documentation, "unknown")


_OPERATION_BY_EVENT = {
    EventKind.RESERVED: "reserved",
    EventKind.ASSIGNED: "assigned",
    EventKind.RELEASED: "released",
    EventKind.RESERVATION_RELEASED: "released",
}


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        labels = ("route", "method", "status")
        self._requests = Counter(
            "code_console_http_requests", "HTTP requests handled, by route template, method and status.", labels, registry=self.registry
        )
        self._latency = Histogram(
            "code_console_http_request_duration_seconds",
            "HTTP request latency, by route template, method and status.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        # The original service's names (its dashboards and alerts use them).
        original = ("path", "method", "status")
        self._original_count = _PlainCount("http_request_count", "HTTP requests, by path template, method and status.", original)
        self.registry.register(self._original_count)
        self._original_duration = Histogram(
            "http_response_duration_seconds",
            "HTTP response time, by path template, method and status.",
            original,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._codes = Counter("code_console_codes", "Codes reserved, assigned and released through this instance.", ("operation",), registry=self.registry)
        for operation in OPERATIONS:
            self._codes.labels(operation)  # present at 0 from the start

    def observe_request(self, route: str | None, method: str, status: int, seconds: float) -> None:
        labels = (route or UNMATCHED, method_label(method), status_label(status))
        self._requests.labels(*labels).inc()
        self._latency.labels(*labels).observe(seconds)
        self._original_count.inc(labels)
        self._original_duration.labels(*labels).observe(seconds)

    def codes(self, operation: str, n: int) -> None:
        if operation in OPERATIONS and n > 0:
            self._codes.labels(operation).inc(n)

    def observe_change(self, event: ChangeEvent) -> None:
        """A CodeService observer: codes reserved, assigned and released through this instance."""
        operation = _OPERATION_BY_EVENT.get(event.kind)
        if operation is not None:
            self.codes(operation, len(event.codes))

    def render(self) -> bytes:
        return generate_latest(self.registry)
