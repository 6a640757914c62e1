"""Assign and release say which codes were left as they were, and why (issue 12, point 6).

Today's core fills UpdateResult.unchanged only once the ownership change lands, so these
tests give the console the results that core will give, through a service that returns them.
"""

from __future__ import annotations

import pytest
from textual.widgets import TextArea

from code_console.core.models import Unchanged, UpdateResult
from code_console.core.service import CodeService
from code_console.ui.dialogs.outcome import OutcomeScreen
from code_console.ui.outcomes import summary
from code_console.ui.screens.campaign import CampaignScreen

from tests.stores import embedded_store
from tests.ui.conftest import make_app, make_service, settle, text

pytestmark = pytest.mark.anyio

ASSIGNED = tuple(f"STT-{i:05d}" for i in range(300))


class Answers(CodeService):
    """Answers assign and release with the per-code outcomes of the coming core."""

    def assign(self, principal, campaign_id, codes, **kwargs):
        return UpdateResult(in_=3, updated=1, unchanged={Unchanged.NOT_FOUND: ("NOPE-1", "NOPE-2")})

    def release(self, principal, campaign_id, codes, **kwargs):
        return UpdateResult(
            in_=1005,
            updated=705,
            unchanged={Unchanged.ALREADY_ASSIGNED: ASSIGNED, Unchanged.OTHER_RESERVATION: ()},
        )


@pytest.fixture
def answering(bucket, clock):
    service = make_service(embedded_store(), bucket, clock)
    service.__class__ = Answers
    return service


def test_the_summary_groups_by_reason():
    assert summary("assign", UpdateResult(3, 1, {Unchanged.NOT_FOUND: ("A", "B")})) == "assigned 1 of 3 codes · 2 not in this campaign"
    assert summary("release", UpdateResult(1, 0, {Unchanged.NOT_RESERVED: ("A",)})) == "released 0 of 1 code · 1 not reserved (nothing to release)"
    assert summary("release", UpdateResult(4, 1, {
        Unchanged.ALREADY_ASSIGNED: ("A",), Unchanged.OTHER_RESERVATION: ("B", "C"),
    })) == "released 1 of 4 codes · 1 assigned (never released) · 2 held by another reservation"
    # A core that does not say why yet: the difference, honestly unexplained.
    assert summary("release", UpdateResult(1005, 705)) == "released 705 of 1,005 codes · 300 left as they were"


async def assign_or_release(pilot, key: str, codes: str) -> None:
    await settle(pilot)
    await pilot.press("down", "enter")
    await settle(pilot)
    await pilot.press(key, *codes, "ctrl+s", "y")
    await settle(pilot)


async def test_assign_lists_the_codes_that_do_not_exist(answering, tmp_path):
    app = make_app(answering, save_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await assign_or_release(pilot, "a", "STT-1 NOPE-1 NOPE-2")
        assert isinstance(app.screen, OutcomeScreen)
        assert text(app, "#outcome-reasons") == "left as they were:\n  2 not in this campaign"
        assert app.screen.query_one("#outcome-codes", TextArea).text == "# 2 not in this campaign\nNOPE-1\nNOPE-2"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen)
        assert text(app, "#last-result") == "assigned 1 of 3 codes · 2 not in this campaign"
        saved = list(tmp_path.glob("unchanged-assign-SPRING-TOUR-*.txt"))
        assert [p.name for p in saved] == ["unchanged-assign-SPRING-TOUR-20260301-093015.txt"]
        assert saved[0].read_text() == "NOPE-1,not_found\nNOPE-2,not_found\n"  # read back as a code list: the codes
        assert saved[0].stat().st_mode & 0o777 == 0o600


async def test_release_of_1005_says_which_300_were_assigned(answering, tmp_path):
    app = make_app(answering, save_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await assign_or_release(pilot, "x", "STT-1")
        assert isinstance(app.screen, OutcomeScreen)
        assert text(app, "#outcome-reasons") == "left as they were:\n  300 assigned (never released)"
        listing = app.screen.query_one("#outcome-codes", TextArea).text.splitlines()
        assert listing[0] == "# 300 assigned (never released)" and listing[1:] == list(ASSIGNED)
        await pilot.press("escape")
        assert text(app, "#last-result") == "released 705 of 1,005 codes · 300 assigned (never released)"
