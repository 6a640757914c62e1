"""What every dialog shares: failures of its own workers are said in the form, which stays open."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from rich.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import Worker

from code_console.ui.policy import Verdict

if TYPE_CHECKING:
    from code_console.ui.app import CodeConsoleApp

ResultType = TypeVar("ResultType")


class ConsoleDialog(ModalScreen[ResultType]):
    @property
    def console(self) -> CodeConsoleApp:
        return self.app  # type: ignore[return-value]

    @property
    def service(self):
        return self.console.service

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.console.worker_changed(event.worker, event.state, form=self)

    def show_error(self, verdict: Verdict) -> None:
        """Say what went wrong beside the fields (a dialog with a `.form-error` line)."""
        self.query_one(".form-error", Static).update(f"[b]{escape(verdict.title)}[/]: {escape(verdict.message)}")

    def has_form(self) -> bool:
        return bool(self.query(".form-error"))
