"""The one-line header: the app's name, then what it runs on and the store's state, fitted to the width.

Textual's Header gives the title 62 of 80 columns and ends longer text with an ellipsis
("embedded (SQLite ~/.local…"); this one drops or shortens whole parts instead.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from code_console.ui.fit import Part, fit


class ConsoleHeader(Widget):
    DEFAULT_CSS = """
    ConsoleHeader {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "sub_title", self._sub_title_changed)

    def _sub_title_changed(self, _sub_title: str) -> None:
        self.refresh()

    def render(self) -> Text:
        parts: list[Part] = [Part(Text(self.app.title, style="bold"), 100)]
        header_parts = getattr(self.app, "header_parts", None)
        if header_parts is not None:
            parts += header_parts()
        line = fit(parts, max(self.size.width - 2, 0))
        line.pad_left(1)
        return line
