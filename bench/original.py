"""The original service's algorithms, as the baseline `make bench` runs beside the product.

Raw pymongo on a `codes` collection with the original's three indexes (tests/original_collection.py):

- upload: per batch of 50,000 codes, one unordered bulk write of upserts that `$set` the type and
  `date.saved`. The filter is written `{"_id.campaign_id", "_id.code"}`, the index-backed form:
  the original's literal `{_id: {campaign_id, code}}` equality is not served by any index on
  SecantusDB (measured: 5,000 upserts took 418 s, a collection scan each), so this is the
  original's algorithm at its fastest on this server, a generous baseline;
- reserve: find up to `count` codes with the `$or` availability filter, update them by
  `_id: {$in}` with the same filter, read back the codes carrying the new reserveId; at most 3 tries;
- count: three countDocuments, one per status;
- listing: the original has no listing; a caller asks each campaign's counts in turn
  (the distinct campaigns, then three countDocuments per campaign).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pymongo import UpdateOne

BATCH = 50_000
TRIES = 3
TTL = timedelta(hours=24)


def upload(collection, campaign_id: str, code_type: str, codes: list[str], now: datetime) -> dict:
    inserted = updated = 0
    for start in range(0, len(codes), BATCH):
        part = codes[start : start + BATCH]
        result = collection.bulk_write(
            [
                UpdateOne({"_id.campaign_id": campaign_id, "_id.code": c}, {"$set": {"type": code_type, "date.saved": now}}, upsert=True)
                for c in part
            ],
            ordered=False,
        )
        inserted += result.upserted_count
        updated += result.modified_count
    return {"in": len(codes), "inserted": inserted, "updated": updated}


def _available(now: datetime) -> dict:
    return {
        "date.assigned": {"$exists": False},
        "$or": [{"date.reserved": {"$exists": False}}, {"date.reserved": {"$lte": now - TTL}}],
    }


def reserve(collection, campaign_id: str, code_type: str, count: int, now: datetime) -> list[str]:
    reserve_id = str(uuid.uuid4())
    got: list[str] = []
    for _ in range(TRIES):
        ids = [d["_id"] for d in collection.find({"_id.campaign_id": campaign_id, "type": code_type, **_available(now)}, {"_id": 1}).limit(count - len(got))]
        if not ids:
            break
        collection.update_many({"_id": {"$in": ids}, **_available(now)}, {"$set": {"date.reserved": now, "reserveId": reserve_id}})
        got = [d["_id"]["code"] for d in collection.find({"reserveId": reserve_id}, {"_id": 1})]
        if len(got) >= count:
            break
    return got


def count(collection, campaign_id: str, code_type: str, now: datetime) -> dict[str, int]:
    base = {"_id.campaign_id": campaign_id, "type": code_type}
    return {
        "available": collection.count_documents({**base, **_available(now)}),
        "reserved": collection.count_documents({**base, "date.assigned": {"$exists": False}, "date.reserved": {"$gt": now - TTL}}),
        "assigned": collection.count_documents({**base, "date.assigned": {"$exists": True}}),
    }


def listing(collection, now: datetime) -> dict[str, dict[str, int]]:
    return {c: count(collection, c, "tm", now) for c in sorted(collection.distinct("_id.campaign_id"))}
