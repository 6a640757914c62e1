"""Single-letter shortcuts never fire while a text field is, or just was, the user's target.

A focused Input or TextArea takes printable keys itself. The danger is focus moving away while
the user is still typing (a result arriving, a step of the wizard changing): their next
letters would open the lookup (`l`), toggle traffic (`t`) or quit (`q`). For a moment after a
printable key went into a field, printable keys aimed elsewhere go back into that field.
Enter, tab, escape and the arrows end typing at once: the user chose to leave the field.
"""

from __future__ import annotations

import time
import weakref
from typing import Callable

from textual import events
from textual.widget import Widget
from textual.widgets import Input, TextArea

TEXT_FIELDS = (Input, TextArea)


class TypingGuard:
    GRACE_SECONDS = 1.5

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._field: weakref.ref[Widget] | None = None
        self._typed_at: float | None = None

    def typing_into(self, focused: Widget | None) -> Widget | None:
        """The text field the user is typing into right now, if any (focused or not)."""
        if self._field is None or self._typed_at is None:
            return None
        if self.clock() - self._typed_at > self.GRACE_SECONDS:
            return None
        field = self._field()
        if field is None or not field.is_attached or field.disabled:
            return None
        return field

    def reset(self) -> None:
        """The user moved on deliberately (a mouse press): letters are shortcuts again."""
        self._typed_at = None

    def redirect(self, event: events.Key, focused: Widget | None, screen: Widget) -> Widget | None:
        """Note a key; return the field a stray printable key belongs to, or None to let it through."""
        if isinstance(focused, TEXT_FIELDS):
            if event.is_printable:
                self._field = weakref.ref(focused)
                self._typed_at = self.clock()
            else:
                self._typed_at = None
            return None
        if not event.is_printable:
            self._typed_at = None
            return None
        field = self.typing_into(focused)
        if field is None or field.screen is not screen:
            return None
        self._typed_at = self.clock()
        return field


def type_into(field: Widget, character: str) -> None:
    """Put a stray character where the user meant it: the field they were typing into."""
    field.focus()
    if isinstance(field, Input):
        field.insert_text_at_cursor(character)
    elif isinstance(field, TextArea):
        field.insert(character)
