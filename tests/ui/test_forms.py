"""Forms validate in the form with the real limits, stay open on cancel or error, open empty,
and ctrl+a selects (issue 12, point 7). Retrying a reserve whose answer was lost is safe."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Input, TextArea

from code_console.core.errors import StoreUnavailable
from code_console.core.models import LOCAL_OPERATOR as ME, StatusCounts
from code_console.ui.dialogs.codes import CodesDialog
from code_console.ui.dialogs.confirm import ConfirmScreen
from code_console.ui.dialogs.reserve import ReserveDialog, parse_count
from code_console.ui.dialogs.reserved import ReservedScreen
from code_console.ui.screens.campaign import CampaignScreen

from tests.stores import embedded_store
from tests.ui.conftest import FlakyStore, make_app, make_service, settle, text

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "typed, count, problem",
    [
        ("5", 5, ""),
        ("1,000", 1000, ""),
        ("10000", 10000, ""),
        ("10001", None, "at most 10,000 codes per reservation"),
        ("99,999,999,999,999,999,999,999", None, "at most 10,000 codes per reservation"),
        ("1.5", None, "enter a whole number from 1 to 10,000 (not '1.5')"),
        ("1e3", None, "enter a whole number from 1 to 10,000 (not '1e3')"),
        ("-3", None, "enter a whole number from 1 to 10,000 (not '-3')"),
        ("0", None, "enter a whole number from 1 to 10,000"),
        ("12,34", None, "enter a whole number from 1 to 10,000 (not '12,34')"),
        ("", None, "enter how many codes to reserve"),
    ],
)
def test_reserve_count_is_checked_against_the_real_limit(typed, count, problem):
    assert parse_count(typed, 10_000) == (count, problem)


async def open_reserve(pilot):
    await settle(pilot)
    await pilot.press("down", "enter")
    await settle(pilot)
    await pilot.press("v")
    assert isinstance(pilot.app.screen, ReserveDialog)


async def test_the_reserve_form_refuses_bad_counts_before_any_confirmation(service):
    service.reserve_max_count = 250  # the form asks the service, not a constant of its own
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_reserve(pilot)
        await pilot.press(*"251")
        assert text(app, "#reserve-error") == "at most 250 codes per reservation"
        assert app.screen.query_one("#ok", Button).disabled
        await pilot.press("enter")  # refused in the form: no confirmation
        assert isinstance(app.screen, ReserveDialog)
        await pilot.press("ctrl+a", *"1.5")  # ctrl+a selects all: typing replaces it
        assert app.screen.query_one("#reserve-count", Input).value == "1.5"
        assert text(app, "#reserve-error") == "enter a whole number from 1 to 250 (not '1.5')"
        await pilot.press("enter")
        assert isinstance(app.screen, ReserveDialog)
        await pilot.press("ctrl+a", *"250")
        assert text(app, "#reserve-error") == ""
        assert not app.screen.query_one("#ok", Button).disabled
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Reserve 250 tm codes in SPRING-TOUR" in text(app, "#confirm-body")
    assert service.counts(ME, "SPRING-TOUR", "tm") == StatusCounts(2000, 0, 0)


async def test_text_that_looks_like_markup_is_shown_as_typed(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_reserve(pilot)
        await pilot.press(*"[b]5")
        await pilot.pause()
        assert text(app, "#reserve-error") == "enter a whole number from 1 to 10,000 (not '[b]5')"


async def test_ctrl_a_selects_in_the_codes_box_too(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("a", *"AB", "enter", *"CD", "ctrl+a", *"EF")
        assert app.screen.query_one("#codes-text", TextArea).text == "EF"


class LostAnswer(FlakyStore):
    """The reserve's write lands, then the connection drops before the answer: the worst case."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.lose_next = True

    def compare_and_set(self, *args, **kwargs):
        won = self.inner.compare_and_set(*args, **kwargs)
        if self.lose_next:
            self.lose_next = False
            raise StoreUnavailable(None, "MongoDB connection failed (test): connection reset")
        return won


async def test_a_reserve_whose_answer_was_lost_keeps_the_form_and_retry_reserves_nothing_more(bucket, clock):
    inner = embedded_store()
    service = make_service(inner, bucket, clock)
    service.store = LostAnswer(inner)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_reserve(pilot)
        await pilot.press("5", "enter", "y")
        await settle(pilot)
        assert isinstance(app.screen, ReserveDialog)  # the form stays, with what was typed
        assert app.screen.query_one("#reserve-count", Input).value == "5"
        error = text(app, "#reserve-error")
        assert error.startswith("Store unreachable: MongoDB connection failed (test): connection reset; retrying with the same key")
        assert "--key" not in error  # no command-line flags the console does not have
        assert str(app.screen.query_one("#ok", Button).label) == "Retry"
        # Five codes were reserved by the lost attempt.
        assert service.counts(ME, "SPRING-TOUR", "tm") == StatusCounts(1995, 5, 0)
        await pilot.press("enter", "y")
        await settle(pilot)
        assert isinstance(app.screen, ReservedScreen)
        assert app.screen.outcome.reservation.reserve_id == "00000000-0000-4000-8000-000000000001"
        assert len(app.screen.codes) == 5
    # The retry used the same key: it returned those five instead of reserving five more.
    assert service.counts(ME, "SPRING-TOUR", "tm") == StatusCounts(1995, 5, 0)


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("missing.txt", None, "Not found: no such file: {path}"),
        ("folder", "dir", "Cannot do that: {path} is a directory, not a file of codes"),
        ("empty.txt", b"\n\n", "{path} holds no codes"),
        ("bad.txt", b"OK-1\nBAD\x00CODE\n", "Cannot do that: line 2: contains a NUL byte: this is not a text file"),
    ],
)
async def test_a_file_that_cannot_be_read_is_said_in_the_form_which_stays_open(service, tmp_path, name, content, problem):
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("x")
        app.screen.query_one("#codes-file", Input).value = str(path)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CodesDialog)
        assert text(app, "#codes-error") == problem.format(path=path)
        assert app.screen.query_one("#codes-file", Input).value == str(path)


async def test_cancelling_the_assign_confirmation_keeps_the_pasted_codes(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("a", *"STT-1 STT-2", "ctrl+s")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert isinstance(app.screen, CodesDialog)
        assert app.screen.query_one("#codes-text", TextArea).text == "STT-1 STT-2"
        await pilot.press("escape")
        assert isinstance(app.screen, CampaignScreen)
