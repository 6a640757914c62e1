"""Upload pipeline: stream -> CSV -> batches -> BSON, into a sink that only BSON-encodes.

The sink stands where the MongoDB collection would be, so the figure is our client's
throughput alone. Run in a fresh process so peak RSS growth is the upload's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import bson
from bson import ObjectId


@dataclass
class _Result:
    inserted_ids: list = field(default_factory=list)
    matched_count: int = 0
    modified_count: int = 0


class BsonSink:
    """A duck-typed pymongo Collection that encodes each command's payload as the driver would, and stores nothing."""

    def __init__(self) -> None:
        self.commands = 0
        self.bytes = 0

    @property
    def database(self) -> dict:
        return {"reservations": self, "events": self}

    def list_indexes(self):
        return []

    def create_index(self, keys, **options):
        return "_".join(f"{k}_{v}" for k, v in keys)

    def find(self, flt, projection=None, **options):
        self.commands += 1
        self.bytes += len(bson.encode({"find": "codes", "filter": flt, "projection": projection or {}, **options}))
        return []

    def find_one(self, flt, projection=None):
        self.commands += 1
        self.bytes += len(bson.encode({"find": "codes", "filter": flt, "projection": projection or {}, "limit": 1}))
        return None

    def insert_many(self, docs, ordered=True):
        """As pymongo does: an `_id` for a document without one (a Python loop over the
        documents), then every document encoded in one C call (its batched OP_MSG)."""
        self.commands += 1
        ids = []
        for doc in docs:
            if "_id" not in doc:
                doc["_id"] = ObjectId()
            ids.append(doc["_id"])
        self.bytes += len(bson.encode({"insert": "codes", "documents": docs}))
        return _Result(inserted_ids=ids)

    def update_many(self, flt, update):
        self.commands += 1
        self.bytes += len(bson.encode({"q": flt, "u": update}))
        return _Result()


def write_csv(path: str, codes: int) -> None:
    with open(path, "w") as fh:
        chunk = 100_000
        for start in range(0, codes, chunk):
            fh.write("".join(f"PROMO-{i:010d}\n" for i in range(start, min(start + chunk, codes))))


def _child(path: str, batch_size: int) -> None:
    from code_console.core.models import LOCAL_OPERATOR
    from code_console.core.mongo import MongoStore
    from code_console.core.service import CodeService

    from bench.common import Timer, peak_rss_mb, rss_mb

    class NonSeekable:
        """What an S3 StreamingBody offers: read(n) and nothing else (forces the spool path)."""

        def __init__(self, fh):
            self.read = fh.read

    sink = BsonSink()
    service = CodeService(MongoStore(sink, label="bson-sink"), batch_size=batch_size)
    base = rss_mb()
    cpu = time.process_time()
    with open(path, "rb") as fh, Timer() as t:
        result = service.upload_from_file(LOCAL_OPERATOR, "BENCH", "tm", NonSeekable(fh))
    cpu = time.process_time() - cpu
    batches = -(-result.in_ // batch_size)
    print(json.dumps({
        "codes": result.in_,
        "seconds": t.seconds,
        "cpu_seconds": cpu,
        # CPU time, not wall time: the machine is shared, and the target is per core.
        "codes_per_s": result.in_ / cpu,
        "codes_per_wall_s": result.in_ / t.seconds,
        "rss_growth_mb": peak_rss_mb() - base,
        "commands": sink.commands,
        "commands_per_batch": sink.commands / batches,
        "bson_mb": sink.bytes / 1e6,
    }))


def run(codes: int = 5_000_000, batch_size: int = 50_000) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "codes.csv")
        write_csv(path, codes)
        out = subprocess.run(
            [sys.executable, "-c", f"from bench.upload import _child; _child({path!r}, {batch_size})"],
            capture_output=True, text=True, check=True,
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        figures["file_mb"] = os.path.getsize(path) / 1e6
    return figures


if __name__ == "__main__":
    print(run())


# -- the limit: a minimal csv.reader + bson.encode loop, beside the product's pipeline ----------


def minimal_loop(path: str) -> int:
    """The least a Python client can do per code: parse the CSV row, encode the document."""
    import csv
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    size = 0
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            size += len(bson.encode({"_id": {"campaign_id": "BENCH", "code": row[0]}, "type": "tm", "date": {"saved": now}}))
    return size


def _cpu_child(path: str, rounds: int) -> None:
    from code_console.core.models import LOCAL_OPERATOR
    from code_console.core.mongo import MongoStore
    from code_console.core.service import CodeService

    def product() -> int:
        service = CodeService(MongoStore(BsonSink(), label="bson-sink"))
        with open(path, "rb") as fh:
            return service.upload_from_file(LOCAL_OPERATOR, "BENCH", "tm", fh).in_

    best = {"minimal": float("inf"), "product": float("inf")}
    for _ in range(rounds):  # alternated, best of each: the machine is shared
        for name, call in (("minimal", lambda: minimal_loop(path)), ("product", product)):
            began = time.process_time()
            call()
            best[name] = min(best[name], time.process_time() - began)
    print(json.dumps(best))


def cpu_vs_limit(codes: int = 500_000, rounds: int = 3) -> dict:
    """Process CPU seconds of the upload pipeline (store write replaced by a BSON-encoding sink)
    and of the minimal loop, on the same file in one fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "codes.csv")
        write_csv(path, codes)
        out = subprocess.run(
            [sys.executable, "-c", f"from bench.upload import _cpu_child; _cpu_child({path!r}, {rounds})"],
            capture_output=True, text=True, check=True,
        )
    best = json.loads(out.stdout.strip().splitlines()[-1])
    return {"codes": codes, "product_s": best["product"], "minimal_s": best["minimal"],
            "product_us_per_code": 1e6 * best["product"] / codes, "minimal_us_per_code": 1e6 * best["minimal"] / codes}
