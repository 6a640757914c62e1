"""The audit trail: every change, who made it, through which front end, when (the database's clock).

One observer (`AuditTrail`) receives the façade's change events (`CodeService.subscribe`) and
writes each as one `EventRecord` beside the codes: a collection `events` on MongoDB, a table on
the embedded store. So the reserve's hot path gains exactly one write per call, and the
answers and code documents of the spec never change.

Crash bound: the event is written after the change it records, not in the same transaction
(MongoDB's single-document writes cannot span the code documents and the event). A process
that dies, or a store that fails, between the two loses that one call's event: at most one
event per call in flight, never a change. A failed event write is logged
(`code_console.core`, "an observer failed") and the change stands. A call that fails midway
(StoreUnavailable during a reserve) records nothing, though codes it took stay held until
their TTL. A change of more codes than fit one MongoDB document (16 MB: some 100,000 codes
of the maximum length) loses its event the same way.

An event's id is `<milliseconds since the epoch, 13 digits>-<12 hex digits>`: ids sort as the
events' times do (ties within a process in order, across processes at random), so one index
per filter serves "newest first", and an id is the pagination cursor (`before`).

Retention: each record carries `expires` (its time plus the retention); MongoDB removes it with
a TTL index on `expires`, the embedded store with `prune_events`, which the trail calls on its
first record and every PRUNE_EVERY records after (on every store).
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from code_console.core.errors import InvalidInput
from code_console.core.models import ChangeEvent, EventKind

log = logging.getLogger("code_console.core")

DEFAULT_RETENTION = timedelta(days=90)
PRUNE_EVERY = 1_000
MAX_LIMIT = 1_000
DEFAULT_LIMIT = 100
ID_PATTERN = re.compile(r"^[0-9]{13}(-[0-9a-f]{12})?\Z")
# Each code of an upload is not listed in its event (a file holds millions); a code's history
# finds the upload that last saved it by its `date.saved`, which is the upload event's time.
SAVED = "saved"
# The outcome of a code a reserve, assign or release changed; a code left as it was gets the reason (models.Unchanged).
CHANGED_OUTCOME = {
    EventKind.RESERVED: "reserved",
    EventKind.ASSIGNED: "assigned",
    EventKind.RELEASED: "released",
    EventKind.RESERVATION_RELEASED: "released",
}


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def id_bound(at: datetime) -> str:
    """The smallest id of any event at `at` (ids at `at` sort at or after it, earlier ones before)."""
    return f"{max(_ms(at), 0):013d}"


_sequence = itertools.count(secrets.randbelow(1 << 20))


def new_id(at: datetime) -> str:
    """`<ms>-<6 hex of this process's sequence><6 random hex>`: within one process, events of
    the same millisecond keep their order; across processes the random part breaks the tie."""
    return f"{id_bound(at)}-{next(_sequence) % (1 << 24):06x}{secrets.token_hex(3)}"


def validate_cursor(before: str | None) -> str | None:
    if before is None:
        return None
    if not isinstance(before, str) or not ID_PATTERN.fullmatch(before):
        raise InvalidInput("invalid_cursor", f"invalid cursor {before!r}: pass the `next` value of the previous page")
    return before


@dataclass(frozen=True)
class EventRecord:
    """One recorded change, as stored and as the front ends show it.

    `codes` are every code the event names, `outcomes` (the same length) what happened to each:
    `reserved`/`assigned`/`released`, or why it did not change (`not_found`, `already_assigned`,
    `not_reserved`, `held_by_another_reservation`). `details` carry the kind's counts:
    upload `{source, sha256, in, inserted, updated, conflicts?, duplicates?, warnings?}` (its
    time is its codes' `date.saved`); reserve `{asked, given, expired?}`, where `expired` lists
    `{code, reserveId}` for each code taken from a hold that had expired; assign and release
    `{in, updated, repeated?}` (`repeated`: codes given more than once).
    """

    id: str
    campaign_id: str
    at: datetime
    expires: datetime
    kind: str
    actor: str
    channel: str
    request_id: str | None = None
    code_type: str | None = None
    reserve_id: str | None = None
    key: str | None = None
    codes: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, event: ChangeEvent, retention: timedelta) -> EventRecord:
        details = dict(event.details)
        unchanged: dict[str, list[str]] = details.pop("unchanged", {}) or {}
        changed = CHANGED_OUTCOME.get(event.kind)
        codes = list(event.codes)
        outcomes = [changed or event.kind.value] * len(codes)
        named_once = set(codes)
        for reason, named in unchanged.items():
            for code in named:
                if code in named_once:
                    # A code with an outcome already (given twice: `repeated`): the reason goes to details.
                    details.setdefault(reason, []).append(code)
                else:
                    named_once.add(code)
                    codes.append(code)
                    outcomes.append(reason)
        return cls(
            id=new_id(event.at),
            campaign_id=event.campaign_id,
            at=event.at,
            expires=event.at + retention,
            kind=event.kind.value,
            actor=event.actor,
            channel=event.channel.value if hasattr(event.channel, "value") else str(event.channel),
            request_id=event.request_id,
            code_type=event.code_type.value if event.code_type is not None else None,
            reserve_id=event.reserve_id,
            key=event.key,
            codes=tuple(codes),
            outcomes=tuple(outcomes),
            details=details,
        )

    def outcome(self, code: str) -> str | None:
        for c, o in zip(self.codes, self.outcomes):
            if c == code:
                return o
        return None

    def to_dict(self) -> dict:
        """The JSON shape of the CLI's lines and the API's events: `codes` maps each code to its outcome."""
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "kind": self.kind,
            "campaignId": self.campaign_id,
            "actor": self.actor,
            "channel": self.channel,
            "requestId": self.request_id,
            "type": self.code_type,
            "reserveId": self.reserve_id,
            "key": self.key,
            "codes": dict(zip(self.codes, self.outcomes)),
            "details": self.details,
        }


@dataclass(frozen=True)
class EventPage:
    """Events newest first; `next` is the cursor (`before`) of the next page, None on the last."""

    events: list[EventRecord]
    next: str | None = None

    def to_dict(self) -> dict:
        return {"events": [e.to_dict() for e in self.events], "next": self.next}


class AuditTrail:
    """The observer that records every change event in the store (`store.record_event`).

    `retention` is how long a record is kept. Store failures are the façade's to log (an
    observer that raises never fails the change).
    """

    def __init__(self, store, retention: timedelta = DEFAULT_RETENTION, prune_every: int = PRUNE_EVERY) -> None:
        self.store = store
        self.retention = retention
        self._prune_every = prune_every
        self._recorded = 0

    def __call__(self, event: ChangeEvent) -> None:
        self.store.record_event(EventRecord.of(event, self.retention))
        self._recorded += 1
        if self._recorded % self._prune_every == 1:
            self.store.prune_events(event.at)


_RELATIVE = re.compile(r"^\s*([0-9]{1,6})\s*(s|m|min|h|d|w)\s*\Z", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str | datetime | None, now: Callable[[], datetime]) -> datetime | None:
    """`--since`: an ISO 8601 time (UTC if no offset), a date, or a span back from now (`30s`, `90m`, `2h`, `7d`, `1w`).

    Raises InvalidInput("invalid_since")."""
    if text is None:
        return None
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=timezone.utc)
    m = _RELATIVE.fullmatch(str(text))
    if m:
        try:
            return now() - timedelta(**{_UNITS[m.group(2).lower()]: int(m.group(1))})
        except OverflowError:
            # Further back than any date: everything the trail still holds.
            return datetime(1970, 1, 1, tzinfo=timezone.utc)
    try:
        value = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            "invalid_since", f"invalid time {text!r}: give an ISO 8601 time (2026-03-01T08:00:00Z), a date, or a span such as 2h or 7d"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def parse_limit(value, default: int = DEFAULT_LIMIT) -> int:
    """A page's size: ASCII digits, 1 to MAX_LIMIT; None is `default`. Raises InvalidInput("invalid_limit")."""
    if value is None:
        return default
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,7}", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise InvalidInput("invalid_limit", f"limit must be a whole number from 1 to {MAX_LIMIT}, not {value!r}")
    return value


@dataclass(frozen=True)
class HistoryLine:
    """One line of a code's history as a person reads it (oldest first): when, what, who, how."""

    at: datetime
    text: str
    actor: str | None = None
    channel: str | None = None
    request_id: str | None = None


def code_timeline(code: str, events: list[EventRecord], ttl: timedelta, now: datetime) -> list[HistoryLine]:
    """A code's events, oldest first, told as lines, with the expiry of each hold that ran out
    (an expiry is no event: a hold expires when its TTL passes with the code neither assigned
    nor released; the line is placed at that time)."""
    lines: list[HistoryLine] = []
    ordered = sorted(events, key=lambda e: e.id)
    hold: tuple[str | None, datetime] | None = None  # (reserveId, reserved at) of the code's current hold

    def close_hold(before: datetime) -> None:
        nonlocal hold
        if hold is not None and hold[1] + ttl <= before:
            lines.append(HistoryLine(hold[1] + ttl, f"hold {hold[0]} expired (TTL {_span(ttl)}); the code is available again"))
            hold = None

    for e in ordered:
        close_hold(e.at)
        outcome = e.outcome(code)
        who = dict(actor=e.actor, channel=e.channel, request_id=e.request_id)
        if e.kind == EventKind.UPLOADED.value:
            d = e.details
            sha = (d.get("sha256") or "")[:12]
            n = d.get("in", 0)
            lines.append(HistoryLine(e.at, f"uploaded from {d.get('source')} (sha256 {sha}, {n:,} code{'' if n == 1 else 's'})", **who))
        elif e.kind == EventKind.RESERVED.value:
            expired = next((x.get("reserveId") for x in e.details.get("expired") or () if x.get("code") == code), None)
            taken = f", taking over expired hold {expired}" if expired else ""
            key = f" with key {e.key}" if e.key and e.key != e.reserve_id else ""
            lines.append(HistoryLine(e.at, f"reserved under {e.reserve_id}{key}{taken}", **who))
            hold = (e.reserve_id, e.at)
        elif outcome in ("assigned", "released"):
            named = f" (reserveId {e.reserve_id})" if e.reserve_id else ""
            whole = " with its whole reservation" if e.kind == EventKind.RESERVATION_RELEASED.value else ""
            lines.append(HistoryLine(e.at, f"{outcome}{whole}{named}", **who))
            hold = None
        else:
            verb = "release" if e.kind in (EventKind.RELEASED.value, EventKind.RESERVATION_RELEASED.value) else "assign"
            named = f" naming reserveId {e.reserve_id}" if e.reserve_id else ""
            reason = (outcome or "unknown").replace("_", " ")
            lines.append(HistoryLine(e.at, f"{verb}{named} refused: {reason}", **who))
    close_hold(now)
    return lines


def _span(ttl: timedelta) -> str:
    seconds = ttl.total_seconds()
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
