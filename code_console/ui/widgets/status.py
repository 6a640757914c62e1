"""A status line that keeps its most important parts whole when the terminal is narrow."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from code_console.ui.fit import Part, fit


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def __init__(self, *parts: Part | str, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.parts: list[Part] = [p if isinstance(p, Part) else Part(p) for p in parts]

    def show(self, *parts: Part | str) -> None:
        self.parts = [p if isinstance(p, Part) else Part(p) for p in parts]
        self.refresh()

    @property
    def full_text(self) -> str:
        """Every part, whatever the width (what tests and a wide terminal see)."""
        return " · ".join(p.plain for p in self.parts if p.plain)

    def render(self) -> Text:
        return fit(self.parts, self.content_region.width or self.size.width)
