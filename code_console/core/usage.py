"""Will the pool last? Reservation and assignment rates from the stored dates, and time to empty.

Rates come from the data itself (`date.reserved`, `date.assigned`, counted by the store in one
command), not from what one console has polled, so every front end and every instance agrees.
Times are the service's clock (the database's).

- `Window`: how far back a rate looks (1 h, 24 h, 7 days).
- `TypeUsage`: per type, events per hour over the window (oldest hour first) and per minute over
  the last hour (oldest minute first), the available count now, the rates and time to empty.
- `Usage`: one campaign's usage per type, at one instant.

Time to empty = available / assignments per hour over the window. None ("no recent use") when
nothing was assigned in the window; zero when nothing is available.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from code_console.core.models import CampaignSummary, CodeType, StatusCounts, _Parsed

MINUTES = 60  # the per-minute series: the last hour


class Window(_Parsed):
    """How far back rates look."""

    HOUR = "1h"
    DAY = "24h"
    WEEK = "7d"

    @property
    def span(self) -> timedelta:
        return {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}[self.value]

    @property
    def hours(self) -> int:
        return int(self.span.total_seconds() // 3600)


Window._error_code, Window._noun = "invalid_window", "window"


@dataclass(frozen=True)
class TypeUsage:
    """One type's usage over a window ending at `Usage.at`.

    `*_per_hour`: counts per hour, oldest first, `window.hours` of them; `*_per_minute`: counts per
    minute over the last hour, oldest first, 60 of them. `counts`: the status counts now.
    """

    code_type: CodeType
    window: Window
    counts: StatusCounts
    assigned_per_hour: tuple[int, ...]
    reserved_per_hour: tuple[int, ...]
    assigned_per_minute: tuple[int, ...]
    reserved_per_minute: tuple[int, ...]

    @property
    def available(self) -> int:
        """Available codes now."""
        return self.counts.available

    @property
    def assigned(self) -> int:
        """Codes assigned in the window."""
        return sum(self.assigned_per_hour)

    @property
    def reserved(self) -> int:
        """Codes reserved in the window."""
        return sum(self.reserved_per_hour)

    @property
    def assign_rate(self) -> float:
        """Assignments per hour, averaged over the window."""
        return self.assigned / self.window.hours

    @property
    def reserve_rate(self) -> float:
        """Reservations per hour, averaged over the window."""
        return self.reserved / self.window.hours

    @property
    def time_to_empty(self) -> timedelta | None:
        """When the available codes run out at `assign_rate`; None when nothing was assigned in
        the window (no recent use), zero when nothing is available."""
        if self.available <= 0:
            return timedelta(0)
        if self.assigned == 0:
            return None
        return timedelta(hours=self.available * self.window.hours / self.assigned)

    def to_dict(self) -> dict:
        tte = self.time_to_empty
        return {
            "type": self.code_type.value,
            "available": self.available,
            "counts": self.counts.to_dict(),
            "assigned": self.assigned,
            "reserved": self.reserved,
            "assignedPerHour": round(self.assign_rate, 3),
            "reservedPerHour": round(self.reserve_rate, 3),
            "timeToEmptySeconds": None if tte is None else int(tte.total_seconds()),
            "timeToEmpty": describe_time_to_empty(tte),
            "hourly": {"assigned": list(self.assigned_per_hour), "reserved": list(self.reserved_per_hour)},
            "lastHourPerMinute": {"assigned": list(self.assigned_per_minute), "reserved": list(self.reserved_per_minute)},
        }


@dataclass(frozen=True)
class Usage:
    """A campaign's usage per type over `window`, ending at `at` (the database's clock)."""

    campaign_id: str
    window: Window
    at: datetime
    types: dict[CodeType, TypeUsage] = field(default_factory=dict)

    def for_type(self, code_type: CodeType) -> TypeUsage:
        return self.types[code_type]

    def summary(self) -> CampaignSummary:
        """The status counts it was computed with, as `CodeService.campaigns` gives them."""
        return CampaignSummary(self.campaign_id, {t: u.counts for t, u in self.types.items()})

    def to_dict(self) -> dict:
        return {
            "campaignId": self.campaign_id,
            "window": self.window.value,
            "at": self.at.isoformat(),
            "types": {t.value: u.to_dict() for t, u in self.types.items()},
        }


def describe_time_to_empty(value: timedelta | None) -> str:
    """Time to empty as a person reads it: "no recent use", "empty", "45 min", "3 h 20 min", "4 d 2 h"."""
    if value is None:
        return "no recent use"
    seconds = value.total_seconds()
    if seconds <= 0:
        return "empty"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def describe_rate(per_hour: float) -> str:
    """A rate as a person reads it: "12.5/h", "0.25/h", "0/h"."""
    if per_hour == 0:
        return "0/h"
    if per_hour >= 100:
        return f"{per_hour:,.0f}/h"
    return f"{per_hour:.3g}/h"
