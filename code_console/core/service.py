"""CodeService: the one façade every front end (console, CLI, HTTP API) calls.

Business rules live here once. Every operation checks the principal first and touches
nothing when it is not supreme. Time comes from the injected clock.
"""

from __future__ import annotations

import os
import random
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Iterable

from code_console.core.csvcodes import FileReport, iter_codes, scan
from code_console.core.errors import BadFile, Forbidden, InvalidInput, NotConfigured, NotFound, StoreUnavailable
from code_console.core.models import (
    Backends,
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
    UpdateResult,
    UploadResult,
    utc_now,
)
from code_console.core.objects import ObjectInfo, ObjectSource
from code_console.core.store import Candidate, MongoStore
from code_console.core.upload import run_upload

CAMPAIGN_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}\Z")
RESERVATION_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}\Z")
MAX_CODES_PER_CALL = 100_000
# Candidates fetched per missing code: enough that concurrent callers rarely pick the same ones.
# Each lost race doubles the window (up to MAX_WINDOW), spreading contenders further apart.
OVERSAMPLE = 3
OVERSAMPLE_SLACK = 16
MAX_WINDOW = 4_096
# A caller that keeps losing races still stops; each round is one or two round trips.
MAX_RESERVE_ROUNDS = 200


def validate_campaign_id(campaign_id: str) -> str:
    if not isinstance(campaign_id, str) or not CAMPAIGN_PATTERN.match(campaign_id):
        raise InvalidInput(
            "invalid_campaign",
            f"invalid campaign id {campaign_id!r}: use 1-128 letters, digits, '_', '-', '.', ':' (starting with a letter or digit)",
        )
    return campaign_id


def parse_file_key(file_key: str, campaign_id: str) -> CodeType:
    """Check `codes/{campaignId}/{type}/{file}` and return the type it names."""
    if not isinstance(file_key, str) or not file_key:
        raise InvalidInput("invalid_key", "file key is empty: expected codes/{campaignId}/{type}/{file}")
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
    if isinstance(codes, (str, bytes)) or not isinstance(codes, (list, tuple)):
        raise InvalidInput("invalid_codes", "codes must be a non-empty array of strings")
    if not codes:
        raise InvalidInput("invalid_codes", "codes must be a non-empty array of strings; got an empty one")
    if len(codes) > MAX_CODES_PER_CALL:
        raise InvalidInput("invalid_codes", f"at most {MAX_CODES_PER_CALL} codes per call; got {len(codes)}")
    out = []
    for i, code in enumerate(codes):
        if not isinstance(code, str):
            raise InvalidInput("invalid_codes", f"codes[{i}] is not a string: {code!r}")
        code = code.strip()
        if not code:
            raise InvalidInput("invalid_codes", f"codes[{i}] is empty")
        if len(code) > max_length or not code.isprintable():
            raise InvalidInput("invalid_codes", f"codes[{i}] is not a valid code (printable, at most {max_length} characters)")
        out.append(code)
    return out


class CodeService:
    def __init__(
        self,
        store: MongoStore,
        objects: ObjectSource | None = None,
        *,
        clock: Clock = utc_now,
        reservation_ttl: timedelta = timedelta(hours=24),
        batch_size: int = 50_000,
        reserve_max_count: int = 10_000,
        code_max_length: int = 128,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.objects = objects
        self.clock = clock
        self.reservation_ttl = reservation_ttl
        self.batch_size = batch_size
        self.reserve_max_count = reserve_max_count
        self.code_max_length = code_max_length
        self._rng = rng or random.Random()

    # -- helpers ------------------------------------------------------------------------

    @staticmethod
    def _authorize(principal: Principal) -> None:
        if not isinstance(principal, Principal) or not principal.supreme:
            raise Forbidden()

    def _cutoff(self, now: datetime) -> datetime:
        return now - self.reservation_ttl

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
        self.store.ensure_indexes()

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
        codes = []
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
        progress: ProgressCallback | None = None,
        cancel: Cancel | None = None,
    ) -> UploadResult:
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        code_type = parse_file_key(file_key, campaign_id)
        objects = self._require_objects()
        body, size = objects.open(file_key)
        try:
            return self._upload(campaign_id, code_type, body, size, progress=progress, cancel=cancel)
        finally:
            _close(body)

    def upload_from_file(
        self,
        principal: Principal,
        campaign_id: str,
        code_type: CodeType | str,
        source: str | os.PathLike | BinaryIO,
        *,
        progress: ProgressCallback | None = None,
        cancel: Cancel | None = None,
    ) -> UploadResult:
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        code_type = CodeType.parse(code_type)
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if not path.is_file():
                raise NotFound("file_not_found", f"no such file: {path}")
            with open(path, "rb") as fh:
                return self._upload(campaign_id, code_type, fh, path.stat().st_size, progress=progress, cancel=cancel)
        return self._upload(campaign_id, code_type, source, None, progress=progress, cancel=cancel)

    def _upload(self, campaign_id, code_type, source, size, *, progress, cancel) -> UploadResult:
        return run_upload(
            self.store,
            campaign_id,
            code_type,
            source,
            size,
            clock=self.clock,
            batch_size=self.batch_size,
            max_length=self.code_max_length,
            progress=progress,
            cancel=cancel,
        )

    def preview_key(self, principal: Principal, campaign_id: str, file_key: str, lines: int = 10) -> tuple[CodeType, FileReport]:
        """Check a key and dry-run its file: first codes and problems, nothing written."""
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        code_type = parse_file_key(file_key, campaign_id)
        body, _ = self._require_objects().open(file_key)
        try:
            return code_type, scan(body, max_length=self.code_max_length, preview=lines)
        finally:
            _close(body)

    def preview_file(self, principal: Principal, path: str | os.PathLike, lines: int = 10) -> FileReport:
        self._authorize(principal)
        path = Path(path)
        if not path.is_file():
            raise NotFound("file_not_found", f"no such file: {path}")
        with open(path, "rb") as fh:
            return scan(fh, max_length=self.code_max_length, preview=lines)

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
        """Reserve `count` available codes under one fresh reserveId (a dashed UUID v4, or the key).

        Candidates are oversampled and shuffled so concurrent callers seldom collide; the
        conditional update decides who wins each code; only a partial win needs the read-back.
        The loop ends when the count is met or no candidate is left (the pool ran out).

        With a `key`, the key is the reserveId: a retry returns the codes the first call
        reserved (and tops them up if it stopped short) instead of reserving more.
        """
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        code_type = CodeType.parse(code_type)
        count = parse_count(count, self.reserve_max_count)
        if key is not None and (not isinstance(key, str) or not RESERVATION_KEY_PATTERN.match(key)):
            raise InvalidInput("invalid_key", "reservation key must be 1-128 letters, digits, '_', '-', '.', ':'")
        reserve_id = key or str(uuid.uuid4())
        try:
            return Reservation(reserve_id, self._reserve(campaign_id, code_type, count, reserve_id, key), key)
        except StoreUnavailable as exc:
            # A write whose reply was lost may have reserved codes: say what a retry does.
            if key:
                advice = f"retrying with the same key {key!r} is safe: it returns the codes reserved under it and reserves only what is missing"
            else:
                advice = (
                    "codes may have been reserved and stay held until the reservation expires; "
                    "pass a reservation key (--key, Idempotency-Key) so that a retry is safe"
                )
            raise StoreUnavailable(None, f"{exc.message}; {advice}") from exc

    def _reserve(self, campaign_id: str, code_type: CodeType, count: int, reserve_id: str, key: str | None) -> list[str]:
        now = self.clock()
        cutoff = self._cutoff(now)

        # A key's codes whose reservation expired are back in the pool: they are not returned as
        # held but may be reserved again below (the compare-and-set takes them if still free).
        got: list[str] = (
            [r.code for r in self.store.reservation_records(campaign_id, reserve_id, cutoff) if r.status is not Status.AVAILABLE]
            if key
            else []
        )
        if len(got) >= count:
            # A write that landed after its caller gave up can leave more than `count` codes under
            # a key; a retry still gets at most `count`, the same ones each time.
            return sorted(got)[:count]
        mine = set(got)
        pool: list[Candidate] = []
        spread = OVERSAMPLE
        for _ in range(MAX_RESERVE_ROUNDS):
            missing = count - len(got)
            if missing <= 0:
                break
            if not pool:
                window = min(missing * spread + OVERSAMPLE_SLACK, max(MAX_WINDOW, missing))
                found = self.store.find_available(campaign_id, code_type, cutoff, window)
                pool = [c for c in found if c.code not in mine]
                if not pool:
                    break  # the pool is truly empty
                self._rng.shuffle(pool)
            attempt, pool = pool[:missing], pool[missing:]
            won = self.store.try_reserve(campaign_id, code_type, attempt, reserve_id, now, cutoff)
            if won == len(attempt):
                got.extend(c.code for c in attempt)
            elif won:
                held = set(self.store.codes_for_reservation(campaign_id, reserve_id))
                got.extend(c.code for c in attempt if c.code in held)
            # won == 0: every candidate was taken by someone else; no read-back needed.
            if won < len(attempt):
                # Others are taking from the same candidates: the rest of this pool is stale
                # too (measured: retrying it made the p90 23 commands, looking again makes it 8),
                # so look again, over a wider window.
                spread *= 2
                pool = []
            mine.update(got)
        # Sorted, so a retry with the same key returns the very same list.
        return sorted(got)

    # -- assign / release ---------------------------------------------------------------

    def assign(self, principal: Principal, campaign_id: str, codes: Iterable[str]) -> UpdateResult:
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        codes = parse_codes(codes, self.code_max_length)
        updated = self.store.assign(campaign_id, list(dict.fromkeys(codes)), self.clock())
        return UpdateResult(in_=len(codes), updated=updated)

    def release(self, principal: Principal, campaign_id: str, codes: Iterable[str]) -> UpdateResult:
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        codes = parse_codes(codes, self.code_max_length)
        updated = self.store.release(campaign_id, list(dict.fromkeys(codes)))
        return UpdateResult(in_=len(codes), updated=updated)

    def release_reservation(self, principal: Principal, campaign_id: str, reserve_id: str) -> UpdateResult:
        """Release every unassigned code of one reservation (support staff's bulk release)."""
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        if not isinstance(reserve_id, str) or not RESERVATION_KEY_PATTERN.match(reserve_id):
            raise InvalidInput("invalid_reserve_id", f"invalid reserveId {reserve_id!r}")
        held, released = self.store.release_reservation(campaign_id, reserve_id)
        return UpdateResult(in_=held, updated=released)

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
        self._authorize(principal)
        return self.store.count(campaign_id, CodeType.parse(code_type), self._cutoff(self.clock()))

    def campaign_counts(self, principal: Principal, campaign_id: str) -> dict[CodeType, StatusCounts]:
        """Every type's counts for one campaign, in one round trip (the console's refresh)."""
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        found = self.store.counts_by_type(campaign_id, self._cutoff(self.clock()))
        return {t: found.get(t, StatusCounts()) for t in CodeType}

    def campaigns(self, principal: Principal) -> list[CampaignSummary]:
        self._authorize(principal)
        cutoff = self._cutoff(self.clock())
        return [CampaignSummary(cid, self.store.counts_by_type(cid, cutoff)) for cid in self.store.campaign_ids()]

    def lookup(self, principal: Principal, code: str, campaign_id: str | None = None) -> list[CodeRecord]:
        self._authorize(principal)
        if not isinstance(code, str) or not code.strip():
            raise InvalidInput("invalid_codes", "enter a code to look up")
        if campaign_id:
            validate_campaign_id(campaign_id)
        return self.store.lookup(code.strip(), campaign_id or None, self._cutoff(self.clock()))

    def reservation(self, principal: Principal, campaign_id: str, reserve_id: str) -> list[CodeRecord]:
        self._authorize(principal)
        validate_campaign_id(campaign_id)
        return self.store.reservation_records(campaign_id, reserve_id, self._cutoff(self.clock()))


def _close(body) -> None:
    close = getattr(body, "close", None)
    if close:
        close()
