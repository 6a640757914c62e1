"""What every console screen shares: the one worker-failure path and blink-free inputs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from textual.app import SystemCommand
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, TextArea
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from code_console.ui.app import CodeConsoleApp
    from code_console.ui.polling import Poller


class ConsoleScreen(Screen):
    """Base of the console's screens. Textual calls these handlers as well as a subclass's
    own on_mount / on_worker_state_changed (it dispatches along the MRO): no super() calls."""

    # Worker groups whose end schedules the next poll (see Poller).
    POLL_GROUPS: frozenset[str] = frozenset()

    @property
    def console(self) -> "CodeConsoleApp":
        return self.app  # type: ignore[return-value]

    @property
    def service(self):
        return self.console.service

    def on_mount(self) -> None:
        self.console.steady_widgets(self)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Worker.StateChanged does not bubble: each screen forwards to the app's one handler.
        self.console.worker_changed(event.worker, event.state)
        if event.worker.group in self.POLL_GROUPS and event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.poll_finished(event.worker)

    def poll_finished(self, worker: Worker) -> None:
        pass

    def palette_commands(self) -> Iterable[SystemCommand]:
        return ()


class PollingScreen(ConsoleScreen):
    """A screen kept live by a Poller: refresh now, pause, and polls that stop while it is hidden."""

    poller: "Poller | None" = None

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
            paused = self.poller.toggle_pause()
            self.notify("refresh paused" if paused else "refresh resumed", timeout=2)
            self.show_poll_state()

    def show_poll_state(self) -> None:
        """Redraw whatever line says how the screen refreshes."""


def steady(screen: Screen) -> None:
    """Stop cursors blinking, so screenshots of the same state are identical."""
    for widget in screen.query(Input):
        widget.cursor_blink = False
    for widget in screen.query(TextArea):
        widget.cursor_blink = False


class SteadyDialog:
    """Mixin for modal dialogs: their cursors stop blinking too when the app asks for it.

    Textual calls the on_mount of every class in the MRO, so dialogs need no super() call.
    """

    def on_mount(self) -> None:
        steady_widgets = getattr(self.app, "steady_widgets", None)
        if steady_widgets is not None:
            steady_widgets(self)
