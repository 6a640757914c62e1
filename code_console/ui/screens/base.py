"""What every console screen shares: the one worker-failure path, polling, and the store's state."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Iterable

from textual.app import SystemCommand
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from code_console.ui.policy import StoreState, Verdict

if TYPE_CHECKING:
    from code_console.ui.app import CodeConsoleApp
    from code_console.ui.polling import Poller


class ConsoleScreen(Screen):
    """Base of the console's screens. Textual calls these handlers as well as a subclass's
    own on_mount / on_worker_state_changed (it dispatches along the MRO): no super() calls."""

    # Worker groups whose end schedules the next poll (see Poller).
    POLL_GROUPS: frozenset[str] = frozenset()
    # Worker groups whose failures this screen says in place (show_error) instead of a dialog.
    FORM_GROUPS: frozenset[str] = frozenset()

    @property
    def console(self) -> CodeConsoleApp:
        return self.app  # type: ignore[return-value]

    @property
    def service(self):
        return self.console.service

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Worker.StateChanged does not bubble: each screen forwards to the app's one handler.
        form = self if event.worker.group in self.FORM_GROUPS else None
        self.console.worker_changed(event.worker, event.state, form=form)
        if event.worker.group in self.POLL_GROUPS and event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.poll_finished(event.worker)

    def has_form(self) -> bool:
        return True

    def show_error(self, verdict: Verdict) -> None:
        """Say a failure of one of FORM_GROUPS where the user is working."""

    def poll_finished(self, worker: Worker) -> None:
        pass

    def store_state_changed(self) -> None:
        """The store went away, slowed down or came back: redraw what says so."""

    def stop_work(self) -> None:
        """The console is quitting: stop anything that writes (an upload's next batch)."""

    def palette_commands(self) -> Iterable[SystemCommand]:
        return ()


class PollingScreen(ConsoleScreen):
    """A screen kept live by a Poller: refresh now, pause, polls that stop while it is hidden,
    and the time of the last refresh shown while the store does not answer."""

    poller: Poller | None = None
    refreshed_at: datetime | None = None

    def on_screen_suspend(self) -> None:
        # A dialog leaves this screen in view: keep it live. Another screen hides it: stop.
        if self.poller is not None and not isinstance(self.app.screen, ModalScreen):
            self.poller.suspend()

    def on_screen_resume(self) -> None:
        if self.poller is not None:
            self.poller.resume()

    def action_refresh(self) -> None:
        if self.poller is not None:
            self.poller.now()

    def action_pause(self) -> None:
        if self.poller is not None:
            self.poller.toggle_pause()
            self.show_poll_state()
            self.refresh_bindings()

    def mark_refreshed(self) -> None:
        self.refreshed_at = self.console.wall_clock()

    @property
    def stale(self) -> bool:
        return self.console.store_state is not StoreState.OK

    def stale_text(self) -> str:
        """`counts from 09:30:15` while the store does not answer; empty while it does."""
        if not self.stale:
            return ""
        state = "store slow" if self.console.store_state is StoreState.SLOW else "cannot reach the store"
        if self.refreshed_at is None:
            return f"{state}, retrying"
        return f"{state}: counts from {self.refreshed_at:%H:%M:%S}"

    def store_state_changed(self) -> None:
        self.show_poll_state()

    def show_poll_state(self) -> None:
        """Redraw whatever line says how the screen refreshes."""
