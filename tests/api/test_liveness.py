"""/heartbeat answers while slow calls fill the shared worker threads (a hostile or merely busy
client must not make a load balancer think the instance is dead)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.api.conftest import running, settings_for

SLOW_CALLS = 48  # more than anyio's 40 worker threads


def test_heartbeat_answers_while_slow_counts_hold_every_shared_thread(memory_service):
    release = threading.Event()
    entered = threading.Semaphore(0)
    original = memory_service.counts

    def slow_counts(*args, **kwargs):
        entered.release()
        release.wait(30)
        return original(*args, **kwargs)

    memory_service.counts = slow_counts
    with running(memory_service, settings_for()) as api, ThreadPoolExecutor(SLOW_CALLS) as pool:
        try:
            counts = [pool.submit(api.get, "/CAMP1/codes/count?type=tm") for _ in range(SLOW_CALLS)]
            for _ in range(40):  # the shared pool is full: 40 calls are inside the core
                assert entered.acquire(timeout=20)
            with httpx.Client(base_url=api.base, timeout=5) as probe:
                beat = probe.get("/heartbeat")
            assert beat.status_code == 200 and beat.json() == {"status": "ok"}
            assert not any(f.done() for f in counts)  # the counts were still waiting meanwhile
        finally:
            release.set()
        assert [f.result().status_code for f in counts] == [200] * SLOW_CALLS


def test_heartbeat_answers_head_for_load_balancers(api):
    beat = api.http.head("/heartbeat")
    assert beat.status_code == 200 and beat.content == b""
    assert beat.headers["content-type"] == "application/json"


def test_two_idempotency_keys_are_refused_not_one_picked(api):
    from tests.api.conftest import hs256

    upload = api.post("/CAMPK/codes?type=tm", content=b"K1\nK2\n", headers={"Content-Type": "text/csv"})
    assert upload.status_code == 200
    sent = httpx.Headers([("Authorization", f"Bearer {hs256()}"), ("Idempotency-Key", "KK"), ("Idempotency-Key", "KK2")])
    answer = api.http.get("/CAMPK/reserve?count=1&type=tm", headers=sent)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "2 Idempotency-Key headers were sent: send one"
    from tests.conftest import ME

    assert api.service.count(ME, "CAMPK", "tm") == {"available": 2, "reserved": 0, "assigned": 0}
