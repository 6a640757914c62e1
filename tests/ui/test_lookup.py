"""Lookup (issue 12, points 4 and 5): every field of the selected code in a pane that fits 80
columns, the reserveId whole and copyable, and a reservation view that survives a release."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from code_console.core.models import LOCAL_OPERATOR as ME, StatusCounts, Unchanged, UpdateResult
from code_console.core.service import CodeService
from code_console.ui.reservations import update_codes
from code_console.ui.widgets.record import RecordDetail

from tests.ui.conftest import make_app, make_service, row, settle, text

pytestmark = pytest.mark.anyio


async def find(pilot, query: str, campaign: str = "") -> None:
    app = pilot.app
    await settle(pilot)
    await pilot.press("l")
    app.screen.query_one("#lookup-campaign", Input).value = campaign
    await pilot.press(*query, "enter")
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_the_detail_pane_shows_every_field_whole(service, size):
    codes = service.reserve(ME, "SPRING-TOUR", "tm", 3).codes
    service.assign(ME, "SPRING-TOUR", codes[:1])
    reserve_id = service.lookup(ME, codes[0])[0].reserve_id
    app = make_app(service)
    async with app.run_test(size=size) as pilot:
        await find(pilot, reserve_id, "SPRING-TOUR")
        detail = app.screen.query_one(RecordDetail)
        lines = text(app, "#lookup-detail").splitlines()
        assert lines == [
            f"{codes[0]} · tm · SPRING-TOUR · assigned",
            "saved 2026-03-01 08:00:00 · reserved 2026-03-01 08:00:00",
            "assigned 2026-03-01 08:00:00",
            f"reserveId {reserve_id}",
        ]
        assert max(len(line) for line in lines) <= detail.content_region.width  # nothing cut or wrapped
        table = app.screen.query_one(DataTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width  # no hidden columns
        await pilot.press("down")
        assert text(app, "#lookup-detail").splitlines()[0] == f"{codes[1]} · tm · SPRING-TOUR · reserved"


async def test_c_copies_the_reserve_id(service):
    codes = service.reserve(ME, "SPRING-TOUR", "tm", 1).codes
    reserve_id = service.lookup(ME, codes[0])[0].reserve_id
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await find(pilot, codes[0])
        await pilot.press("c")
        assert app.clipboard == reserve_id


async def test_releasing_one_code_of_a_reservation_keeps_the_reservation_view(service):
    codes = service.reserve(ME, "VIP-PRESALE", "tm", 3).codes
    service.assign(ME, "VIP-PRESALE", codes[:1])
    reserve_id = service.lookup(ME, codes[0])[0].reserve_id
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await find(pilot, reserve_id, "VIP-PRESALE")
        assert [row(app, f"VIP-PRESALE/{c}")[1] for c in codes] == ["assigned", "reserved", "reserved"]
        await pilot.press("down", "x", "y")  # release the second code only
        await settle(pilot)
        assert text(app, "#lookup-status") == (
            f"released 1 of 1 code · reservation {reserve_id}: 3 codes, 1 reserved"
            " · enter lists its reservation · c copies the reserveId"
        )
        assert [row(app, f"VIP-PRESALE/{c}")[1] for c in codes] == ["assigned", "released", "reserved"]
        assert app.screen.query_one(DataTable).cursor_row == 1  # still on the code just released
        assert text(app, "#lookup-detail").splitlines() == [
            f"{codes[1]} · tm · VIP-PRESALE · released here",
            "saved 2026-03-01 08:00:00 · reserved –",
            "assigned –",
            f"reserveId – (released from {reserve_id})",
        ]
    assert service.counts(ME, "VIP-PRESALE", "tm") == StatusCounts(118, 1, 1)


async def test_enter_on_a_code_lists_its_whole_reservation(service):
    codes = service.reserve(ME, "SPRING-TOUR", "tm", 3).codes
    reserve_id = service.lookup(ME, codes[0])[0].reserve_id
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await find(pilot, codes[1])
        assert app.screen.query_one(DataTable).row_count == 1
        await pilot.press("enter")
        await settle(pilot)
        assert sorted(key.value for key in app.screen.query_one(DataTable).rows) == [f"SPRING-TOUR/{c}" for c in sorted(codes)]
        assert app.screen.query_one("#lookup-code", Input).value == reserve_id
        assert app.screen.query_one("#lookup-campaign", Input).value == "SPRING-TOUR"


class OwnershipService(CodeService):
    """Records the reservation each release names."""

    calls: list[tuple[str, list[str], str | None]] = []

    def release(self, principal, campaign_id, codes, *, reserve_id=None):
        self.calls.append(("release", list(codes), reserve_id))
        return super().release(principal, campaign_id, codes, reserve_id=reserve_id)


async def test_a_release_in_the_lookup_names_the_reservation(bucket, clock):
    from tests.stores import embedded_store

    service = make_service(embedded_store(), bucket, clock)
    service.__class__ = OwnershipService
    OwnershipService.calls = []
    codes = service.reserve(ME, "SPRING-TOUR", "tm", 2).codes
    reserve_id = service.lookup(ME, codes[0])[0].reserve_id
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await find(pilot, reserve_id, "SPRING-TOUR")
        await pilot.press("x", "y")
        await settle(pilot)
    assert OwnershipService.calls == [("release", [codes[0]], reserve_id)]


def test_a_stale_lookup_cannot_release_a_code_another_reservation_holds_now(service, clock):
    first = service.reserve(ME, "SPRING-TOUR", "tm", 1)
    clock.advance(hours=24)  # the first reservation expires; someone else takes the same code
    later = service.reserve(ME, "SPRING-TOUR", "tm", 1998)
    assert first.codes[0] in later.codes
    result = update_codes(service, ME, "release", "SPRING-TOUR", first.codes, reserve_id=first.reserve_id)
    assert result == UpdateResult(in_=1, updated=0, unchanged={Unchanged.OTHER_RESERVATION: (first.codes[0],)})
    assert service.lookup(ME, first.codes[0])[0].reserve_id == later.reserve_id
