"""Form fields: text inputs where ctrl+a selects everything, and the code-type choice."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input, RadioButton, RadioSet, TextArea

from code_console.core.models import CodeType


class FormInput(Input):
    """An Input where ctrl+a selects all, as in every other text field the user knows.

    Focus coming back does not select the text: a user who goes on typing where they were
    must not replace what they typed (Textual's Input selects all on focus by default).
    """

    BINDINGS = [Binding("ctrl+a", "select_all", "Select all", show=False)]

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)


class CodesArea(TextArea):
    """A TextArea for lists of codes; ctrl+a selects all (the TextArea's own ctrl+a goes home)."""

    BINDINGS = [Binding("ctrl+a", "select_all", "Select all", show=False)]


class TypeChoice(RadioSet):
    def __init__(self, selected: CodeType = CodeType.TM, **kwargs) -> None:
        super().__init__(
            *(RadioButton(t.value, value=t is selected, name=t.value) for t in CodeType),
            **kwargs,
        )

    @property
    def code_type(self) -> CodeType:
        button = self.pressed_button
        return CodeType(button.name) if button is not None else CodeType.TM
