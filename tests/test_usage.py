"""Rates and time to empty from the stored dates, on a fixed history made with the injected
clock, exact values on every store (embedded, mongomock, SecantusDB)."""

import io
from datetime import timedelta

import pytest

from code_console.core.errors import Forbidden, InvalidInput
from code_console.core.models import CodeType, Principal
from code_console.core.service import CodeService
from code_console.core.usage import Window, describe_rate, describe_time_to_empty

from tests.conftest import ME, T0

Q = T0 + timedelta(days=3)  # the instant the usage is read


def codes(prefix: str, n: int) -> bytes:
    return "".join(f"{prefix}{i:03d}\n" for i in range(n)).encode()


def make_history(service: CodeService, clock) -> None:
    """tm: 100 codes, external: 10; C2 has its own traffic that must not count."""
    service.upload_from_file(ME, "C1", "tm", io.BytesIO(codes("T", 100)))
    service.upload_from_file(ME, "C1", "external", io.BytesIO(codes("E", 10)))
    service.upload_from_file(ME, "C2", "tm", io.BytesIO(codes("O", 10)))
    taken: set[str] = set()

    def at(when, action):
        clock.now = when
        return action()

    first = at(T0, lambda: service.reserve(ME, "C1", "tm", 20).codes)  # Q-72h
    at(T0 + timedelta(minutes=1), lambda: service.assign(ME, "C1", first[:5]))
    second = at(Q - timedelta(hours=23, minutes=30), lambda: service.reserve(ME, "C1", "tm", 10).codes)
    at(Q - timedelta(hours=23), lambda: service.assign(ME, "C1", second[:4]))
    # First (the clock is set, not run): at Q the edge reservation below is expired, so which
    # code a reservation at Q takes would depend on the store's order.
    at(Q, lambda: service.reserve(ME, "C1", "external", 1))  # at the end: inside
    at(Q - timedelta(hours=24), lambda: service.reserve(ME, "C1", "external", 2))  # on the 24 h window's edge: outside
    third = at(Q - timedelta(minutes=30), lambda: service.reserve(ME, "C1", "tm", 6).codes)
    taken.update(first, second, third)
    never_reserved = next(f"T{i:03d}" for i in range(100) if f"T{i:03d}" not in taken)
    at(Q - timedelta(minutes=10), lambda: service.assign(ME, "C1", third[:3] + [never_reserved]))
    at(Q - timedelta(minutes=5), lambda: service.reserve(ME, "C2", "tm", 3))
    clock.now = Q


def only(size: int, **at) -> tuple[int, ...]:
    out = [0] * size
    for index, n in at.items():
        out[int(index[1:])] = n
    return tuple(out)


def test_rates_and_time_to_empty_over_a_day(service, clock):
    make_history(service, clock)
    usage = service.usage(ME, "C1", "24h")
    assert usage.at == Q and usage.window is Window.DAY
    tm, ext = usage.for_type(CodeType.TM), usage.for_type(CodeType.EXTERNAL)
    # tm: 13 assigned, 9 held (6 + 3), the first reservation's 15 others expired back to the pool.
    assert tm.available == 78
    assert tm.reserved_per_hour == only(24, b0=10, b23=6)
    assert tm.assigned_per_hour == only(24, b0=4, b23=4)
    assert tm.reserved_per_minute == only(60, b29=6)
    assert tm.assigned_per_minute == only(60, b49=4)
    assert (tm.assigned, tm.reserved) == (8, 16)
    assert tm.assign_rate == 8 / 24
    assert tm.time_to_empty == timedelta(hours=234)
    assert ext.available == 9
    assert ext.reserved_per_hour == only(24, b23=1)
    assert ext.reserved_per_minute == only(60, b59=1)
    assert ext.assigned_per_hour == only(24) and ext.assigned == 0
    assert ext.time_to_empty is None
    assert ext.to_dict()["timeToEmpty"] == "no recent use"
    assert tm.to_dict()["timeToEmpty"] == "9 d 18 h"


def test_rates_over_an_hour_and_a_week(service, clock):
    make_history(service, clock)
    hour = service.usage(ME, "C1", Window.HOUR).for_type(CodeType.TM)
    assert hour.assigned_per_hour == (4,) and hour.reserved_per_hour == (6,)
    assert hour.time_to_empty == timedelta(hours=19.5)
    week = service.usage(ME, "C1", "7d")
    tm, ext = week.for_type(CodeType.TM), week.for_type(CodeType.EXTERNAL)
    assert tm.reserved_per_hour == only(168, b95=20, b144=10, b167=6)
    assert tm.assigned_per_hour == only(168, b96=5, b144=4, b167=4)
    assert tm.time_to_empty == timedelta(hours=1008)  # 78 codes at 13 per 168 h
    assert ext.reserved_per_hour == only(168, b143=2, b167=1)
    assert tm.assigned_per_minute == only(60, b49=4)  # the per-minute series is the last hour whatever the window


def test_other_campaign_and_empty_campaign(service, clock):
    make_history(service, clock)
    other = service.usage(ME, "C2", "24h").for_type(CodeType.TM)
    assert other.reserved_per_minute == only(60, b54=3) and other.available == 7
    nothing = service.usage(ME, "NOPE", "24h").for_type(CodeType.TM)
    assert (nothing.available, nothing.assigned, nothing.time_to_empty) == (0, 0, timedelta(0))


def test_usage_refuses_a_bad_window_and_a_non_supreme_caller(service):
    with pytest.raises(InvalidInput) as err:
        service.usage(ME, "C1", "2h")
    assert err.value.code == "invalid_window"
    with pytest.raises(Forbidden):
        service.usage(Principal("someone"), "C1", "24h")


@pytest.mark.parametrize(
    "value, text",
    [(None, "no recent use"), (timedelta(0), "empty"), (timedelta(seconds=61), "2 min"), (timedelta(hours=3, minutes=20), "3 h 20 min"),
     (timedelta(hours=47), "47 h"), (timedelta(hours=98), "4 d 2 h"), (timedelta(days=9), "9 d")],
)
def test_time_to_empty_as_read(value, text):
    assert describe_time_to_empty(value) == text


def test_rate_as_read():
    assert [describe_rate(r) for r in (0, 1 / 3, 12.5, 1234.4)] == ["0/h", "0.333/h", "12.5/h", "1,234/h"]


def test_every_campaign_in_one_call(service, clock):
    make_history(service, clock)
    every = service.campaigns_usage(ME, "24h")
    assert sorted(every) == ["C1", "C2"]
    assert every["C1"].for_type(CodeType.TM) == service.usage(ME, "C1", "24h").for_type(CodeType.TM)
    assert every["C2"].for_type(CodeType.TM).reserved_per_minute == only(60, b54=3)
    assert every["C2"].for_type(CodeType.EXTERNAL).time_to_empty == timedelta(0)  # no codes of that type
