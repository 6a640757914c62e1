"""MongoDB repository: the only module that speaks Mongo.

Documents keep the original service's shape:
    {campaignId, type, code, date: {saved, reserved?, assigned?}, reserveId?}
Status is computed from the dates, never stored. Every query is scoped by campaignId and
every query shape is served by one of INDEXES (tests check the plans on a real server).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterator

import pymongo
from bson import ObjectId
from pymongo import errors as mongo_errors

from code_console.core.errors import StoreUnavailable
from code_console.core.models import CodeRecord, CodeType, Status, StatusCounts
from code_console.core.uri import redact_uri

INDEXES = [
    # Uniqueness per campaign, whatever the type: no code can sit in two pools.
    # Also serves the upload's find/update and a lookup within a campaign.
    ([("campaignId", 1), ("code", 1)], {"unique": True, "name": "campaign_code_unique"}),
    # Candidate search (fresh, then expired) and the status counts.
    ([("campaignId", 1), ("type", 1), ("date.assigned", 1), ("date.reserved", 1)], {"name": "campaign_type_status"}),
    # The reserve's compare-and-set, the read-back by reserveId, release by reserveId.
    (
        [("campaignId", 1), ("reserveId", 1), ("date.assigned", 1), ("date.reserved", 1), ("code", 1)],
        {"name": "campaign_reservation_state"},
    ),
    # Assign and release: unassigned codes of a list.
    ([("campaignId", 1), ("date.assigned", 1), ("code", 1)], {"name": "campaign_unassigned_code"}),
    # Support lookup of a code whose campaign is not known.
    ([("code", 1)], {"name": "code"}),
]

# Every filter below is an index prefix of equalities plus at most one range or $in on the next
# field, with no residual clause: the shape any planner (SecantusDB's included) serves from
# the index alone. tests/test_plans.py checks each one with explain().

_UNAVAILABLE = (
    mongo_errors.ServerSelectionTimeoutError,
    mongo_errors.AutoReconnect,  # includes NetworkTimeout and NotPrimaryError
    mongo_errors.ConnectionFailure,
    mongo_errors.ExecutionTimeout,
    mongo_errors.WTimeoutError,
)

# Server-side errors that say "not now" rather than "never": a node shutting down or stepping
# down, a network error between servers, a lock timeout. pymongo raises them as a plain
# OperationFailure once its own single retry (if any) is spent.
_TRANSIENT_CODES = frozenset(
    {6, 7, 24, 89, 91, 112, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436}
)


@dataclass(frozen=True)
class Candidate:
    """An available code and the state it was seen in (the reserve's compare-and-set compares it)."""

    code: str
    reserve_id: str | None
    reserved: datetime | None


@dataclass(frozen=True)
class BatchWrite:
    inserted: int
    updated: int
    conflicts: int


def _available_filters(campaign_id: str, code_type: CodeType, cutoff: datetime) -> list[dict]:
    """Available = unassigned and (never reserved, or reserved before the cutoff): two index ranges."""
    base = {"campaignId": campaign_id, "type": code_type.value, "date.assigned": None}
    return [{**base, "date.reserved": None}, {**base, "date.reserved": {"$lt": cutoff}}]


class MongoStore:
    """Repository over one pymongo-compatible collection.

    `lock` makes each repository call atomic for stores that are not safe across threads
    (the embedded mongomock store); a real server needs none.
    """

    def __init__(self, collection, *, label: str, lock: threading.RLock | None = None, client=None) -> None:
        self._col = collection
        self._lock = lock
        self._client = client
        self.label = label

    # -- plumbing -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _call(self) -> Iterator[None]:
        guard = self._lock if self._lock is not None else contextlib.nullcontext()
        try:
            with guard:
                yield
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(None, f"MongoDB is unreachable or did not answer in time ({self.label}): {_short(exc)}") from exc
        except mongo_errors.WriteConcernError as exc:
            # The write was applied but its durability was not confirmed: an unknown outcome.
            raise StoreUnavailable(
                None, f"MongoDB applied a write but could not confirm it ({self.label}): {_short(exc)}; its outcome is unknown"
            ) from exc
        except mongo_errors.OperationFailure as exc:
            if exc.code in _TRANSIENT_CODES or exc.has_error_label("RetryableWriteError"):
                raise StoreUnavailable(None, f"MongoDB could not serve the request now ({self.label}): {_short(exc)}") from exc
            raise
        except mongo_errors.PyMongoError as exc:
            if _is_network_error(exc):
                raise StoreUnavailable(None, f"MongoDB connection failed ({self.label}): {_short(exc)}") from exc
            raise

    @property
    def collection(self):
        return self._col

    def ensure_indexes(self) -> None:
        with self._call():
            for keys, opts in INDEXES:
                self._col.create_index(keys, **opts)

    def ping(self) -> None:
        with self._call():
            if self._client is not None:
                self._client.admin.command("ping")
            else:
                self._col.find_one({}, {"_id": 1})

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    # -- upload -------------------------------------------------------------------------

    def write_batch(self, campaign_id: str, code_type: CodeType, codes: list[str], now: datetime) -> BatchWrite:
        """Insert new codes and refresh `date.saved` of existing ones, in at most three commands.

        Reserved/assigned dates and reserveId are never touched. A code stored under the other
        type is a conflict and is left as it is. Counts are exact: in == inserted+updated+conflicts,
        where a code repeated in the batch counts once as inserted and then as updated.
        """
        type_value = code_type.value
        occurrences = Counter(codes)
        unique = list(occurrences)
        with self._call():
            existing = {
                d["code"]: d["type"]
                for d in self._col.find({"campaignId": campaign_id, "code": {"$in": unique}}, {"_id": 0, "code": 1, "type": 1})
            }
            new = [c for c in unique if c not in existing] if existing else unique
            inserted = 0
            if new:
                ids = _object_ids(len(new))
                docs = [
                    {"_id": oid, "campaignId": campaign_id, "type": type_value, "code": c, "date": {"saved": now}}
                    for oid, c in zip(ids, new)
                ]
                try:
                    inserted = len(self._col.insert_many(docs, ordered=False).inserted_ids)
                except mongo_errors.BulkWriteError as exc:
                    details = exc.details
                    if any(e.get("code") != 11000 for e in details.get("writeErrors", [])):
                        raise
                    inserted = details.get("nInserted", 0)
                    # Stored by a concurrent upload between our find and our insert.
                    raced = [new[e["index"]] for e in details.get("writeErrors", [])]
                    existing.update(
                        (d["code"], d["type"])
                        for d in self._col.find({"campaignId": campaign_id, "code": {"$in": raced}}, {"_id": 0, "code": 1, "type": 1})
                    )
            same = [c for c, t in existing.items() if t == type_value]
            if same:
                # Codes never change type, so `same` needs no type clause.
                self._col.update_many({"campaignId": campaign_id, "code": {"$in": same}}, {"$set": {"date.saved": now}})
        conflicts = sum(occurrences[c] for c, t in existing.items() if t != type_value)
        return BatchWrite(inserted=inserted, updated=len(codes) - inserted - conflicts, conflicts=conflicts)

    # -- reserve ------------------------------------------------------------------------

    def find_available(self, campaign_id: str, code_type: CodeType, cutoff: datetime, limit: int) -> list[Candidate]:
        """Up to `limit` available codes, each with the state it was seen in: never-reserved first, then expired."""
        found: list[Candidate] = []
        with self._call():
            for flt in _available_filters(campaign_id, code_type, cutoff):
                need = limit - len(found)
                if need <= 0:
                    break
                for d in self._col.find(flt, {"_id": 0, "code": 1, "reserveId": 1, "date.reserved": 1}).limit(need):
                    found.append(Candidate(d["code"], d.get("reserveId"), _aware((d.get("date") or {}).get("reserved"))))
        return found

    def try_reserve(self, campaign_id: str, code_type: CodeType, candidates: list[Candidate], reserve_id: str, now: datetime, cutoff: datetime) -> int:
        """Reserve those candidates still in the state they were seen in; returns how many were taken.

        A compare-and-set: each document changes only if its reserveId and reserved date are
        still the ones find_available saw (and it is unassigned), so two callers can never
        both win one code. Candidates seen in the same state share one update (uncontended:
        all are fresh, so one command).
        """
        groups: dict[tuple, list[str]] = {}
        for c in candidates:
            groups.setdefault((c.reserve_id, c.reserved), []).append(c.code)
        won = 0
        with self._call():
            for (seen_rid, seen_reserved), codes in groups.items():
                result = self._col.update_many(
                    {
                        "campaignId": campaign_id,
                        "reserveId": seen_rid,
                        "date.assigned": None,
                        "date.reserved": seen_reserved,
                        "code": {"$in": codes},
                    },
                    {"$set": {"date.reserved": now, "reserveId": reserve_id}},
                )
                won += result.modified_count
        return won

    def codes_for_reservation(self, campaign_id: str, reserve_id: str) -> list[str]:
        with self._call():
            return [d["code"] for d in self._col.find({"campaignId": campaign_id, "reserveId": reserve_id}, {"_id": 0, "code": 1})]

    # -- assign / release ---------------------------------------------------------------

    def assign(self, campaign_id: str, codes: list[str], now: datetime) -> int:
        # `date.assigned: null` in the filter: the first assignment date is never overwritten.
        with self._call():
            result = self._col.update_many(
                {"campaignId": campaign_id, "date.assigned": None, "code": {"$in": codes}},
                {"$set": {"date.assigned": now}},
            )
        return result.modified_count

    def release(self, campaign_id: str, codes: list[str]) -> int:
        # Unsetting fields a code does not have modifies nothing, so `modified_count` counts
        # exactly the reserved codes released; the filter needs no clause on date.reserved.
        with self._call():
            result = self._col.update_many(
                {"campaignId": campaign_id, "date.assigned": None, "code": {"$in": codes}},
                {"$unset": {"date.reserved": "", "reserveId": ""}},
            )
        return result.modified_count

    def release_reservation(self, campaign_id: str, reserve_id: str) -> tuple[int, int]:
        """Release every unassigned code of a reservation; returns (codes in it, released)."""
        with self._call():
            held = self._col.count_documents({"campaignId": campaign_id, "reserveId": reserve_id})
            result = self._col.update_many(
                {"campaignId": campaign_id, "reserveId": reserve_id, "date.assigned": None},
                {"$unset": {"date.reserved": "", "reserveId": ""}},
            )
        return held, result.modified_count

    # -- read ---------------------------------------------------------------------------

    def count(self, campaign_id: str, code_type: CodeType, cutoff: datetime) -> StatusCounts:
        return self.counts_by_type(campaign_id, cutoff, code_type).get(code_type, StatusCounts())

    def counts_by_type(self, campaign_id: str, cutoff: datetime, code_type: CodeType | None = None) -> dict[CodeType, StatusCounts]:
        """All three statuses per type in one round trip.

        The $match is an index prefix and the $group reads only date.assigned and date.reserved,
        which campaign_type_status holds: on MongoDB the whole count is an index-covered scan.
        """
        match: dict = {"campaignId": campaign_id}
        if code_type is not None:
            match["type"] = code_type.value
        unassigned = {"$eq": [{"$ifNull": ["$date.assigned", None]}, None]}
        live = {"$gte": [{"$ifNull": ["$date.reserved", None]}, cutoff]}
        pipeline = [
            {"$match": match},
            {
                "$group": {
                    "_id": "$type",
                    "total": {"$sum": 1},
                    "assigned": {"$sum": {"$cond": [unassigned, 0, 1]}},
                    "reserved": {"$sum": {"$cond": [{"$and": [unassigned, live]}, 1, 0]}},
                }
            },
        ]
        with self._call():
            rows = list(self._col.aggregate(pipeline))
        out: dict[CodeType, StatusCounts] = {}
        for row in rows:
            out[CodeType(row["_id"])] = StatusCounts(
                available=row["total"] - row["assigned"] - row["reserved"], reserved=row["reserved"], assigned=row["assigned"]
            )
        return out

    def campaign_ids(self) -> list[str]:
        """Distinct campaigns by walking the unique index: one indexed point query per campaign."""
        out: list[str] = []
        with self._call():
            flt: dict = {"campaignId": {"$gte": ""}}
            while True:
                doc = self._col.find_one(flt, {"_id": 0, "campaignId": 1}, sort=[("campaignId", 1)])
                if doc is None:
                    return out
                out.append(doc["campaignId"])
                flt = {"campaignId": {"$gt": doc["campaignId"]}}

    def lookup(self, code: str, campaign_id: str | None, cutoff: datetime) -> list[CodeRecord]:
        flt: dict = {"code": code}
        if campaign_id:
            flt["campaignId"] = campaign_id
        with self._call():
            docs = list(self._col.find(flt, {"_id": 0}).limit(100))
        return [to_record(d, cutoff) for d in docs]

    def reservation_records(self, campaign_id: str, reserve_id: str, cutoff: datetime, limit: int = 10_000) -> list[CodeRecord]:
        with self._call():
            docs = list(self._col.find({"campaignId": campaign_id, "reserveId": reserve_id}, {"_id": 0}).limit(limit))
        return [to_record(d, cutoff) for d in docs]


def _object_ids(n: int) -> list[ObjectId]:
    """n fresh ObjectIds, built from bytes: 6x cheaper than ObjectId() per document.

    Same layout as the driver's: 4-byte timestamp, 5 random bytes, 3-byte counter; the random
    part is drawn afresh for every 2**24 ids, so ids never repeat.
    """
    out: list[ObjectId] = []
    stamp = int(time.time()).to_bytes(4, "big")
    for start in range(0, n, 1 << 24):
        prefix = stamp + os.urandom(5)
        out.extend(ObjectId(prefix + i.to_bytes(3, "big")) for i in range(min(n - start, 1 << 24)))
    return out


def to_record(doc: dict, cutoff: datetime) -> CodeRecord:
    dates = doc.get("date") or {}
    assigned, reserved = _aware(dates.get("assigned")), _aware(dates.get("reserved"))
    if assigned:
        status = Status.ASSIGNED
    elif reserved and reserved >= cutoff:
        status = Status.RESERVED
    else:
        status = Status.AVAILABLE
    return CodeRecord(
        campaign_id=doc["campaignId"],
        code_type=CodeType(doc["type"]),
        code=doc["code"],
        status=status,
        saved=_aware(dates.get("saved")),
        reserved=reserved,
        assigned=assigned,
        reserve_id=doc.get("reserveId"),
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _short(exc: Exception) -> str:
    text = str(exc).split(", Timeout:")[0].split(", full error")[0]
    return text[:200]


def _is_network_error(exc: Exception) -> bool:
    return isinstance(exc, (OSError, mongo_errors.NetworkTimeout))


def connect(uri: str, db_name: str, *, timeout_seconds: float, batch_timeout_seconds: float, event_listeners=()) -> MongoStore:
    """A store on a real MongoDB (or wire-compatible) server; every call is bounded in time.

    `event_listeners` (pymongo command monitoring) lets tests and benchmarks count round trips.
    """
    ms = int(timeout_seconds * 1000)
    client = pymongo.MongoClient(
        uri,
        tz_aware=True,
        serverSelectionTimeoutMS=ms,
        connectTimeoutMS=ms,
        socketTimeoutMS=int(batch_timeout_seconds * 1000),
        retryWrites=True,
        # j:true: a write is acknowledged only once it is in the journal, so a reservation a
        # caller received survives a server crash. With j:false a SIGKILL lost acknowledged
        # updates on SecantusDB (tests/faults/test_kill.py), which would let a code be handed out twice.
        journal=True,
        appname="code-console",
        event_listeners=list(event_listeners),
    )
    return MongoStore(client[db_name]["codes"], label=redact_uri(uri), client=client)


def _redact(uri: str) -> str:
    # Never show credentials in the header or in errors.
    if "@" in uri:
        scheme, _, rest = uri.partition("://")
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return uri
