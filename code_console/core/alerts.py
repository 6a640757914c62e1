"""Low-stock alerts: once per crossing, from any number of checkers, signed and retried.

Per campaign and type, two conditions (kinds) are watched:

- `low_stock`: fewer available codes than the threshold (per campaign and type, else per type);
- `empty_soon`: the pool would run out within the horizon at the recent assign rate
  (CodeService.usage's time to empty; off when the horizon is zero).

An alert fires when a condition becomes true (a crossing) and again only after it was false at
a check in between (recovery). The state lives in the store (`Store.put_alert`, an
insert-if-absent or a compare-and-set on one record per campaign, type and kind), so several
checkers on one store (`code-console watch` on two hosts, API instances) send one alert per
crossing: only the checker whose write wins sends it.

An alert whose delivery failed is sent again (same delivery id) by the next check that finds
its condition still true; one checker claims each retry, again by compare-and-set.

Delivery: a JSON POST to the webhook URL (httpx, every attempt bounded by a timeout), retried
on a connection error, a timeout, 408, 429 and 5xx with exponential backoff (backoff, 2x, 4x ...,
at most `attempts` tries). Each POST is signed so the receiver can check it came from here:

    X-Code-Console-Timestamp: <unix seconds when signed>
    X-Code-Console-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body bytes>" under the secret>
    X-Code-Console-Delivery: <campaign>|<type>|<kind>#<crossing>   (the same on every retry)

A receiver recomputes the HMAC over the timestamp, a dot and the raw body, compares in constant
time, and refuses stale timestamps (replays). The body is `Alert.to_dict()`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Callable

import httpx

from code_console.core.contract import AlertRecord
from code_console.core.models import CodeType, Principal
from code_console.core.usage import TypeUsage, Window, describe_rate, describe_time_to_empty

log = logging.getLogger("code_console.alerts")

LOW_STOCK = "low_stock"
EMPTY_SOON = "empty_soon"
SIGNATURE_HEADER = "X-Code-Console-Signature"
TIMESTAMP_HEADER = "X-Code-Console-Timestamp"
DELIVERY_HEADER = "X-Code-Console-Delivery"
RETRY_STATUSES = frozenset({408, 429})
MAX_BACKOFF_SECONDS = 60.0


@dataclass(frozen=True)
class AlertPolicy:
    """When a pool is low. `thresholds`: per type; `per_campaign`: {campaign: {type: threshold}}
    overrides; `horizon`: alert when time to empty is shorter (None: never); `window`: the rate's."""

    thresholds: dict[CodeType, int]
    per_campaign: dict[str, dict[str, int]] = field(default_factory=dict)
    horizon: timedelta | None = None
    window: Window = Window.DAY

    def threshold(self, campaign_id: str, code_type: CodeType) -> int:
        own = self.per_campaign.get(campaign_id, {})
        return int(own.get(code_type.value, self.thresholds.get(code_type, 0)))


@dataclass(frozen=True)
class Webhook:
    """Where alerts go and how: `secret` signs them; each attempt is bounded by `timeout_seconds`."""

    url: str
    secret: str
    timeout_seconds: float = 5.0
    attempts: int = 5
    backoff_seconds: float = 1.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of `timestamp.body`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def deliver(webhook: Webhook, delivery_id: str, payload: dict, *, now: Callable[[], float] = time.time,
            sleep: Callable[[float], None] = time.sleep, client: httpx.Client | None = None) -> int:
    """POST `payload` until the receiver answers 2xx; returns the attempts it took.

    Raises AlertNotDelivered after `webhook.attempts` failed tries or at once on a refusal
    (a 4xx other than 408 and 429: retrying would not help)."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    own = client is None
    client = client or httpx.Client(timeout=webhook.timeout_seconds, follow_redirects=False)
    problem = ""
    try:
        for attempt in range(1, webhook.attempts + 1):
            stamp = str(int(now()))
            headers = {
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: stamp,
                SIGNATURE_HEADER: sign(webhook.secret, stamp, body),
                DELIVERY_HEADER: delivery_id,
                "User-Agent": "code-console-alerts",
            }
            try:
                response = client.post(webhook.url, content=body, headers=headers)
                if 200 <= response.status_code < 300:
                    return attempt
                problem = f"the receiver answered {response.status_code}"
                if response.status_code < 500 and response.status_code not in RETRY_STATUSES:
                    raise AlertNotDelivered(f"{problem}: not retried")
            except httpx.HTTPError as exc:  # connect errors, timeouts, broken connections
                problem = f"{type(exc).__name__}: {exc}"
            if attempt < webhook.attempts:
                wait = min(webhook.backoff_seconds * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
                log.warning("alert delivery failed, retrying", extra={"delivery": delivery_id, "attempt": attempt, "problem": problem, "retry_in_s": wait})
                sleep(wait)
    finally:
        if own:
            client.close()
    raise AlertNotDelivered(f"{problem} ({webhook.attempts} attempts)")


class AlertNotDelivered(Exception):
    pass


@dataclass(frozen=True)
class Alert:
    """One crossing, as sent and shown."""

    campaign_id: str
    code_type: CodeType
    kind: str
    crossing: int
    at: datetime
    available: int
    threshold: int
    assign_rate: float
    time_to_empty: timedelta | None
    window: Window
    horizon: timedelta | None

    @property
    def key(self) -> str:
        return record_key(self.campaign_id, self.code_type, self.kind)

    @property
    def delivery_id(self) -> str:
        return f"{self.key}#{self.crossing}"

    @property
    def message(self) -> str:
        where = f"{self.campaign_id} {self.code_type.value}"
        empty = describe_time_to_empty(self.time_to_empty)
        if self.kind == LOW_STOCK:
            return f"{where}: {self.available:,} codes available, below {self.threshold:,} (empty in {empty})"
        return (f"{where}: runs out in {empty} at {describe_rate(self.assign_rate)} "
                f"(under {describe_time_to_empty(self.horizon)}); {self.available:,} available")

    def to_dict(self) -> dict:
        tte = self.time_to_empty
        return {
            "event": "alert",
            "kind": self.kind,
            "campaignId": self.campaign_id,
            "type": self.code_type.value,
            "crossing": self.crossing,
            "at": self.at.isoformat(),
            "available": self.available,
            "threshold": self.threshold,
            "assignedPerHour": round(self.assign_rate, 3),
            "window": self.window.value,
            "timeToEmptySeconds": None if tte is None else int(tte.total_seconds()),
            "horizonSeconds": None if self.horizon is None else int(self.horizon.total_seconds()),
            "message": self.message,
        }


def record_key(campaign_id: str, code_type: CodeType, kind: str) -> str:
    return f"{campaign_id}|{code_type.value}|{kind}"


@dataclass
class CheckResult:
    """What one check did: alerts this checker won and sent (or failed to), recoveries seen."""

    fired: list[Alert] = field(default_factory=list)
    delivered: list[Alert] = field(default_factory=list)
    failed: list[tuple[Alert, str]] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    redelivered: list[str] = field(default_factory=list)  # delivery ids sent late (an earlier check's failed)


class AlertChecker:
    """Checks every campaign's pools against the policy and sends each crossing once.

    `check()` costs three store commands (counts, one aggregation, the alert records) plus one
    write per state change. Safe to run from several processes and hosts on one store.
    """

    def __init__(self, service, principal: Principal, policy: AlertPolicy, webhook: Webhook | None = None,
                 *, on_alert: Callable[[Alert], None] | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.service = service
        self.principal = principal
        self.policy = policy
        self.webhook = webhook
        self.on_alert = on_alert
        self._sleep = sleep

    def check(self) -> CheckResult:
        result = CheckResult()
        usage = self.service.campaigns_usage(self.principal, self.policy.window)
        records = {r.key: r for r in self.service.store.alert_records()}
        for campaign_id, campaign in usage.items():
            for code_type, pool in campaign.types.items():
                if pool.counts.total == 0:
                    continue
                for kind, low in self._conditions(campaign_id, pool):
                    seen = records.get(record_key(campaign_id, code_type, kind))
                    if seen is not None and seen.low and low and seen.delivered is None:
                        self._redeliver(campaign.at, seen, result)
                    else:
                        self._step(campaign.at, campaign_id, pool, kind, low, seen, result)
        return result

    def _redeliver(self, now: datetime, seen: AlertRecord, result: CheckResult) -> None:
        """An alert whose delivery failed at an earlier check, still low: one checker claims the
        retry (a compare-and-set that moves `changed` on) and sends it again, same delivery id."""
        if self.webhook is None or not seen.changed < now:
            return
        claimed = replace(seen, changed=now)
        if not self.service.store.put_alert(claimed, seen):
            return  # another checker is retrying it
        delivery_id = f"{seen.key}#{seen.crossing}"
        try:
            attempts = deliver(self.webhook, delivery_id, seen.detail, sleep=self._sleep)
        except AlertNotDelivered as exc:
            log.error("alert still not delivered", extra={"alert": seen.key, "crossing": seen.crossing, "problem": str(exc)})
            return
        log.info("alert delivered", extra={"alert": seen.key, "crossing": seen.crossing, "attempts": attempts, "late": True})
        result.redelivered.append(delivery_id)
        self.service.store.put_alert(replace(claimed, delivered=self.service.clock()), claimed)

    def _conditions(self, campaign_id: str, pool: TypeUsage) -> list[tuple[str, bool]]:
        out = [(LOW_STOCK, pool.available < self.policy.threshold(campaign_id, pool.code_type))]
        if self.policy.horizon is not None:
            tte = pool.time_to_empty
            out.append((EMPTY_SOON, tte is not None and tte < self.policy.horizon))
        return out

    def _step(self, now: datetime, campaign_id: str, pool: TypeUsage, kind: str, low: bool, seen: AlertRecord | None, result: CheckResult) -> None:
        key = record_key(campaign_id, pool.code_type, kind)
        if seen is None and not low:
            return  # never crossed: nothing to record
        if seen is not None and seen.low == low:
            return  # still low (already sent) or still fine
        if not low:
            assert seen is not None
            if self.service.store.put_alert(replace(seen, low=False, changed=now), seen):
                log.info("alert condition over", extra={"alert": key, "crossing": seen.crossing, "available": pool.available})
                result.recovered.append(key)
            return
        crossing = (seen.crossing if seen is not None else 0) + 1
        alert = Alert(
            campaign_id=campaign_id, code_type=pool.code_type, kind=kind, crossing=crossing, at=now,
            available=pool.available, threshold=self.policy.threshold(campaign_id, pool.code_type),
            assign_rate=pool.assign_rate, time_to_empty=pool.time_to_empty, window=pool.window, horizon=self.policy.horizon,
        )
        record = AlertRecord(key, campaign_id, pool.code_type.value, kind, True, crossing, now, alert.to_dict())
        if not self.service.store.put_alert(record, seen):
            return  # another checker recorded this crossing first: it sends the alert
        result.fired.append(alert)
        log.warning("alert: %s", alert.message, extra={"alert": key, "crossing": crossing})
        if self.on_alert is not None:
            self.on_alert(alert)
        if self.webhook is None:
            return
        try:
            attempts = deliver(self.webhook, alert.delivery_id, alert.to_dict(), sleep=self._sleep)
        except AlertNotDelivered as exc:
            log.error("alert not delivered", extra={"alert": key, "crossing": crossing, "problem": str(exc)})
            result.failed.append((alert, str(exc)))
            return
        log.info("alert delivered", extra={"alert": key, "crossing": crossing, "attempts": attempts})
        result.delivered.append(alert)
        self.service.store.put_alert(replace(record, delivered=self.service.clock()), record)


class AlertLoop:
    """Runs `checker.check()` every `seconds` in a daemon thread until `stop()` (serve, watch).

    A failed check (the store down) is logged and the next one runs on schedule."""

    def __init__(self, checker: AlertChecker, seconds: float) -> None:
        self.checker = checker
        self.seconds = seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.checks = 0

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.checker.check()
            except Exception:
                log.exception("alert check failed")
            self.checks += 1
            self._stop.wait(self.seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="alert-checks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
