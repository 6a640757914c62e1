"""Several `code-console serve` processes on one MongoDB (SecantusDB) never hand out a code twice."""

from __future__ import annotations

import os
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle

import httpx
import pytest

from tests.api.conftest import SECRET, csv_body, hs256
from tests.servers import ServeProcess

pytestmark = pytest.mark.realserver

INSTANCES = 3
POOL = 600
COUNT = 8
THREADS = 24
# Phase 1 asks for less than the pool: every call must get its full count.
PHASE1_REQUESTS = 60  # 480 codes
# Phase 2 asks for far more than is left: the pool must run out exactly.
PHASE2_REQUESTS = 40  # 320 codes for the 120 left


@pytest.fixture
def instances(secantus):
    db = f"api_multi_{uuid.uuid4().hex[:10]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE_CONSOLE_")}
    env.update(
        CODE_CONSOLE_MONGO_URI=secantus.uri,
        CODE_CONSOLE_MONGO_DB=db,
        CODE_CONSOLE_MONGO_TIMEOUT_SECONDS="30",
        CODE_CONSOLE_JWT_SECRET=SECRET,
        CODE_CONSOLE_API_LOG_LEVEL="info",
    )
    procs = [ServeProcess(env) for _ in range(INSTANCES)]
    try:
        for p in procs:
            p.wait_listening()
        yield procs
    finally:
        for p in procs:
            p.stop()
        import pymongo

        client = pymongo.MongoClient(secantus.uri)
        client.drop_database(db)
        client.close()


def test_concurrent_reserves_across_instances_never_duplicate(instances):
    token = hs256()
    headers = {"Authorization": f"Bearer {token}"}
    bases = [f"http://127.0.0.1:{p.port}" for p in instances]
    campaign = f"MULTI{uuid.uuid4().hex[:6]}"
    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "http"):
            local.http = httpx.Client(timeout=120, headers=headers)
        return local.http

    with httpx.Client(timeout=120, headers=headers) as http:
        for base in bases:
            beat = http.get(f"{base}/heartbeat")
            assert beat.status_code == 200
            assert beat.json()["status"] == "ok"
            assert beat.json()["store"].startswith("mongodb://127.0.0.1:")  # a supreme caller learns the store
        uploaded = http.post(
            f"{bases[0]}/{campaign}/codes?type=tm",
            content=csv_body(f"M{i:05d}" for i in range(POOL)),
            headers={"Content-Type": "text/csv"},
        )
        assert uploaded.json()["data"] == {"count": {"in": POOL, "inserted": POOL, "updated": 0}}

    def reserve(base: str) -> list[str]:
        response = client().get(f"{base}/{campaign}/reserve", params={"count": COUNT, "type": "tm"})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def fire(requests: int) -> list[list[str]]:
        targets = [b for _, b in zip(range(requests), cycle(bases))]
        with ThreadPoolExecutor(THREADS) as pool:
            return list(pool.map(reserve, targets))

    phase1 = fire(PHASE1_REQUESTS)
    phase2 = fire(PHASE2_REQUESTS)

    every = [code for batch in phase1 + phase2 for code in batch]
    duplicates = len(every) - len(set(every))
    shortfalls_while_stock_lasted = sum(1 for batch in phase1 if len(batch) != COUNT)
    print(
        f"\nmulti-instance: {INSTANCES} instances, {PHASE1_REQUESTS + PHASE2_REQUESTS} reserve requests "
        f"x {COUNT} from {THREADS} threads, pool {POOL}: {len(every)} codes handed out, {duplicates} duplicates, "
        f"{shortfalls_while_stock_lasted} shortfalls while stock lasted, phase 2 got {sum(map(len, phase2))} "
        f"of the {POOL - COUNT * PHASE1_REQUESTS} left"
    )
    assert duplicates == 0
    assert shortfalls_while_stock_lasted == 0
    assert len(every) == POOL  # demand exceeded the pool: all of it, and not one code more
    assert set(every) == {f"M{i:05d}" for i in range(POOL)}

    with httpx.Client(timeout=120, headers=headers) as http:
        counts = http.get(f"{bases[1]}/{campaign}/codes/count", params={"type": "tm"}).json()["data"]
        assert counts == {"available": 0, "reserved": POOL, "assigned": 0}
        assert http.get(f"{bases[2]}/{campaign}/reserve", params={"count": 1, "type": "tm"}).json()["data"] == []
        # Every instance took its share of the traffic.
        for base in bases:
            text = http.get(f"{base}/metrics").text
            served = re.search(r'code_console_http_requests_total\{method="GET",route="/\{campaignId\}/reserve",status="200"\} (\d+)', text)
            assert served and int(served.group(1)) >= (PHASE1_REQUESTS + PHASE2_REQUESTS) // INSTANCES
