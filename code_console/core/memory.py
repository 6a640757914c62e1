"""The embedded default: an in-process store with the same contract as MongoStore.

It exists because mongomock cannot carry a demo: its unique-index check scans the whole
collection for every insert and `$in` is a linear scan, so 5,000 codes took 105 s to upload
(measured; see the README). Here every write is a dict operation under one lock, so each
repository call is atomic across threads, as a server's single-document writes are.
Nothing is persisted: it is for demos and first tries, and is labelled so everywhere.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from datetime import datetime

from code_console.core.models import CodeRecord, CodeType, StatusCounts
from code_console.core.store import BatchWrite, Candidate, to_record


class MemoryStore:
    label = "embedded (in-process, not persisted)"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        # campaignId -> code -> document (the MongoDB document shape)
        self._codes: dict[str, dict[str, dict]] = {}
        # (campaignId, type) -> codes never reserved and not assigned, in upload order
        self._fresh: dict[tuple[str, str], dict[str, None]] = {}
        # (campaignId, reserveId) -> codes
        self._reservations: dict[tuple[str, str], set[str]] = {}

    def ensure_indexes(self) -> None:
        pass

    def ping(self) -> None:
        pass

    def close(self) -> None:
        pass

    # -- helpers ------------------------------------------------------------------------

    def _campaign(self, campaign_id: str) -> dict[str, dict]:
        return self._codes.setdefault(campaign_id, {})

    @staticmethod
    def _available(doc: dict, cutoff: datetime) -> bool:
        dates = doc["date"]
        if dates.get("assigned") is not None:
            return False
        reserved = dates.get("reserved")
        return reserved is None or reserved < cutoff

    def _drop_reservation(self, campaign_id: str, doc: dict) -> None:
        rid = doc.pop("reserveId", None)
        if rid is not None:
            held = self._reservations.get((campaign_id, rid))
            if held is not None:
                held.discard(doc["code"])
                if not held:
                    del self._reservations[(campaign_id, rid)]

    # -- upload -------------------------------------------------------------------------

    def write_batch(self, campaign_id: str, code_type: CodeType, codes: list[str], now: datetime) -> BatchWrite:
        occurrences = Counter(codes)
        inserted = conflicts = duplicates = 0
        with self._lock:
            stored = self._campaign(campaign_id)
            fresh = self._fresh.setdefault((campaign_id, code_type.value), {})
            for code, n in occurrences.items():
                doc = stored.get(code)
                if doc is None:
                    stored[code] = {"campaignId": campaign_id, "type": code_type.value, "code": code, "date": {"saved": now}}
                    fresh[code] = None
                    inserted += 1
                elif doc["type"] != code_type.value:
                    conflicts += n
                elif doc["date"]["saved"] == now:
                    duplicates += n  # an earlier batch of this upload wrote it (BatchWrite's contract)
                else:
                    doc["date"]["saved"] = now
        return BatchWrite(
            inserted=inserted, updated=len(codes) - inserted - conflicts - duplicates, conflicts=conflicts, duplicates=duplicates
        )

    # -- reserve ------------------------------------------------------------------------

    def find_available(self, campaign_id: str, code_type: CodeType, cutoff: datetime, limit: int) -> list[Candidate]:
        with self._lock:
            found: list[Candidate] = []
            for code in self._fresh.get((campaign_id, code_type.value), {}):
                found.append(Candidate(code, None, None))
                if len(found) >= limit:
                    return found
            for doc in self._codes.get(campaign_id, {}).values():
                reserved = doc["date"].get("reserved")
                if doc["type"] == code_type.value and reserved is not None and reserved < cutoff and doc["date"].get("assigned") is None:
                    found.append(Candidate(doc["code"], doc.get("reserveId"), reserved))
                    if len(found) >= limit:
                        break
            return found

    def try_reserve(self, campaign_id: str, code_type: CodeType, candidates: list[Candidate], reserve_id: str, now: datetime, cutoff: datetime) -> int:
        # Under the lock, "still available" is the same test as MongoStore's compare-and-set.
        codes = [c.code for c in candidates]
        won = 0
        with self._lock:
            stored = self._codes.get(campaign_id, {})
            fresh = self._fresh.get((campaign_id, code_type.value), {})
            held = self._reservations.setdefault((campaign_id, reserve_id), set())
            for code in dict.fromkeys(codes):
                doc = stored.get(code)
                if doc is None or doc["type"] != code_type.value or not self._available(doc, cutoff):
                    continue
                self._drop_reservation(campaign_id, doc)
                doc["date"]["reserved"] = now
                doc["reserveId"] = reserve_id
                fresh.pop(code, None)
                held.add(code)
                won += 1
            if not held:
                del self._reservations[(campaign_id, reserve_id)]
        return won

    def codes_for_reservation(self, campaign_id: str, reserve_id: str) -> list[str]:
        with self._lock:
            return list(self._reservations.get((campaign_id, reserve_id), ()))

    # -- assign / release ---------------------------------------------------------------

    def assign(self, campaign_id: str, codes: list[str], now: datetime) -> int:
        updated = 0
        with self._lock:
            stored = self._codes.get(campaign_id, {})
            for code in codes:
                doc = stored.get(code)
                if doc is None or doc["date"].get("assigned") is not None:
                    continue
                doc["date"]["assigned"] = now
                self._fresh.get((campaign_id, doc["type"]), {}).pop(code, None)
                updated += 1
        return updated

    def _release_doc(self, campaign_id: str, doc: dict) -> bool:
        dates = doc["date"]
        if dates.get("assigned") is not None or dates.get("reserved") is None:
            return False
        del dates["reserved"]
        self._drop_reservation(campaign_id, doc)
        self._fresh.setdefault((campaign_id, doc["type"]), {})[doc["code"]] = None
        return True

    def release(self, campaign_id: str, codes: list[str]) -> int:
        with self._lock:
            stored = self._codes.get(campaign_id, {})
            return sum(1 for code in codes if code in stored and self._release_doc(campaign_id, stored[code]))

    def release_reservation(self, campaign_id: str, reserve_id: str) -> tuple[int, int]:
        with self._lock:
            codes = list(self._reservations.get((campaign_id, reserve_id), ()))
            stored = self._codes.get(campaign_id, {})
            return len(codes), sum(1 for code in codes if self._release_doc(campaign_id, stored[code]))

    # -- read ---------------------------------------------------------------------------

    def count(self, campaign_id: str, code_type: CodeType, cutoff: datetime) -> StatusCounts:
        return self.counts_by_type(campaign_id, cutoff, code_type).get(code_type, StatusCounts())

    def counts_by_type(self, campaign_id: str, cutoff: datetime, code_type: CodeType | None = None) -> dict[CodeType, StatusCounts]:
        tally: dict[str, list[int]] = {}
        with self._lock:
            for doc in self._codes.get(campaign_id, {}).values():
                if code_type is not None and doc["type"] != code_type.value:
                    continue
                t = tally.setdefault(doc["type"], [0, 0, 0])  # total, assigned, reserved
                t[0] += 1
                dates = doc["date"]
                if dates.get("assigned") is not None:
                    t[1] += 1
                elif (r := dates.get("reserved")) is not None and r >= cutoff:
                    t[2] += 1
        return {
            CodeType(name): StatusCounts(available=total - assigned - reserved, reserved=reserved, assigned=assigned)
            for name, (total, assigned, reserved) in tally.items()
        }

    def campaign_ids(self) -> list[str]:
        with self._lock:
            return sorted(c for c, codes in self._codes.items() if codes)

    def lookup(self, code: str, campaign_id: str | None, cutoff: datetime) -> list[CodeRecord]:
        with self._lock:
            campaigns = [campaign_id] if campaign_id else list(self._codes)
            docs = [copy.deepcopy(self._codes[c][code]) for c in campaigns if code in self._codes.get(c, {})]
        return [to_record(d, cutoff) for d in docs]

    def reservation_records(self, campaign_id: str, reserve_id: str, cutoff: datetime, limit: int = 10_000) -> list[CodeRecord]:
        with self._lock:
            stored = self._codes.get(campaign_id, {})
            docs = [copy.deepcopy(stored[c]) for c in list(self._reservations.get((campaign_id, reserve_id), ()))[:limit]]
        return [to_record(d, cutoff) for d in docs]
