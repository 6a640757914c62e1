"""S3 faults on upload_from_key: a missing object or bucket, denied access, a stream cut off
mid-file, a stalled endpoint, an endpoint that refuses connections. Each gives a clear error in
bounded time, writes nothing, and a re-run once S3 is healthy converges.

moto's server covers the normal cases; the broken ones come from a tiny HTTP server on 127.0.0.1
that speaks just enough of GetObject to misbehave on purpose.
"""

from __future__ import annotations

import http.server
import threading
import time
from datetime import timedelta

import pytest

from code_console.core.errors import NotFound, ObjectStoreUnavailable
from code_console.core.objects import AccessDenied, S3Objects, s3_client
from code_console.core.service import CodeService

from tests.conftest import ME, T0, FakeClock
from tests.faults.conftest import report, snapshot
from tests.servers import free_port

pytestmark = pytest.mark.realserver

KEY = "codes/S3F/tm/batch.csv"
CODES = [f"S3F{i:05d}" for i in range(2000)]
BODY = "".join(f"{c}\r\n" for c in CODES).encode()
TIMEOUT = 1.0


class FaultyS3(http.server.ThreadingHTTPServer):
    """GetObject for any key, answered as `mode` says: ok, cut, stall_body, stall_headers, denied, missing."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"
        self.release = threading.Event()  # ends every stall when the test is over
        self.requests = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        server: FaultyS3 = self.server
        server.requests += 1
        mode = server.mode
        if mode == "stall_headers":
            server.release.wait(60)
            return
        if mode in ("denied", "missing"):
            status, code = (403, "AccessDenied") if mode == "denied" else (404, "NoSuchKey")
            body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{code}</Message></Error>".encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("ETag", '"0123456789abcdef"')
        self.end_headers()
        if mode == "ok":
            self.wfile.write(BODY)
            return
        half = len(BODY) // 2
        self.wfile.write(BODY[:half])
        self.wfile.flush()
        if mode == "stall_body":
            server.release.wait(60)
        self.close_connection = True  # "cut": the connection ends with half the promised bytes


@pytest.fixture
def faulty_s3():
    server = FaultyS3()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def seeded(mongo_store):
    """A store that already holds codes with statuses, to prove a failed upload changes nothing."""
    # Seeded before the uploads under test: an upload stamped the same instant would count these codes as its duplicates.
    service = CodeService(mongo_store, clock=FakeClock(T0 - timedelta(minutes=5)))
    service.upload_from_file(ME, "S3F", "tm", __import__("io").BytesIO(b"S3F00000\nS3F00001\nS3F00002\nOTHER1\n"))
    service.reserve(ME, "S3F", "tm", 2, key="held").codes
    return mongo_store


def _service(store, endpoint: str) -> CodeService:
    client = s3_client(endpoint_url=endpoint, region="us-east-1", timeout_seconds=TIMEOUT)
    return CodeService(store, S3Objects(client, "codes"), clock=FakeClock())


def _fails(service, error_type, name, *, rerun=None):
    """Run the faulty upload: the error, the time it took, nothing written; then the healthy re-run."""
    before = snapshot(service.store.collection)
    began = time.monotonic()
    with pytest.raises(error_type) as err:
        service.upload_from_key(ME, "S3F", KEY)
    took = time.monotonic() - began
    assert took < 30  # bounded, whatever the fault
    assert snapshot(service.store.collection) == before
    recovery = None
    if rerun is not None:
        began = time.monotonic()
        result = rerun()
        recovery = time.monotonic() - began
        # The three codes stored before are updated (statuses kept), the rest inserted.
        assert result.to_dict() == {"in": 2000, "inserted": 1997, "updated": 3}
        assert service.count(ME, "S3F", "tm") == {"available": 1999, "reserved": 2, "assigned": 0}
    report(f"s3.{name}", attempted=2 if rerun else 1, acknowledged=1 if rerun else 0, failed=1, duplicated=0, lost=0,
           error_s=took, **({"rerun_s": recovery} if recovery is not None else {}))
    return str(err.value)


def test_missing_object_is_not_found_then_upload_after_it_appears(seeded, s3_bucket):
    client, bucket = s3_bucket
    service = CodeService(seeded, S3Objects(client, bucket), clock=FakeClock())

    def rerun():
        client.put_object(Bucket=bucket, Key=KEY, Body=BODY)
        return service.upload_from_key(ME, "S3F", KEY)

    message = _fails(service, NotFound, "missing-object", rerun=rerun)
    assert message == f"no S3 object {KEY!r} in bucket {bucket!r}"


def test_missing_bucket_is_not_found(seeded, s3_server):
    client = s3_client(endpoint_url=s3_server.endpoint, region="us-east-1", timeout_seconds=5)
    service = CodeService(seeded, S3Objects(client, "no-such-bucket"), clock=FakeClock())
    assert _fails(service, NotFound, "missing-bucket") == "S3 bucket 'no-such-bucket' does not exist"


def test_access_denied_is_a_clear_error(seeded, faulty_s3):
    faulty_s3.mode = "denied"
    service = _service(seeded, faulty_s3.endpoint)

    def rerun():
        faulty_s3.mode = "ok"
        return service.upload_from_key(ME, "S3F", KEY)

    message = _fails(service, AccessDenied, "access-denied", rerun=rerun)
    assert message == f"access denied to s3://codes/{KEY} (AccessDenied)"


def test_stream_cut_mid_file_writes_nothing_and_rerun_converges(seeded, faulty_s3):
    faulty_s3.mode = "cut"
    service = _service(seeded, faulty_s3.endpoint)

    def rerun():
        faulty_s3.mode = "ok"
        return service.upload_from_key(ME, "S3F", KEY)

    message = _fails(service, ObjectStoreUnavailable, "stream-cut-mid-file", rerun=rerun)
    assert message.startswith(f"reading s3://codes/{KEY} failed after ")
    assert "the connection ended before the whole object arrived" in message


def test_stalled_body_times_out_and_rerun_converges(seeded, faulty_s3):
    faulty_s3.mode = "stall_body"
    service = _service(seeded, faulty_s3.endpoint)

    def rerun():
        faulty_s3.mode = "ok"
        return service.upload_from_key(ME, "S3F", KEY)

    message = _fails(service, ObjectStoreUnavailable, "stalled-mid-body", rerun=rerun)
    assert message.startswith(f"reading s3://codes/{KEY} failed after ")
    assert message.endswith("the stream stalled (no data within the read timeout)")


def test_stalled_endpoint_times_out_after_bounded_retries(seeded, faulty_s3):
    faulty_s3.mode = "stall_headers"
    service = _service(seeded, faulty_s3.endpoint)

    def rerun():
        faulty_s3.mode = "ok"
        return service.upload_from_key(ME, "S3F", KEY)

    message = _fails(service, ObjectStoreUnavailable, "stalled-endpoint", rerun=rerun)
    assert message.startswith("S3 is unreachable or did not answer in time") and "timeout" in message.lower()
    assert faulty_s3.requests == 4 + 1  # max_attempts=3 retries after the first attempt, then the re-run


def test_refused_connection_is_unavailable(seeded):
    service = _service(seeded, f"http://127.0.0.1:{free_port()}")
    message = _fails(service, ObjectStoreUnavailable, "connection-refused")
    assert message.startswith("S3 is unreachable or did not answer in time")
