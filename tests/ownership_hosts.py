"""Hosts for the ownership tests: the command line run as a separate process (optionally under
Debian's `faketime`, a host whose clock is wrong), on one SecantusDB database or one embedded
SQLite file, and "time travel": ageing a reservation's stored dates, as if it had been made
hours ago, without waiting.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pymongo

FAKETIME = shutil.which("faketime")
# Where Debian's libfaketime lives (the `faketime` wrapper preloads it).
LIBFAKETIME = next(
    (p for p in ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                 "/usr/lib/faketime/libfaketime.so.1") if os.path.exists(p)),
    None,
)


@dataclass
class Done:
    """One finished command: exit status, stdout parsed as JSON (None if empty), stderr lines after the store line."""

    status: int
    out: object
    notes: list[str]


@dataclass
class Host:
    """The command line on one store. `kind` is "secantus" or "embedded"."""

    kind: str
    env: dict[str, str]
    cwd: Path
    mongo: pymongo.MongoClient | None = None
    db: str | None = None
    sqlite_path: Path | None = None

    def command(self, *args: str, offset: str | None = None) -> list[str]:
        base = [sys.executable, "-m", "code_console", *args]
        return base if offset is None else [FAKETIME, "-f", offset, *base]

    def run(self, *args: str, offset: str | None = None, timeout: float = 120) -> Done:
        done = subprocess.run(self.command(*args, offset=offset), capture_output=True, env=self.env, timeout=timeout, cwd=self.cwd)
        lines = done.stderr.decode().splitlines()
        assert lines and lines[0].startswith("code-console: store: "), done.stderr.decode()
        text = done.stdout.decode().strip()
        return Done(done.returncode, json.loads(text) if text else None, lines[1:])

    def ok(self, *args: str, offset: str | None = None):
        done = self.run(*args, offset=offset)
        assert done.status == 0, done.notes
        return done.out

    # -- the store, read and aged directly ------------------------------------------------

    def server_now(self) -> datetime:
        """The database's clock: SecantusDB's `hello.localTime`; the embedded store's is this machine's."""
        if self.mongo is not None:
            told = self.mongo.admin.command("hello")["localTime"]
            return told if told.tzinfo else told.replace(tzinfo=timezone.utc)
        return datetime.now(timezone.utc)

    def docs(self, campaign: str) -> dict[str, dict]:
        """Every stored code of a campaign: {code: {"reserveId", "reserved", "assigned"}}."""
        if self.mongo is not None:
            found = self.mongo[self.db]["codes"].find({"_id.campaign_id": campaign})
            return {
                d["_id"]["code"]: {"reserveId": d.get("reserveId"), "reserved": d["date"].get("reserved"), "assigned": d["date"].get("assigned")}
                for d in found
            }
        with sqlite3.connect(self.sqlite_path) as conn:
            rows = conn.execute("SELECT code, reserve_id, reserved, assigned FROM codes WHERE campaign_id = ?", [campaign]).fetchall()
        ms = lambda v: None if v is None else datetime.fromtimestamp(v / 1000, timezone.utc)  # noqa: E731
        return {code: {"reserveId": rid, "reserved": ms(r), "assigned": ms(a)} for code, rid, r, a in rows}

    def age(self, reserve_id: str, hours: float) -> int:
        """Move a reservation `hours` into the past: its codes' `date.reserved` and, if it was made
        with a key, its key record's dates. Returns how many codes moved."""
        delta = timedelta(hours=hours)
        if self.mongo is not None:
            db = self.mongo[self.db]
            moved = 0
            for d in db["codes"].find({"reserveId": reserve_id}):
                old = d["date"].get("reserved")
                if old is not None:
                    db["codes"].update_one({"_id": d["_id"]}, {"$set": {"date.reserved": old - delta}})
                    moved += 1
            key = db["reservations"].find_one({"_id": reserve_id})
            if key is not None:
                db["reservations"].update_one(
                    {"_id": reserve_id}, {"$set": {"created": key["created"] - delta, "expires": key["expires"] - delta}}
                )
            return moved
        ms = int(delta.total_seconds() * 1000)
        with sqlite3.connect(self.sqlite_path) as conn:
            moved = conn.execute(
                "UPDATE codes SET reserved = reserved - ? WHERE reserve_id = ? AND reserved IS NOT NULL", [ms, reserve_id]
            ).rowcount
            conn.execute("UPDATE reservation_keys SET created = created - ?, expires = expires - ? WHERE key = ?", [ms, ms, reserve_id])
        return moved

    def close(self) -> None:
        if self.mongo is not None:
            self.mongo.drop_database(self.db)
            self.mongo.close()


def secantus_host(server, cwd: Path) -> Host:
    db = f"own_{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "CODE_CONSOLE_MONGO_URI": server.uri, "CODE_CONSOLE_MONGO_DB": db}
    env.pop("CODE_CONSOLE_SQLITE_PATH", None)
    client = pymongo.MongoClient(server.uri, tz_aware=True, serverSelectionTimeoutMS=10_000)
    return Host("secantus", env, cwd, mongo=client, db=db)


def embedded_host(cwd: Path) -> Host:
    path = cwd / "codes.sqlite3"
    env = {**os.environ, "CODE_CONSOLE_SQLITE_PATH": str(path)}
    env.pop("CODE_CONSOLE_MONGO_URI", None)
    return Host("embedded", env, cwd, sqlite_path=path)


def faked_now(offset: str) -> datetime:
    """What `datetime.now()` says in a Python process run under `faketime -f offset` (the guard
    that the wrapper really moves the process's clock, else a skew test proves nothing)."""
    probe = "import datetime; print(datetime.datetime.now(datetime.timezone.utc).isoformat())"
    done = subprocess.run([FAKETIME, "-f", offset, sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return datetime.fromisoformat(done.stdout.strip())
