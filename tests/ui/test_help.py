"""The help screen and the README's key table are built from the bindings themselves (13.6)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from textual.binding import Binding
from textual.screen import Screen

from code_console.ui.app import CodeConsoleApp, help_rows
from code_console.ui.dialogs.help import HelpScreen, help_table
from code_console.ui.keys import KeyRow, key_rows, markdown_table
from code_console.ui.screens.browser import BrowserScreen

from tests.ui.conftest import make_app, settle

pytestmark = pytest.mark.anyio
README = Path(__file__).resolve().parents[2] / "README.md"


def test_a_documented_binding_is_listed_and_a_group_is_one_row():
    group = Binding.Group("Go")

    class Example(Screen):
        BINDINGS = [
            Binding("g", "go", "Go", group=group, tooltip="go, go back"),
            Binding("G", "go_back", "Back", group=group),
            Binding("question_mark", "hidden", "Hidden"),  # no tooltip: not in the help
            Binding("ctrl+k", "keep", "Keep", tooltip="keep it"),
        ]

    assert key_rows([("example", [Example])]) == [KeyRow("example", "g G", "go, go back"), KeyRow("", "ctrl+k", "keep it")]


def test_every_screen_key_with_a_tooltip_is_in_the_help():
    rows = help_rows()
    for cls in (CodeConsoleApp, BrowserScreen):
        for binding in cls.BINDINGS:
            if binding.tooltip:
                assert binding.tooltip in [r.does for r in rows], binding
    assert KeyRow("everywhere", "ctrl+p", "command palette: every action, searchable") in rows


def test_the_readme_key_table_is_the_generated_one():
    readme = README.read_text()
    found = re.search(r"<!-- keys:[^\n]*-->\n(.*?)\n<!-- /keys -->", readme, re.S)
    assert found, "README.md lost its key table markers"
    assert found.group(1) == markdown_table(help_rows()), "regenerate it: python -m code_console.ui.keys"


async def test_the_help_screen_shows_the_rows(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = app.screen.query_one("#help-keys")
        drawn = Console(width=keys.content_region.width, file=io.StringIO(), color_system=None)
        drawn.print(help_table(help_rows()))
        lines = [line.rstrip() for line in drawn.file.getvalue().splitlines()]
        assert lines[0] == "everywhere  ctrl+p    command palette: every action, searchable"
        # A long description wraps in its own column, under itself; every row is there.
        assert all(line[:22].strip() == "" or line[10:12] == "  " for line in lines)
        assert [line[22:].split()[0] for line in lines if line[12:22].strip()] == [r.does.split()[0] for r in help_rows()]
        assert any(not line[:22].strip() for line in lines)  # at 80 columns some do wrap
        assert "campaign    esc       back to the campaigns (everywhere: back, close)" in lines
        await pilot.press("escape")
        assert isinstance(app.screen, BrowserScreen)
