"""The store contract: what CodeService needs from a store, and the types that cross the seam.

Two stores implement it: `mongo.MongoStore` (MongoDB, in the original service's document
shape) and `sqlite.SqliteStore` (the embedded default). tests/test_store_contract.py runs the
same store-level cases against each of them (and MongoStore over mongomock); the service
suite runs every rule over each. Stores translate their driver's failures into
StoreUnavailable; they decide nothing: every rule lives in `status.py` and the service.

Times are timezone-aware UTC datetimes with millisecond precision (what MongoDB stores).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterator, Protocol

from code_console.core import status as rules
from code_console.core.audit import EventRecord
from code_console.core.models import CodeType, StatusCounts


@dataclass(frozen=True)
class Seen:
    """The reservation state a code was read in. A compare-and-set changes a code only while
    it is still in this state (and unassigned), so two callers can never both change it."""

    reserve_id: Any = None
    reserved: Any = None


@dataclass(frozen=True)
class StoredCode:
    """One stored code as the store holds it. Values are raw: a document written by another
    tool may carry a string where a date belongs; `status.status_of` tells."""

    campaign_id: str
    code: Any
    code_type: Any
    saved: Any = None
    reserved: Any = None
    assigned: Any = None
    reserve_id: Any = None
    dates_fit: bool = True  # `date` is an object or absent (not null, not a string)
    id_fits: bool = True  # MongoDB: `_id` is {campaign_id, code}, in that order, and nothing else

    def values(self) -> dict[str, Any]:
        return {
            rules.CODE: self.code,
            rules.RESERVED: self.reserved,
            rules.ASSIGNED: self.assigned,
            rules.RESERVE_ID: self.reserve_id,
            rules.DATES: self.dates_fit,
        }

    @property
    def seen(self) -> Seen:
        return Seen(self.reserve_id, self.reserved)


@dataclass(frozen=True)
class Candidate:
    """An available code and the state it was seen in (the reserve's compare-and-set compares it)."""

    code: str
    seen: Seen


@dataclass(frozen=True)
class BatchWrite:
    """The outcome of one upload batch. `inserted + updated + conflicts + duplicates` is the
    number of codes given; a conflict is a code stored under the other type (left as it is),
    a duplicate a code that an earlier batch of the same upload wrote (`date.saved == now`)."""

    inserted: int
    updated: int
    conflicts: int = 0
    duplicates: int = 0


class Change(enum.Enum):
    RESERVE = "reserve"  # date.reserved = now, reserveId = the new reservation
    ASSIGN = "assign"  # date.assigned = now
    RELEASE = "release"  # unset date.reserved and reserveId


@dataclass(frozen=True)
class KeyRecord:
    """A reservation made with a caller's key (an idempotency key), stored before any code is taken.

    The key binds the campaign, type, count and subject; `lease_owner` is the call making the
    reservation until `lease_until`; `codes` is the answer once made (sorted), returned to
    every call with the key. `expires` is when the record may be pruned.
    """

    key: str
    campaign_id: str
    code_type: str
    count: int
    subject: str
    created: datetime
    expires: datetime
    lease_owner: str | None = None
    lease_until: datetime | None = None
    codes: tuple[str, ...] | None = None


class Stamp(enum.Enum):
    """A date a code carries that marks an event: when it was reserved, when it was assigned."""

    RESERVED = "reserved"
    ASSIGNED = "assigned"


@dataclass(frozen=True)
class Series:
    """Equal buckets that end at a query's `end`: bucket i (0 = oldest) holds the stamps in
    (end - (count - i) * size, end - (count - i - 1) * size]; the series covers (end - count * size, end]."""

    size: timedelta
    count: int

    def start(self, end: datetime) -> datetime:
        return end - self.size * self.count


# Per type and stamp, for each series asked, its bucket counts (oldest first).
Activity = dict[tuple[CodeType, Stamp], list[list[int]]]


@dataclass(frozen=True)
class AlertRecord:
    """The alert state of one campaign, type and kind of alert (core/alerts.py), one per key.

    `low` is whether the condition held at the last check that changed it; `crossing` counts
    the times it became true (the alert of crossing n is sent once, by the checker that wrote
    it); `detail` is the alert as sent (JSON values); `delivered` when the webhook took it."""

    key: str  # "{campaign}|{type}|{kind}"
    campaign_id: str
    code_type: str
    kind: str
    low: bool
    crossing: int
    changed: datetime
    detail: dict
    delivered: datetime | None = None


class Store(Protocol):
    """What CodeService needs from a store. Every method raises StoreUnavailable when the
    store cannot be reached or does not answer in time, and nothing else for a healthy store."""

    label: str

    def prepare(self) -> None:
        """Create indexes or tables; safe to repeat; never a unique index an existing collection could violate."""

    def ping(self) -> None: ...

    def close(self) -> None: ...

    def server_time(self) -> datetime:
        """The database's clock, read now (the embedded store's is this machine's)."""

    # -- upload
    def write_batch(self, campaign_id: str, code_type: CodeType, codes: list[str], now: datetime) -> BatchWrite:
        """Insert new codes with `date.saved = now`; refresh `date.saved` of codes already stored
        under the same type; leave every other field alone. `codes` are unique within the batch."""

    # -- reservations
    def find_available(self, campaign_id: str, code_type: CodeType, cutoff: datetime, limit: int) -> list[Candidate]:
        """Up to `limit` available codes (status.STATUS_RULES[AVAILABLE]): fresh ones first, then expired."""

    def compare_and_set(
        self, campaign_id: str, change: Change, groups: dict[Seen, list[str]], now: datetime, reserve_id: str | None = None
    ) -> int:
        """Apply `change` to each code still unassigned and in the state it was seen in; returns how many changed."""

    def holding(self, campaign_id: str, reserve_id: str, limit: int) -> list[StoredCode]:
        """The codes that carry a reserveId (assigned or not), at most `limit`."""

    def states(self, campaign_id: str, codes: list[str]) -> dict[str, StoredCode]:
        """The stored state of each of `codes` that exists in the campaign."""

    def case_twins(self, campaign_id: str, codes: list[str]) -> dict[str, str]:
        """For each of `codes` (distinct, in the code rule's form) that differs only by letter
        case from a code stored in the campaign, that stored code: {code: stored}. Codes stored
        exactly as given are not twins. Index-backed and chunked: MongoDB through a collated
        index (strength 2, case-insensitive), SQLite through a NOCASE index (ASCII letters) plus
        the upper- and lower-case forms of non-ASCII codes. Matches are confirmed with
        str.casefold (pair_case_twins), so both stores answer the same for ASCII codes and for
        codes whose stored twin is all upper or all lower case."""

    # -- reservation keys
    def insert_key(self, record: KeyRecord) -> KeyRecord | None:
        """Store a new key; None if stored, else the record already stored under that key."""

    def get_key(self, key: str) -> KeyRecord | None: ...

    def prune_keys(self, before: datetime) -> int:
        """Remove the records that expired at or before `before`; returns how many."""

    def lease_key(
        self, key: str, seen_owner: str | None, seen_until: datetime | None, owner: str | None, until: datetime | None
    ) -> bool:
        """Take, renew or (owner None) give back the lease while the record still shows
        (seen_owner, seen_until) and has no answer."""

    def finish_key(self, key: str, owner: str, codes: list[str]) -> bool:
        """Record the answer while `owner` still holds the lease; False if it lost it."""

    # -- reading
    def counts(
        self, campaign_id: str | None, cutoff: datetime, code_type: CodeType | None = None
    ) -> dict[str, dict[CodeType, StatusCounts]]:
        """Status counts per campaign and type, in one command: one campaign, or all of them
        (None); with `code_type`, that type's pool only (a count of a small pool beside a large
        one reads only its own codes)."""

    def lookup(self, code: str, campaign_id: str | None, limit: int) -> list[StoredCode]: ...

    def scan(self, campaign_id: str, batch: int) -> Iterator[StoredCode]:
        """Every document of a campaign, in batches (for `check`)."""

    # -- the audit trail (audit.py)
    def record_event(self, record: EventRecord) -> None:
        """Store one event (one write)."""

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
        """A campaign's events newest first (by id), at most `limit`: those naming `code`, of
        `reserve_id`, of `kind`, at or after `since`, with an id below `before`; every filter optional."""

    def prune_events(self, before: datetime) -> int:
        """Remove the events whose retention ended at or before `before`; returns how many
        (MongoDB's TTL index does it by itself: 0 there)."""

    def activity(self, campaign_id: str | None, end: datetime, series: tuple[Series, ...]) -> dict[str, Activity]:
        """How many codes were reserved and assigned in each bucket of each series (by
        `date.reserved` and `date.assigned`; stamps after `end` are not counted), per campaign
        and type, in one command: one campaign, or all of them (None). A campaign with no event
        is absent, and so is a type and stamp with none."""

    def page(self, campaign_id: str, after: str | None, limit: int) -> list[StoredCode]:
        """Up to `limit` codes of a campaign in code order, those after the code `after` (None:
        from the first): keyset paging for exports, each page one short command, so no cursor or
        read snapshot is held between pages. Codes that are not strings are not paged."""

    # -- alerts
    def alert_records(self) -> list[AlertRecord]:
        """Every alert record (one per campaign, type and kind that ever crossed)."""

    def put_alert(self, record: AlertRecord, seen: AlertRecord | None) -> bool:
        """Write `record` only if the stored one is still `seen`: with `seen` None, insert it if
        no record has its key; otherwise replace the record while its `low`, `crossing`,
        `changed` and `delivered` are still those of `seen`. True if written: of several checkers that saw
        the same state, exactly one wins (so one alert is sent per crossing)."""


def pair_case_twins(codes: list[str], stored: list[str], into: dict[str, str]) -> None:
    """Add to `into` {code: stored code} for each of `codes` whose casefold equals a stored
    code's and that is not that stored code (Unicode caseless matching, str.casefold)."""
    by_key: dict[str, list[str]] = {}
    for code in codes:
        by_key.setdefault(code.casefold(), []).append(code)
    for other in stored:
        if not isinstance(other, str):
            continue  # a document that does not fit the schema: `check` reports it
        for code in by_key.get(other.casefold(), ()):
            if code != other:
                into.setdefault(code, other)
