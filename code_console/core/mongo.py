"""MongoDB: the only module that speaks Mongo. Documents in the original service's shape, exactly:

    {_id: {campaign_id, code}, type, date: {saved, reserved?, assigned?}, reserveId?}

in a collection `codes` (database `prod` or `dev` in the original's deployments), so an
existing collection works unchanged and the original can still read what this writes.
The composite `_id` makes a code unique within its campaign whatever its type, so no code
sits in two pools; no other unique index is ever created (an existing collection could
violate it).

Every filter uses only the fields of one index, so that any planner serves it from that index:
SecantusDB's scans the collection for a filter with a field outside the index (measured: a
`_id` sub-document equality, the original's own form, costs 28 ms per upsert on a 5,000-code
campaign against 0.5 ms for the dotted form). Writes also name their index (`hint`); the
reads do not, because SecantusDB answers a hinted find by walking the whole index (measured
at 20,000 codes: a reservation's codes in 454 ms hinted, 7 ms not), so the reserve's candidate
search asks a bounded range of its own index and checks the rest of the rule itself.
The usage aggregate (`activity`) is the exception that proves the rule: its `$or` over
date.reserved and date.assigned is a collection scan on SecantusDB unhinted, so it names the
pool index, whose keys hold every field it reads (measured at 20,000 codes with a day of
traffic: about 1 s, next to 1.4 s for the counts).
tests/test_plans.py checks every query shape with explain() on a real server.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from datetime import datetime, timezone
from typing import Any, Iterator

import pymongo
from pymongo import UpdateOne, errors as mongo_errors

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
from code_console.core.uri import redact_uri

CAMPAIGN, CODE, TYPE = "_id.campaign_id", "_id.code", "type"
SAVED, RESERVED, ASSIGNED, RESERVE_ID = "date.saved", "date.reserved", "date.assigned", "reserveId"
# The status rule's logical fields, as this collection stores them.
DATES = "date"
FIELD = {rules.CODE: CODE, rules.RESERVED: RESERVED, rules.ASSIGNED: ASSIGNED, rules.RESERVE_ID: RESERVE_ID, rules.DATES: DATES}
# Every BSON type but a document: what a `date` must not be.
_NOT_A_DOCUMENT = [
    "double", "string", "array", "binData", "undefined", "objectId", "bool", "date", "null", "regex",
    "dbPointer", "javascript", "symbol", "int", "timestamp", "long", "decimal", "minKey", "maxKey",
]

# ... and neither a string nor null (what `$not` of it matches: missing, null or a string).
_NOT_A_STRING = [t for t in _NOT_A_DOCUMENT if t not in ("string", "null")] + ["object"]

# The original service's indexes (created only if no index with the same keys exists).
BY_CODE = [(CAMPAIGN, -1), (CODE, 1)]
POOL = [(CAMPAIGN, -1), (TYPE, 1), (RESERVED, -1), (ASSIGNED, -1)]
ORIGINAL_RESERVE_ID = [(RESERVE_ID, -1)]
# Ours: secondary, non-unique, on the original's fields only.
# The compare-and-set of reserve, assign and release, and a reservation's codes.
HOLD = [(CAMPAIGN, 1), (RESERVE_ID, 1), (ASSIGNED, 1), (RESERVED, 1), (CODE, 1)]
# Support staff's lookup of a code whose campaign they do not know (its leading field), and an
# upload's upsert `{campaign, code, type}`: an equality on all three fields of one index, which
# SecantusDB serves as a point lookup (a filter on a field outside BY_CODE costs it a walk of the
# whole campaign per code: 2,000 upserts took 100 s against 4 s).
CODE_ANY_CAMPAIGN = [(CODE, 1), (CAMPAIGN, -1), (TYPE, 1)]
# An upload's warning about codes that differ only by letter case from codes of the campaign:
# a case-insensitive collation (strength 2: letters and accents count, case does not).
CASE_INSENSITIVE = {"locale": "en", "strength": 2}
CASE_FOLDED = [(CAMPAIGN, 1), (CODE, 1)]
# The reserve's candidate search: unassigned codes of a pool by reserved date. Its equality
# prefix (campaign, type, assigned: null) then one range (reserved at or before the cutoff) is a
# bounded range on MongoDB and on SecantusDB, which cannot bound POOL past its reserved range
# (measured on 800 codes, 400 of them expired: 200 reserves' finds took 2.8 ms each this way
# against 23 ms walking POOL hinted).
UNASSIGNED = [(CAMPAIGN, 1), (TYPE, 1), (ASSIGNED, 1), (RESERVED, 1)]
INDEXES: list[tuple[list[tuple[str, int]], dict]] = [
    (BY_CODE, {}),
    (POOL, {}),
    (ORIGINAL_RESERVE_ID, {"sparse": True}),
    (HOLD, {}),
    (CODE_ANY_CAMPAIGN, {}),
    (CASE_FOLDED, {"collation": CASE_INSENSITIVE, "name": "case_folded_code"}),
    (UNASSIGNED, {}),
]
KEYS_COLLECTION = "reservations"
# The audit trail (audit.py): one document per change, beside the codes. Ids sort by time, so
# each filter's index ends with `_id` and serves "newest first" (scanned backwards) and the cursor.
# Ascending: SecantusDB drops the first keys of a `$gte` range on a descending `_id` key (measured).
EVENTS_COLLECTION = "events"
EVENTS_BY_TIME = [("campaign_id", 1), ("_id", 1)]
EVENTS_BY_CODE = [("campaign_id", 1), ("codes", 1), ("_id", 1)]
EVENTS_BY_RESERVATION = [("campaign_id", 1), ("reserve_id", 1), ("_id", 1)]
EVENTS_BY_KIND = [("campaign_id", 1), ("kind", 1), ("_id", 1)]
# Retention: each event carries `expires`; the server's TTL monitor removes it after that time.
EVENTS_TTL = [("expires", 1)]
EVENT_INDEXES: list[tuple[list[tuple[str, int]], dict]] = [
    (EVENTS_BY_TIME, {}),
    (EVENTS_BY_CODE, {}),
    (EVENTS_BY_RESERVATION, {}),
    (EVENTS_BY_KIND, {}),
    (EVENTS_TTL, {"expireAfterSeconds": 0}),
]
ALERTS_COLLECTION = "alerts"  # one small document per campaign, type and kind of alert (core/alerts.py)
KEY_ID = [("_id", 1)]

# Codes per command where a list goes into `$in` (SecantusDB matches `$in` in time that grows
# with the square of the list: 4,000 codes took 22 s in one find).
IN_CHUNK = 500
# The same for the case-insensitive `$in` of case_twins, which SecantusDB answers more slowly
# (measured on a 20,000-code campaign: 100 codes that are all stored 0.025 s, 500 took 0.32 s).
TWIN_CHUNK = 100
# Rows of the counts aggregate's first reply (the server's default is 101; a row is ~100 bytes).
LISTING_BATCH = 10_000

_TRANSIENT_CODES = frozenset({6, 7, 24, 89, 91, 112, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436})


# -- the status rule, translated ------------------------------------------------------------


def rule_filters(rule: rules.Rule, params: dict[str, Any]) -> list[dict]:
    """A rule as MongoDB query filters whose union is the rule (one per AnyOf branch)."""
    if isinstance(rule, rules.AnyOf):
        return [f for part in rule.parts for f in rule_filters(part, params)]
    if isinstance(rule, rules.All):
        out: list[dict] = [{}]
        for part in rule.parts:
            out = [{**left, **right} for left in out for right in rule_filters(part, params)]
        return out
    name = FIELD[rule.field]
    if isinstance(rule, rules.IsSet):
        return [{name: {"$ne": None}}]
    if isinstance(rule, rules.IsUnset):
        return [{name: None}]
    if isinstance(rule, rules.IsString):
        return [{name: {"$type": "string"}}]
    if isinstance(rule, rules.IsStringOrUnset):
        return [{name: {"$not": {"$type": _NOT_A_STRING}}}]
    if isinstance(rule, rules.IsObjectOrMissing):
        return [{name: {"$not": {"$type": _NOT_A_DOCUMENT}}}]
    if isinstance(rule, rules.After):  # query comparisons match dates only (type bracketing)
        return [{name: {"$gt": params[rule.param]}}]
    if isinstance(rule, rules.NotAfter):
        return [{name: {"$lte": params[rule.param]}}]
    if isinstance(rule, rules.Equals):
        return [{name: params[rule.param]}]
    raise TypeError(f"not a rule: {rule!r}")


def rule_expression(rule: rules.Rule, params: dict[str, Any]) -> dict:
    """A rule as an aggregation expression (true or false for one document)."""
    if isinstance(rule, rules.All):
        return {"$and": [rule_expression(p, params) for p in rule.parts]}
    if isinstance(rule, rules.AnyOf):
        return {"$or": [rule_expression(p, params) for p in rule.parts]}
    ref = "$" + FIELD[rule.field]
    if isinstance(rule, rules.IsSet):
        return {"$ne": [{"$ifNull": [ref, None]}, None]}
    if isinstance(rule, rules.IsUnset):
        return {"$eq": [{"$ifNull": [ref, None]}, None]}
    if isinstance(rule, rules.IsString):
        return {"$eq": [{"$type": ref}, "string"]}
    if isinstance(rule, rules.IsStringOrUnset):
        return {"$in": [{"$type": ref}, ["string", "null", "missing"]]}
    if isinstance(rule, rules.IsObjectOrMissing):
        return {"$in": [{"$type": ref}, ["object", "missing"]]}
    # Aggregation compares across types, so the date check is explicit.
    if isinstance(rule, rules.After):
        return {"$and": [{"$eq": [{"$type": ref}, "date"]}, {"$gt": [ref, params[rule.param]]}]}
    if isinstance(rule, rules.NotAfter):
        return {"$and": [{"$eq": [{"$type": ref}, "date"]}, {"$lte": [ref, params[rule.param]]}]}
    if isinstance(rule, rules.Equals):
        return {"$eq": [ref, params[rule.param]]}
    raise TypeError(f"not a rule: {rule!r}")


# -- the store --------------------------------------------------------------------------------


class MongoStore:
    """The store contract (contract.Store) over one pymongo-compatible `codes` collection.

    `lock` makes each call atomic for a client that is not thread-safe (mongomock in unit
    tests); a real server needs none. Every call is bounded in time: `timeout_seconds` for
    point operations, `batch_timeout_seconds` for an upload batch (pymongo's per-operation
    timeout, so a connected server that stops answering fails the call too).
    """

    def __init__(
        self,
        collection,
        *,
        label: str,
        client=None,
        lock: threading.RLock | None = None,
        timeout_seconds: float | None = None,
        batch_timeout_seconds: float | None = None,
    ) -> None:
        self._col = collection
        self._keys = collection.database[KEYS_COLLECTION]
        self._events = collection.database[EVENTS_COLLECTION]
        self._client = client
        self._lock = lock
        self._timeout = timeout_seconds
        self._batch_timeout = batch_timeout_seconds
        self._prepared = False
        self._prepare_lock = threading.RLock()
        self.label = label

    # -- plumbing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _call(self, *, batch: bool = False) -> Iterator[None]:
        if not self._prepared:
            # Every query names its index: create them first (once; a store opened while the
            # server was down gets them on its first call after the server is back).
            self.prepare()
        guard = self._lock if self._lock is not None else contextlib.nullcontext()
        seconds = self._batch_timeout if batch else self._timeout
        bound = pymongo.timeout(seconds) if seconds is not None and self._client is not None else contextlib.nullcontext()
        try:
            with guard, bound:
                yield
        except mongo_errors.ServerSelectionTimeoutError as exc:
            raise StoreUnavailable(None, f"MongoDB is unreachable ({self.label}): {_short(exc)}") from exc
        except mongo_errors.WriteConcernError as exc:
            raise StoreUnavailable(
                None, f"MongoDB applied a write but could not confirm it ({self.label}): {_short(exc)}; its outcome is unknown"
            ) from exc
        except mongo_errors.PyMongoError as exc:
            if getattr(exc, "timeout", False):
                # Reached but not answering in time: busy, not gone.
                raise StoreUnavailable(
                    None, f"MongoDB did not answer in time ({self.label}): {_short(exc)}", slow=True
                ) from exc
            if isinstance(exc, (mongo_errors.AutoReconnect, mongo_errors.ConnectionFailure)) or isinstance(exc, OSError):
                raise StoreUnavailable(None, f"MongoDB connection failed ({self.label}): {_short(exc)}") from exc
            if isinstance(exc, mongo_errors.OperationFailure) and (
                exc.code in _TRANSIENT_CODES or exc.has_error_label("RetryableWriteError")
            ):
                raise StoreUnavailable(None, f"MongoDB could not serve the request now ({self.label}): {_short(exc)}") from exc
            raise

    @property
    def collection(self):
        return self._col

    def prepare(self) -> None:
        with self._prepare_lock:
            if self._prepared:
                return
            self._prepared = True  # _call below must not prepare again
            try:
                self._create_indexes()
            except BaseException:
                self._prepared = False
                raise

    def _create_indexes(self) -> None:
        with self._call():
            existing = {tuple(tuple(k) for k in ix["key"].items()) for ix in self._col.list_indexes()}
            for keys, opts in INDEXES:
                if tuple(keys) not in existing:
                    self._col.create_index(keys, **opts)
            # Pruned by the service with the database's clock (prune_keys), not by a TTL index,
            # whose monitor would use another clock than every other decision here.
            self._keys.create_index([("expires", 1)])
            for keys, opts in EVENT_INDEXES:
                self._events.create_index(keys, **opts)

    def ping(self) -> None:
        with self._call():
            if self._client is not None:
                self._client.admin.command("ping")
            else:
                self._col.find_one({}, {"_id": 1})

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def server_time(self) -> datetime:
        if self._client is None:
            return datetime.now(timezone.utc)
        with self._call():
            return _aware(self._client.admin.command("hello")["localTime"])

    # -- upload ---------------------------------------------------------------------------

    def write_batch(self, campaign_id: str, code_type: CodeType, codes: list[str], now: datetime) -> BatchWrite:
        """Insert the new codes and refresh `date.saved` of the stored ones, in one bulk write.

        A batch whose first code is new (a point read tells) is inserted with one `insert`; the
        codes already stored (duplicate-key errors) then go through the upserts below. A batch
        whose first code is stored (a re-upload) goes straight to them: one unordered bulk of
        upserts by `{campaign, code, type}` that `$set` only `date.saved`. Each code's outcome
        is then exact and atomic, with no read: upserted (inserted); modified (updated);
        matched but unchanged, its `date.saved` already `now` (a duplicate of an earlier batch);
        or a write error, which is a conflict: 11000 (stored under another type: the upsert's
        insert meets its `_id`) or 28 (a `date` that is not an object cannot take `saved`).
        Nothing else of a stored code is touched. Any other write error is raised.
        """
        if not codes:
            return BatchWrite(inserted=0, updated=0)
        type_value = code_type.value
        with self._call(batch=True):
            if self._col.find_one({CAMPAIGN: campaign_id, CODE: codes[0]}, {"_id": 1}) is not None:
                return self._upsert(campaign_id, type_value, codes, now)
            with _gc_paused():
                # One `date` object for every document: they are only encoded, never changed.
                dates = {"saved": now}
                docs = [{"_id": {"campaign_id": campaign_id, "code": c}, "type": type_value, "date": dates} for c in codes]
            try:
                inserted = len(self._col.insert_many(docs, ordered=False).inserted_ids)
                return BatchWrite(inserted=inserted, updated=0)
            except mongo_errors.BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if any(e.get("code") != 11000 for e in errors):
                    raise
                inserted = exc.details.get("nInserted", 0)
                stored = [codes[e["index"]] for e in errors]
            rest = self._upsert(campaign_id, type_value, stored, now)
        return BatchWrite(inserted=inserted + rest.inserted, updated=rest.updated, conflicts=rest.conflicts, duplicates=rest.duplicates)

    def _upsert(self, campaign_id: str, type_value: str, codes: list[str], now: datetime) -> BatchWrite:
        requests = [UpdateOne({CAMPAIGN: campaign_id, CODE: c, TYPE: type_value}, {"$set": {SAVED: now}}, upsert=True) for c in codes]
        try:
            result = self._col.bulk_write(requests, ordered=False).bulk_api_result
            conflicts = 0
        except mongo_errors.BulkWriteError as exc:
            result = exc.details
            errors = result.get("writeErrors", [])
            if any(e.get("code") not in _CONFLICT_CODES for e in errors):
                raise
            conflicts = len(errors)
        inserted, matched, modified = result.get("nUpserted", 0), result.get("nMatched", 0), result.get("nModified", 0)
        return BatchWrite(inserted=inserted, updated=modified, conflicts=conflicts, duplicates=matched - modified)

    # -- reservations ---------------------------------------------------------------------

    def find_available(self, campaign_id: str, code_type: CodeType, cutoff: datetime, limit: int) -> list[Candidate]:
        """contract.Store.find_available: per branch of the availability rule (fresh, then
        expired), a find on that branch's assigned and reserved conditions only, which the
        UNASSIGNED index bounds on any planner (unhinted: SecantusDB walks a hinted index
        whole); the rest of the rule (a string code, an object `date`) is checked here on each
        document (status.holds, and a `type` that is the type itself, not a list holding it). Only
        if a document an older system left fails that check does the branch run again with the
        whole rule in the filter (hinted POOL), so such documents never hide the available codes
        behind them; its documents are checked too (a query's null matches an array holding null).
        Misfits that fill even that window make the pool look smaller for that call."""
        found: list[Candidate] = []
        base = {CAMPAIGN: campaign_id, TYPE: code_type.value}
        params = {rules.CUTOFF: cutoff}
        rule = rules.STATUS_RULES[Status.AVAILABLE]
        fields = {CODE: 1, TYPE: 1, RESERVE_ID: 1, DATES: 1}

        def fits(doc: dict) -> bool:
            # A type that is a list holding it matches the query too; count skips it, so must this.
            return doc.get("type") == base[TYPE] and rules.holds(rule, _stored(doc).values(), params)

        with self._call():
            for flt in rule_filters(rule, params):
                need = limit - len(found)
                if need <= 0:
                    break
                bounded = {**base, ASSIGNED: flt[ASSIGNED], RESERVED: flt[RESERVED]}
                docs = list(self._col.find(bounded, fields).limit(need))
                good = [d for d in docs if fits(d)]
                if len(good) < len(docs):
                    # Checked here too: a query's null also matches an array holding null, which the rule does not.
                    good = [d for d in self._col.find({**base, **flt}, fields).hint(POOL).limit(need) if fits(d)]
                for d in good:
                    found.append(Candidate(d["_id"]["code"], Seen(d.get("reserveId"), _aware(_date(d).get("reserved")))))
        return found

    def compare_and_set(
        self, campaign_id: str, change: Change, groups: dict[Seen, list[str]], now: datetime, reserve_id: str | None = None
    ) -> int:
        if change is Change.RESERVE:
            update: dict = {"$set": {RESERVED: now, RESERVE_ID: reserve_id}}
        elif change is Change.ASSIGN:
            update = {"$set": {ASSIGNED: now}}
        else:
            update = {"$unset": {RESERVED: "", RESERVE_ID: ""}}
        changed = 0
        with self._call():
            for seen, codes in groups.items():
                for chunk in _chunks(codes, IN_CHUNK):
                    flt = {CAMPAIGN: campaign_id, RESERVE_ID: seen.reserve_id, ASSIGNED: None, RESERVED: seen.reserved, CODE: {"$in": chunk}}
                    changed += self._col.update_many(flt, update, hint=HOLD).modified_count
        return changed

    def holding(self, campaign_id: str, reserve_id: str, limit: int) -> list[StoredCode]:
        with self._call():
            return [_stored(d) for d in self._col.find({CAMPAIGN: campaign_id, RESERVE_ID: reserve_id}).limit(limit)]

    def states(self, campaign_id: str, codes: list[str]) -> dict[str, StoredCode]:
        with self._call():
            return self._states(campaign_id, codes)

    def _states(self, campaign_id: str, codes: list[str]) -> dict[str, StoredCode]:
        out: dict[str, StoredCode] = {}
        for chunk in _chunks(codes, IN_CHUNK):
            for d in self._col.find({CAMPAIGN: campaign_id, CODE: {"$in": chunk}}):
                record = _stored(d)
                out[record.code] = record
        return out

    def case_twins(self, campaign_id: str, codes: list[str]) -> dict[str, str]:
        """contract.Store.case_twins: `$in` under the case-insensitive collation, served by the
        case_folded_code index (the collation of the query picks it; no hint, as for point reads)."""
        out: dict[str, str] = {}
        for chunk in _chunks(codes, TWIN_CHUNK):
            with self._call():  # each command bounded on its own
                cursor = self._col.find({CAMPAIGN: campaign_id, CODE: {"$in": chunk}}, {CODE: 1}, collation=CASE_INSENSITIVE)
                pair_case_twins(chunk, [d["_id"].get("code") for d in cursor if isinstance(d.get("_id"), dict)], out)
        return out

    # -- reservation keys -----------------------------------------------------------------

    def insert_key(self, record: KeyRecord) -> KeyRecord | None:
        doc = {
            "_id": record.key,
            "campaign_id": record.campaign_id,
            "type": record.code_type,
            "count": record.count,
            "subject": record.subject,
            "created": record.created,
            "expires": record.expires,
            "lease_owner": record.lease_owner,
            "lease_until": record.lease_until,
            "codes": None,
        }
        with self._call():
            try:
                self._keys.insert_one(doc)
                return None
            except mongo_errors.DuplicateKeyError:
                pass
            found = self._keys.find_one({"_id": record.key})
        return _key_record(found) if found else None

    def prune_keys(self, before: datetime) -> int:
        with self._call():
            return self._keys.delete_many({"expires": {"$lte": before}}).deleted_count

    def get_key(self, key: str) -> KeyRecord | None:
        with self._call():
            found = self._keys.find_one({"_id": key})
        return _key_record(found) if found else None

    def lease_key(self, key: str, seen_owner: str | None, seen_until: datetime | None, owner: str | None, until: datetime | None) -> bool:
        with self._call():
            result = self._keys.update_one(
                {"_id": key, "lease_owner": seen_owner, "lease_until": seen_until, "codes": None},
                {"$set": {"lease_owner": owner, "lease_until": until}},
                hint=KEY_ID,
            )
        return result.modified_count == 1

    def finish_key(self, key: str, owner: str, codes: list[str]) -> bool:
        with self._call():
            result = self._keys.update_one(
                {"_id": key, "lease_owner": owner, "codes": None}, {"$set": {"codes": list(codes)}}, hint=KEY_ID
            )
        return result.modified_count == 1

    # -- the audit trail ------------------------------------------------------------------

    @property
    def events_collection(self):
        return self._events

    def record_event(self, record: EventRecord) -> None:
        doc = {
            "_id": record.id,
            "campaign_id": record.campaign_id,
            "at": record.at,
            "expires": record.expires,
            "kind": record.kind,
            "actor": record.actor,
            "channel": record.channel,
            "request_id": record.request_id,
            "type": record.code_type,
            "reserve_id": record.reserve_id,
            "key": record.key,
            "codes": list(record.codes),
            "outcomes": list(record.outcomes),
            "details": record.details,
        }
        with self._call():
            self._events.insert_one(doc)

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
        flt: dict[str, Any] = {"campaign_id": campaign_id}
        if code is not None:
            flt["codes"] = code
        if reserve_id is not None:
            flt["reserve_id"] = reserve_id
        if kind is not None:
            flt["kind"] = kind
        bounds: dict[str, str] = {}
        if since is not None:
            bounds["$gte"] = audit.id_bound(since)
        if before is not None:
            bounds["$lt"] = before
        if bounds:
            flt["_id"] = bounds
        with self._call():
            return [_event(d) for d in self._events.find(flt).sort("_id", -1).limit(limit)]

    def prune_events(self, before: datetime) -> int:
        # The TTL index removes them on a real server; this serves servers without a TTL monitor.
        with self._call():
            return self._events.delete_many({"expires": {"$lte": before}}).deleted_count

    # -- reading --------------------------------------------------------------------------

    def counts(
        self, campaign_id: str | None, cutoff: datetime, code_type: CodeType | None = None
    ) -> dict[str, dict[CodeType, StatusCounts]]:
        """One aggregate over the pool index, grouped by campaign and type, the status rule
        translated into `$cond`s (a document that fits no status is counted in none)."""
        params = {rules.CUTOFF: cutoff}
        group: dict = {"_id": {"c": "$" + CAMPAIGN, "t": "$" + TYPE}}
        for status, rule in rules.STATUS_RULES.items():
            group[status.value] = {"$sum": {"$cond": [rule_expression(rule, params), 1, 0]}}
        match: dict = {CAMPAIGN: campaign_id} if campaign_id is not None else {}
        if campaign_id is not None and code_type is not None:
            match[TYPE] = code_type.value  # the pool index's second field
        pipeline: list[dict] = [{"$match": match}] if match else []
        pipeline.append({"$group": group})
        with self._call():
            # One reply for up to LISTING_BATCH rows (a campaign and type each): the listing is one command.
            rows = list(self._col.aggregate(pipeline, hint=dict(POOL), batchSize=LISTING_BATCH))
        out: dict[str, dict[CodeType, StatusCounts]] = {}
        for row in rows:
            campaign, code_type = row["_id"].get("c"), CodeType.stored(row["_id"].get("t"))
            if not isinstance(campaign, str) or code_type is None:
                continue  # not the original's shape: `check` reports it
            out.setdefault(campaign, {})[code_type] = StatusCounts(
                available=row["available"], reserved=row["reserved"], assigned=row["assigned"]
            )
        return out

    def lookup(self, code: str, campaign_id: str | None, limit: int) -> list[StoredCode]:
        with self._call():
            if campaign_id:
                cursor = self._col.find({CAMPAIGN: campaign_id, CODE: code})
            else:
                cursor = self._col.find({CODE: code})
            return [_stored(d) for d in cursor.limit(limit)]

    def scan(self, campaign_id: str, batch: int) -> Iterator[StoredCode]:
        with self._call(batch=True):
            for d in self._col.find({CAMPAIGN: campaign_id}).batch_size(batch):
                yield _stored(d)


    def alert_records(self) -> list[AlertRecord]:
        with self._call():
            return [_alert_record(d) for d in self._col.database[ALERTS_COLLECTION].find({})]

    def put_alert(self, record: AlertRecord, seen: AlertRecord | None) -> bool:
        """Insert-if-absent on `_id` (the key), or a compare-and-set on `_id` plus the state seen."""
        doc = {
            "campaign_id": record.campaign_id, "type": record.code_type, "kind": record.kind, "low": record.low,
            "crossing": record.crossing, "changed": record.changed, "detail": record.detail, "delivered": record.delivered,
        }
        alerts = self._col.database[ALERTS_COLLECTION]
        with self._call():
            if seen is None:
                try:
                    alerts.insert_one({"_id": record.key, **doc})
                    return True
                except mongo_errors.DuplicateKeyError:
                    return False
            result = alerts.update_one(
                {"_id": seen.key, "low": seen.low, "crossing": seen.crossing, "changed": seen.changed, "delivered": seen.delivered},
                {"$set": doc},
            )
            return result.modified_count == 1

    def page(self, campaign_id: str, after: str | None, limit: int) -> list[StoredCode]:
        """A range of the by-code index (campaign, code): an equality and a range on its two
        fields, which SecantusDB's planner serves from that index unhinted."""
        # A string bound matches strings only (type bracketing); `$type` instead would scan on SecantusDB.
        flt: dict = {CAMPAIGN: campaign_id, CODE: {"$gt": after} if after is not None else {"$gte": ""}}
        with self._call():
            # batch_size: the whole page in the first reply (the default first batch is 101 documents).
            return [_stored(d) for d in self._col.find(flt).sort(CODE, 1).limit(limit).batch_size(limit)]

    def activity(self, campaign_id: str | None, end: datetime, series: tuple[Series, ...]) -> dict[str, Activity]:
        """One aggregate: the campaign's codes with a reserved or assigned date in the widest
        series, grouped by type and, per stamp and series, the bucket the date falls in (null
        outside it); each group's count is added to both of its stamps' buckets.

        Hinted to the pool index (campaign, type, date.reserved, date.assigned), whose keys hold
        every field of the `$match`: without the hint SecantusDB plans the `$or` as a collection
        scan; with it, both servers walk the campaign's index keys and fetch only the codes with
        a date in the window."""
        start = min(s.start(end) for s in series)
        window = {"$gt": start, "$lte": end}
        group: dict = {"c": "$" + CAMPAIGN, "t": "$" + TYPE}
        for stamp, field in ((Stamp.RESERVED, RESERVED), (Stamp.ASSIGNED, ASSIGNED)):
            ref = "$" + field
            for i, s in enumerate(series):
                first = s.start(end)
                # (t - first - 1 ms) // size: the bucket of a date in (first, end]; null otherwise.
                index = {"$floor": {"$divide": [{"$subtract": [{"$subtract": [ref, first]}, 1]}, int(s.size.total_seconds() * 1000)]}}
                inside = {"$and": [{"$eq": [{"$type": ref}, "date"]}, {"$gt": [ref, first]}, {"$lte": [ref, end]}]}
                group[f"{stamp.value[0]}{i}"] = {"$cond": [inside, index, None]}
        pipeline = [
            {"$match": {**({CAMPAIGN: campaign_id} if campaign_id is not None else {}), "$or": [{RESERVED: window}, {ASSIGNED: window}]}},
            {"$group": {"_id": group, "n": {"$sum": 1}}},
        ]
        with self._call():
            rows = list(self._col.aggregate(pipeline, hint=dict(POOL)))
        out: dict[str, Activity] = {}
        for row in rows:
            key = row["_id"]
            if CodeType.stored(key.get("t")) is None or not isinstance(key.get("c"), str):
                continue  # not the original's shape: `check` reports it
            for stamp in Stamp:
                buckets = [key.get(f"{stamp.value[0]}{i}") for i in range(len(series))]
                if all(b is None for b in buckets):
                    continue
                counts = out.setdefault(key["c"], {}).setdefault((CodeType(key["t"]), stamp), [[0] * s.count for s in series])
                for i, s in enumerate(series):
                    if buckets[i] is not None and 0 <= int(buckets[i]) < s.count:
                        counts[i][int(buckets[i])] += row["n"]
        return out


# An upload upsert's write errors that mean "stored, and not to be refreshed": a duplicate key
# (the code is stored under another type) and PathNotViable (its `date` is not an object).
_CONFLICT_CODES = frozenset({11000, 28})


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch of documents is built: its 100,000 new
    containers set off collections that walked every live object (measured: 1.0 s of CPU for
    500,000 documents with the collector on, 0.2 s with it paused). Nothing built here is cyclic."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _date(doc: dict) -> dict:
    dates = doc.get("date")
    return dates if isinstance(dates, dict) else {}


def _dates_fit(doc: dict) -> bool:
    return "date" not in doc or isinstance(doc["date"], dict)


def _stored(doc: dict) -> StoredCode:
    ident = doc.get("_id")
    key: dict = ident if isinstance(ident, dict) else {}
    dates = _date(doc)
    return StoredCode(
        campaign_id=key.get("campaign_id"),  # type: ignore[arg-type]  # raw: a foreign document may lack it
        code=key.get("code"),
        code_type=doc.get("type"),
        saved=_aware(dates.get("saved")),
        reserved=_aware(dates.get("reserved")),
        assigned=_aware(dates.get("assigned")),
        reserve_id=doc.get("reserveId"),
        dates_fit=_dates_fit(doc),
        id_fits=list(key) == ["campaign_id", "code"],
    )


def _alert_record(doc: dict) -> AlertRecord:
    return AlertRecord(
        key=doc["_id"], campaign_id=doc["campaign_id"], code_type=doc["type"], kind=doc["kind"], low=doc["low"],
        crossing=doc["crossing"], changed=_aware(doc["changed"]), detail=doc.get("detail") or {}, delivered=_aware(doc.get("delivered")),
    )


def _key_record(doc: dict) -> KeyRecord:
    codes = doc.get("codes")
    return KeyRecord(
        key=doc["_id"],
        campaign_id=doc["campaign_id"],
        code_type=doc["type"],
        count=doc["count"],
        subject=doc["subject"],
        created=_aware(doc["created"]),
        expires=_aware(doc["expires"]),
        lease_owner=doc.get("lease_owner"),
        lease_until=_aware(doc.get("lease_until")),
        codes=tuple(codes) if codes is not None else None,
    )


def _event(doc: dict) -> EventRecord:
    return EventRecord(
        id=doc["_id"],
        campaign_id=doc["campaign_id"],
        at=_aware(doc["at"]),
        expires=_aware(doc["expires"]),
        kind=doc["kind"],
        actor=doc["actor"],
        channel=doc["channel"],
        request_id=doc.get("request_id"),
        code_type=doc.get("type"),
        reserve_id=doc.get("reserve_id"),
        key=doc.get("key"),
        codes=tuple(doc.get("codes") or ()),
        outcomes=tuple(doc.get("outcomes") or ()),
        details=_aware_all(doc.get("details") or {}),
    )


def _aware_all(value):
    if isinstance(value, dict):
        return {k: _aware_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_aware_all(v) for v in value]
    return _aware(value)


def _aware(value):
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _short(exc: Exception) -> str:
    text = str(exc).split(", Timeout:")[0].split(", full error")[0]
    return text[:200]


def connect(uri: str, db_name: str, *, timeout_seconds: float, batch_timeout_seconds: float, event_listeners=()) -> MongoStore:
    """A store on a real MongoDB (or wire-compatible) server; every call is bounded in time.

    `event_listeners` (pymongo command monitoring) lets tests and benchmarks count round trips.
    """
    ms = int(timeout_seconds * 1000)
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
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
    return MongoStore(
        client[db_name]["codes"],
        label=redact_uri(uri),
        client=client,
        timeout_seconds=timeout_seconds,
        batch_timeout_seconds=batch_timeout_seconds,
    )

