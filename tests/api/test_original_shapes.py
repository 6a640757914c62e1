"""Every route and every documented error, compared field by field with the original service's
documented shapes (its API contracts, type definitions and usage documents).

Where those documents disagree, the spec and the documents that quote the original's code win:
reserve answers an array of codes, upload/assign/release answer {"count": {...}}, count answers
the status counts, each inside `data`. The product adds fields the original did not have
(`unchanged` beside `count`; `name` and `code` in errors); a client of the original finds
every field it knew, with the same type and meaning.
"""

from __future__ import annotations

import re

import pytest

from code_console.core.objects import S3Objects
from code_console.core.service import CodeService

from tests.api.conftest import hs256, running, settings_for, upload_csv
from tests.stores import embedded_store

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def assert_meta(body: dict, correlation_id: str | None = None) -> None:
    assert set(body["meta"]) == {"timestamp", "correlationId"}
    assert TIMESTAMP.fullmatch(body["meta"]["timestamp"])
    assert isinstance(body["meta"]["correlationId"], str) and body["meta"]["correlationId"]
    if correlation_id:
        assert body["meta"]["correlationId"] == correlation_id


def success(response, correlation_id: str | None = None):
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data", "meta"}
    assert_meta(body, correlation_id)
    return body["data"]


def original_error(response, status: int, payload: str, name: str) -> dict:
    """{"error": {"status", "message", "payload"}, "meta"} plus the product's name and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "meta"}
    assert_meta(body)
    err = body["error"]
    assert {"status", "message", "payload"} <= set(err) and set(err) - {"status", "message", "payload"} == {"name", "code"}
    assert err["status"] == status and isinstance(err["status"], int)
    assert isinstance(err["message"], str) and err["message"]
    assert (err["payload"], err["name"]) == (payload, name)
    return err


@pytest.fixture
def s3_api(s3_bucket, clock):
    client, bucket = s3_bucket
    service = CodeService(embedded_store(), S3Objects(client, bucket), clock=clock, reserve_max_count=500)
    with running(service, settings_for()) as api:
        yield api, client, bucket


# -- routes ------------------------------------------------------------------------------------


def test_upload_answers_count_in_data(s3_api):
    api, client, bucket = s3_api
    client.put_object(Bucket=bucket, Key="codes/campaign-123/tm/batch-001.csv", Body=b"TM-CODE-001\nTM-CODE-002\n")
    answer = api.post("/campaign-123/codes", json={"fileKey": "codes/campaign-123/tm/batch-001.csv"}, headers={"x-titan-correlation-id": "abc-123-def-456"})
    data = success(answer, "abc-123-def-456")
    assert data == {"count": {"in": 2, "inserted": 2, "updated": 0}}
    assert all(isinstance(v, int) for v in data["count"].values())


def test_count_answers_the_status_counts_in_data(api):
    upload_csv(api, "campaign-123", "tm", ["A", "B", "C"])
    assert success(api.get("/campaign-123/codes/count", params={"type": "tm", "status": "available"})) == {"available": 3}
    assert success(api.get("/campaign-123/codes/count", params={"type": "tm"})) == {"available": 3, "reserved": 0, "assigned": 0}


def test_reserve_answers_an_array_of_codes_in_data(api):
    upload_csv(api, "campaign-123", "tm", [f"TM-CODE-{i:03d}" for i in range(1, 11)])
    response = api.get("/campaign-123/reserve", params={"count": 10, "type": "tm"})
    data = success(response)
    assert isinstance(data, list) and len(data) == 10 and all(isinstance(c, str) for c in data)
    # The reserveId (a dashed UUID v4 unless the caller named the reservation) rides in a header.
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", response.headers["Reservation-Id"])


@pytest.mark.parametrize("route", ["assign", "release"])
def test_assign_and_release_answer_count_in_data(api, route):
    upload_csv(api, "campaign-123", "tm", ["TM-CODE-001", "TM-CODE-002", "TM-CODE-003"])
    held = success(api.get("/campaign-123/reserve", params={"count": 3, "type": "tm"}))
    data = success(api.post(f"/campaign-123/{route}", json={"codes": held}))
    assert data["count"] == {"in": 3, "updated": 3}
    assert set(data) == {"count", "unchanged"}


def test_heartbeat_and_metrics_are_not_wrapped(api):
    beat = api.http.get("/heartbeat")
    assert beat.status_code == 200 and beat.json() == {"status": "ok"}
    metrics = api.http.get("/metrics")
    assert metrics.status_code == 200 and metrics.text.startswith("# HELP")


# -- documented errors ---------------------------------------------------------------------------


def test_invalid_file_key_is_404(api):
    original_error(api.post("/campaign-123/codes", json={"fileKey": "invalid/path.csv"}), 404, "Invalid file key.", "invalidFileKey")


def test_invalid_type(api):
    err = original_error(api.get("/campaign-123/codes/count", params={"type": "invalid"}), 400, "Invalid code type.", "InvalidType")
    assert "'invalid'" in err["message"]
    original_error(api.get("/campaign-123/reserve", params={"count": 1, "type": "invalid"}), 400, "Invalid code type.", "InvalidType")
    original_error(api.post("/campaign-123/codes", json={"fileKey": "codes/campaign-123/gold/a.csv"}), 400, "Invalid code type.", "InvalidType")


def test_invalid_status(api):
    original_error(api.get("/campaign-123/codes/count", params={"type": "tm", "status": "lost"}), 400, "Invalid status.", "InvalidStatus")


def test_missing_type(api):
    original_error(api.get("/campaign-123/codes/count"), 400, "Missing type.", "missingType")
    original_error(api.get("/campaign-123/codes/count", params={"type": ""}), 400, "Missing type.", "missingType")


@pytest.mark.parametrize("params", [{"count": 10}, {"type": "tm"}, {}, {"count": "", "type": "tm"}, {"count": 10, "type": ""}])
def test_missing_code_reserve_params(api, params):
    original_error(api.get("/campaign-123/reserve", params=params), 400, "Missing code reserve parameters.", "missingCodeReserveParams")


@pytest.mark.parametrize("count", ["0", "-1", "abc", "1.5"])
def test_invalid_count(api, count):
    original_error(api.get("/campaign-123/reserve", params={"count": count, "type": "tm"}), 400, "Invalid count.", "invalidCount")


@pytest.mark.parametrize("route", ["assign", "release"])
@pytest.mark.parametrize(
    "body, payload, name",
    [
        ({}, "Missing codes.", "missingCodes"),
        ({"codes": None}, "Missing codes.", "missingCodes"),
        ({"codes": []}, "Empty codes array.", "emptyCodes"),
        ({"codes": "CODE-001"}, "Invalid codes property.", "invalidCodesProp"),
        ({"codes": {"CODE-001": 1}}, "Invalid codes property.", "invalidCodesProp"),
    ],
)
def test_codes_errors(api, route, body, payload, name):
    original_error(api.post(f"/campaign-123/{route}", json=body), 400, payload, name)


def test_unauthorized(api):
    original_error(api.http.get("/campaign-123/codes/count", params={"type": "tm"}), 401, "Unauthorized", "notLoggedIn")


@pytest.mark.parametrize(
    "method, path, kwargs",
    [
        ("post", "/campaign-123/codes", {"json": {"fileKey": "codes/campaign-123/tm/a.csv"}}),
        ("post", "/campaign-123/assign", {"json": {"codes": ["CODE-001"]}}),
        ("post", "/campaign-123/release", {"json": {"codes": ["CODE-001"]}}),
        ("get", "/campaign-123/reserve", {"params": {"count": 1, "type": "tm"}}),
        ("get", "/campaign-123/codes/count", {"params": {"type": "tm"}}),
        # The original checks the supreme user first: a caller who is not supreme learns
        # nothing about its parameters.
        ("get", "/campaign-123/reserve", {}),
        ("post", "/campaign-123/assign", {"json": {}}),
    ],
)
def test_supreme_user_required(api, method, path, kwargs):
    response = getattr(api, method)(path, token=hs256(isSupreme=False), **kwargs)
    err = original_error(response, 403, "supremeUserRequired", "supremeUserRequired")
    assert err["code"] == "forbidden"


def test_not_found(api):
    original_error(api.get("/a/b/c/d"), 404, "Not Found", "notFound")


# -- the correlation id, on every route and every documented error ----------------------------

# (what, method, path, what is sent, status, the original's error name or None)
EVERY_ANSWER = [
    ("upload", "post", "/campaign-123/codes", {"json": {"fileKey": "codes/campaign-123/tm/batch-001.csv"}}, 200, None),
    ("count", "get", "/campaign-123/codes/count", {"params": {"type": "tm"}}, 200, None),
    ("reserve", "get", "/campaign-123/reserve", {"params": {"count": 1, "type": "tm"}}, 200, None),
    ("assign", "post", "/campaign-123/assign", {"json": {"codes": ["TM-CODE-001"]}}, 200, None),
    ("release", "post", "/campaign-123/release", {"json": {"codes": ["TM-CODE-002"]}}, 200, None),
    ("invalidFileKey", "post", "/campaign-123/codes", {"json": {"fileKey": "invalid/path.csv"}}, 404, "invalidFileKey"),
    ("InvalidType", "get", "/campaign-123/codes/count", {"params": {"type": "invalid"}}, 400, "InvalidType"),
    ("InvalidStatus", "get", "/campaign-123/codes/count", {"params": {"type": "tm", "status": "x"}}, 400, "InvalidStatus"),
    ("missingType", "get", "/campaign-123/codes/count", {}, 400, "missingType"),
    ("missingCodeReserveParams", "get", "/campaign-123/reserve", {"params": {"count": 10}}, 400, "missingCodeReserveParams"),
    ("invalidCount", "get", "/campaign-123/reserve", {"params": {"count": 0, "type": "tm"}}, 400, "invalidCount"),
    ("missingCodes", "post", "/campaign-123/assign", {"json": {}}, 400, "missingCodes"),
    ("emptyCodes", "post", "/campaign-123/release", {"json": {"codes": []}}, 400, "emptyCodes"),
    ("invalidCodesProp", "post", "/campaign-123/assign", {"json": {"codes": "TM-CODE-001"}}, 400, "invalidCodesProp"),
    ("notLoggedIn", "get", "/campaign-123/codes/count", {"params": {"type": "tm"}, "token": "not-a-jwt"}, 401, "notLoggedIn"),
    ("supremeUserRequired", "get", "/campaign-123/codes/count", {"params": {"type": "tm"}, "supreme": False}, 403, "supremeUserRequired"),
    ("notFound", "get", "/campaign-123/nothing/here", {}, 404, "notFound"),
]


@pytest.mark.parametrize("header", ["x-titan-correlation-id", "X-Correlation-ID"])
@pytest.mark.parametrize("what, method, path, sent, status, name", EVERY_ANSWER, ids=[a[0] for a in EVERY_ANSWER])
def test_the_correlation_id_is_in_meta_and_echoed_in_the_headers(s3_api, header, what, method, path, sent, status, name):
    api, client, bucket = s3_api
    client.put_object(Bucket=bucket, Key="codes/campaign-123/tm/batch-001.csv", Body=b"TM-CODE-001\nTM-CODE-002\n")
    upload_csv(api, "campaign-123", "tm", ["TM-CODE-001", "TM-CODE-002"])
    api.get("/campaign-123/reserve", params={"count": 1, "type": "tm"})
    sent = dict(sent)
    token = sent.pop("token", None) or hs256(isSupreme=sent.pop("supreme", True))
    cid = f"{what}-{header[:7]}-0123"
    response = getattr(api, method)(path, token=token, headers={header: cid}, **sent)
    assert response.status_code == status, response.text
    body = response.json()
    assert_meta(body, cid)
    assert response.headers["x-titan-correlation-id"] == response.headers["X-Correlation-ID"] == cid
    if name is None:
        assert set(body) == {"data", "meta"}
    else:
        assert set(body) == {"error", "meta"} and (body["error"]["status"], body["error"]["name"]) == (status, name)


def test_reserve_from_an_empty_pool_answers_an_empty_array(api):
    assert success(api.get("/campaign-123/reserve", params={"count": 5, "type": "tm"})) == []


def test_assign_and_release_of_unknown_codes_count_none_updated(api):
    for route in ("assign", "release"):
        data = success(api.post(f"/campaign-123/{route}", json={"codes": ["CODE-404"]}))
        assert data == {"count": {"in": 1, "updated": 0}, "unchanged": {"not_found": ["CODE-404"]}}


class _FailingStore:
    """Every store call fails in a way no handler expects."""

    label = "failing"

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise RuntimeError("internal detail")

        return fail


def test_an_unexpected_failure_is_the_original_s_500(clock):
    with running(CodeService(_FailingStore(), clock=clock), settings_for()) as api:
        response = api.get("/campaign-123/codes/count", params={"type": "tm"}, headers={"x-titan-correlation-id": "cid-500"})
    err = original_error(response, 500, "Internal Server Error", "internalServerError")
    assert err["code"] == "internal" and "internal detail" not in response.text
    assert response.json()["meta"]["correlationId"] == response.headers["x-titan-correlation-id"] == "cid-500"
