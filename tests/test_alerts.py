"""Low-stock alerts: a local HTTP receiver on 127.0.0.1 checks each POST's body and signature;
a receiver error is retried; no repeat while low; a new crossing after recovery fires again;
two checkers on one store send one alert. On every store (embedded, mongomock, SecantusDB)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from code_console.core.alerts import (
    DELIVERY_HEADER,
    EMPTY_SOON,
    LOW_STOCK,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AlertChecker,
    AlertPolicy,
    Webhook,
)
from code_console.core.models import CodeType
from code_console.core.mongo import connect
from code_console.core.service import CodeService
from code_console.core.sqlite import SqliteStore

from tests.conftest import ME, T0, secantus_store
from tests.stores import embedded_path

SECRET = "alert-secret-" + "x" * 20


class Receiver:
    """An HTTP receiver on 127.0.0.1: records every POST, answers with the statuses queued (then 200)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict, bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/codes"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _, body in self.requests]

    def verify(self, headers: dict, body: bytes) -> bool:
        """What a receiver does: recompute the HMAC over "timestamp.body" and compare in constant time."""
        expected = "sha256=" + hmac.new(SECRET.encode(), headers[TIMESTAMP_HEADER.lower()].encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, headers[SIGNATURE_HEADER.lower()])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


POLICY = AlertPolicy(thresholds={CodeType.TM: 10, CodeType.EXTERNAL: 5})


def checker(service, receiver, policy=POLICY, sleeps=None) -> AlertChecker:
    webhook = Webhook(receiver.url, SECRET, timeout_seconds=5, attempts=3, backoff_seconds=0.5)
    return AlertChecker(service, ME, policy, webhook, sleep=(sleeps.append if sleeps is not None else lambda s: None))


def upload(service, campaign, code_type, prefix, n):
    service.upload_from_file(ME, campaign, code_type, io.BytesIO("".join(f"{prefix}{i:03d}\n" for i in range(n)).encode()))


def test_a_crossing_fires_one_signed_webhook_and_not_again_while_low(service, clock, receiver):
    upload(service, "C1", "tm", "T", 20)
    upload(service, "C1", "external", "E", 20)
    watch = checker(service, receiver)
    assert watch.check().fired == [] and receiver.requests == []  # 20 available, threshold 10
    clock.advance(minutes=5)
    service.assign(ME, "C1", service.reserve(ME, "C1", "tm", 12).codes[:6])  # 8 available now
    result = watch.check()
    assert [(a.campaign_id, a.code_type, a.kind, a.crossing) for a in result.fired] == [("C1", CodeType.TM, LOW_STOCK, 1)]
    assert len(result.delivered) == 1 and len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    assert receiver.verify(headers, body)
    assert headers["content-type"] == "application/json" and headers[DELIVERY_HEADER.lower()] == "C1|tm|low_stock#1"
    assert json.loads(body) == {
        "event": "alert", "kind": "low_stock", "campaignId": "C1", "type": "tm", "crossing": 1,
        "at": (T0 + timedelta(minutes=5)).isoformat(), "available": 8, "threshold": 10,
        "assignedPerHour": 0.25, "window": "24h", "timeToEmptySeconds": 115200, "horizonSeconds": None,
        "message": "C1 tm: 8 codes available, below 10 (empty in 32 h)",
    }
    tampered = body.replace(b'"available":8', b'"available":9')
    assert not receiver.verify(headers, tampered)
    record = {r.key: r for r in service.alerts(ME)}["C1|tm|low_stock"]
    assert (record.low, record.crossing, record.delivered) == (True, 1, T0 + timedelta(minutes=5))
    clock.advance(minutes=5)
    service.reserve(ME, "C1", "tm", 2)  # lower still
    assert watch.check().fired == [] and len(receiver.requests) == 1


def test_fires_again_after_recovery_and_a_new_crossing(service, clock, receiver):
    upload(service, "C1", "tm", "T", 12)
    watch = checker(service, receiver)
    service.reserve(ME, "C1", "tm", 4)  # 8 left
    assert [a.crossing for a in watch.check().fired] == [1]
    upload(service, "C1", "tm", "U", 10)  # 18 left: recovered
    clock.advance(minutes=1)
    result = watch.check()
    assert result.fired == [] and result.recovered == ["C1|tm|low_stock"]
    clock.advance(minutes=1)
    service.reserve(ME, "C1", "tm", 9)  # 9 left: a new crossing
    again = watch.check()
    assert [a.crossing for a in again.fired] == [2]
    assert [(b["crossing"], b["available"]) for b in receiver.bodies()] == [(1, 8), (2, 9)]
    assert receiver.requests[1][0][DELIVERY_HEADER.lower()] == "C1|tm|low_stock#2"


def test_a_receiver_error_is_retried_with_backoff(service, receiver):
    upload(service, "C1", "tm", "T", 5)
    receiver.statuses = [500, 503]
    sleeps: list[float] = []
    result = checker(service, receiver, sleeps=sleeps).check()
    assert len(result.delivered) == 1 and len(receiver.requests) == 3
    assert sleeps == [0.5, 1.0]  # exponential
    ids = {h[DELIVERY_HEADER.lower()] for h, _ in receiver.requests}
    assert ids == {"C1|tm|low_stock#1"} and all(receiver.verify(h, b) for h, b in receiver.requests)


def test_a_refusal_is_not_retried_and_is_recorded_undelivered(service, receiver):
    upload(service, "C1", "tm", "T", 5)
    receiver.statuses = [401]
    result = checker(service, receiver).check()
    assert result.delivered == [] and len(result.failed) == 1 and "401" in result.failed[0][1]
    assert len(receiver.requests) == 1
    assert {r.key: r.delivered for r in service.alerts(ME)} == {"C1|tm|low_stock": None}


def test_an_undelivered_alert_is_sent_again_by_the_next_check_while_low(service, clock, receiver):
    upload(service, "C1", "tm", "T", 5)
    receiver.statuses = [500, 500, 500]  # every attempt of the first check fails
    watch = checker(service, receiver)
    first = watch.check()
    assert len(first.failed) == 1 and len(receiver.requests) == 3
    assert watch.check().redelivered == []  # the same instant: not yet
    clock.advance(minutes=1)
    second = watch.check()
    assert second.fired == [] and second.redelivered == ["C1|tm|low_stock#1"] and len(receiver.requests) == 4
    assert receiver.requests[-1][0][DELIVERY_HEADER.lower()] == "C1|tm|low_stock#1" and receiver.verify(*receiver.requests[-1])
    assert receiver.bodies()[-1] == receiver.bodies()[0]  # the alert as it was, not re-read
    clock.advance(minutes=1)
    assert watch.check().redelivered == [] and len(receiver.requests) == 4  # delivered now: done
    assert [r.delivered for r in service.alerts(ME)] == [T0 + timedelta(minutes=1)]


def test_time_to_empty_under_the_horizon(service, clock, receiver):
    upload(service, "C1", "tm", "T", 100)
    policy = AlertPolicy(thresholds={CodeType.TM: 10}, horizon=timedelta(hours=48))
    service.assign(ME, "C1", service.reserve(ME, "C1", "tm", 30).codes)  # 70 left at 30 per 24 h: 56 h
    watch = checker(service, receiver, policy)
    assert watch.check().fired == []
    clock.advance(hours=1)
    service.assign(ME, "C1", service.reserve(ME, "C1", "tm", 20).codes)  # 50 left at 50 per 24 h: 24 h
    fired = watch.check().fired
    assert [(a.kind, a.time_to_empty) for a in fired] == [(EMPTY_SOON, timedelta(hours=24))]
    assert receiver.bodies()[0]["message"] == "C1 tm: runs out in 24 h at 2.08/h (under 2 d); 50 available"


def two_services(store_kind: str, request, clock):
    """Two services on one store, each with its own connections (as two hosts would be)."""
    if store_kind == "embedded":
        path = embedded_path()
        stores = [SqliteStore(path), SqliteStore(path)]
    else:
        first = secantus_store(request.getfixturevalue("secantus"))
        second = connect(request.getfixturevalue("secantus").uri, first.collection.database.name, timeout_seconds=10, batch_timeout_seconds=60)
        stores = [first, second]
    return [CodeService(s, clock=clock) for s in stores]


@pytest.mark.parametrize("store_kind", ["embedded", pytest.param("secantus", marks=pytest.mark.realserver)])
def test_two_checkers_on_one_store_send_one_alert(store_kind, request, clock, receiver):
    services = two_services(store_kind, request, clock)
    upload(services[0], "C1", "tm", "T", 30)
    upload(services[0], "C2", "external", "E", 3)
    services[0].reserve(ME, "C1", "tm", 25)
    checkers = [checker(s, receiver) for s in services]
    barrier = threading.Barrier(len(checkers))
    results = []

    def run(c):
        barrier.wait(5)
        results.append(c.check())

    threads = [threading.Thread(target=run, args=(c,)) for c in checkers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    fired = sorted(a.delivery_id for r in results for a in r.fired)
    assert fired == ["C1|tm|low_stock#1", "C2|external|low_stock#1"]
    assert sorted(h[DELIVERY_HEADER.lower()] for h, _ in receiver.requests) == fired


def test_watch_once_from_the_command_line(receiver, tmp_path):
    import os
    import subprocess
    import sys

    path = embedded_path()
    service = CodeService(SqliteStore(path))
    upload(service, "SHOP", "tm", "T", 40)
    service.close()
    env = {**os.environ, "CODE_CONSOLE_SQLITE_PATH": str(path), "CODE_CONSOLE_ALERT_WEBHOOK_URL": receiver.url,
           "CODE_CONSOLE_ALERT_WEBHOOK_SECRET": SECRET, "CODE_CONSOLE_ALERT_THRESHOLDS": '{"SHOP": {"tm": 50}}'}
    env.pop("CODE_CONSOLE_MONGO_URI", None)
    run = subprocess.run([sys.executable, "-m", "code_console", "watch", "--once"], capture_output=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    out = json.loads(run.stdout)
    assert out["delivered"] == ["SHOP|tm|low_stock#1"] and out["fired"][0]["threshold"] == 50
    assert "code-console: alert: SHOP tm: 40 codes available, below 50 (empty in no recent use)" in run.stderr.decode().splitlines()
    assert len(receiver.requests) == 1 and receiver.verify(*receiver.requests[0])
    again = subprocess.run([sys.executable, "-m", "code_console", "watch", "--once"], capture_output=True, env=env, timeout=120)
    assert json.loads(again.stdout)["fired"] == [] and len(receiver.requests) == 1  # recorded in the store: not again
    unsigned = subprocess.run([sys.executable, "-m", "code_console", "watch", "--once"], capture_output=True, timeout=120,
                              env={**env, "CODE_CONSOLE_ALERT_WEBHOOK_SECRET": ""})
    assert unsigned.returncode == 2 and "alert_secret_missing" in unsigned.stderr.decode()


def test_the_api_server_checks_on_a_schedule(receiver, clock):
    import time

    from code_console.api.server import alert_loop, build_server

    from tests.api.conftest import settings_for

    service = CodeService(SqliteStore(embedded_path()), clock=clock)
    upload(service, "API", "external", "X", 3)
    settings = settings_for(alert_webhook_url=receiver.url, alert_webhook_secret=SECRET, alert_check_seconds=0.05, low_stock_threshold=5)
    loop = alert_loop(settings, service)
    server = build_server(service, settings, port=0, background=loop)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert server.listening.wait(15)
        deadline = time.monotonic() + 10
        while loop.checks < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert loop.checks >= 3  # on a schedule, and one alert for the one crossing
    finally:
        server.should_exit = True
        thread.join(15)
    assert [h[DELIVERY_HEADER.lower()] for h, _ in receiver.requests] == ["API|external|low_stock#1"]
    assert not loop._thread.is_alive()  # stopped with the server
