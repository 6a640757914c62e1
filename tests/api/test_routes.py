"""Every route's success path and its error statuses, over HTTP against a real uvicorn server."""

from __future__ import annotations

import re

import pytest

from code_console.core.objects import S3Objects, s3_client
from code_console.core.service import MAX_CODES_PER_CALL, CodeService
from code_console.core.sqlite import SqliteStore

from tests.api.conftest import data, error, hs256, running, settings_for, upload_csv
from tests.servers import free_port
from tests.stores import embedded_path, embedded_store


def codes(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(n)]


# -- upload ---------------------------------------------------------------------------------


def test_streamed_csv_upload_counts_inserted_then_updated(api, campaign, clock):
    first = upload_csv(api, campaign, "tm", codes("T", 40))
    assert first.status_code == 200
    assert data(first) == {"count": {"in": 40, "inserted": 40, "updated": 0}}
    clock.advance(seconds=1)  # a later upload: one stamped the same instant counts the first one's codes as duplicates
    again = upload_csv(api, campaign, "tm", codes("T", 50))
    assert data(again) == {"count": {"in": 50, "inserted": 10, "updated": 40}}
    assert data(api.get(f"/{campaign}/codes/count", params={"type": "tm"})) == {"available": 50, "reserved": 0, "assigned": 0}


def test_streamed_upload_reports_conflicts_with_the_other_type(api, campaign):
    upload_csv(api, campaign, "tm", ["A", "B"])
    response = upload_csv(api, campaign, "external", ["B", "C"])
    assert data(response) == {"count": {"in": 2, "inserted": 1, "updated": 0, "conflicts": 1}}


def test_streamed_upload_in_chunks_without_content_length(api, campaign):
    def chunks():
        for start in range(0, 3000, 500):
            yield ("\n".join(f"K{i}" for i in range(start, start + 500)) + "\n").encode()

    response = api.post(f"/{campaign}/codes?type=external", content=chunks(), headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    assert data(response) == {"count": {"in": 3000, "inserted": 3000, "updated": 0}}


@pytest.mark.parametrize(
    "params, body, code",
    [
        ({}, b"A\n", "invalid_type"),
        ({"type": "vip"}, b"A\n", "invalid_type"),
        ({"type": "tm"}, b"A\nB\x00C\n", "not_text"),
        ({"type": "tm"}, b"A\n" + b"x" * 200 + b"\n", "code_too_long"),
    ],
)
def test_streamed_upload_rejects_bad_input_and_writes_nothing(api, campaign, params, body, code):
    response = api.post(f"/{campaign}/codes", params=params, content=body, headers={"Content-Type": "text/csv"})
    assert response.status_code == 400
    assert error(response)["code"] == code
    assert data(api.get(f"/{campaign}/codes/count", params={"type": "tm"})) == {"available": 0, "reserved": 0, "assigned": 0}


def test_bad_csv_names_the_line(api, campaign):
    response = api.post(f"/{campaign}/codes?type=tm", content=b"A\nB\nC\x00\n", headers={"Content-Type": "text/csv"})
    assert error(response)["message"].startswith("line 3:")


@pytest.fixture
def s3_api(s3_bucket, clock):
    client, bucket = s3_bucket
    service = CodeService(embedded_store(), S3Objects(client, bucket), clock=clock)
    with running(service, settings_for()) as api:
        yield api, client, bucket


def test_upload_from_s3_file_key(s3_api, campaign, clock):
    api, client, bucket = s3_api
    client.put_object(Bucket=bucket, Key=f"codes/{campaign}/tm/batch1.csv", Body=b"\xef\xbb\xbfA1\r\n  A2  \r\n\r\nA3\r\n")
    response = api.post(f"/{campaign}/codes", json={"fileKey": f"codes/{campaign}/tm/batch1.csv"})
    assert response.status_code == 200
    assert data(response) == {"count": {"in": 3, "inserted": 3, "updated": 0}}
    clock.advance(seconds=1)  # a later upload: one stamped the same instant counts the first one's codes as duplicates
    again = api.post(f"/{campaign}/codes", json={"fileKey": f"codes/{campaign}/tm/batch1.csv"})
    assert data(again) == {"count": {"in": 3, "inserted": 0, "updated": 3}}
    assert sorted(data(api.get(f"/{campaign}/reserve", params={"count": 3, "type": "tm"}))) == ["A1", "A2", "A3"]


def test_upload_of_a_missing_s3_object_is_404(s3_api, campaign):
    api, _, _ = s3_api
    response = api.post(f"/{campaign}/codes", json={"fileKey": f"codes/{campaign}/tm/nope.csv"})
    assert response.status_code == 404
    assert error(response)["code"] == "object_not_found"


@pytest.mark.parametrize(
    "body, status, code, name",
    [
        ({"fileKey": "uploads/{c}/tm/a.csv"}, 404, "invalid_key", "invalidFileKey"),
        ({"fileKey": "codes/OTHER/tm/a.csv"}, 404, "invalid_key", "invalidFileKey"),
        ({"fileKey": "codes/{c}/vip/a.csv"}, 400, "invalid_type", "InvalidType"),
        ({"fileKey": "codes/{c}/tm/../a.csv"}, 404, "invalid_key", "invalidFileKey"),
        ({"fileKey": 42}, 404, "invalid_key", "invalidFileKey"),
        ({}, 404, "invalid_key", "invalidFileKey"),
        (["codes/{c}/tm/a.csv"], 404, "invalid_key", "invalidFileKey"),
    ],
)
def test_upload_rejects_bad_file_keys_as_the_original_did(api, campaign, body, status, code, name):
    """The original answers a key that does not match codes/{campaignId}/{type}/{file} with a 404."""
    if isinstance(body, dict) and isinstance(body.get("fileKey"), str):
        body = {"fileKey": body["fileKey"].replace("{c}", campaign)}
    response = api.post(f"/{campaign}/codes", json=body)
    assert response.status_code == status
    assert (error(response)["code"], error(response)["name"]) == (code, name)


def test_upload_with_file_key_ignores_the_type_parameter(s3_api, campaign):
    api, client, bucket = s3_api
    client.put_object(Bucket=bucket, Key=f"codes/{campaign}/tm/a.csv", Body=b"T1\n")
    response = api.post(f"/{campaign}/codes?type=external", json={"fileKey": f"codes/{campaign}/tm/a.csv"})
    assert data(response) == {"count": {"in": 1, "inserted": 1, "updated": 0}}
    assert data(api.get(f"/{campaign}/codes/count", params={"type": "tm"}))["available"] == 1


def test_invalid_json_body_is_400(api, campaign):
    for body in (b"{not json", b"", b"\xff\xfe"):
        response = api.post(f"/{campaign}/assign", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert error(response)["code"] == "invalid_json"


def test_invalid_campaign_id_is_400(api):
    response = api.get("/bad%20campaign/reserve", params={"count": 1, "type": "tm"})
    assert response.status_code == 400 and error(response)["code"] == "invalid_campaign"


# -- reserve / assign / release / count -----------------------------------------------------


def test_reserve_assign_release_count_lifecycle(api, campaign):
    upload_csv(api, campaign, "tm", codes("L", 10))
    reserved = api.get(f"/{campaign}/reserve", params={"count": "5", "type": "tm"})
    assert reserved.status_code == 200
    got = data(reserved)
    assert isinstance(got, list) and len(got) == 5 and len(set(got)) == 5 and all(c.startswith("L") for c in got)
    assert data(api.get(f"/{campaign}/codes/count", params={"type": "tm"})) == {"available": 5, "reserved": 5, "assigned": 0}

    assigned = api.post(f"/{campaign}/assign", json={"codes": got[:2]})
    assert assigned.status_code == 200 and data(assigned) == {"count": {"in": 2, "updated": 2}, "unchanged": {}}
    released = api.post(f"/{campaign}/release", json={"codes": got})
    # Assigned codes are never released, and the answer says so per code.
    assert data(released) == {"count": {"in": 5, "updated": 3}, "unchanged": {"already_assigned": got[:2]}}
    again = data(api.post(f"/{campaign}/release", json={"codes": got}))
    assert again == {"count": {"in": 5, "updated": 0}, "unchanged": {"already_assigned": got[:2], "not_reserved": got[2:]}}

    assert data(api.get(f"/{campaign}/codes/count", params={"type": "tm"})) == {"available": 8, "reserved": 0, "assigned": 2}
    only = api.get(f"/{campaign}/codes/count", params={"type": "tm", "status": "assigned"})
    assert data(only) == {"assigned": 2}


def test_reserve_returns_fewer_only_when_the_pool_runs_out(api, campaign):
    upload_csv(api, campaign, "external", codes("E", 3))
    assert len(data(api.get(f"/{campaign}/reserve", params={"count": 5, "type": "external"}))) == 3
    assert data(api.get(f"/{campaign}/reserve", params={"count": 5, "type": "external"})) == []


@pytest.mark.parametrize("count", ["0", "-1", "abc", "1.5", "501", ""])
def test_reserve_rejects_bad_counts(api, campaign, count):
    response = api.get(f"/{campaign}/reserve", params={"count": count, "type": "tm"})
    assert response.status_code == 400
    assert error(response)["code"] == "invalid_count"


def test_reserve_count_is_required_and_limited_by_configuration(api, campaign):
    assert error(api.get(f"/{campaign}/reserve", params={"type": "tm"}))["code"] == "invalid_count"
    upload_csv(api, campaign, "tm", codes("M", 600))
    assert len(data(api.get(f"/{campaign}/reserve", params={"count": 500, "type": "tm"}))) == 500
    too_many = api.get(f"/{campaign}/reserve", params={"count": 501, "type": "tm"})
    assert too_many.status_code == 400 and "500" in error(too_many)["message"]


@pytest.mark.parametrize("params", [{"count": 1}, {"count": 1, "type": "TM "}, {"count": 1, "type": "vip"}])
def test_reserve_rejects_bad_types(api, campaign, params):
    response = api.get(f"/{campaign}/reserve", params=params)
    assert response.status_code == 400 and error(response)["code"] == "invalid_type"


def test_idempotency_key_returns_the_same_codes_on_retry(api, campaign):
    upload_csv(api, campaign, "tm", codes("I", 20))
    first = api.get(f"/{campaign}/reserve", params={"count": 4, "type": "tm"}, headers={"Idempotency-Key": "flow-42"})
    retry = api.get(f"/{campaign}/reserve", params={"count": 4, "type": "tm"}, headers={"Idempotency-Key": "flow-42"})
    other = api.get(f"/{campaign}/reserve", params={"count": 4, "type": "tm"}, headers={"Idempotency-Key": "flow-43"})
    assert first.status_code == retry.status_code == other.status_code == 200
    assert sorted(data(retry)) == sorted(data(first)) and len(data(first)) == 4
    assert not set(data(other)) & set(data(first))
    assert data(api.get(f"/{campaign}/codes/count", params={"type": "tm", "status": "reserved"})) == {"reserved": 8}


def test_idempotency_key_with_bad_characters_is_400(api, campaign):
    response = api.get(f"/{campaign}/reserve", params={"count": 1, "type": "tm"}, headers={"Idempotency-Key": "a b/c"})
    assert response.status_code == 400 and error(response)["code"] == "invalid_key"


@pytest.mark.parametrize(
    "body",
    [{"codes": []}, {"codes": "A1"}, {"codes": ["A1", 2]}, {"codes": ["A1", ""]}, {"codes": None}, {}, ["A1"], {"codes": {"A1": 1}}],
)
@pytest.mark.parametrize("route", ["assign", "release"])
def test_assign_and_release_need_a_non_empty_array_of_strings(api, campaign, route, body):
    response = api.post(f"/{campaign}/{route}", json=body)
    assert response.status_code == 400
    assert error(response)["code"] == "invalid_codes"


def test_codes_per_call_are_limited(api, campaign):
    body = {"codes": [f"X{i}" for i in range(MAX_CODES_PER_CALL + 1)]}
    response = api.post(f"/{campaign}/assign", json=body)
    assert response.status_code == 400 and error(response)["code"] == "invalid_codes"
    assert str(MAX_CODES_PER_CALL) in error(response)["message"]


@pytest.mark.parametrize("params, code", [({}, "invalid_type"), ({"type": "x"}, "invalid_type"), ({"type": "tm", "status": "gone"}, "invalid_status")])
def test_count_rejects_bad_parameters(api, campaign, params, code):
    response = api.get(f"/{campaign}/codes/count", params=params)
    assert response.status_code == 400 and error(response)["code"] == code


# -- 403 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, kwargs",
    [
        ("get", "/{c}/reserve?count=1&type=tm", {}),
        ("post", "/{c}/assign", {"json": {"codes": ["A"]}}),
        ("post", "/{c}/release", {"json": {"codes": ["A"]}}),
        ("get", "/{c}/codes/count?type=tm", {}),
        ("post", "/{c}/codes", {"json": {"fileKey": "codes/{c}/tm/a.csv"}}),
        ("post", "/{c}/codes?type=tm", {"content": b"Z1\n", "headers": {"Content-Type": "text/csv"}}),
    ],
)
def test_a_valid_token_without_supreme_is_403_and_changes_nothing(api, campaign, method, path, kwargs):
    upload_csv(api, campaign, "tm", ["A"])
    if "json" in kwargs and "fileKey" in kwargs["json"]:
        kwargs = {"json": {"fileKey": kwargs["json"]["fileKey"].replace("{c}", campaign)}}
    response = getattr(api, method)(path.replace("{c}", campaign), token=hs256(isSupreme=False), **kwargs)
    assert response.status_code == 403
    assert error(response)["code"] == "forbidden"
    assert data(api.get(f"/{campaign}/codes/count", params={"type": "tm"})) == {"available": 1, "reserved": 0, "assigned": 0}


# -- 413 ------------------------------------------------------------------------------------


@pytest.fixture
def small_api(memory_service):
    with running(memory_service, settings_for(api_max_body_bytes=1024, api_max_json_bytes=1024)) as api:
        yield api


def test_body_over_the_limit_is_413_by_content_length(small_api, campaign):
    response = small_api.post(f"/{campaign}/assign", json={"codes": [f"C{i:04d}" for i in range(200)]})
    assert response.status_code == 413
    assert error(response)["code"] == "payload_too_large"


def test_streamed_body_over_the_limit_is_413_and_writes_nothing(small_api, campaign):
    def chunks():
        for i in range(8):
            yield b"".join(f"S{i}{j:03d}\n".encode() for j in range(40))  # ~240 bytes each, no Content-Length

    response = small_api.post(f"/{campaign}/codes?type=tm", content=chunks(), headers={"Content-Type": "text/csv"})
    assert response.status_code == 413
    assert error(response)["code"] == "payload_too_large"
    assert data(small_api.get(f"/{campaign}/codes/count", params={"type": "tm"}))["available"] == 0


def test_body_at_the_limit_is_accepted(small_api, campaign):
    body = b"".join(f"B{i:05d}\n".encode() for i in range(146))  # 146 * 7 = 1022 bytes
    assert len(body) <= 1024
    response = small_api.post(f"/{campaign}/codes?type=tm", content=body, headers={"Content-Type": "text/csv"})
    assert data(response) == {"count": {"in": 146, "inserted": 146, "updated": 0}}


# -- 503 and 500 ----------------------------------------------------------------------------


@pytest.fixture
def unreachable_mongo_api(clock):
    from code_console.core.mongo import connect

    store = connect(f"mongodb://127.0.0.1:{free_port()}/?directConnection=true", "x", timeout_seconds=0.3, batch_timeout_seconds=0.3)
    service = CodeService(store, clock=clock)
    with running(service, settings_for(api_retry_after_seconds=7)) as api:
        yield api
    store.close()


def test_unreachable_mongodb_is_503_with_retry_after(unreachable_mongo_api, campaign):
    for response in (
        unreachable_mongo_api.get(f"/{campaign}/reserve", params={"count": 1, "type": "tm"}),
        unreachable_mongo_api.post(f"/{campaign}/assign", json={"codes": ["A"]}),
        unreachable_mongo_api.get(f"/{campaign}/codes/count", params={"type": "tm"}),
    ):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "7"
        assert error(response)["code"] == "store_unavailable"
        assert "Traceback" not in response.text
    beat = unreachable_mongo_api.http.get("/heartbeat")
    assert (beat.status_code, beat.json(), beat.headers["Retry-After"]) == (503, {"status": "unavailable"}, "7")


def test_unreachable_s3_is_503_with_retry_after(clock, campaign):
    client = s3_client(endpoint_url=f"http://127.0.0.1:{free_port()}", region="us-east-1", timeout_seconds=0.5)
    service = CodeService(embedded_store(), S3Objects(client, "codes"), clock=clock)
    with running(service, settings_for()) as api:
        response = api.post(f"/{campaign}/codes", json={"fileKey": f"codes/{campaign}/tm/a.csv"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert error(response)["code"] == "object_store_unavailable"


class _BrokenStore(SqliteStore):
    def __init__(self) -> None:
        super().__init__(embedded_path())

    def find_available(self, *args, **kwargs):
        raise RuntimeError("secret internal detail at /srv/app.py line 12")


def test_an_unexpected_failure_is_a_500_without_a_stack_trace(clock, campaign):
    with running(CodeService(_BrokenStore(), clock=clock), settings_for()) as api:
        response = api.get(f"/{campaign}/reserve", params={"count": 1, "type": "tm"}, headers={"X-Request-Id": "req-500"})
    assert response.status_code == 500
    assert error(response)["code"] == "internal"
    assert "req-500" in error(response)["message"]
    assert "secret internal detail" not in response.text and "Traceback" not in response.text


def test_unknown_route_and_method_are_json_errors(api):
    missing = api.get("/a/b/c/d")
    assert missing.status_code == 404 and error(missing)["code"] == "not_found"
    wrong = api.http.delete("/C1/assign", headers=api.auth())
    assert wrong.status_code == 405 and error(wrong)["code"] == "method_not_allowed"


# -- heartbeat, metrics, docs, request id, prefix ------------------------------------------


def test_heartbeat_needs_no_token_and_tells_anonymous_callers_only_ok(api):
    response = api.http.get("/heartbeat")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert api.http.get("/heartbeat", headers=api.auth(hs256(isSupreme=False))).json() == {"status": "ok"}
    # An operator with a supreme token also learns where the codes live.
    assert api.get("/heartbeat").json() == {"status": "ok", "store": "embedded (SQLite ~/.local/share/code-console/codes.sqlite3)"}


def test_metrics_count_requests_by_route_and_status_and_codes_moved(api, campaign):
    upload_csv(api, campaign, "tm", codes("P", 10))
    got = data(api.get(f"/{campaign}/reserve", params={"count": 4, "type": "tm"}))
    api.post(f"/{campaign}/assign", json={"codes": got[:1]})
    api.post(f"/{campaign}/release", json={"codes": got})
    api.get(f"/{campaign}/reserve", params={"count": 0, "type": "tm"})
    api.http.get(f"/{campaign}/codes/count?type=tm")
    response = api.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'code_console_http_requests_total{method="GET",route="/{campaignId}/reserve",status="200"} 1.0' in text
    assert 'code_console_http_requests_total{method="GET",route="/{campaignId}/reserve",status="400"} 1.0' in text
    assert 'code_console_http_requests_total{method="GET",route="/{campaignId}/codes/count",status="401"} 1.0' in text
    assert 'code_console_http_request_duration_seconds_count{method="POST",route="/{campaignId}/assign",status="200"} 1.0' in text
    assert re.search(r'code_console_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="/\{campaignId\}/reserve",status="200"\} 1.0', text)
    assert 'code_console_codes_total{operation="reserved"} 4.0' in text
    assert 'code_console_codes_total{operation="assigned"} 1.0' in text
    assert 'code_console_codes_total{operation="released"} 3.0' in text
    # The original service's names, beside the product's.
    assert '# TYPE http_request_count untyped' in text
    assert 'http_request_count{method="GET",path="/{campaignId}/reserve",status="200"} 1.0' in text
    assert 'http_response_duration_seconds_count{method="POST",path="/{campaignId}/assign",status="200"} 1.0' in text
    # The process collectors.
    assert "process_resident_memory_bytes" in text and "python_gc_objects_collected_total" in text


def test_openapi_is_served_and_docs_are_off_by_default(api):
    spec = api.http.get("/openapi.json").json()
    assert {"/{campaignId}/codes", "/{campaignId}/reserve", "/{campaignId}/assign", "/{campaignId}/release", "/{campaignId}/codes/count"} <= set(spec["paths"])
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert api.http.get("/docs").status_code == 404


def test_docs_when_enabled_load_no_script(memory_service):
    with running(memory_service, settings_for(api_docs=True)) as api:
        docs = api.http.get("/docs")
    assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")
    assert "<script" not in docs.text.lower() and "/{campaignId}/reserve" in docs.text
    assert "default-src 'none'" in docs.headers["Content-Security-Policy"]


def test_correlation_id_is_taken_or_made_and_echoed(api):
    uuid4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    titan = api.get("/C1/codes/count?type=tm", headers={"x-titan-correlation-id": "titan-1"})
    assert titan.json()["meta"]["correlationId"] == "titan-1"
    assert titan.headers["x-titan-correlation-id"] == titan.headers["X-Correlation-ID"] == titan.headers["X-Request-Id"] == "titan-1"
    common = api.get("/C1/codes/count?type=tm", headers={"X-Correlation-ID": "corr-2"})
    assert common.json()["meta"]["correlationId"] == "corr-2"
    given = api.http.get("/heartbeat", headers={"X-Request-Id": "abc-123"})
    assert given.headers["X-Request-Id"] == "abc-123"
    made = api.get("/C1/codes/count?type=tm")
    assert re.fullmatch(uuid4, made.json()["meta"]["correlationId"]) and made.headers["X-Correlation-ID"] == made.json()["meta"]["correlationId"]
    for unsafe in ("x" * 200, "a b", "abc/def", "évian"):
        response = api.get("/C1/codes/count?type=tm", headers={"x-titan-correlation-id": unsafe.encode("utf-8")})
        assert re.fullmatch(uuid4, response.headers["X-Correlation-ID"])
    failed = api.http.get("/C1/reserve", headers={"X-Request-Id": "abc-401"})
    assert failed.status_code == 401 and failed.headers["X-Request-Id"] == "abc-401"
    assert error(failed) and failed.json()["meta"]["correlationId"] == "abc-401"


def test_requests_are_logged_as_structured_records_with_the_request_id(api, campaign):
    import json
    import logging
    import threading

    from code_console.api.logs import JsonFormatter

    lines: list[dict] = []
    logged = threading.Event()

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            line = json.loads(JsonFormatter().format(record))
            lines.append(line)
            if line["msg"] == "request":
                logged.set()  # the access line is written after the response has gone out

    handler = Capture()
    logger = logging.getLogger("code_console.api")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        api.get(f"/{campaign}/reserve", params={"count": 1, "type": "tm"}, headers={"X-Request-Id": "log-me"})
        assert logged.wait(10)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    access = [line for line in lines if line["msg"] == "request"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "log-me"
    assert line["route"] == "/{campaignId}/reserve" and line["status"] == 200 and line["method"] == "GET"
    assert line["subject"] == "verification-service" and line["duration_ms"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT.*\+00:00", line["ts"]) and line["level"] == "info"


def test_prefix_serves_every_route_under_it(memory_service, campaign):
    with running(memory_service, settings_for(), prefix="/codes-api/") as api:
        assert api.base.endswith("/codes-api")
        assert upload_csv(api, campaign, "tm", ["A", "B"]).status_code == 200
        assert len(data(api.get(f"/{campaign}/reserve", params={"count": 2, "type": "tm"}))) == 2
        assert api.http.get("/heartbeat").status_code == 200
        assert api.http.get("/openapi.json").status_code == 200
        root = api.http.get(f"http://127.0.0.1:{api.server.port}/heartbeat")
        assert root.status_code == 404


def test_no_uri_secret_is_shown_in_503_bodies_heartbeat_or_headers(clock, campaign):
    from code_console.core.mongo import connect

    uri = f"mongodb://app:s3cret@127.0.0.1:{free_port()}/?tls=true&tlsInsecure=true&tlsCertificateKeyFilePassword=hunter2"
    store = connect(uri, "x", timeout_seconds=0.3, batch_timeout_seconds=0.3)
    try:
        with running(CodeService(store, clock=clock), settings_for()) as api:
            responses = [
                api.get(f"/{campaign}/reserve", params={"count": 1, "type": "tm"}),
                api.get(f"/{campaign}/codes/count", params={"type": "tm"}),
                api.http.get("/heartbeat"),
                api.get("/heartbeat"),
            ]
    finally:
        store.close()
    for response in responses:
        assert response.status_code == 503
        shown = response.text + str(response.headers)
        assert "s3cret" not in shown and "hunter2" not in shown
    assert "mongodb://***@127.0.0.1:" in error(responses[0])["message"]
    assert responses[2].json() == {"status": "unavailable"}
    assert responses[3].json()["store"].startswith("mongodb://***@127.0.0.1:")
    assert "tlsCertificateKeyFilePassword=***" in responses[3].json()["store"]
