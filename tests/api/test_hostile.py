"""Issue 11's table, row by row, against `code-console serve` on 127.0.0.1 (embedded store).

Memory bounds are the server process's peak RSS growth during the hostile requests (VmHWM,
reset through /proc/PID/clear_refs before each), against a generous fixed limit. Times are
orderings: the heartbeat answers while the hostile request runs; a timed-out connection is
closed by the server while its client is still sending.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import string
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.api.conftest import SECRET, hs256
from tests.servers import ServeProcess

MIB = 1024 * 1024
RSS_BOUND = 150 * MIB
TOKEN = hs256()
AUTH = {"Authorization": f"Bearer {TOKEN}"}

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the server's RSS from /proc")


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODE_CONSOLE_")}
    env.update(CODE_CONSOLE_JWT_SECRET=SECRET, CODE_CONSOLE_API_LOG_LEVEL="info", **{f"CODE_CONSOLE_{k.upper()}": v for k, v in settings.items()})
    return env


@pytest.fixture(scope="module")
def server():
    proc = ServeProcess(
        _env(
            api_header_timeout_seconds="2",
            api_body_timeout_seconds="8",
            api_max_connections="400",
            api_shutdown_timeout_seconds="2",
            reserve_max_count="10000",
        )
    )
    try:
        proc.wait_listening()
        yield proc
    finally:
        proc.stop()


def _status(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value = line.split(":", 1)
                out[name] = int(value.split()[0]) * 1024
    return out


class PeakRss:
    """The server's peak RSS growth over a block: VmHWM after, minus VmRSS before."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.growth = 0

    def __enter__(self):
        with open(f"/proc/{self.pid}/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM to the current RSS
        self.before = _status(self.pid)["VmRSS"]
        return self

    def __exit__(self, *exc) -> None:
        self.growth = _status(self.pid)["VmHWM"] - self.before
        print(f"\npeak RSS growth: {self.growth / MIB:.1f} MiB")


def heartbeat_answers_while(server: ServeProcess, running: threading.Event) -> int:
    """Heartbeats answered (200) while `running` is set; at least one is sent while it is."""
    answered = 0
    with httpx.Client(timeout=30) as http:
        while True:
            still = running.is_set()
            assert http.get(f"http://127.0.0.1:{server.port}/heartbeat").status_code == 200
            answered += 1
            if not still:
                return answered
            time.sleep(0.05)


def raw_request(port: int, head: bytes, body_chunks=(), read_timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as sock:
        sock.sendall(head)
        for chunk in body_chunks:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        return read_response(sock)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data[:200]!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(lines[0].split()[1]), headers, rest[:length]


# -- 1. methods as labels ----------------------------------------------------------------------


def test_made_up_methods_do_not_grow_metrics(server):
    def flood(worker: int) -> None:
        rng = random.Random(worker)
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
            for _ in range(150):
                method = "".join(rng.choice(string.ascii_uppercase) for _ in range(8192)).encode()
                sock.sendall(method + b" /C1/codes/count HTTP/1.1\r\nHost: x\r\n\r\n")
                status, headers, _ = read_response(sock)
                assert status in (404, 405)
                if headers.get("connection") == "close":
                    return

    running = threading.Event()
    running.set()
    with PeakRss(server.proc.pid) as rss, ThreadPoolExecutor(11) as pool:
        floods = [pool.submit(flood, w) for w in range(10)]  # 1,500 requests
        beats = pool.submit(heartbeat_answers_while, server, running)
        for f in floods:
            f.result()
        running.clear()
        assert beats.result() >= 1
    scrape = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=30)
    assert scrape.status_code == 200
    assert len(scrape.content) < 256 * 1024, len(scrape.content)
    assert 'method="other",path="unmatched"' in scrape.text or 'method="other",path="/{campaignId}/codes/count"' in scrape.text
    assert not any(len(line) > 400 for line in scrape.text.splitlines())
    assert rss.growth < RSS_BOUND


# -- 4. JSON bodies ------------------------------------------------------------------------------


def _assign_head(port: int, length: int | None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST /BIG/assign HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    ).encode()


def _integers(total: int, chunk: int = 1024 * 1024):
    """A JSON array of integers of exactly `total` bytes: [1,1,...,1    ]."""
    block = b"1," * (chunk // 2)
    yield b"["
    sent = 1
    while sent + len(block) + 2 <= total:
        yield block
        sent += len(block)
    yield b"1" + b" " * (total - sent - 2) + b"]"


def _chunked(chunks):
    for c in chunks:
        yield f"{len(c):x}\r\n".encode() + c + b"\r\n"
    yield b"0\r\n\r\n"


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_six_concurrent_60_mb_json_bodies_are_refused_with_bounded_memory(server, framing):
    size = 60 * 1000 * 1000

    def send() -> int:
        if framing == "content-length":
            status, _, body = raw_request(server.port, _assign_head(server.port, size), _integers(size))
        else:
            status, _, body = raw_request(server.port, _assign_head(server.port, None), _chunked(_integers(size)))
        assert json.loads(body)["error"]["code"] == "payload_too_large"
        return status

    running = threading.Event()
    running.set()
    with PeakRss(server.proc.pid) as rss, ThreadPoolExecutor(7) as pool:
        sends = [pool.submit(send) for _ in range(6)]
        beats = pool.submit(heartbeat_answers_while, server, running)
        statuses = [s.result() for s in sends]
        running.clear()
        assert beats.result() >= 1
    assert statuses == [413] * 6
    assert rss.growth < RSS_BOUND


def test_six_concurrent_bodies_just_under_the_limit_are_parsed_with_bounded_memory(server):
    size = 15 * 1000 * 1000  # under the 16 MiB JSON limit: read, then refused before it is built

    def send() -> tuple[int, str]:
        status, _, body = raw_request(server.port, _assign_head(server.port, size), _integers(size))
        return status, json.loads(body)["error"]["code"]

    running = threading.Event()
    running.set()
    with PeakRss(server.proc.pid) as rss, ThreadPoolExecutor(7) as pool:
        sends = [pool.submit(send) for _ in range(6)]
        beats = pool.submit(heartbeat_answers_while, server, running)
        results = [s.result() for s in sends]
        running.clear()
        assert beats.result() >= 1
    assert results == [(400, "invalid_json")] * 6
    assert rss.growth < RSS_BOUND


def test_the_largest_legitimate_body_is_accepted(server):
    codes = [f"{i:06d}" + "X" * 122 for i in range(100_000)]  # 100,000 codes of 128 characters
    body = json.dumps({"codes": codes}).encode()
    assert len(body) > 13 * 1000 * 1000
    with PeakRss(server.proc.pid) as rss:
        response = httpx.post(f"http://127.0.0.1:{server.port}/BIG/release", content=body, headers={**AUTH, "Content-Type": "application/json"}, timeout=120)
    assert response.status_code == 200, response.text[:300]
    assert response.json()["data"]["count"] == {"in": 100_000, "updated": 0}
    assert rss.growth < RSS_BOUND


# -- 5. a 50 MB CSV row -------------------------------------------------------------------------


def test_a_50_mb_csv_row_is_refused_naming_the_line_with_bounded_memory(server):
    body = b"CODE1" + b"," * (50 * 1000 * 1000) + b"\n"
    with PeakRss(server.proc.pid) as rss:
        response = httpx.post(
            f"http://127.0.0.1:{server.port}/ROW/codes?type=tm", content=body, headers={**AUTH, "Content-Type": "text/csv"}, timeout=120
        )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("line 1:")
    assert rss.growth < RSS_BOUND


# -- 6. trickled bodies and headers, the connection limit ---------------------------------------


def test_a_body_trickled_at_one_byte_a_second_is_cut_off(server):
    head = _assign_head(server.port, 1000)
    closed_while_sending = threading.Event()

    def trickle() -> tuple[int, bytes]:
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
            sock.sendall(head)
            for _ in range(60):  # would take a minute; the server has an 8 s body timeout
                try:
                    sock.sendall(b" ")
                except (BrokenPipeError, ConnectionResetError):
                    closed_while_sending.set()
                    break
                time.sleep(1)
                sock.setblocking(False)
                try:
                    peek = sock.recv(65536, socket.MSG_PEEK)
                except BlockingIOError:
                    peek = None
                finally:
                    sock.setblocking(True)
                if peek is not None:
                    closed_while_sending.set()
                    break
            sock.settimeout(30)
            status, _, body = read_response(sock)
            return status, body

    running = threading.Event()
    running.set()
    with ThreadPoolExecutor(2) as pool:
        result = pool.submit(trickle)
        beats = pool.submit(heartbeat_answers_while, server, running)
        status, body = result.result()
        running.clear()
        assert beats.result() >= 1
    assert closed_while_sending.is_set()  # the server ended it, not the client
    assert status == 408 and json.loads(body)["error"]["code"] == "request_timeout"


def test_150_connections_trickling_headers_are_closed_and_the_server_keeps_answering(server):
    def trickle() -> bytes:
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
            sock.sendall(b"GET /heartbeat HTTP/1.1\r\n")
            for i in range(60):
                try:
                    sock.sendall(f"X-Slow-{i}: y\r\n".encode())
                except (BrokenPipeError, ConnectionResetError):
                    return b"reset"
                time.sleep(0.5)
                sock.setblocking(False)
                try:
                    answer = sock.recv(65536)
                    return answer or b"closed"
                except BlockingIOError:
                    pass
                finally:
                    sock.setblocking(True)
            return b"never closed"

    running = threading.Event()
    running.set()
    with ThreadPoolExecutor(151) as pool:
        slow = [pool.submit(trickle) for _ in range(150)]
        time.sleep(0.5)
        beats = pool.submit(heartbeat_answers_while, server, running)
        answers = [s.result() for s in slow]
        running.clear()
        assert beats.result() >= 1
    assert all(a.startswith(b"HTTP/1.1 408") or a in (b"closed", b"reset") for a in answers), {a[:40] for a in answers}
    assert sum(a.startswith(b"HTTP/1.1 408") for a in answers) >= 140


def test_connections_past_the_limit_are_closed_at_once(server):
    sockets = []
    try:
        for _ in range(450):  # the limit is 400
            sockets.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
        time.sleep(0.5)
        closed = 0
        for sock in sockets:
            sock.setblocking(False)
            try:
                if sock.recv(1) == b"":
                    closed += 1
            except BlockingIOError:
                pass
            except ConnectionResetError:
                closed += 1
        assert closed >= 50
    finally:
        for sock in sockets:
            sock.close()
    time.sleep(0.5)
    assert httpx.get(f"http://127.0.0.1:{server.port}/heartbeat", timeout=30).status_code == 200


# -- 7. to 12. ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, params",
    [
        ("/C1/reserve", {"count": "1" * 4301, "type": "tm"}),
        ("/CAMP1%0A/reserve", {"count": "1", "type": "tm"}),
        ("/C1/reserve", {"count": "10 ", "type": "tm"}),
        ("/C1/reserve", {"count": "+3", "type": "tm"}),
        ("/C1/reserve", {"count": "١٠", "type": "tm"}),
        ("/C1/reserve", {"count": "３", "type": "tm"}),
    ],
)
def test_counts_and_campaigns_that_are_not_exactly_valid_are_400(server, path, params):
    response = httpx.get(f"http://127.0.0.1:{server.port}{path}", params=params, headers=AUTH, timeout=30)
    assert response.status_code == 400, response.text


def test_json_nested_5000_deep_is_400(server):
    body = b"[" * 5000 + b"]" * 5000
    response = httpx.post(f"http://127.0.0.1:{server.port}/C1/assign", content=body, headers={**AUTH, "Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json"


def test_a_client_disconnecting_mid_upload_is_logged_as_a_disconnect(server):
    mark = len(server.lines)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            (
                f"POST /DISC/codes?type=tm HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                "Content-Type: text/csv\r\nContent-Length: 1000000\r\n\r\n"
            ).encode()
            + b"A1\nA2\n" * 1000
        )
        time.sleep(0.3)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any('"client disconnected"' in line for line in server.lines[mark:]):
        time.sleep(0.1)
    records = [json.loads(line) for line in server.lines[mark:] if line.startswith("{")]
    disconnects = [r for r in records if r["msg"] == "client disconnected"]
    assert disconnects and disconnects[0]["status"] == 499 and disconnects[0]["route"] == "/{campaignId}/codes"
    assert not [r for r in records if r["level"] in ("error", "critical")]
    metrics = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=30).text
    assert 'route="/{campaignId}/codes",status="500"' not in metrics


def test_no_redirect_is_built_from_the_host_header(server):
    response = httpx.get(f"http://127.0.0.1:{server.port}/heartbeat/", headers={"Host": "evil.example"}, timeout=30)
    assert response.status_code == 404 and "location" not in response.headers


def test_answers_carrying_codes_are_not_stored_and_nothing_is_sniffed(server):
    base = f"http://127.0.0.1:{server.port}"
    httpx.post(f"{base}/HDR/codes?type=tm", content=b"H1\nH2\n", headers={**AUTH, "Content-Type": "text/csv"}, timeout=30)
    reserved = httpx.get(f"{base}/HDR/reserve", params={"count": 1, "type": "tm"}, headers=AUTH, timeout=30)
    assert reserved.status_code == 200 and reserved.headers["cache-control"] == "no-store"
    for response in (
        reserved,
        httpx.get(f"{base}/heartbeat", timeout=30),
        httpx.get(f"{base}/metrics", timeout=30),
        httpx.get(f"{base}/nowhere/at/all", timeout=30),
        httpx.get(f"{base}/HDR/reserve", timeout=30),
        httpx.post(f"{base}/HDR/assign", json={"codes": ["H1"]}, headers=AUTH, timeout=30),
    ):
        assert response.headers["x-content-type-options"] == "nosniff", response.url


def test_anonymous_heartbeat_says_only_ok(server):
    assert httpx.get(f"http://127.0.0.1:{server.port}/heartbeat", timeout=30).json() == {"status": "ok"}


# -- 16. SIGTERM ---------------------------------------------------------------------------------


def test_sigterm_during_a_trickled_upload_stops_the_server():
    proc = ServeProcess(_env(api_shutdown_timeout_seconds="2", api_body_timeout_seconds="600"))
    try:
        proc.wait_listening()
        sock = socket.create_connection(("127.0.0.1", proc.port), timeout=60)
        sock.sendall(
            (
                f"POST /TERM/codes?type=tm HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                "Content-Type: text/csv\r\nContent-Length: 100000\r\n\r\nA1\n"
            ).encode()
        )
        time.sleep(0.5)
        proc.proc.send_signal(signal.SIGTERM)
        exit_status = proc.proc.wait(60)  # a safety net: the assertion is that it exits at all
        sock.close()  # the client never finished its body: the server ended the upload
    finally:
        proc.stop()
    assert exit_status == 0
    assert any('"shutting down"' in line for line in proc.lines) and any('"stopped"' in line for line in proc.lines)


def test_sigterm_during_an_upload_stuck_in_s3_exits_within_the_bound():
    # An "S3" that accepts connections and never answers: the upload's core call blocks.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    held = []
    stop = threading.Event()

    def accept() -> None:
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    proc = ServeProcess(
        _env(
            api_shutdown_timeout_seconds="2",
            s3_endpoint_url=f"http://127.0.0.1:{silent.getsockname()[1]}",
            s3_timeout_seconds="300",
            s3_bucket="codes",
        )
    )
    try:
        proc.wait_listening()
        client = threading.Thread(
            target=lambda: httpx.post(
                f"http://127.0.0.1:{proc.port}/STUCK/codes", json={"fileKey": "codes/STUCK/tm/a.csv"}, headers=AUTH, timeout=120
            ),
            daemon=True,
        )
        client.start()
        deadline = time.monotonic() + 30
        while not held and time.monotonic() < deadline:
            time.sleep(0.1)
        assert held, "the upload never reached S3"
        proc.proc.send_signal(signal.SIGTERM)
        exit_status = proc.proc.wait(60)
    finally:
        stop.set()
        proc.stop()
        for s in held:
            s.close()
        silent.close()
    assert exit_status == 1  # it had to abandon the stuck call, and says so
    assert any('"exiting with core calls still running"' in line for line in proc.lines)
