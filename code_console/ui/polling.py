"""One poll at a time: the next poll is scheduled only after the last one has finished.

A slow store therefore slows the refresh down instead of piling polls up (dolphie's
WorkerManager does the same with a one-shot timer).
"""

from __future__ import annotations

from typing import Callable

from textual.dom import DOMNode
from textual.timer import Timer


class Poller:
    def __init__(self, owner: DOMNode, poll: Callable[[], object], interval: float | None) -> None:
        self._owner = owner
        self._poll = poll
        self.interval = interval  # None: poll only when asked (tests and snapshots)
        self.paused = False
        self.running = False
        self._again = False
        self._timer: Timer | None = None
        self.polls = 0
        self.suspended = False  # the owner's screen is covered: no timed polls

    def now(self) -> None:
        """Poll now, or right after the poll in flight if there is one."""
        if self.running:
            self._again = True
            return
        self._cancel_timer()
        self.running = True
        self.polls += 1
        self._poll()

    def finished(self) -> None:
        """Called when the poll's worker ended (success, error or cancel)."""
        self.running = False
        if self._again:
            self._again = False
            self.now()
        else:
            self._schedule()

    def toggle_pause(self) -> bool:
        self.paused = not self.paused
        if self.paused:
            self._cancel_timer()
        elif not self.running:
            self._schedule()
        return self.paused

    def suspend(self) -> None:
        self.suspended = True
        self._cancel_timer()

    def resume(self) -> None:
        """The owner is visible again: poll now (its counts may be stale), then on the timer."""
        was_suspended, self.suspended = self.suspended, False
        if was_suspended and self.polls:
            self.now()

    def describe(self) -> str:
        if self.interval is None:
            return "manual refresh"
        if self.paused:
            return "refresh paused"
        return f"refresh every {self.interval:g} s"

    def _schedule(self) -> None:
        self._cancel_timer()
        if self.interval is not None and not self.paused and not self.suspended:
            self._timer = self._owner.set_timer(self.interval, self.now, name="poll")

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
