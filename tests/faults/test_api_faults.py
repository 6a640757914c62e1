"""The HTTP API under faults, on a real uvicorn on 127.0.0.1: MongoDB unreachable then back (503
with Retry-After, then 200), an injected write failure on reserve retried with its
Idempotency-Key, and a battery of malformed requests that leaves SecantusDB's data unchanged."""

from __future__ import annotations

import io
import time
import uuid

import pytest

pytest.importorskip("code_console.api.app")

from code_console.core.mongo import connect  # noqa: E402
from code_console.core.service import CodeService  # noqa: E402

from tests.api.conftest import hs256, running, settings_for  # noqa: E402
from tests.conftest import ME, FakeClock, secantus_store  # noqa: E402
from tests.faults.conftest import report, snapshot  # noqa: E402
from tests.servers import SecantusServer, free_port, secantus_binary  # noqa: E402

pytestmark = pytest.mark.realserver


def _error(response) -> dict:
    return response.json()["error"]


def test_unreachable_mongodb_is_503_within_the_timeout_then_the_api_recovers():
    if secantus_binary() is None:
        pytest.skip("secantusd-py is not installed")
    port = free_port()
    store = connect(f"mongodb://127.0.0.1:{port}/?directConnection=true", "api", timeout_seconds=1, batch_timeout_seconds=5)
    service = CodeService(store, clock=FakeClock())
    server = SecantusServer()
    server.port = port
    with running(service, settings_for(api_retry_after_seconds=3)) as api:
        requests = {
            "upload": lambda: api.post("/API/codes", params={"type": "tm"}, content=b"A1\nA2\nA3\n", headers={"Content-Type": "text/csv"}),
            "reserve": lambda: api.get("/API/reserve", params={"count": 2, "type": "tm"}, headers={"Idempotency-Key": "api-1"}),
            "assign": lambda: api.post("/API/assign", json={"codes": ["A1"]}),
            "release": lambda: api.post("/API/release", json={"codes": ["A1"]}),
            "count": lambda: api.get("/API/codes/count", params={"type": "tm"}),
            "heartbeat": lambda: api.http.get("/heartbeat"),
        }
        slowest = 0.0
        for name, send in requests.items():
            began = time.monotonic()
            response = send()
            slowest = max(slowest, time.monotonic() - began)
            assert response.status_code == 503, name
            assert response.headers["Retry-After"] == "3"
            if name == "heartbeat":
                assert response.json() == {"status": "unavailable"}  # anonymous: no URI, no detail
                continue
            assert _error(response)["code"] == "store_unavailable"
            assert _error(response)["message"].startswith("MongoDB is unreachable")
        assert "retrying with the same key 'api-1' is safe" in _error(requests["reserve"]())["message"]
        assert slowest < 15

        server.start()
        try:
            up = time.monotonic()
            assert requests["upload"]().json()["data"] == {"count": {"in": 3, "inserted": 3, "updated": 0}}
            recovery = time.monotonic() - up
            first = requests["reserve"]()
            assert first.status_code == 200 and len(first.json()["data"]) == 2
            assert requests["reserve"]().json()["data"] == sorted(first.json()["data"])
            assert requests["count"]().json()["data"] == {"available": 1, "reserved": 2, "assigned": 0}
        finally:
            server.kill()
    store.close()
    report("api.unreachable", attempted=len(requests) + 5, acknowledged=4, failed=len(requests) + 1, duplicated=0, lost=0,
           slowest_error_s=slowest, recovery_s=recovery)


def test_reserve_whose_write_was_not_confirmed_is_retried_with_its_idempotency_key(fault_server, fail_points):
    store = connect(fault_server.uri, f"api_{uuid.uuid4().hex[:8]}", timeout_seconds=2, batch_timeout_seconds=5)
    store.prepare()
    service = CodeService(store, clock=FakeClock())
    service.upload_from_file(ME, "IDEM", "tm", io.BytesIO("".join(f"I{i:03d}\n" for i in range(50)).encode()))
    with running(service, settings_for()) as api:
        fail_points.fail(["update"], writeConcernError={"code": 100, "errmsg": "injected: write concern not confirmed"})
        lost_reply = api.get("/IDEM/reserve", params={"count": 4, "type": "tm"}, headers={"Idempotency-Key": "order-77"})
        assert lost_reply.status_code == 503 and "Retry-After" in lost_reply.headers
        applied = sorted(d["_id"]["code"] for d in store.collection.find({"reserveId": "order-77"}))
        assert len(applied) == 4
        retry = api.get("/IDEM/reserve", params={"count": 4, "type": "tm"}, headers={"Idempotency-Key": "order-77"})
        assert retry.status_code == 200 and sorted(retry.json()["data"]) == applied
        assert api.get("/IDEM/codes/count", params={"type": "tm"}).json()["data"] == {"available": 46, "reserved": 4, "assigned": 0}
    store.collection.drop()
    store.close()
    report("api.reserve.writeConcernError(Idempotency-Key)", attempted=2, acknowledged=1, failed=1, duplicated=0, lost=0, stranded=0)


# -- bad input battery ------------------------------------------------------------------------

LONG = "Z" * 129
# (method, path, request kwargs, status, error code)
BAD_REQUESTS = [
    # JSON bodies of assign and release
    ("post", "/BAD/assign", {"content": b"", "headers": {"Content-Type": "application/json"}}, 400, "invalid_json"),
    ("post", "/BAD/assign", {"content": b"{codes: [", "headers": {"Content-Type": "application/json"}}, 400, "invalid_json"),
    ("post", "/BAD/assign", {"content": b"\xff\xfe", "headers": {"Content-Type": "application/json"}}, 400, "invalid_json"),
    ("post", "/BAD/assign", {"json": ["G001"]}, 400, "invalid_codes"),
    ("post", "/BAD/assign", {"json": {}}, 400, "invalid_codes"),
    ("post", "/BAD/assign", {"json": {"codes": "G001"}}, 400, "invalid_codes"),
    ("post", "/BAD/assign", {"json": {"codes": []}}, 400, "invalid_codes"),
    ("post", "/BAD/assign", {"json": {"codes": [1, 2]}}, 400, "invalid_codes"),
    ("post", "/BAD/assign", {"json": {"codes": [None]}}, 400, "invalid_codes"),
    ("post", "/BAD/assign", {"json": {"codes": [["G001"]]}}, 400, "invalid_codes"),
    ("post", "/BAD/assign", {"json": {"codes": ["G001", {"code": "G002"}]}}, 400, "invalid_codes"),
    ("post", "/BAD/assign", {"json": {"codes": ["G001", LONG]}}, 400, "invalid_codes"),
    ("post", "/BAD/assign", {"json": {"codes": ["G001", "   "]}}, 400, "invalid_codes"),
    ("post", "/BAD/release", {"json": {"codes": ["G001", "BAD\u0000"]}}, 400, "invalid_codes"),
    ("post", "/BAD/release", {"json": {"codes": "G001"}}, 400, "invalid_codes"),
    ("post", "/BAD/release", {"json": None}, 400, None),
    ("post", "/BAD/release", {"json": {"codes": True}}, 400, "invalid_codes"),
    ("post", "/bad%20campaign/assign", {"json": {"codes": ["G001"]}}, 400, "invalid_campaign"),
    # reserve parameters and keys
    ("get", "/BAD/reserve", {"params": {"type": "tm"}}, 400, "invalid_count"),
    ("get", "/BAD/reserve", {"params": {"count": "0", "type": "tm"}}, 400, "invalid_count"),
    ("get", "/BAD/reserve", {"params": {"count": "-1", "type": "tm"}}, 400, "invalid_count"),
    ("get", "/BAD/reserve", {"params": {"count": "ten", "type": "tm"}}, 400, "invalid_count"),
    ("get", "/BAD/reserve", {"params": {"count": "2.5", "type": "tm"}}, 400, "invalid_count"),
    ("get", "/BAD/reserve", {"params": {"count": "10001", "type": "tm"}}, 400, "invalid_count"),
    ("get", "/BAD/reserve", {"params": {"count": "2"}}, 400, "invalid_type"),
    ("get", "/BAD/reserve", {"params": {"count": "2", "type": "TM"}}, 400, "invalid_type"),
    ("get", "/BAD/reserve", {"params": {"count": "2", "type": "tm"}, "headers": {"Idempotency-Key": "has space"}}, 400, "invalid_key"),
    ("get", "/BAD/reserve", {"params": {"count": "2", "type": "tm"}, "headers": {"Idempotency-Key": "k" * 129}}, 400, "invalid_key"),
    ("get", "/BAD/reserve", {"params": {"count": "2", "type": "tm"}, "headers": {"Idempotency-Key": "a/b"}}, 400, "invalid_key"),
    # uploads: JSON bodies, keys and CSV bodies
    # (the original answers a file key that does not fit codes/{campaignId}/{type}/{file} with a 404)
    ("post", "/BAD/codes", {"json": {}}, 404, "invalid_key"),
    ("post", "/BAD/codes", {"json": {"fileKey": 42}}, 404, "invalid_key"),
    ("post", "/BAD/codes", {"json": {"fileKey": ""}}, 404, "invalid_key"),
    ("post", "/BAD/codes", {"json": {"fileKey": "batch.csv"}}, 404, "invalid_key"),
    ("post", "/BAD/codes", {"json": {"fileKey": "codes/OTHER/tm/a.csv"}}, 404, "invalid_key"),
    ("post", "/BAD/codes", {"json": {"fileKey": "codes/BAD/gold/a.csv"}}, 400, "invalid_type"),
    ("post", "/BAD/codes", {"json": {"fileKey": "codes/BAD/tm/../../a.csv"}}, 404, "invalid_key"),
    ("post", "/BAD/codes", {"json": ["codes/BAD/tm/a.csv"]}, 404, "invalid_key"),
    ("post", "/BAD/codes", {"content": b"N1\nN2\n", "headers": {"Content-Type": "text/csv"}}, 400, "invalid_type"),
    ("post", "/BAD/codes", {"content": b"N1\nN2\n", "params": {"type": "gold"}, "headers": {"Content-Type": "text/csv"}}, 400, "invalid_type"),
    ("post", "/BAD/codes", {"content": b"N1\n\xff\xfe\n", "params": {"type": "tm"}, "headers": {"Content-Type": "text/csv"}}, 400, "invalid_utf8"),
    ("post", "/BAD/codes", {"content": b"N1\nN\x002\n", "params": {"type": "tm"}, "headers": {"Content-Type": "text/csv"}}, 400, "not_text"),
    (
        "post", "/BAD/codes", {"content": b"N1\n" + LONG.encode() + b"\n", "params": {"type": "tm"}, "headers": {"Content-Type": "text/csv"}},
        400, "code_too_long",
    ),
    ("post", "/BAD/codes", {"content": "".join(f"N{i}\n" for i in range(30)).encode() + b"N\x00X\n", "params": {"type": "tm"},
                            "headers": {"Content-Type": "text/csv"}}, 400, "not_text"),
    # counts
    ("get", "/BAD/codes/count", {}, 400, "invalid_type"),
    ("get", "/BAD/codes/count", {"params": {"type": "gold"}}, 400, "invalid_type"),
    ("get", "/BAD/codes/count", {"params": {"type": "tm", "status": "lost"}}, 400, "invalid_status"),
    ("get", "/BAD%0A/codes/count", {"params": {"type": "tm"}}, 400, "invalid_campaign"),
    ("get", "/BAD/reserve", {"params": {"count": "1" * 4301, "type": "tm"}}, 400, "invalid_count"),
    ("get", "/BAD/reserve", {"params": {"count": "2 ", "type": "tm"}}, 400, "invalid_count"),
    ("get", "/BAD/reserve", {"params": {"count": "+2", "type": "tm"}}, 400, "invalid_count"),
    ("get", "/BAD/reserve", {"params": {"count": "١٠", "type": "tm"}}, 400, "invalid_count"),
    ("get", "/BAD/reserve", {"params": {"count": "３", "type": "tm"}}, 400, "invalid_count"),
    ("post", "/BAD/assign", {"content": b"[" * 5000 + b"]" * 5000, "headers": {"Content-Type": "application/json"}}, 400, "invalid_json"),
    # who: no token, a bad token, a token without the supreme claim
    ("get", "/BAD/reserve", {"params": {"count": "2", "type": "tm"}, "headers": {"Authorization": ""}}, 401, "unauthorized"),
    ("get", "/BAD/reserve", {"params": {"count": "2", "type": "tm"}, "headers": {"Authorization": "Bearer not.a.jwt"}}, 401, "unauthorized"),
    ("post", "/BAD/assign", {"json": {"codes": ["G001"]}, "headers": {"Authorization": f"Bearer {hs256(isSupreme=False)}"}}, 403, "forbidden"),
]


@pytest.fixture(scope="module")
def battery(secantus):
    store = secantus_store(secantus)
    service = CodeService(store, clock=FakeClock(), batch_size=10)
    service.upload_from_file(ME, "BAD", "tm", io.BytesIO("".join(f"G{i:03d}\n" for i in range(40)).encode()))
    held = service.reserve(ME, "BAD", "tm", 10, key="held").codes
    service.assign(ME, "BAD", sorted(held)[:3])
    with running(service, settings_for()) as api:
        yield api, store, snapshot(store.collection)
    store.collection.drop()
    store.close()


@pytest.mark.parametrize("method,path,kwargs,status,code", BAD_REQUESTS, ids=[f"{m} {p} {i}" for i, (m, p, *_ ) in enumerate(BAD_REQUESTS)])
def test_api_refuses_bad_input_and_changes_nothing(battery, method, path, kwargs, status, code):
    api, store, before = battery
    kwargs = dict(kwargs)
    headers = {**api.auth(), **kwargs.pop("headers", {})}
    response = getattr(api.http, method)(path, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "meta"} and body["error"]["message"] and "Traceback" not in response.text
    assert body["error"]["status"] == status and body["error"]["payload"] and body["error"]["name"]
    if code is not None:
        assert body["error"]["code"] == code, body
    assert snapshot(store.collection) == before


def test_api_battery_figures(battery):
    report("bad-input.api", attempted=len(BAD_REQUESTS), acknowledged=0, failed=len(BAD_REQUESTS), duplicated=0, lost=0, changed_documents=0)
    assert len(BAD_REQUESTS) >= 45
