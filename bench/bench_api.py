"""Reserve throughput and latency of the HTTP API: `python -m bench.bench_api`.

Starts `code-console serve` as a process (the embedded store, and/or a SecantusDB
subprocess), uploads a pool over HTTP, then keeps `--concurrency` reserve requests in flight
from one asyncio client until `--requests` are done. Prints requests per second and p50/p99
latency, and checks that no code was handed out twice. The client shares the machine with
the server, so the figures are a floor, not a capacity plan.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import time
from dataclasses import dataclass

import httpx
import jwt

from tests.servers import ServeProcess


@dataclass
class Result:
    store: str
    requests: int
    concurrency: int
    count: int
    seconds: float
    latencies: list[float]
    codes: int
    duplicates: int
    short: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    def line(self) -> str:
        return (
            f"{self.store:<10} {self.requests:>6} req  c={self.concurrency:<3} count={self.count:<3} "
            f"{self.rps:>8.1f} req/s  p50 {self.percentile(50) * 1000:>7.1f} ms  p99 {self.percentile(99) * 1000:>7.1f} ms  "
            f"mean {statistics.fmean(self.latencies) * 1000:>7.1f} ms  codes {self.codes}  duplicates {self.duplicates}  short {self.short}"
        )


async def _load(port: int, token: str, campaign: str, *, requests: int, concurrency: int, count: int) -> tuple[float, list[float], list[list[str]]]:
    """`concurrency` keep-alive connections, each sending its next request as soon as the last is answered.

    A minimal HTTP/1.1 client on asyncio streams: httpx's async pool costs more CPU per request
    than the server does (measured: it capped /heartbeat at ~290 req/s where this client sees
    ~1,500), and on a small machine the client shares the cores with the server.
    """
    request = (
        f"GET /{campaign}/reserve?count={count}&type=tm HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    batches: list[list[str]] = []
    remaining = requests

    async def connection() -> None:
        nonlocal remaining
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                writer.write(request)
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                length = next(int(h.split(":", 1)[1]) for h in head if h.lower().startswith("content-length:"))
                body = await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                if not head[0].startswith("HTTP/1.1 200"):
                    raise SystemExit(f"reserve failed: {head[0]} {body[:200]!r}")
                batches.append(json.loads(body)["data"])
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, batches


def run_one(store: str, env: dict[str, str], *, requests: int, concurrency: int, count: int) -> Result:
    secret = secrets.token_urlsafe(32)
    # Info level: the "listening" line carries the port. Every request is logged, as in production.
    env = {**env, "CODE_CONSOLE_JWT_SECRET": secret, "CODE_CONSOLE_API_LOG_LEVEL": "info"}
    token = jwt.encode({"sub": "bench", "isSupreme": True, "exp": int(time.time()) + 3600}, secret, algorithm="HS256")
    server = ServeProcess(env)
    try:
        server.wait_listening()
        base = f"http://127.0.0.1:{server.port}"
        campaign = f"BENCH{secrets.token_hex(4)}"
        pool = requests * count
        body = "".join(f"B{i:07d}\n" for i in range(pool)).encode()
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=600) as http:
            uploaded = http.post(f"/{campaign}/codes?type=tm", content=body, headers={"Content-Type": "text/csv"})
            uploaded.raise_for_status()
            # Warm the server (imports, threadpool) before timing.
            for _ in range(concurrency):
                http.get(f"/{campaign}/codes/count", params={"type": "tm"}).raise_for_status()
        seconds, latencies, batches = asyncio.run(
            _load(server.port, token, campaign, requests=requests, concurrency=concurrency, count=count)
        )
    finally:
        server.stop()
    every = [c for b in batches for c in b]
    return Result(
        store=store,
        requests=requests,
        concurrency=concurrency,
        count=count,
        seconds=seconds,
        latencies=latencies,
        codes=len(every),
        duplicates=len(every) - len(set(every)),
        short=sum(1 for b in batches if len(b) != count),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_api", description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["embedded", "secantus", "both"], default="both")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--count", type=int, default=5, help="codes per reserve request")
    parser.add_argument("--requests", type=int, default=3000, help="reserve requests on the embedded store")
    parser.add_argument("--secantus-requests", type=int, default=600, help="reserve requests on SecantusDB (a slow Python server)")
    args = parser.parse_args(argv)

    base_env = {k: v for k, v in os.environ.items() if not k.startswith("CODE_CONSOLE_")}
    results = []
    if args.store in ("embedded", "both"):
        results.append(run_one("embedded", base_env, requests=args.requests, concurrency=args.concurrency, count=args.count))
        print(results[-1].line(), flush=True)
    if args.store in ("secantus", "both"):
        from tests.servers import SecantusServer

        secantus = SecantusServer(test_commands=False)
        secantus.start()
        try:
            env = {**base_env, "CODE_CONSOLE_MONGO_URI": secantus.uri, "CODE_CONSOLE_MONGO_DB": f"bench_{secrets.token_hex(4)}"}
            results.append(run_one("secantus", env, requests=args.secantus_requests, concurrency=args.concurrency, count=args.count))
            print(results[-1].line(), flush=True)
        finally:
            secantus.stop()
    return 1 if any(r.duplicates or r.short for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
