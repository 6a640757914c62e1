"""The availability chart (issue 12, point 10): zero-based, says what it shows and its scale,
no bars for an empty pool, one column per refresh."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from code_console.ui.widgets.chart import AvailabilityChart, nice_ceiling, short_number

pytestmark = pytest.mark.anyio


class ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield AvailabilityChart()


async def drawn(samples: list[int], size=(33, 5)) -> list[str]:
    """The chart as drawn; 33 columns is its width in an 80-column campaign view."""
    app = ChartApp()
    async with app.run_test(size=size) as pilot:
        chart = app.query_one(AvailabilityChart)
        chart.show(samples)
        await pilot.pause()
        return [line.rstrip() for line in str(chart.render()).splitlines()]


def test_scale_tops_are_round():
    assert [nice_ceiling(v) for v in (0, 1, 7, 120, 1_142, 14_945, 19_955, 20_000, 20_001)] == [
        0, 1, 10, 200, 2_000, 20_000, 20_000, 20_000, 25_000,
    ]
    assert [short_number(v) for v in (950, 2_500, 20_000, 1_000_000)] == ["950", "2.5k", "20k", "1M"]


async def test_a_small_drop_stays_small_on_a_zero_based_scale():
    # 20,000 -> 19,960: a 0.2 % drop. Scaled to its own min and max it looked like a cliff.
    lines = await drawn([20_000, 19_990, 19_960])
    assert lines == [
        "available, 3 refreshes, 0 to 20k",
        "                              █▇▇",  # 19,990 and 19,960: 1/8 of a row below 20,000
        "                              ███",
        "                              ███",
        "                              ███",
    ]


async def test_an_empty_pool_draws_no_block():
    assert await drawn([0]) == ["available codes: none", "", "", "", ""]
    assert (await drawn([0], size=(50, 3)))[0] == "available codes over the last refresh: none"


async def test_the_first_refresh_is_one_column_not_a_block():
    lines = await drawn([1_000], size=(60, 5))
    assert lines[0] == "available codes over the last refresh, scale 0 to 1,000"
    assert lines[1:] == [" " * 59 + "█"] * 4


async def test_a_falling_pool_falls_in_proportion():
    lines = await drawn([800, 400, 100, 0], size=(40, 5))
    # 800 of 1,000 on 4 rows: 3.2 rows; 400: 1.6; 100: 0.4; 0: nothing.
    assert lines == [
        "available, 4 refreshes, 0 to 1k",
        " " * 36 + "▁",
        " " * 36 + "█",
        " " * 36 + "█▄",
        " " * 36 + "██▃",
    ]
