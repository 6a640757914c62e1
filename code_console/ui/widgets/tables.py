"""A row-cursor DataTable where Home and End go to the first and last row.

DataTable's own Home and End scroll sideways, which a table with a row cursor and no
horizontal scroll shows as doing nothing.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable


ENDS = Binding.Group("First, last")


class RowTable(DataTable):
    BINDINGS = [
        Binding("home", "scroll_top", "First row", show=False, group=ENDS, tooltip="first row, last row"),
        Binding("end", "scroll_bottom", "Last row", show=False, group=ENDS),
    ]

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("cursor_type", "row")
        super().__init__(**kwargs)
