"""The database's clock: every reservation stamp and expiry decision uses the server's time.

Hosts' clocks may disagree by hours (measured before this existed: a host 2 h ahead took 22 of
198 live holds; one 25 h behind wrote reservations everyone else saw as expired). So the
service never asks the host what time it is: `DatabaseClock` reads the server's time (MongoDB's
`hello.localTime`) and carries it forward with the host's monotonic clock, which measures
intervals correctly whatever the host's wall clock says.

Bound: at a sync the estimate is within half the round trip (plus the server's millisecond
rounding) of the server's clock; between syncs it drifts only as fast as the host's monotonic
clock runs wrong (parts per million), and it syncs again every `resync_seconds`.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Callable


def _ms(value: datetime) -> datetime:
    # MongoDB stores milliseconds; truncating keeps read-back dates equal to written ones.
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


class DatabaseClock:
    """A callable returning the database server's current time (aware UTC, milliseconds).

    `read_server_time` asks the server once (it raises StoreUnavailable if it cannot); a failed
    resync keeps the last estimate for up to `max_age_seconds`, so a blip does not stop a
    console that is only counting.
    """

    def __init__(
        self,
        read_server_time: Callable[[], datetime],
        *,
        resync_seconds: float = 60.0,
        max_age_seconds: float = 600.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read_server_time
        self._resync = resync_seconds
        self._max_age = max_age_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._base: tuple[datetime, float] | None = None  # (server time, monotonic time) at the last sync
        self.uncertainty = timedelta(0)

    def sync(self) -> None:
        sent = self._monotonic()
        server = self._read()
        received = self._monotonic()
        half_trip = (received - sent) / 2
        with self._lock:
            # The server read its clock somewhere in the round trip: assume the middle.
            self._base = (server + timedelta(seconds=half_trip), received)
            self.uncertainty = timedelta(seconds=half_trip + 0.001)

    def __call__(self) -> datetime:
        base = self._base
        age = float("inf") if base is None else self._monotonic() - base[1]
        if base is None or age >= self._resync:
            try:
                self.sync()
            except Exception:
                if base is None or age >= self._max_age:
                    raise
            base = self._base
        assert base is not None
        return _ms(base[0] + timedelta(seconds=self._monotonic() - base[1]))
