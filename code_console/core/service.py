"""CodeService: the one façade every front end (console, CLI, HTTP API) calls.

Business rules live here once. Every operation checks the principal first and touches
nothing when it is not supreme. Time comes from the database's clock (or an injected one).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import random
import re
import threading
import time
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Callable, Iterable

from code_console.core.csvcodes import FileReport, iter_codes, scan
from code_console.core.code_rule import normalize_code
from code_console.core.errors import BadFile, Conflict, Forbidden, InvalidCode, InvalidInput, NotConfigured, NotFound, StoreUnavailable
from code_console.core.models import (
    Backends,
    ChangeEvent,
    EventKind,
    Observer,
    CampaignSummary,
    Cancel,
    Clock,
    CodeRecord,
    CodeType,
    Principal,
    Reservation,
    ProgressCallback,
    Status,
    StatusCounts,
    Unchanged,
    UpdateResult,
    UploadResult,
)
from code_console.core.check import CheckReport, misfits
from code_console.core.objects import ObjectInfo, ObjectSource
from code_console.core.clock import DatabaseClock
from code_console.core.contract import AlertRecord, Candidate, Change, KeyRecord, Seen, Series, Stamp, Store, StoredCode
from code_console.core.status import (
    MAY_ASSIGN,
    MAY_ASSIGN_HELD,
    MAY_RELEASE,
    MAY_RELEASE_HELD,
    RESERVE_ID_PARAM,
    holds,
    status_of,
)
from code_console.core.upload import StoredTwins, run_upload
from code_console.core import audit
# The export's types and writer, for front ends that reach the core through the façade only.
from code_console.core.export import CodeExport, ExportFormat, render as render_export  # noqa: F401
# Usage's types and wording, for front ends that reach the core through the façade only.
from code_console.core.usage import MINUTES as USAGE_MINUTES, TypeUsage, Usage, Window, describe_rate, describe_time_to_empty  # noqa: F401

CAMPAIGN_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}\Z")
RESERVATION_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}\Z")
MAX_CODES_PER_CALL = 100_000
log = logging.getLogger("code_console.core")
# Candidates fetched per missing code: enough that concurrent callers rarely pick the same ones.
# Each lost race doubles the window (up to MAX_WINDOW), spreading contenders further apart.
OVERSAMPLE = 3
OVERSAMPLE_SLACK = 16
MAX_WINDOW = 4_096
# A caller that keeps losing races still stops; each round is one or two round trips.
MAX_RESERVE_ROUNDS = 200


MAX_FILE_KEY_LENGTH = 1024  # S3's limit on an object key (in UTF-8 bytes; characters are a safe first check)


def _json_type(value) -> str:
    """The JSON name of a value's type, for messages that a JSON client reads."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def validate_campaign_id(campaign_id: str) -> str:
    if not isinstance(campaign_id, str) or not CAMPAIGN_PATTERN.fullmatch(campaign_id):
        shown = campaign_id if not isinstance(campaign_id, str) or len(campaign_id) <= 140 else f"{campaign_id[:40]}... ({len(campaign_id):,} characters)"
        raise InvalidInput(
            "invalid_campaign",
            f"invalid campaign id {shown!r}: use 1-128 letters, digits, '_', '-', '.', ':' (starting with a letter or digit)",
        )
    return campaign_id


def parse_file_key(file_key: str, campaign_id: str) -> CodeType:
    """Check `codes/{campaignId}/{type}/{file}` and return the type it names."""
    if not isinstance(file_key, str):
        raise InvalidInput("invalid_key", f"file key must be a string, not {_json_type(file_key)}: expected codes/{{campaignId}}/{{type}}/{{file}}")
    if not file_key:
        raise InvalidInput("invalid_key", "file key is empty: expected codes/{campaignId}/{type}/{file}")
    if len(file_key) > MAX_FILE_KEY_LENGTH or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in file_key):
        # S3 keys are at most 1,024 bytes; control characters are a mistake or an attack.
        raise InvalidInput(
            "invalid_key",
            f"file key {file_key[:80]!r}{'...' if len(file_key) > 80 else ''} is over {MAX_FILE_KEY_LENGTH} characters or contains control characters",
        )
    if file_key.startswith("/"):
        raise InvalidInput("invalid_key", f"file key {file_key!r} must not start with '/': expected codes/{{campaignId}}/{{type}}/{{file}}")
    parts = file_key.split("/")
    if any(p in ("..", ".") for p in parts):
        raise InvalidInput("invalid_key", f"file key {file_key!r} must not contain '.' or '..' segments")
    if len(parts) < 4 or parts[0] != "codes":
        raise InvalidInput("invalid_key", f"file key {file_key!r} does not match codes/{{campaignId}}/{{type}}/{{file}}")
    _, key_campaign, key_type, *rest = parts
    if key_campaign != campaign_id:
        raise InvalidInput("invalid_key", f"file key {file_key!r} belongs to campaign {key_campaign!r}, not {campaign_id!r}")
    if not rest[-1] or any(not p for p in rest):
        raise InvalidInput("invalid_key", f"file key {file_key!r} has an empty file name")
    try:
        return CodeType.parse(key_type)
    except InvalidInput:
        raise InvalidInput("invalid_type", f"file key {file_key!r} names an invalid code type {key_type!r}: expected tm or external") from None


def parse_count(value, maximum: int) -> int:
    # ASCII digits only (no sign, space, or other scripts' digits), and few enough that int() is cheap.
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    if isinstance(value, bool):
        raise InvalidInput("invalid_count", f"count must be a whole number from 1 to {maximum}, not {shown}")
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value):
        value = int(value)
    if not isinstance(value, int):
        raise InvalidInput("invalid_count", f"count must be a whole number from 1 to {maximum}, not {shown}")
    if not 1 <= value <= maximum:
        raise InvalidInput("invalid_count", f"count must be from 1 to {maximum}, not {value}")
    return value


def parse_codes(codes, max_length: int) -> list[str]:
    """A code list for assign and release: each code under the one code rule (code_rule.normalize_code).

    Raises InvalidInput("invalid_codes") naming the index and the problem.
    """
    if isinstance(codes, (str, bytes)) or not isinstance(codes, (list, tuple)):
        raise InvalidInput("invalid_codes", "codes must be a non-empty array of strings")
    if not codes:
        raise InvalidInput("invalid_codes", "codes must be a non-empty array of strings; got an empty one")
    if len(codes) > MAX_CODES_PER_CALL:
        raise InvalidInput("invalid_codes", f"at most {MAX_CODES_PER_CALL} codes per call; got {len(codes)}")
    out = []
    for i, code in enumerate(codes):
        if not isinstance(code, str):
            raise InvalidInput("invalid_codes", f"codes[{i}] is {_json_type(code)}, not a string")
        try:
            out.append(normalize_code(code, max_length=max_length))
        except InvalidCode as exc:
            if exc.code == "empty_code":
                raise InvalidCode("invalid_codes", f"codes[{i}] is empty", index=i, **exc.details) from None
            raise InvalidCode("invalid_codes", f"codes[{i}] is not a valid code: {exc.message}", index=i, **exc.details) from None
    return out


class CodeService:
    """The façade. `store` implements contract.Store; `clock` defaults to the database's clock
    (clock.DatabaseClock), and tests inject a fake one."""

    def __init__(
        self,
        store: Store,
        objects: ObjectSource | None = None,
        *,
        clock: Clock | None = None,
        reservation_ttl: timedelta = timedelta(hours=24),
        batch_size: int = 50_000,
        reserve_max_count: int = 10_000,
        code_max_length: int = 128,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.objects = objects
        self.clock: Clock = clock or DatabaseClock(store.server_time)
        self.reservation_ttl = reservation_ttl
        self.batch_size = batch_size
        self.reserve_max_count = reserve_max_count
        self.code_max_length = code_max_length
        self._rng = rng or random.Random()
        self._stamp_lock = threading.Lock()
        self._last_stamp: datetime | None = None
        self._keys_made = 0
        self._observers: list[Observer] = []
        # Per thread, while a reserve runs: code -> the reserveId of the expired hold it took over.
        self._taking = threading.local()

    # -- helpers ------------------------------------------------------------------------

    @staticmethod
    def _authorize(principal: Principal) -> None:
        if not isinstance(principal, Principal) or not principal.supreme:
            raise Forbidden()

    def _cutoff(self, now: datetime) -> datetime:
        return now - self.reservation_ttl

    # -- change events ------------------------------------------------------------------

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call `observer(event)` after every change (metrics, the audit trail, alerts are each
        one observer). Returns a function that unsubscribes it. An observer that raises is
        logged and never fails the change, which has happened."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer)

    def _emit(self, principal: Principal, kind: EventKind, campaign_id: str, *, at: datetime | None = None, **fields) -> None:
        if not self._observers:
            return
        event = ChangeEvent(
            kind=kind,
            campaign_id=campaign_id,
            at=at or self.clock(),
            actor=principal.subject,
            channel=principal.channel,
            request_id=principal.request_id,
            **fields,
        )
        for observer in list(self._observers):
            try:
                observer(event)
            except Exception:
                log.exception("an observer failed on a %s event", kind.value)

    # -- the installation ---------------------------------------------------------------

    def describe(self) -> Backends:
        """Where the codes live and where files come from, as front ends name them."""
        objects = self.objects.label if self.objects is not None else None
        return Backends(store=self.store.label, objects=objects)

    def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers now."""
        self.store.ping()

    def prepare(self) -> None:
        """One-time store preparation (indexes, tables); safe to repeat."""
        self.store.prepare()

    def close(self) -> None:
        self.store.close()

    def read_code_list(self, source: str | os.PathLike | BinaryIO) -> list[str]:
        """The codes of a file or stream ("-" is not special here), one per line, for assign and release.

        Raises NotFound for a missing file and BadFile naming the line of a bad code; at most
        MAX_CODES_PER_CALL codes.
        """
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if path.is_dir():
                raise InvalidInput("not_a_file", f"{path} is a directory, not a file of codes")
            if not path.is_file():
                raise NotFound("file_not_found", f"no such file: {path}")
            with open(path, "rb") as fh:
                return self.read_code_list(fh)
        codes: list[str] = []
        for line, code in iter_codes(source, max_length=self.code_max_length):
            if len(codes) == MAX_CODES_PER_CALL:
                raise BadFile("too_many_codes", f"more than {MAX_CODES_PER_CALL:,} codes; split the file", line)
            codes.append(code)
        return codes

    # -- upload -------------------------------------------------------------------------

    def upload_from_key(
        self,
        principal: Principal,
        campaign_id: str,
        file_key: str,
        *,
        column: str | int | None = None,
        progress: ProgressCallback | None = None,
        cancel: Cancel | None = None,
    ) -> UploadResult:
        """Upload the CSV object at `file_key` (codes/{campaignId}/{type}/{file}); `column` as in csvcodes.parse_column."""
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        code_type = parse_file_key(file_key, campaign_id)
        objects = self._require_objects()
        body, size = objects.open(file_key)
        try:
            with self._recording_partial(principal, campaign_id, code_type, file_key):
                result = self._upload(campaign_id, code_type, body, size, column=column, progress=progress, cancel=cancel)
        finally:
            _close(body)
        self._uploaded(principal, campaign_id, code_type, file_key, result)
        return result

    def upload_from_file(
        self,
        principal: Principal,
        campaign_id: str,
        code_type: CodeType | str,
        source: str | os.PathLike | BinaryIO,
        *,
        column: str | int | None = None,
        progress: ProgressCallback | None = None,
        cancel: Cancel | None = None,
        source_name: str | None = None,
    ) -> UploadResult:
        """Upload a local CSV file or binary stream; `column` as in csvcodes.parse_column (None: automatic).

        `source_name` names a stream in the change event (a path names itself)."""
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        code_type = CodeType.parse(code_type)
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if path.is_dir():
                raise InvalidInput("not_a_file", f"{path} is a folder, not a file of codes")
            if not path.is_file():
                raise NotFound("file_not_found", f"no such file: {path}")
            source_name = source_name or path.name
            with open(path, "rb") as fh, self._recording_partial(principal, campaign_id, code_type, source_name):
                result = self._upload(campaign_id, code_type, fh, path.stat().st_size, column=column, progress=progress, cancel=cancel)
        else:
            with self._recording_partial(principal, campaign_id, code_type, source_name or "a stream"):
                result = self._upload(campaign_id, code_type, source, None, column=column, progress=progress, cancel=cancel)
        self._uploaded(principal, campaign_id, code_type, source_name or "a stream", result)
        return result

    @contextlib.contextmanager
    def _recording_partial(self, principal: Principal, campaign_id: str, code_type: CodeType, source: str):
        """An upload that stops after writing some codes (cancelled, the store failing, ^C) is
        still a change: its event says how far it got and why it stopped."""
        try:
            yield
        except BaseException as exc:
            partial = getattr(exc, "partial", None)
            if isinstance(partial, UploadResult):
                with contextlib.suppress(Exception):
                    self._uploaded(principal, campaign_id, code_type, source, partial, stopped=type(exc).__name__)
            raise

    def _uploaded(
        self, principal: Principal, campaign_id: str, code_type: CodeType, source: str, result: UploadResult, stopped: str | None = None
    ) -> None:
        details = {"source": source, "sha256": result.sha256, **result.to_dict()}
        if stopped is not None:
            details["stopped"] = stopped  # Cancelled, StoreUnavailable, KeyboardInterrupt...: the codes above were written
        # The event's time is its codes' `date.saved`: a code's history finds its upload by it.
        self._emit(principal, EventKind.UPLOADED, campaign_id, at=result.saved, code_type=code_type, details=details)

    def _upload(self, campaign_id, code_type, source, size, *, column, progress, cancel) -> UploadResult:
        return run_upload(
            self.store,
            campaign_id,
            code_type,
            source,
            size,
            clock=self._upload_stamp,
            batch_size=self.batch_size,
            max_length=self.code_max_length,
            column=column,
            progress=progress,
            cancel=cancel,
        )

    def _upload_stamp(self) -> datetime:
        """The upload's `date.saved`: the clock's time, but later than this service's previous
        upload's, because a code whose saved date equals the stamp counts as written by this
        same upload (a duplicate in the file)."""
        with self._stamp_lock:
            stamp = self.clock()
            if self._last_stamp is not None and stamp <= self._last_stamp:
                stamp = self._last_stamp + timedelta(milliseconds=1)
            self._last_stamp = stamp
            return stamp

    def preview_key(
        self, principal: Principal, campaign_id: str, file_key: str, lines: int = 10, *, column: str | int | None = None
    ) -> tuple[CodeType, FileReport]:
        """Check a key and dry-run its file (csvcodes.scan): layout, first codes, problems, warnings; nothing written."""
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        code_type = parse_file_key(file_key, campaign_id)
        body, _ = self._require_objects().open(file_key)
        try:
            return code_type, self._scan(body, campaign_id, column=column, preview=lines)
        finally:
            _close(body)

    def preview_file(
        self,
        principal: Principal,
        path: str | os.PathLike,
        lines: int = 10,
        *,
        column: str | int | None = None,
        campaign_id: str | None = None,
    ) -> FileReport:
        """Dry-run a local file (csvcodes.scan); with `campaign_id`, its codes are also compared with
        that campaign's (a case_twin_stored warning, bounded as in upload.StoredTwins)."""
        self._authorize(principal)
        if campaign_id:
            validate_campaign_id(campaign_id)
        path = Path(path)
        if not path.is_file():
            raise NotFound("file_not_found", f"no such file: {path}")
        with open(path, "rb") as fh:
            return self._scan(fh, campaign_id, column=column, preview=lines)

    def _scan(self, source, campaign_id: str | None, *, column, preview: int) -> FileReport:
        twins = StoredTwins(self.store, campaign_id) if campaign_id else None
        report = scan(
            source, max_length=self.code_max_length, column=column, preview=preview, on_block=twins.add if twins else None
        )
        if twins is not None:
            report.warnings.extend(twins.warnings())
        return report

    def list_keys(self, principal: Principal, campaign_id: str, code_type: CodeType | str | None = None) -> list[ObjectInfo]:
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        prefix = f"codes/{campaign_id}/"
        if code_type is not None:
            prefix += f"{CodeType.parse(code_type).value}/"
        return self._require_objects().list(prefix)

    def _require_objects(self) -> ObjectSource:
        if self.objects is None:
            raise NotConfigured("object_store_not_configured", "no S3 bucket is configured (set CODE_CONSOLE_S3_BUCKET)")
        return self.objects

    # -- reserve ------------------------------------------------------------------------

    def reserve(
        self,
        principal: Principal,
        campaign_id: str,
        code_type: CodeType | str,
        count,
        *,
        key: str | None = None,
    ) -> Reservation:
        """Reserve `count` available codes under one reservation (spec, use case 2).

        Returns the codes (sorted; fewer only when the pool ran out) and the reservation's id:
        a fresh dashed UUID v4, or `key`. With a key (an idempotency key), the key belongs to
        this campaign, type, count and principal: a reuse with other parameters is refused
        (Conflict, `reservation_key_reused`), and every call with it, concurrent or late, gets
        the same answer while the reservation lasts; after it expires a reuse is refused
        (Conflict, `reservation_expired`). Raises StoreUnavailable saying whether a retry is safe.
        """
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        code_type = CodeType.parse(code_type)
        count = parse_count(count, self.reserve_max_count)
        if key is not None and (not isinstance(key, str) or not RESERVATION_KEY_PATTERN.fullmatch(key)):
            raise InvalidInput("invalid_key", "reservation key must be 1-128 letters, digits, '_', '-', '.', ':'")
        expired: dict[str, str] = {}
        self._taking.expired = expired
        try:
            if key is None:
                reserve_id = str(uuid.uuid4())
                reservation = Reservation(reserve_id, self._take(campaign_id, code_type, count, reserve_id, []))
            else:
                reservation = self._reserve_with_key(principal, campaign_id, code_type, count, key)
        except StoreUnavailable as exc:
            # A write whose reply was lost may have reserved codes: say what a retry does.
            if key:
                advice = f"retrying with the same key {key!r} is safe: it returns the codes reserved under it"
            else:
                advice = (
                    "codes may have been reserved and stay held until the reservation expires; "
                    "pass a reservation key (--key, Idempotency-Key) so that a retry is safe"
                )
            raise StoreUnavailable(None, f"{exc.message}; {advice}", **exc.details) from exc
        finally:
            self._taking.expired = None
        if reservation.replayed:
            return reservation  # the call that made it recorded it (the trail, the metrics)
        details = {"asked": count, "given": len(reservation.codes)}
        # A list, not a map: a code may hold '.' or '$', which MongoDB field names may not.
        taken = [{"code": c, "reserveId": expired[c]} for c in reservation.codes if c in expired]
        if taken:
            details["expired"] = taken
        self._emit(
            principal,
            EventKind.RESERVED,
            campaign_id,
            code_type=code_type,
            reserve_id=reservation.reserve_id,
            key=key,
            codes=tuple(reservation.codes),
            details=details,
        )
        return reservation

    def _take(self, campaign_id: str, code_type: CodeType, count: int, reserve_id: str, got: list[str], renew=None) -> list[str]:
        """Reserve codes under `reserve_id` until it holds `count` (those in `got` included) or the pool is empty.

        Candidates are oversampled and shuffled so concurrent callers seldom collide; the
        compare-and-set decides who wins each code; only a partial win needs the read-back.
        """
        now = self.clock()
        cutoff = now - self.reservation_ttl
        got = list(got)
        mine = set(got)
        pool: list[Candidate] = []
        spread = OVERSAMPLE
        for _ in range(MAX_RESERVE_ROUNDS):
            missing = count - len(got)
            if missing <= 0:
                break
            if not pool:
                window = min(missing * spread + OVERSAMPLE_SLACK, max(MAX_WINDOW, missing))
                pool = [c for c in self.store.find_available(campaign_id, code_type, cutoff, window) if c.code not in mine]
                if not pool:
                    break  # the pool is truly empty
                self._rng.shuffle(pool)
            if renew is not None:
                renew()
            attempt, pool = pool[:missing], pool[missing:]
            groups: dict[Seen, list[str]] = {}
            for c in attempt:
                groups.setdefault(c.seen, []).append(c.code)
            won = self.store.compare_and_set(campaign_id, Change.RESERVE, groups, now, reserve_id)
            if won == len(attempt):
                got.extend(c.code for c in attempt)
                self._took_expired(attempt)
            elif won:
                held = {s.code for s in self.store.holding(campaign_id, reserve_id, count + len(attempt) + MAX_WINDOW)}
                got.extend(c.code for c in attempt if c.code in held)
                self._took_expired([c for c in attempt if c.code in held])
            # won == 0: every candidate was taken by someone else; no read-back needed.
            if won < len(attempt):
                # Others are taking from the same candidates: the rest of this pool is stale
                # too (measured: retrying it made the p90 23 commands, looking again makes it 8),
                # so look again, over a wider window.
                spread *= 2
                pool = []
            mine.update(got)
        # Sorted, so every call with the same key returns the very same list.
        return sorted(got)

    def _took_expired(self, won: list[Candidate]) -> None:
        """Note, for the reserve's change event, the codes won from an expired hold (their old reserveId)."""
        expired = getattr(self._taking, "expired", None)
        if expired is not None:
            expired.update((c.code, c.seen.reserve_id) for c in won if c.seen.reserve_id is not None)

    def _reserve_with_key(self, principal: Principal, campaign_id: str, code_type: CodeType, count: int, key: str) -> Reservation:
        """A keyed reservation: one record per key, inserted first (its unique id decides who makes
        the reservation); the maker holds a lease while it takes codes, then stores the answer.
        Every other call with the key waits for that answer, or takes the lease over if the maker
        stopped answering (its codes so far are kept, topped up, and trimmed to `count`)."""
        owner = str(uuid.uuid4())
        now = self.clock()
        record = KeyRecord(
            key=key,
            campaign_id=campaign_id,
            code_type=code_type.value,
            count=count,
            subject=principal.subject,
            created=now,
            expires=now + self.reservation_ttl + KEY_RETENTION,
            lease_owner=owner,
            lease_until=now + KEY_LEASE,
        )
        used = self.store.holding(campaign_id, key, 1) or self.store.events(campaign_id, reserve_id=key, limit=1)
        if used and self.store.get_key(key) is None:
            # Codes carry this id, or the trail shows it was one, but no key record stands for
            # it: it is the reserveId of another reservation (one made without a key, released
            # since, or a key past its retention). Taking it would put two reservations under one
            # id: the newcomer would get the other's codes, or the other could assign the newcomer's.
            raise Conflict(
                "reservation_id_in_use",
                f"reservation key {key!r} is already the id of another reservation in campaign {campaign_id}; use a new key",
            )
        stored = self.store.insert_key(record)
        if stored is None:
            self._keys_made += 1
            if self._keys_made % KEY_PRUNE_EVERY == 1:
                self.store.prune_keys(now)
            return self._make_keyed(record, owner)
        if stored.expires <= now:
            # Past its retention: as good as pruned, and the key is new again.
            self.store.prune_keys(now)
            return self._reserve_with_key(principal, campaign_id, code_type, count, key)
        _check_key_reuse(stored, record)
        deadline = time.monotonic() + KEY_WAIT_SECONDS
        pause = 0.02
        while True:
            if stored.codes is not None:
                return self._keyed_answer(stored)
            now = self.clock()
            if stored.lease_until is None or stored.lease_until <= now:
                until = now + KEY_LEASE
                if self.store.lease_key(key, stored.lease_owner, stored.lease_until, owner, until):
                    return self._make_keyed(replace(stored, lease_owner=owner, lease_until=until), owner, taken_over=True)
            if time.monotonic() > deadline:
                raise StoreUnavailable(
                    "reservation_in_progress", f"the reservation with key {key!r} is still being made by another call"
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
            stored = self.store.get_key(key)
            if stored is None:  # pruned meanwhile (its retention ended): the key is new again
                return self._reserve_with_key(principal, campaign_id, code_type, count, key)

    def _make_keyed(self, record: KeyRecord, owner: str, *, taken_over: bool = False) -> Reservation:
        key, campaign_id, code_type = record.key, record.campaign_id, CodeType(record.code_type)
        lease = [record.lease_until]

        def renew() -> None:
            now = self.clock()
            if lease[0] is not None and now < lease[0] - KEY_LEASE / 2:
                return
            until = now + KEY_LEASE
            if not self.store.lease_key(key, owner, lease[0], owner, until):
                raise _LeaseLost()
            lease[0] = until

        held: list[str] = []
        if taken_over:
            # Codes an earlier maker of this reservation took before it stopped answering.
            cutoff = self.clock() - self.reservation_ttl
            found = self.store.holding(campaign_id, key, record.count + MAX_WINDOW)
            held = [s.code for s in found if status_of(s.values(), cutoff) is Status.RESERVED]
        try:
            codes = self._take(campaign_id, code_type, record.count, key, held, renew)
            answer = codes[: record.count]
            if len(codes) > record.count:
                self._release_held(campaign_id, key, keep=set(answer))
            if self.store.finish_key(key, owner, answer):
                return Reservation(key, answer, key)
        except _LeaseLost:
            pass
        except StoreUnavailable:
            # Hand the lease back so that the caller's retry carries on at once instead of
            # waiting for it to run out (if the store is down, it runs out by itself).
            with contextlib.suppress(StoreUnavailable):
                self.store.lease_key(key, owner, lease[0], None, None)
            raise
        # Another call took the lease over: its answer is the answer.
        deadline = time.monotonic() + KEY_WAIT_SECONDS
        while time.monotonic() < deadline:
            stored = self.store.get_key(key)
            if stored is not None and stored.codes is not None:
                return self._keyed_answer(stored)
            time.sleep(0.05)
        raise StoreUnavailable("reservation_in_progress", f"the reservation with key {key!r} is still being made by another call")

    def _keyed_answer(self, stored: KeyRecord) -> Reservation:
        expires = stored.created + self.reservation_ttl
        if expires <= self.clock():
            raise Conflict(
                "reservation_expired",
                f"the reservation with key {stored.key!r} expired at {expires.isoformat()} and its codes went back to the pool; "
                "reserve with a new key",
            )
        answer = list(stored.codes or ())
        # A write that landed after its caller gave up can leave codes beyond the answer under
        # the key: nobody was given them, so they go back to the pool. Codes of the answer that
        # no longer carry the key (released since, and perhaps reserved by someone else) are no
        # longer this reservation's: the answer is what it still holds, reserved or assigned.
        still = self._release_held(stored.campaign_id, stored.key, keep=set(answer))
        return Reservation(stored.key, [c for c in answer if c in still], stored.key, replayed=True)

    def _release_held(self, campaign_id: str, reserve_id: str, keep: set[str]) -> set[str]:
        """Release the codes held under `reserve_id` that are not in `keep`; return the codes of
        `keep` that still carry `reserve_id`."""
        extra: dict[Seen, list[str]] = {}
        kept: set[str] = set()
        for s in self.store.holding(campaign_id, reserve_id, len(keep) + MAX_WINDOW):
            if s.code in keep:
                kept.add(s.code)
            elif holds(MAY_RELEASE_HELD, s.values(), {RESERVE_ID_PARAM: reserve_id}):
                extra.setdefault(s.seen, []).append(s.code)
        if extra:
            self.store.compare_and_set(campaign_id, Change.RELEASE, extra, self.clock())
        return kept

    # -- assign / release ---------------------------------------------------------------

    def assign(self, principal: Principal, campaign_id: str, codes: Iterable[str], *, reserve_id: str | None = None) -> UpdateResult:
        """Set `date.assigned` once on each code (spec, use case 3); never overwritten.

        With `reserve_id`, only codes that reservation holds change: codes carrying its
        reserveId, expired or not, as long as nobody else has taken them since. The result
        says which codes did not change and why (`UpdateResult.unchanged`).
        """
        return self._change(principal, campaign_id, codes, Change.ASSIGN, reserve_id)

    def release(self, principal: Principal, campaign_id: str, codes: Iterable[str], *, reserve_id: str | None = None) -> UpdateResult:
        """Unset `date.reserved` and `reserveId` of unassigned codes that have a reserved date
        (spec, use case 4: idempotent; assigned codes are never released). With `reserve_id`,
        only codes that reservation still holds: a late caller cannot free a code that another
        caller holds now."""
        return self._change(principal, campaign_id, codes, Change.RELEASE, reserve_id)

    def _change(self, principal: Principal, campaign_id: str, codes, change: Change, reserve_id: str | None) -> UpdateResult:
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        given = codes
        codes = parse_codes(codes, self.code_max_length)
        if reserve_id is not None:
            _validate_reserve_id(reserve_id)
        codes = self._as_stored(campaign_id, given, codes)
        unique = list(dict.fromkeys(codes))
        states = self.store.states(campaign_id, unique)
        missing = [c for c in unique if c not in states]
        found = [states[c] for c in unique if c in states]
        result, changed = self._apply(campaign_id, change, found, reserve_id)
        unchanged = dict(result.unchanged)
        if missing:
            unchanged = {Unchanged.NOT_FOUND: tuple(missing), **unchanged}
        if len(unique) < len(codes):
            # `in` counts every code given, `updated` each code once: say which were repeats,
            # or `in` and `updated` disagree with no reason given.
            times = collections.Counter(codes)
            unchanged[Unchanged.REPEATED] = tuple(c for c in unique if times[c] > 1)
        result = UpdateResult(in_=len(codes), updated=result.updated, unchanged=unchanged)
        kind = EventKind.ASSIGNED if change is Change.ASSIGN else EventKind.RELEASED
        self._changed(principal, kind, campaign_id, reserve_id, changed, result)
        return result

    def _changed(self, principal, kind: EventKind, campaign_id: str, reserve_id, changed: list[str], result: UpdateResult) -> None:
        details = {**result.to_dict(), "unchanged": result.unchanged_dict()}
        self._emit(principal, kind, campaign_id, reserve_id=reserve_id, codes=tuple(changed), details=details)

    def _as_stored(self, campaign_id: str, given, codes: list[str]) -> list[str]:
        """Each code as the store holds it: one that an older version stored with spaces or
        invisible characters at its ends is found as given (the string reserve handed out, which
        the original matched exactly), any other in its normal form. One more read, only when a
        given code is not in its normal form."""
        differing = list(dict.fromkeys(g for g, c in zip(given, codes) if g != c))
        if not differing:
            return codes
        legacy = self.store.states(campaign_id, differing)
        return [g if g in legacy else c for g, c in zip(given, codes)]

    def _apply(
        self, campaign_id: str, change: Change, found: list[StoredCode], reserve_id: str | None
    ) -> tuple[UpdateResult, list[str]]:
        """Change the codes the rule allows, as a compare-and-set on the state each was read in.

        Returns the result and the codes that changed."""
        rule = {
            (Change.ASSIGN, False): MAY_ASSIGN,
            (Change.ASSIGN, True): MAY_ASSIGN_HELD,
            (Change.RELEASE, False): MAY_RELEASE,
            (Change.RELEASE, True): MAY_RELEASE_HELD,
        }[(change, reserve_id is not None)]
        params = {RESERVE_ID_PARAM: reserve_id}
        groups: dict[Seen, list[str]] = {}
        unchanged: dict[Unchanged, list[str]] = {}
        for s in found:
            if holds(rule, s.values(), params):
                groups.setdefault(s.seen, []).append(s.code)
            else:
                unchanged.setdefault(_why_unchanged(s, change, reserve_id), []).append(s.code)
        now = self.clock()
        eligible = [c for codes in groups.values() for c in codes]
        changed = self.store.compare_and_set(campaign_id, change, groups, now) if groups else 0
        ours = eligible
        if changed < len(eligible):
            # Another caller changed some of them between our read and our write: read again
            # and say why those did not change.
            after = self.store.states(campaign_id, eligible)
            ours = []
            for code in eligible:
                state = after.get(code)
                if state is not None and len(ours) < changed and _shows(change, state, now):
                    ours.append(code)
                elif state is not None:
                    unchanged.setdefault(_why_unchanged(state, change, reserve_id), []).append(code)
        result = UpdateResult(in_=len(found), updated=changed, unchanged={r: tuple(c) for r, c in unchanged.items()})
        return result, ours

    def release_reservation(self, principal: Principal, campaign_id: str, reserve_id: str) -> UpdateResult:
        """Release every unassigned code of one reservation (support staff's bulk release).

        `in` is the number of codes carrying the reserveId; assigned ones stay (unchanged)."""
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        _validate_reserve_id(reserve_id)
        held = self.store.holding(campaign_id, reserve_id, MAX_CODES_PER_CALL)
        result, changed = self._apply(campaign_id, Change.RELEASE, held, reserve_id)
        self._changed(principal, EventKind.RESERVATION_RELEASED, campaign_id, reserve_id, changed, result)
        return result

    # -- read ---------------------------------------------------------------------------

    def count(self, principal: Principal, campaign_id: str, code_type: CodeType | str, status: Status | str | None = None) -> dict[str, int]:
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        if code_type is None or code_type == "":
            raise InvalidInput("invalid_type", "type is required: tm or external")
        code_type = CodeType.parse(code_type)
        parsed_status = Status.parse(status) if status not in (None, "") else None
        return self.counts(principal, campaign_id, code_type).to_dict(parsed_status)

    def counts(self, principal: Principal, campaign_id: str, code_type: CodeType | str) -> StatusCounts:
        """One type's counts: one command that reads only that type's pool."""
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        code_type = CodeType.parse(code_type)
        found = self.store.counts(campaign_id, self._cutoff(self.clock()), code_type).get(campaign_id, {})
        return found.get(code_type, StatusCounts())

    def campaign_counts(self, principal: Principal, campaign_id: str) -> dict[CodeType, StatusCounts]:
        """Every type's counts for one campaign, in one command (the console's refresh)."""
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        found = self.store.counts(campaign_id, self._cutoff(self.clock())).get(campaign_id, {})
        return {t: found.get(t, StatusCounts()) for t in CodeType}

    def campaigns(self, principal: Principal) -> list[CampaignSummary]:
        """Every campaign with its counts per type, in one command whatever their number."""
        self._authorize(principal)
        found = self.store.counts(None, self._cutoff(self.clock()))
        return [CampaignSummary(cid, found[cid]) for cid in sorted(found)]

    def lookup(self, principal: Principal, code: str, campaign_id: str | None = None) -> list[CodeRecord]:
        self._authorize(principal)
        if not isinstance(code, str):
            raise InvalidInput("invalid_codes", "enter a code to look up")
        given = code
        try:
            code = normalize_code(code, max_length=self.code_max_length)
        except InvalidCode as exc:
            if exc.code == "empty_code":
                raise InvalidCode("invalid_codes", "enter a code to look up", **exc.details) from None
            raise InvalidCode("invalid_codes", f"not a valid code: {exc.message}", **exc.details) from None
        if campaign_id:
            validate_campaign_id(campaign_id)
        cutoff = self._cutoff(self.clock())
        found = self.store.lookup(code, campaign_id or None, LOOKUP_LIMIT)
        if given != code:  # an older version's code, stored as given (see _as_stored), comes first
            found = self.store.lookup(given, campaign_id or None, LOOKUP_LIMIT) + found
        return [self._record(s, cutoff) for s in found[:LOOKUP_LIMIT]]

    def reservation(self, principal: Principal, campaign_id: str, reserve_id: str) -> list[CodeRecord]:
        """The codes that carry a reserveId (assigned ones included), sorted by code."""
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        _validate_reserve_id(reserve_id)
        cutoff = self._cutoff(self.clock())
        records = [self._record(s, cutoff) for s in self.store.holding(campaign_id, reserve_id, MAX_CODES_PER_CALL)]
        return sorted(records, key=lambda r: str(r.code))

    def _record(self, s: StoredCode, cutoff: datetime) -> CodeRecord:
        values = s.values()
        return CodeRecord(
            campaign_id=s.campaign_id,
            code_type=CodeType.stored(s.code_type) or s.code_type,
            code=s.code,
            status=status_of(values, cutoff),
            saved=s.saved if isinstance(s.saved, datetime) else None,
            reserved=s.reserved if isinstance(s.reserved, datetime) else None,
            assigned=s.assigned if isinstance(s.assigned, datetime) else None,
            reserve_id=s.reserve_id if isinstance(s.reserve_id, str) else None,
            releasable=holds(MAY_RELEASE, values, {}),
            problems=tuple(misfits(s)),
        )

    def check(self, principal: Principal, campaign_id: str, examples: int = 5) -> CheckReport:
        """Read a whole campaign and report the documents that do not fit the schema, by kind
        (a count and a few examples each). Changes nothing."""
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        report = CheckReport(campaign_id)
        for s in self.store.scan(campaign_id, CHECK_BATCH):
            report.documents += 1
            for problem in misfits(s):
                report.add(problem, s.code, examples)
        return report

    # -- the audit trail (audit.py) -----------------------------------------------------

    def history(
        self,
        principal: Principal,
        campaign_id: str,
        *,
        code: str | None = None,
        reserve_id: str | None = None,
        since: str | datetime | None = None,
        before: str | None = None,
        limit: int | str | None = None,
        kind: EventKind | str | None = None,
    ) -> audit.EventPage:
        """A campaign's recorded changes, newest first, at most `limit` (default 100, at most 1,000).

        Filters: `code` (the events naming it, and the upload that last saved it), `reserve_id`,
        `kind`, `since` (audit.parse_since: an ISO time or a span back from now such as `2h`),
        `before` (the cursor: `next` of the previous page). Raises InvalidInput for a bad filter.
        """
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        limit = audit.parse_limit(limit)
        before = audit.validate_cursor(before)
        start = audit.parse_since(since, self.clock)
        if reserve_id is not None:
            _validate_reserve_id(reserve_id)
        try:
            kind_value = EventKind(kind).value if kind is not None else None
        except ValueError:
            raise InvalidInput("invalid_kind", f"invalid event kind {kind!r}: expected one of {', '.join(k.value for k in EventKind)}") from None
        if code is not None:
            if not isinstance(code, str):
                raise InvalidInput("invalid_codes", "code must be a string")
            try:
                code = normalize_code(code, max_length=self.code_max_length)
            except InvalidCode as exc:
                raise InvalidCode("invalid_codes", f"not a valid code: {exc.message}", **exc.details) from None
        if start is not None and start > self.clock():
            # Nothing was recorded after now. (Event ids carry their time as digits, so a `since`
            # past 2286 would also compare below today's ids as text: never ask the store.)
            return audit.EventPage([], None)
        found = self.store.events(campaign_id, code=code, reserve_id=reserve_id, kind=kind_value, since=start, before=before, limit=limit + 1)
        if code is not None and reserve_id is None and kind_value in (None, EventKind.UPLOADED.value):
            found = self._with_upload(campaign_id, code, found, start, before)
        found.sort(key=lambda e: e.id, reverse=True)
        page = found[:limit]
        return audit.EventPage(page, page[-1].id if len(found) > limit else None)

    def _with_upload(self, campaign_id: str, code: str, found: list, start: datetime | None, before: str | None) -> list:
        """Add the upload event that last saved `code` (its time is the code's `date.saved`)."""
        stored = self.store.states(campaign_id, [code]).get(code)
        saved = stored.saved if stored is not None and isinstance(stored.saved, datetime) else None
        if saved is None or (start is not None and saved < start):
            return found
        upper = audit.id_bound(saved + timedelta(milliseconds=1))
        if before is not None:
            upper = min(upper, before)
        uploads = self.store.events(campaign_id, kind=EventKind.UPLOADED.value, since=saved, before=upper, limit=10)
        seen = {e.id for e in found}
        return found + [e for e in uploads if e.id not in seen]

    def uploads(self, principal: Principal, campaign_id: str, *, sha256: str | None = None, limit: int = 20) -> list[audit.EventRecord]:
        """The campaign's recorded uploads, newest first (at most `limit`); with `sha256`, only
        those of that very file, among the last audit.MAX_LIMIT uploads."""
        if sha256 is None:
            return self.history(principal, campaign_id, kind=EventKind.UPLOADED, limit=limit).events
        found = self.history(principal, campaign_id, kind=EventKind.UPLOADED, limit=audit.MAX_LIMIT).events
        return [e for e in found if e.details.get("sha256") == sha256][:limit]

    def code_history(self, principal: Principal, campaign_id: str, code: str, limit: int = audit.MAX_LIMIT) -> list[audit.HistoryLine]:
        """A code's life, oldest first, as lines for a person (audit.code_timeline): its recorded
        events and the expiry of each hold that ran out."""
        page = self.history(principal, campaign_id, code=code, limit=limit)
        return audit.code_timeline(code, page.events, self.reservation_ttl, self.clock())

    # -- usage --------------------------------------------------------------------------

    def usage(self, principal: Principal, campaign_id: str, window: Window | str = Window.DAY) -> Usage:
        """Reservations and assignments per hour over `window` (1h, 24h, 7d) and per minute over
        the last hour, per type, with the available count now and time to empty (core/usage.py).

        From the stored dates, by the service's clock: two store commands (the counts and one
        aggregation of the dates). Raises InvalidInput for an unknown window."""
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        window = Window.parse(window)
        now = self.clock()
        return self._usage(campaign_id, window, now)[campaign_id]

    def campaigns_usage(self, principal: Principal, window: Window | str = Window.DAY) -> dict[str, Usage]:
        """`usage` of every campaign (each with its status counts: `Usage.summary()` is what
        `campaigns` gives), in two commands whatever their number (the browser's refresh)."""
        self._authorize(principal)
        window = Window.parse(window)
        return self._usage(None, window, self.clock())

    def _usage(self, campaign_id: str | None, window: Window, now: datetime) -> dict[str, Usage]:
        series = (Series(timedelta(hours=1), window.hours), Series(timedelta(minutes=1), USAGE_MINUTES))
        counts = self.store.counts(campaign_id, self._cutoff(now))
        activity = self.store.activity(campaign_id, now, series)
        empty = [[0] * s.count for s in series]
        out = {}
        for campaign in [campaign_id] if campaign_id is not None else sorted(counts):
            found, events = counts.get(campaign, {}), activity.get(campaign, {})
            types = {}
            for code_type in CodeType:
                assigned = events.get((code_type, Stamp.ASSIGNED), empty)
                reserved = events.get((code_type, Stamp.RESERVED), empty)
                types[code_type] = TypeUsage(
                    code_type=code_type,
                    window=window,
                    counts=found.get(code_type, StatusCounts()),
                    assigned_per_hour=tuple(assigned[0]),
                    reserved_per_hour=tuple(reserved[0]),
                    assigned_per_minute=tuple(assigned[1]),
                    reserved_per_minute=tuple(reserved[1]),
                )
            out[campaign] = Usage(campaign, window, now, types)
        return out

    def alerts(self, principal: Principal) -> list[AlertRecord]:
        """Every recorded alert state (core/alerts.py), newest change first: what the console shows."""
        self._authorize(principal)
        return sorted(self.store.alert_records(), key=lambda r: r.changed, reverse=True)

    # -- export -------------------------------------------------------------------------

    def export(self, principal: Principal, campaign_id: str, code_type: CodeType | str, status: Status | str | None = None) -> CodeExport:
        """A campaign's codes of one type (and status, if given), in code order, read a page at
        a time as the records are consumed (memory flat whatever the campaign's size).

        Checks the principal and the arguments now (raising before anything is read) and counts
        the matching codes for `total`; statuses are by the clock at this call. Render the records
        with `export.render` (CSV or JSON lines)."""
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        if code_type is None or code_type == "":
            raise InvalidInput("invalid_type", "type is required: tm or external")
        code_type = CodeType.parse(code_type)
        wanted = Status.parse(status) if status not in (None, "") else None
        cutoff = self._cutoff(self.clock())
        counts = self.store.counts(campaign_id, cutoff).get(campaign_id, {}).get(code_type, StatusCounts())
        total = counts.get(wanted) if wanted is not None else counts.total

        def records():
            after = None
            while True:
                page = self.store.page(campaign_id, after, EXPORT_PAGE)
                for s in page:
                    if s.code_type != code_type.value:
                        continue
                    record = self._record(s, cutoff)
                    if wanted is None or record.status is wanted:
                        yield record
                if len(page) < EXPORT_PAGE:
                    return
                after = page[-1].code

        return CodeExport(campaign_id, code_type, wanted, total, records())


KEY_LEASE = timedelta(seconds=15)
KEY_WAIT_SECONDS = 30.0
# A key is kept this long after its reservation expired (a reuse within it is refused).
KEY_RETENTION = timedelta(days=7)
# Expired key records are removed by the first keyed reservation of a process and every this many after.
KEY_PRUNE_EVERY = 100
LOOKUP_LIMIT = 100
CHECK_BATCH = 1_000
EXPORT_PAGE = 1_000


class _LeaseLost(Exception):
    """The maker of a keyed reservation stopped answering long enough for another call to take over."""


def _check_key_reuse(stored: KeyRecord, asked: KeyRecord) -> None:
    then = (stored.campaign_id, stored.code_type, stored.count, stored.subject)
    now = (asked.campaign_id, asked.code_type, asked.count, asked.subject)
    if stored.subject != asked.subject:
        # Another caller's key: say no more than that, not what that caller reserved.
        raise Conflict("reservation_key_reused", f"reservation key {asked.key!r} belongs to another caller; use a new key")
    if then != now:
        raise Conflict(
            "reservation_key_reused",
            f"reservation key {asked.key!r} was used for campaign {stored.campaign_id}, type {stored.code_type}, "
            f"count {stored.count} by {stored.subject!r}; a key belongs to one reservation: use a new key",
        )


def _validate_reserve_id(reserve_id) -> None:
    if not isinstance(reserve_id, str) or not RESERVATION_KEY_PATTERN.fullmatch(reserve_id):
        raise InvalidInput("invalid_reserve_id", f"invalid reserveId {reserve_id!r}")


def _why_unchanged(s: StoredCode, change: Change, reserve_id: str | None) -> Unchanged:
    if s.assigned is not None:
        return Unchanged.ALREADY_ASSIGNED
    if reserve_id is not None and s.reserve_id is not None and s.reserve_id != reserve_id:
        return Unchanged.OTHER_RESERVATION
    return Unchanged.NOT_RESERVED


def _shows(change: Change, s: StoredCode, now: datetime) -> bool:
    """Whether a code's state, read after a compare-and-set, shows that change made at `now`."""
    if change is Change.ASSIGN:
        return s.assigned == now
    return s.reserved is None and s.reserve_id is None


def _close(body) -> None:
    close = getattr(body, "close", None)
    if close:
        close()
