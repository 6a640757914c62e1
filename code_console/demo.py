"""The live demo: sample campaigns in a local "bucket" and a simulated verification service.

Everything goes through CodeService, exactly as the real verification service and a real
upload would: the seeding uploads CSV files from the folder bucket, and the traffic thread
reserves, assigns and releases codes at a rate the console can change or pause.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from code_console.core.errors import CodeConsoleError
from code_console.core.models import LOCAL_OPERATOR, Channel, CodeType, Principal
from code_console.core.objects import DirectoryObjects
from code_console.core.service import CodeService

ME = LOCAL_OPERATOR
# The simulated verification service, as the audit trail and the activity feed name it.
TRAFFIC = Principal("demo-verification-service", supreme=True, channel=Channel.API)


@dataclass(frozen=True)
class SampleFile:
    campaign: str
    code_type: CodeType
    name: str
    count: int
    upload: bool = True  # False: left in the bucket for the upload wizard to find
    problems: bool = False  # True: the file carries bad lines the wizard reports


# Tens of thousands of codes of both types; one campaign is close to its low-stock threshold.
SAMPLE_FILES = (
    SampleFile("SPRING-TOUR", CodeType.TM, "batch1.csv", 20_000),
    SampleFile("SPRING-TOUR", CodeType.EXTERNAL, "batch1.csv", 10_000),
    SampleFile("SPRING-TOUR", CodeType.EXTERNAL, "batch2.csv", 5_000, upload=False),
    SampleFile("SPRING-TOUR", CodeType.TM, "broken.csv", 300, upload=False, problems=True),
    SampleFile("PARTNER-PROMO", CodeType.EXTERNAL, "partners.csv", 15_000),
    SampleFile("VIP-PRESALE", CodeType.TM, "vip.csv", 1_200),
)


def sample_codes(campaign: str, code_type: CodeType, name: str, count: int) -> list[str]:
    """Deterministic, unique-looking codes, so screenshots and tests see the same data."""
    rng = random.Random(f"{campaign}/{code_type.value}/{name}")
    prefix = "".join(part[0] for part in campaign.split("-")) + ("T" if code_type is CodeType.TM else "X")
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return [f"{prefix}-{i:05d}-{''.join(rng.choices(alphabet, k=6))}" for i in range(count)]


def sample_csv(sample: SampleFile) -> bytes:
    codes = sample_codes(sample.campaign, sample.code_type, sample.name, sample.count)
    lines = [f"  {c}  " if i % 97 == 0 else c for i, c in enumerate(codes)]  # whitespace is trimmed
    if sample.problems:
        lines[41] = "X" * 200  # longer than the 128-character maximum
        lines[120] = "BAD\x00CODE"  # a NUL byte: not a text file
    return ("\n".join(lines) + "\n").encode()


def write_bucket(root: str | Path, files=SAMPLE_FILES) -> DirectoryObjects:
    objects = DirectoryObjects(root)
    for sample in files:
        objects.put(f"codes/{sample.campaign}/{sample.code_type.value}/{sample.name}", sample_csv(sample))
    return objects


def seed(service: CodeService, files=SAMPLE_FILES) -> None:
    """Upload the sample files marked for upload, from the bucket, as a campaign manager would."""
    for sample in files:
        if sample.upload:
            service.upload_from_key(ME, sample.campaign, f"codes/{sample.campaign}/{sample.code_type.value}/{sample.name}")


# Reservations per hour in the demo's back-dated day, per pool (a day's curve is laid over them).
HISTORY_PER_HOUR = {
    ("SPRING-TOUR", CodeType.TM): 120,
    ("SPRING-TOUR", CodeType.EXTERNAL): 60,
    ("PARTNER-PROMO", CodeType.EXTERNAL): 90,
    ("VIP-PRESALE", CodeType.TM): 4,  # stays above the default low-stock threshold at start
}


def seed_history(service: CodeService, hours: int = 24, per_hour=HISTORY_PER_HOUR) -> None:
    """A day of past traffic, so that rates, time to empty and the charts have something to show
    from the first refresh: each past hour reserves codes and assigns 80 % of them, with a
    service whose clock is set back to that hour (the stored dates are what the rates read)."""
    now = service.clock()
    at = [now]
    past = CodeService(service.store, clock=lambda: at[0], rng=random.Random(5))
    rng = random.Random(11)
    for hour in range(hours, 0, -1):
        curve = 0.4 + 0.6 * max(0.0, math.sin(math.pi * (hours - hour) / hours))  # quiet at night, busy by day
        for (campaign, code_type), rate in per_hour.items():
            at[0] = now - timedelta(hours=hour - 1, minutes=rng.randrange(2, 60))  # its assign, a minute on, is still past
            codes = past.reserve(ME, campaign, code_type, max(1, int(rate * curve * rng.uniform(0.8, 1.2)))).codes
            assigned = codes[: int(len(codes) * 0.8)]
            if assigned:
                at[0] += timedelta(minutes=1)
                past.assign(ME, campaign, assigned)


class VerificationTraffic:
    """The simulated verification service: a thread that reserves, assigns and releases codes.

    Each tick it reserves a few codes per campaign and type, assigns most of the reservations
    it holds from earlier ticks and releases the rest, like users finishing or abandoning
    verification. `rate` is reservations per second across all pools; it can change or pause.
    """

    TICK_SECONDS = 0.5
    RATES = (0, 5, 10, 20, 50, 100, 200, 500)

    def __init__(self, service: CodeService, pools: list[tuple[str, CodeType]], *, rate: int = 20, seed: int = 7) -> None:
        self.service = service
        self.pools = pools
        self.rate = rate
        self._rng = random.Random(seed)
        self._held: list[tuple[str, list[str]]] = []
        self._paused = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0
        self.reserved = self.assigned = self.released = 0

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="demo-verification-traffic", daemon=True)
            self._thread.start()

    def stop(self, wait: bool = True) -> None:
        """Stop ticking; `wait=False` (quitting the console) does not wait for a tick in flight."""
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join(timeout=5)

    def toggle_pause(self) -> bool:
        if self._paused.is_set():
            self._paused.clear()
        else:
            self._paused.set()
        return self.paused

    def faster(self) -> int:
        self.rate = next((r for r in self.RATES if r > self.rate), self.RATES[-1])
        return self.rate

    def slower(self) -> int:
        self.rate = next((r for r in reversed(self.RATES) if r < self.rate), 0)
        return self.rate

    def describe(self) -> str:
        if self.paused:
            return "traffic paused"
        return f"traffic {self.rate}/s"

    def _run(self) -> None:
        while not self._stop.wait(self.TICK_SECONDS):
            if self._paused.is_set() or self.rate <= 0:
                continue
            try:
                self.tick()
            except CodeConsoleError:
                # The simulated service keeps going when the store is down, as a real one would.
                self.errors += 1

    def tick(self) -> None:
        """One round of traffic: settle earlier reservations, then reserve new codes."""
        settle, self._held = self._held, []
        for campaign, codes in settle:
            cut = int(len(codes) * 0.8)
            if codes[:cut]:
                self.assigned += self.service.assign(TRAFFIC, campaign, codes[:cut]).updated
            if codes[cut:]:
                self.released += self.service.release(TRAFFIC, campaign, codes[cut:]).updated
        budget = max(1, int(self.rate * self.TICK_SECONDS))
        for _ in range(budget):
            campaign, code_type = self._rng.choice(self.pools)
            codes = self.service.reserve(TRAFFIC, campaign, code_type, self._rng.randint(1, 3)).codes
            if codes:
                self.reserved += len(codes)
                self._held.append((campaign, codes))
