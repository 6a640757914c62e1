"""The embedded store: one SQLite file (the standard library's sqlite3), for one machine and first tries.

With no MongoDB configured, codes live in a file under the user's data directory, survive
between commands and are shared by every process on the machine: each write is one
transaction (`BEGIN IMMEDIATE`, so writers queue instead of failing), in WAL mode so readers
never wait for a writer, with `synchronous=FULL` so a reservation a caller received survives
a crash. Its clock is this machine's (the processes sharing a file share a machine).

Times are stored as integer milliseconds since the epoch (UTC), the precision MongoDB keeps.
Statuses come from the same rule as everywhere (`status.py`), translated into SQL here.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from code_console.core import audit, status as rules
from code_console.core.audit import EventRecord
from code_console.core.contract import (
    Activity,
    AlertRecord,
    BatchWrite,
    Candidate,
    Change,
    KeyRecord,
    Seen,
    Series,
    Stamp,
    StoredCode,
    pair_case_twins,
)
from code_console.core.errors import StoreUnavailable
from code_console.core.models import CodeType, Status, StatusCounts

COLUMN = {rules.CODE: "code", rules.RESERVED: "reserved", rules.ASSIGNED: "assigned", rules.RESERVE_ID: "reserve_id", rules.DATES: None}

SCHEMA = """
CREATE TABLE IF NOT EXISTS codes (
    campaign_id TEXT NOT NULL,
    code TEXT NOT NULL,
    type TEXT NOT NULL,
    saved INTEGER NOT NULL,
    reserved INTEGER,
    assigned INTEGER,
    reserve_id TEXT,
    PRIMARY KEY (campaign_id, code)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS codes_pool ON codes (campaign_id, type, assigned, reserved);
CREATE INDEX IF NOT EXISTS codes_reservation ON codes (campaign_id, reserve_id) WHERE reserve_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS codes_code ON codes (code);
CREATE INDEX IF NOT EXISTS codes_code_nocase ON codes (campaign_id, code COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS reservation_keys (
    key TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    type TEXT NOT NULL,
    count INTEGER NOT NULL,
    subject TEXT NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    codes TEXT
);
CREATE INDEX IF NOT EXISTS reservation_keys_expires ON reservation_keys (expires);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    kind TEXT NOT NULL,
    reserve_id TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_campaign ON events (campaign_id, id);
CREATE INDEX IF NOT EXISTS events_reservation ON events (campaign_id, reserve_id, id) WHERE reserve_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_kind ON events (campaign_id, kind, id);
CREATE INDEX IF NOT EXISTS events_expires ON events (expires);
CREATE TABLE IF NOT EXISTS event_codes (
    campaign_id TEXT NOT NULL,
    code TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (campaign_id, code, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS event_codes_id ON event_codes (id);
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    type TEXT NOT NULL,
    kind TEXT NOT NULL,
    low INTEGER NOT NULL,
    crossing INTEGER NOT NULL,
    changed INTEGER NOT NULL,
    detail TEXT NOT NULL,
    delivered INTEGER
);
"""

# Rows per statement where a list of codes goes into SQL (SQLite's default limit is 32,766 variables).
IN_CHUNK = 500


def _ms(value: Any) -> Any:
    """A datetime as milliseconds; any other value (a raw value read back, see _dt) as it is."""
    if not isinstance(value, datetime):
        return value
    return int(value.timestamp() * 1000)


def _dt(value: Any) -> Any:
    """Milliseconds as a datetime; any other value (text another tool wrote) as it is: `check` reports it."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    try:
        return datetime.fromtimestamp(value / 1000, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return value


def rule_sql(rule: rules.Rule, params: dict[str, Any], args: list) -> str:
    """A rule as an SQL condition; parameters are appended to `args`."""
    if isinstance(rule, rules.All):
        return "(" + " AND ".join(rule_sql(p, params, args) for p in rule.parts) + ")"
    if isinstance(rule, rules.AnyOf):
        return "(" + " OR ".join(rule_sql(p, params, args) for p in rule.parts) + ")"
    column = COLUMN[rule.field]
    if isinstance(rule, rules.IsSet):
        return f"{column} IS NOT NULL"
    if isinstance(rule, rules.IsUnset):
        return f"{column} IS NULL"
    if isinstance(rule, rules.IsString):
        return f"typeof({column}) = 'text'"
    if isinstance(rule, rules.IsStringOrUnset):
        return f"({column} IS NULL OR typeof({column}) = 'text')"
    if isinstance(rule, rules.IsObjectOrMissing):
        return "1 = 1"  # the dates are columns: nothing here can be a malformed date holder
    value = params[rule.param]
    args.append(_ms(value) if isinstance(value, datetime) else value)
    # A time is an integer; text another tool wrote there (an ISO string) is before or after
    # nothing, as a string is no date on MongoDB (SQLite would order any text after every number).
    if isinstance(rule, rules.After):
        return f"({column} IS NOT NULL AND {column} > ? AND typeof({column}) = 'integer')"
    if isinstance(rule, rules.NotAfter):
        return f"({column} IS NOT NULL AND {column} <= ? AND typeof({column}) = 'integer')"
    if isinstance(rule, rules.Equals):
        return f"{column} IS ?"
    raise TypeError(f"not a rule: {rule!r}")


class SqliteStore:
    """The store contract (contract.Store) on one SQLite file, safe across threads and processes."""

    def __init__(self, path: str | Path, *, label: str | None = None, timeout_seconds: float = 5.0) -> None:
        self.path = Path(path)
        self.label = label or f"embedded (SQLite {_home_abbreviated(self.path)})"
        self._timeout = timeout_seconds
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._prepared = False

    # -- plumbing -------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE below).
                conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                if not self._prepared:
                    conn.executescript(SCHEMA)
                    self._prepared = True
            except (sqlite3.Error, OSError) as exc:
                raise StoreUnavailable(None, f"cannot open the embedded store {self.path}: {exc}") from exc
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        try:
            yield conn
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(None, f"the embedded store {self.path} did not answer: {exc}", slow="locked" in str(exc)) from exc

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction; writers from every process queue on the file lock (up to the timeout)."""
        with self._read() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def prepare(self) -> None:
        with self._read() as conn:
            conn.executescript(SCHEMA)

    def ping(self) -> None:
        with self._read() as conn:
            conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()

    def server_time(self) -> datetime:
        return datetime.now(timezone.utc)

    # -- upload ---------------------------------------------------------------------------

    def write_batch(self, campaign_id: str, code_type: CodeType, codes: list[str], now: datetime) -> BatchWrite:
        type_value, stamp = code_type.value, _ms(now)
        inserted = updated = conflicts = duplicates = 0
        with self._write() as conn:
            for given in _chunks(codes, IN_CHUNK):
                chunk = list(dict.fromkeys(given))
                duplicates += len(given) - len(chunk)  # repeats within the chunk
                marks = ",".join("?" * len(chunk))
                stored = dict(
                    (code, (t, saved))
                    for code, t, saved in conn.execute(
                        f"SELECT code, type, saved FROM codes WHERE campaign_id = ? AND code IN ({marks})", [campaign_id, *chunk]
                    )
                )
                new = [c for c in chunk if c not in stored]
                conn.executemany(
                    "INSERT INTO codes (campaign_id, code, type, saved) VALUES (?, ?, ?, ?)",
                    [(campaign_id, c, type_value, stamp) for c in new],
                )
                refresh = [c for c, (t, saved) in stored.items() if t == type_value and saved != stamp]
                conn.executemany("UPDATE codes SET saved = ? WHERE campaign_id = ? AND code = ?", [(stamp, campaign_id, c) for c in refresh])
                inserted += len(new)
                updated += len(refresh)
                other = sum(1 for t, _ in stored.values() if t != type_value)
                conflicts += other
                duplicates += len(stored) - len(refresh) - other
        return BatchWrite(inserted=inserted, updated=updated, conflicts=conflicts, duplicates=duplicates)

    # -- reservations ---------------------------------------------------------------------

    def find_available(self, campaign_id: str, code_type: CodeType, cutoff: datetime, limit: int) -> list[Candidate]:
        found: list[Candidate] = []
        with self._read() as conn:
            available = rules.STATUS_RULES[Status.AVAILABLE]
            for branch in available.parts if isinstance(available, rules.AnyOf) else (available,):
                need = limit - len(found)
                if need <= 0:
                    break
                args: list = [campaign_id, code_type.value]
                where = rule_sql(branch, {rules.CUTOFF: cutoff}, args)
                rows = conn.execute(
                    f"SELECT code, reserve_id, reserved FROM codes WHERE campaign_id = ? AND type = ? AND {where} LIMIT ?", [*args, need]
                )
                found.extend(Candidate(code, Seen(rid, _dt(reserved))) for code, rid, reserved in rows)
        return found

    def compare_and_set(
        self, campaign_id: str, change: Change, groups: dict[Seen, list[str]], now: datetime, reserve_id: str | None = None
    ) -> int:
        if change is Change.RESERVE:
            assignment, set_args = "reserved = ?, reserve_id = ?", [_ms(now), reserve_id]
        elif change is Change.ASSIGN:
            assignment, set_args = "assigned = ?", [_ms(now)]
        else:
            assignment, set_args = "reserved = NULL, reserve_id = NULL", []
        changed = 0
        with self._write() as conn:
            for seen, codes in groups.items():
                for chunk in _chunks(codes, IN_CHUNK):
                    marks = ",".join("?" * len(chunk))
                    cursor = conn.execute(
                        f"UPDATE codes SET {assignment} WHERE campaign_id = ? AND assigned IS NULL "
                        f"AND reserve_id IS ? AND reserved IS ? AND code IN ({marks})",
                        [*set_args, campaign_id, seen.reserve_id, _ms(seen.reserved), *chunk],
                    )
                    changed += cursor.rowcount
        return changed

    def holding(self, campaign_id: str, reserve_id: str, limit: int) -> list[StoredCode]:
        with self._read() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM codes WHERE campaign_id = ? AND reserve_id = ? LIMIT ?", [campaign_id, reserve_id, limit])
            return [_stored(r) for r in rows]

    def states(self, campaign_id: str, codes: list[str]) -> dict[str, StoredCode]:
        out: dict[str, StoredCode] = {}
        with self._read() as conn:
            for chunk in _chunks(codes, IN_CHUNK):
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(f"SELECT {_COLUMNS} FROM codes WHERE campaign_id = ? AND code IN ({marks})", [campaign_id, *chunk]):
                    out[row[1]] = _stored(row)
        return out

    def case_twins(self, campaign_id: str, codes: list[str]) -> dict[str, str]:
        """contract.Store.case_twins: the codes_code_nocase index; NOCASE folds ASCII letters
        only, so a non-ASCII code is also asked in its upper- and lower-case forms."""
        out: dict[str, str] = {}
        with self._read() as conn:
            for chunk in _chunks(codes, IN_CHUNK // 2):
                asked = dict.fromkeys(chunk)
                for code in chunk:
                    if not code.isascii():
                        asked.update(dict.fromkeys((code.upper(), code.lower())))
                marks = ",".join("?" * len(asked))
                rows = conn.execute(
                    f"SELECT code FROM codes WHERE campaign_id = ? AND code COLLATE NOCASE IN ({marks})", [campaign_id, *asked]
                )
                pair_case_twins(chunk, [r[0] for r in rows], out)
        return out

    # -- reservation keys -----------------------------------------------------------------

    def insert_key(self, record: KeyRecord) -> KeyRecord | None:
        with self._write() as conn:
            try:
                conn.execute(
                    "INSERT INTO reservation_keys (key, campaign_id, type, count, subject, created, expires, lease_owner, lease_until) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [record.key, record.campaign_id, record.code_type, record.count, record.subject,
                     _ms(record.created), _ms(record.expires), record.lease_owner, _ms(record.lease_until)],
                )
                return None
            except sqlite3.IntegrityError:
                pass
        return self.get_key(record.key)

    def prune_keys(self, before: datetime) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM reservation_keys WHERE expires <= ?", [_ms(before)]).rowcount

    def get_key(self, key: str) -> KeyRecord | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT key, campaign_id, type, count, subject, created, expires, lease_owner, lease_until, codes "
                "FROM reservation_keys WHERE key = ?",
                [key],
            ).fetchone()
        if row is None:
            return None
        codes = json.loads(row[9]) if row[9] is not None else None
        return KeyRecord(row[0], row[1], row[2], row[3], row[4], _dt(row[5]), _dt(row[6]), row[7], _dt(row[8]),
                         tuple(codes) if codes is not None else None)

    def lease_key(self, key: str, seen_owner: str | None, seen_until: datetime | None, owner: str | None, until: datetime | None) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE reservation_keys SET lease_owner = ?, lease_until = ? "
                "WHERE key = ? AND lease_owner IS ? AND lease_until IS ? AND codes IS NULL",
                [owner, _ms(until), key, seen_owner, _ms(seen_until)],
            )
            return cursor.rowcount == 1

    def finish_key(self, key: str, owner: str, codes: list[str]) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE reservation_keys SET codes = ? WHERE key = ? AND lease_owner = ? AND codes IS NULL",
                [json.dumps(list(codes)), key, owner],
            )
            return cursor.rowcount == 1

    # -- the audit trail (audit.py): a row per event, a row per code it names; one transaction --

    def record_event(self, record: EventRecord) -> None:
        body = json.dumps(
            {
                "actor": record.actor,
                "channel": record.channel,
                "request_id": record.request_id,
                "type": record.code_type,
                "key": record.key,
                "codes": list(record.codes),
                "outcomes": list(record.outcomes),
                "details": record.details,
            }
        )
        with self._write() as conn:
            conn.execute(
                "INSERT INTO events (id, campaign_id, at, expires, kind, reserve_id, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [record.id, record.campaign_id, _ms(record.at), _ms(record.expires), record.kind, record.reserve_id, body],
            )
            conn.executemany(
                "INSERT OR IGNORE INTO event_codes (campaign_id, code, id) VALUES (?, ?, ?)",
                [(record.campaign_id, c, record.id) for c in dict.fromkeys(record.codes)],
            )

    def events(
        self,
        campaign_id: str,
        *,
        code: str | None = None,
        reserve_id: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        before: str | None = None,
        limit: int = 100,
    ) -> list[EventRecord]:
        where, args = ["e.campaign_id = ?"], [campaign_id]
        source = "events e"
        if code is not None:
            source = "event_codes c JOIN events e ON e.id = c.id"
            where = ["c.campaign_id = ?", "c.code = ?"]
            args = [campaign_id, code]
        if reserve_id is not None:
            where.append("e.reserve_id = ?")
            args.append(reserve_id)
        if kind is not None:
            where.append("e.kind = ?")
            args.append(kind)
        if since is not None:
            where.append("e.id >= ?")
            args.append(audit.id_bound(since))
        if before is not None:
            where.append("e.id < ?")
            args.append(before)
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT e.id, e.campaign_id, e.at, e.expires, e.kind, e.reserve_id, e.body FROM {source} "
                f"WHERE {' AND '.join(where)} ORDER BY e.id DESC LIMIT ?",
                [*args, limit],
            ).fetchall()
        return [_event(r) for r in rows]

    def prune_events(self, before: datetime) -> int:
        with self._write() as conn:
            conn.execute("DELETE FROM event_codes WHERE id IN (SELECT id FROM events WHERE expires <= ?)", [_ms(before)])
            return conn.execute("DELETE FROM events WHERE expires <= ?", [_ms(before)]).rowcount

    # -- reading --------------------------------------------------------------------------

    def counts(
        self, campaign_id: str | None, cutoff: datetime, code_type: CodeType | None = None
    ) -> dict[str, dict[CodeType, StatusCounts]]:
        args: list = []
        sums = ", ".join(
            f"SUM(CASE WHEN {rule_sql(rule, {rules.CUTOFF: cutoff}, args)} THEN 1 ELSE 0 END)" for rule in rules.STATUS_RULES.values()
        )
        where = ""
        if campaign_id is not None:
            where = "WHERE campaign_id = ?"
            args.append(campaign_id)
            if code_type is not None:
                where += " AND type = ?"
                args.append(code_type.value)
        out: dict[str, dict[CodeType, StatusCounts]] = {}
        with self._read() as conn:
            for campaign, type_value, *values in conn.execute(f"SELECT campaign_id, type, {sums} FROM codes {where} GROUP BY campaign_id, type", args):
                if CodeType.stored(type_value) is None:
                    continue  # a type another tool wrote: in no pool; `check` reports it
                by_status = dict(zip(rules.STATUS_RULES, values))
                out.setdefault(campaign, {})[CodeType(type_value)] = StatusCounts(
                    available=by_status[Status.AVAILABLE], reserved=by_status[Status.RESERVED], assigned=by_status[Status.ASSIGNED]
                )
        return out

    def lookup(self, code: str, campaign_id: str | None, limit: int) -> list[StoredCode]:
        with self._read() as conn:
            if campaign_id:
                rows = conn.execute(f"SELECT {_COLUMNS} FROM codes WHERE campaign_id = ? AND code = ?", [campaign_id, code])
            else:
                rows = conn.execute(f"SELECT {_COLUMNS} FROM codes WHERE code = ? LIMIT ?", [code, limit])
            return [_stored(r) for r in rows]

    def scan(self, campaign_id: str, batch: int) -> Iterator[StoredCode]:
        with self._read() as conn:
            cursor = conn.execute(f"SELECT {_COLUMNS} FROM codes WHERE campaign_id = ?", [campaign_id])
            while rows := cursor.fetchmany(batch):
                yield from (_stored(r) for r in rows)


    def alert_records(self) -> list[AlertRecord]:
        with self._read() as conn:
            rows = conn.execute("SELECT key, campaign_id, type, kind, low, crossing, changed, detail, delivered FROM alerts").fetchall()
        return [AlertRecord(r[0], r[1], r[2], r[3], bool(r[4]), r[5], _dt(r[6]), json.loads(r[7]), _dt(r[8])) for r in rows]

    def put_alert(self, record: AlertRecord, seen: AlertRecord | None) -> bool:
        """INSERT OR IGNORE on the key, or an UPDATE guarded by the state seen: one transaction each."""
        values = [record.campaign_id, record.code_type, record.kind, int(record.low), record.crossing, _ms(record.changed),
                  json.dumps(record.detail), _ms(record.delivered)]
        with self._write() as conn:
            if seen is None:
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO alerts (key, campaign_id, type, kind, low, crossing, changed, detail, delivered) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [record.key, *values],
                )
            else:
                cursor = conn.execute(
                    "UPDATE alerts SET campaign_id = ?, type = ?, kind = ?, low = ?, crossing = ?, changed = ?, detail = ?, delivered = ? "
                    "WHERE key = ? AND low = ? AND crossing = ? AND changed = ? AND delivered IS ?",
                    [*values, seen.key, int(seen.low), seen.crossing, _ms(seen.changed), _ms(seen.delivered)],
                )
            return cursor.rowcount == 1

    def page(self, campaign_id: str, after: str | None, limit: int) -> list[StoredCode]:
        """A range of the primary key (campaign_id, code)."""
        bound, args = ("code > ?", [after]) if after is not None else ("1 = 1", [])
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM codes WHERE campaign_id = ? AND {bound} AND typeof(code) = 'text' ORDER BY code LIMIT ?",
                [campaign_id, *args, limit],
            ).fetchall()
        return [_stored(r) for r in rows]

    def activity(self, campaign_id: str | None, end: datetime, series: tuple[Series, ...]) -> dict[str, Activity]:
        """One statement: per stamp column, the campaign's codes with that date in the widest
        series, grouped by type and bucket per series (the pool index covers every column read)."""
        end_ms = _ms(end)
        start_ms = min(_ms(s.start(end)) for s in series)
        selects, args = [], []
        for stamp in Stamp:
            column = COLUMN[rules.RESERVED if stamp is Stamp.RESERVED else rules.ASSIGNED]
            buckets = []
            for s in series:
                first, size = _ms(s.start(end)), int(s.size.total_seconds() * 1000)
                # (t - first - 1) / size in integers: the bucket of a stamp in (first, end]; NULL before it.
                buckets.append(f"CASE WHEN {column} > ? THEN ({column} - ? - 1) / ? END")
                args += [first, first, size]
            scope = "campaign_id = ? AND " if campaign_id is not None else ""
            selects.append(
                f"SELECT campaign_id, type, '{stamp.value}', {', '.join(buckets)}, COUNT(*) FROM codes "
                f"WHERE {scope}{column} > ? AND {column} <= ? GROUP BY {', '.join(str(i + 1) for i in range(len(series) + 3))}"
            )
            args += ([campaign_id] if campaign_id is not None else []) + [start_ms, end_ms]
        out: dict[str, Activity] = {}
        with self._read() as conn:
            for campaign, type_value, kind, *rest in conn.execute(" UNION ALL ".join(selects), args):
                if CodeType.stored(type_value) is None:
                    continue
                *buckets, n = rest
                counts = out.setdefault(campaign, {}).setdefault((CodeType(type_value), Stamp(kind)), [[0] * s.count for s in series])
                for i, s in enumerate(series):
                    if buckets[i] is not None and 0 <= buckets[i] < s.count:
                        counts[i][buckets[i]] += n
        return out


_COLUMNS = "campaign_id, code, type, saved, reserved, assigned, reserve_id"


def _home_abbreviated(path: Path) -> str:
    try:
        return "~/" + path.resolve().relative_to(Path.home().resolve()).as_posix()
    except ValueError:
        return str(path)


def _event(row) -> EventRecord:
    body = json.loads(row[6])
    return EventRecord(
        id=row[0],
        campaign_id=row[1],
        at=_dt(row[2]),
        expires=_dt(row[3]),
        kind=row[4],
        actor=body["actor"],
        channel=body["channel"],
        request_id=body.get("request_id"),
        code_type=body.get("type"),
        reserve_id=row[5],
        key=body.get("key"),
        codes=tuple(body.get("codes") or ()),
        outcomes=tuple(body.get("outcomes") or ()),
        details=body.get("details") or {},
    )


def _stored(row) -> StoredCode:
    return StoredCode(row[0], row[1], row[2], _dt(row[3]), _dt(row[4]), _dt(row[5]), row[6])


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
