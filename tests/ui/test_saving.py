"""Saved codes (issue 12, point 9): under the user's data directory, owner-only, never empty,
never over a file saved before."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Input

from code_console.core.models import CodeType, Reservation
from code_console.ui.dialogs.reserve import ReserveOutcome
from code_console.ui.dialogs.reserved import ReservedScreen
from code_console.ui.saving import default_save_dir, save_codes

from tests.ui.conftest import make_app, settle, text

pytestmark = pytest.mark.anyio


def test_the_default_place_is_the_users_data_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_save_dir() == tmp_path / "xdg" / "code-console" / "codes"


def test_a_saved_file_is_readable_by_its_owner_only(tmp_path):
    path = save_codes(tmp_path / "new" / "dir" / "codes.txt", ["A-1", "A-2"])
    assert path.read_text() == "A-1\nA-2\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
    with pytest.raises(FileExistsError):
        save_codes(path, ["B-1"])  # never over codes saved before
    assert path.read_text() == "A-1\nA-2\n"
    with pytest.raises(ValueError):
        save_codes(tmp_path / "empty.txt", [])
    assert not (tmp_path / "empty.txt").exists()


async def test_an_empty_reservation_offers_no_save(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        outcome = ReserveOutcome("VIP-PRESALE", CodeType.EXTERNAL, 5, Reservation("00000000-0000-4000-8000-000000000009", []))
        app.push_screen(ReservedScreen(outcome, app.save_dir / "x.txt"))
        await settle(pilot)
        assert text(app, "#reserved-title") == "No external codes are available in VIP-PRESALE: nothing was reserved."
        assert not app.screen.query("#save-path") and not app.screen.query("#save")
        assert [str(b.label) for b in app.screen.query(Button)] == ["Close (esc)"]
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ReservedScreen)  # nothing to save: nothing happens


async def test_saving_over_an_existing_file_is_refused_in_the_dialog(service, tmp_path):
    taken = tmp_path / "taken.txt"
    taken.write_text("EARLIER\n")
    app = make_app(service, save_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        outcome = ReserveOutcome("VIP-PRESALE", CodeType.TM, 1, Reservation("00000000-0000-4000-8000-000000000009", ["VPT-1"]))
        app.push_screen(ReservedScreen(outcome, taken))
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ReservedScreen)
        assert text(app, "#save-error") == f"File error: a file of that name exists already (saving never overwrites): {taken}"
        assert app.focused is app.screen.query_one("#save-path", Input)
    assert taken.read_text() == "EARLIER\n"
