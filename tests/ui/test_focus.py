"""Focus and shortcuts (issue 12, point 3): focus returns to the field the user was editing;
single-letter shortcuts never fire while a text field is, or just was, the user's target."""

from __future__ import annotations

import pytest
from textual.widgets import Input, OptionList, TabbedContent

from code_console.ui.dialogs.reserve import ReserveDialog
from code_console.ui.screens.browser import BrowserScreen
from code_console.ui.screens.lookup import LookupScreen
from code_console.ui.screens.upload import UploadScreen

from tests.ui.conftest import make_app, settle

pytestmark = pytest.mark.anyio


async def test_back_from_the_check_returns_to_the_path_being_edited(service, tmp_path):
    good = tmp_path / "codes.csv"
    good.write_text("A-1\nA-2\n")
    app = make_app(service, traffic=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        app.screen.query_one(TabbedContent).active = "tab-file"
        await pilot.pause()
        path = app.screen.query_one("#upload-path", Input)
        path.focus()
        await pilot.press(*str(good), "enter")
        await settle(pilot)
        assert app.screen.query_one("#steps").current == "step-check"
        await pilot.press("escape")  # Back
        assert app.focused is path  # not the tab strip
        # Typing goes on where it was; a stray `l`, `t` or `q` never fires.
        await pilot.press("backspace", *"v.csvlq")
        assert isinstance(app.screen, UploadScreen) and app.is_running
        assert path.value == f"{str(good)[:-1]}v.csvlq"


async def test_back_from_the_check_returns_to_the_key_list(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_upload("SPRING-TOUR")
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("escape")
        assert app.focused is app.screen.query_one("#keys", OptionList)
        assert app.screen.query_one("#keys", OptionList).highlighted == 1


async def test_letters_typed_just_after_focus_moved_away_go_back_into_the_field(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"SPR")
        field = app.screen.query_one("#filter", Input)
        # Something moves the focus while the user is still typing (a result arriving, a step changing).
        app.screen.query_one("#campaigns").focus()
        await pilot.pause()
        await pilot.press(*"ING-lt")  # `l` would open the lookup, `t` toggle traffic
        assert isinstance(app.screen, BrowserScreen)
        assert field.value == "SPRING-lt" and app.focused is field


async def test_after_typing_ends_the_shortcuts_work_again(service):
    app = make_app(service)
    now = [0.0]
    app.typing_guard.clock = lambda: now[0]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"SPR")
        app.screen.query_one("#campaigns").focus()
        await pilot.pause()
        now[0] += app.typing_guard.GRACE_SECONDS + 0.1  # the user stopped typing a while ago
        await pilot.press("l")
        assert isinstance(app.screen, LookupScreen)


async def test_a_click_ends_typing_so_the_next_key_is_a_shortcut(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"SPR")
        await pilot.click("#campaigns")
        await pilot.press("l")
        assert isinstance(app.screen, LookupScreen)


async def test_enter_ends_typing_so_the_next_key_is_a_shortcut(service):
    codes = service.reserve(service_principal(), "SPRING-TOUR", "tm", 2).codes
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("l", *codes[0], "enter")
        await settle(pilot)
        await pilot.press("x")  # straight after enter: the release, not an `x` in the field
        assert type(app.screen).__name__ == "ConfirmScreen"


async def test_a_dialog_takes_no_app_shortcut(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("v")
        app.screen.query_one("#reserve-type").focus()  # not a text field
        await pilot.pause()
        await pilot.press("l", "q", "question_mark")
        assert isinstance(app.screen, ReserveDialog) and app.is_running


def service_principal():
    from code_console.core.models import LOCAL_OPERATOR

    return LOCAL_OPERATOR
