"""A `codes` collection exactly as the original service writes it: raw pymongo, never the product.

Each write below is the original's own operation as its public documents quote it (type
definitions, type usage and data-flow documents of the original code-service):

- upload (`upsertCodes`): an unordered bulk of upserts by `_id: {campaign_id, code}` with
  `$set: {type, "date.saved": now}`, so a new document is `{_id: {campaign_id, code}, type,
  date: {saved}}` (the server orders the top-level fields: see shape_problems);
- reserve (`reserveCodes`): `updateMany({_id: {$in: ids}, ...AVAILABLE}, {$set: {"date.reserved":
  now, reserveId}})` with a fresh UUID v4, so `reserveId` comes after `date`;
- assign (`assignCodes`): `updateMany({"_id.campaign_id", "_id.code": {$in}}, {$set: {"date.assigned": now}})`;
- release (`releaseCodes`): `$unset: {"date.reserved": 1}` on unassigned reserved codes, and
  nothing else: the original leaves `reserveId` on a released code.

Its indexes are the three its index map creates, named as its MongoDB driver names them
(`<field>_<direction>` joined by `_`). Times are passed in (the original used `new Date()`), so a
test chooses how old each reservation is.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pymongo import UpdateOne

from code_console.core.models import CodeType, StatusCounts

# name -> (keys, options), as db.codes.getIndexes() shows them on the original's database.
ORIGINAL_INDEXES: dict[str, tuple[list[tuple[str, int]], dict]] = {
    "_id.campaign_id_-1__id.code_1": ([("_id.campaign_id", -1), ("_id.code", 1)], {}),
    "_id.campaign_id_-1_type_1_date.reserved_-1_date.assigned_-1": (
        [("_id.campaign_id", -1), ("type", 1), ("date.reserved", -1), ("date.assigned", -1)],
        {},
    ),
    "reserveId_-1": ([("reserveId", -1)], {"sparse": True}),
}

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")
DAY = timedelta(hours=24)


def create_original_indexes(collection) -> None:
    for name, (keys, options) in ORIGINAL_INDEXES.items():
        collection.create_index(keys, name=name, **options)


def original_upload(collection, campaign_id: str, code_type: str, codes: list[str], at: datetime) -> dict:
    result = collection.bulk_write(
        [
            UpdateOne({"_id": {"campaign_id": campaign_id, "code": code}}, {"$set": {"type": code_type, "date.saved": at}}, upsert=True)
            for code in codes
        ],
        ordered=False,
    )
    return {"in": len(codes), "inserted": result.upserted_count, "updated": result.modified_count}


def _available(at: datetime) -> dict:
    yesterday = at - DAY
    return {
        "$or": [{"date.reserved": {"$exists": False}}, {"date.reserved": {"$lte": yesterday}}],
        "date.assigned": {"$exists": False},
    }


def original_reserve(collection, campaign_id: str, codes: list[str], at: datetime, reserve_id: str | None = None) -> str:
    reserve_id = reserve_id or str(uuid.uuid4())
    ids = [{"campaign_id": campaign_id, "code": code} for code in codes]
    changed = collection.update_many(
        {"_id": {"$in": ids}, **_available(at)}, {"$set": {"date.reserved": at, "reserveId": reserve_id}}
    ).modified_count
    assert changed == len(codes), f"the original would have reserved {changed} of {codes}"
    return reserve_id


def original_assign(collection, campaign_id: str, codes: list[str], at: datetime) -> None:
    collection.update_many({"_id.campaign_id": campaign_id, "_id.code": {"$in": codes}}, {"$set": {"date.assigned": at}})


def original_release(collection, campaign_id: str, codes: list[str]) -> None:
    collection.update_many(
        {
            "_id.campaign_id": campaign_id,
            "_id.code": {"$in": codes},
            "date.assigned": {"$exists": False},
            "date.reserved": {"$exists": True},
        },
        {"$unset": {"date.reserved": 1}},
    )


def codes(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:02d}" for i in range(1, n + 1)]


@dataclass
class OriginalCollection:
    """What `write_original_collection` wrote: the groups of codes by how the original left them."""

    collection: object
    now: datetime
    # ORIG-1, tm
    fresh: list[str] = field(default_factory=lambda: codes("TM-A", 8))  # uploaded, never reserved
    released: list[str] = field(default_factory=lambda: codes("TM-R", 3))  # reserved then released: reserveId kept
    live: list[str] = field(default_factory=lambda: codes("TM-L", 4))  # reserved an hour ago
    expired: list[str] = field(default_factory=lambda: codes("TM-E", 3))  # reserved 25 h ago
    boundary: list[str] = field(default_factory=lambda: ["TM-B01"])  # reserved exactly 24 h ago: available
    assigned: list[str] = field(default_factory=lambda: codes("TM-S", 2))  # reserved, then assigned
    assigned_directly: list[str] = field(default_factory=lambda: ["TM-D01"])  # assigned, never reserved
    assigned_late: list[str] = field(default_factory=lambda: ["TM-D02"])  # assigned after its reservation expired
    # ORIG-1, external
    ext_fresh: list[str] = field(default_factory=lambda: codes("EX-A", 5))
    ext_live: list[str] = field(default_factory=lambda: ["EX-L01"])
    ext_assigned: list[str] = field(default_factory=lambda: ["EX-S01"])
    # ORIG-2, tm: the same strings as some ORIG-1 codes, in other states (every query is per campaign)
    other_assigned: list[str] = field(default_factory=lambda: ["TM-A01", "TM-A02"])
    other_fresh: list[str] = field(default_factory=lambda: ["TM-L01"])
    reserve_ids: dict[str, str] = field(default_factory=dict)

    @property
    def available(self) -> list[str]:
        """ORIG-1's available tm codes, sorted (what a reserve of all of them returns)."""
        return sorted(self.fresh + self.released + self.expired + self.boundary)

    def expected_counts(self) -> dict[str, dict[CodeType, StatusCounts]]:
        assigned = len(self.assigned + self.assigned_directly + self.assigned_late)
        return {
            "ORIG-1": {
                CodeType.TM: StatusCounts(len(self.available), len(self.live), assigned),
                CodeType.EXTERNAL: StatusCounts(len(self.ext_fresh), len(self.ext_live), len(self.ext_assigned)),
            },
            "ORIG-2": {CodeType.TM: StatusCounts(len(self.other_fresh), 0, len(self.other_assigned)), CodeType.EXTERNAL: StatusCounts()},
        }


def write_original_collection(db, now: datetime) -> OriginalCollection:
    """The original's history of two campaigns, played on `db.codes` up to `now`."""
    col = db["codes"]
    create_original_indexes(col)
    w = OriginalCollection(col, now)
    ago = lambda **delta: now - timedelta(**delta)  # noqa: E731
    tm = w.fresh + w.released + w.live + w.expired + w.boundary + w.assigned + w.assigned_directly + w.assigned_late
    original_upload(col, "ORIG-1", "tm", tm, ago(days=10))
    original_upload(col, "ORIG-1", "external", w.ext_fresh + w.ext_live + w.ext_assigned, ago(days=9))
    original_upload(col, "ORIG-2", "tm", w.other_assigned + w.other_fresh, ago(days=8))
    ids = w.reserve_ids
    ids["released"] = original_reserve(col, "ORIG-1", w.released, ago(hours=48))
    original_release(col, "ORIG-1", w.released)
    ids["assigned_late"] = original_reserve(col, "ORIG-1", w.assigned_late, ago(hours=30))
    original_assign(col, "ORIG-1", w.assigned_late, ago(hours=26))
    ids["expired"] = original_reserve(col, "ORIG-1", w.expired, ago(hours=25))
    ids["boundary"] = original_reserve(col, "ORIG-1", w.boundary, ago(hours=24))
    original_assign(col, "ORIG-1", w.ext_assigned, ago(hours=5))
    original_assign(col, "ORIG-2", w.other_assigned, ago(hours=4))
    original_assign(col, "ORIG-1", w.assigned_directly, ago(hours=3))
    ids["assigned"] = original_reserve(col, "ORIG-1", w.assigned, ago(hours=2))
    original_assign(col, "ORIG-1", w.assigned, ago(hours=1))
    ids["live"] = original_reserve(col, "ORIG-1", w.live, ago(hours=1))
    ids["ext_live"] = original_reserve(col, "ORIG-1", w.ext_live, ago(hours=1))
    return w


# -- the original's shape -----------------------------------------------------------------------


def shape_problems(doc: dict, reserve_ids: re.Pattern = UUID4) -> list[str]:
    """What about one document the original could not read as its own (empty if nothing).

    `_id: {campaign_id, code}` in that order (the original finds a code by `_id` equality, which
    is order-sensitive), `type`, `date: {saved, reserved?, assigned?}` and an optional `reserveId`,
    nothing else, with the original's types. The order of the top-level fields is free: the
    original reads them by name, and its own documents differ by server (MongoDB 5.0 and later
    apply `$set`'s fields in lexicographic order, so its upsert writes `_id, date, type` there and
    `_id, type, date` on older servers).
    """
    out = []
    if list(doc)[:1] != ["_id"] or set(doc) not in ({"_id", "type", "date"}, {"_id", "type", "date", "reserveId"}):
        out.append(f"fields {list(doc)}")
    key = doc.get("_id")
    if not isinstance(key, dict) or list(key) != ["campaign_id", "code"]:
        out.append(f"_id {key!r}")
    elif not all(isinstance(v, str) for v in key.values()):
        out.append(f"_id types {key!r}")
    if doc.get("type") not in ("tm", "external"):
        out.append(f"type {doc.get('type')!r}")
    dates = doc.get("date")
    if not isinstance(dates, dict) or "saved" not in dates or not set(dates) <= {"saved", "reserved", "assigned"}:
        out.append(f"date {dates!r}")
    elif not all(isinstance(v, datetime) for v in dates.values()):
        out.append(f"date types {dates!r}")
    if "reserveId" in doc and not (isinstance(doc["reserveId"], str) and reserve_ids.fullmatch(doc["reserveId"])):
        out.append(f"reserveId {doc['reserveId']!r}")
    return out


def assert_original_shape(collection, reserve_ids: re.Pattern = UUID4) -> int:
    """Every document has the original's shape; returns how many were checked."""
    bad = {}
    n = 0
    for doc in collection.find({}):
        n += 1
        problems = shape_problems(doc, reserve_ids)
        if problems:
            bad[repr(doc["_id"])] = problems
    assert bad == {}, bad
    return n


def index_table(collection) -> dict[str, tuple[list[tuple[str, int]], dict]]:
    """name -> (keys, the options that matter: unique, sparse)."""
    out = {}
    for ix in collection.list_indexes():
        options = {k: ix[k] for k in ("unique", "sparse") if ix.get(k)}
        out[ix["name"]] = ([(k, int(v)) for k, v in ix["key"].items()], options)
    return out
