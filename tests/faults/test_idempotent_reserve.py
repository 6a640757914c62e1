"""Reservation keys on every store: a key is one reservation (campaign, type, count, principal);
every call with it gets the same answer while the reservation lasts."""

from __future__ import annotations

import io

import pytest

from code_console.core.errors import Conflict, InvalidInput
from code_console.core.models import Principal

from tests.conftest import ME


def _upload(service, n: int, campaign: str = "C1", prefix: str = "K") -> None:
    service.upload_from_file(ME, campaign, "tm", io.BytesIO("".join(f"{prefix}{i:03d}\n" for i in range(n)).encode()))


def test_retry_returns_the_same_codes_and_reserves_nothing_more(service):
    _upload(service, 20)
    first = service.reserve(ME, "C1", "tm", 5, key="r-1").codes
    for _ in range(3):
        assert sorted(service.reserve(ME, "C1", "tm", 5, key="r-1").codes) == sorted(first)
    assert service.count(ME, "C1", "tm") == {"available": 15, "reserved": 5, "assigned": 0}


@pytest.mark.parametrize(
    "campaign, code_type, count, subject",
    [("C1", "tm", 2, "local-operator"), ("C1", "tm", 6, "local-operator"), ("C1", "external", 5, "local-operator"),
     ("C2", "tm", 5, "local-operator"), ("C1", "tm", 5, "someone-else")],
)
def test_a_key_reused_with_other_parameters_is_refused_and_hands_out_nothing(service, campaign, code_type, count, subject):
    _upload(service, 20)
    _upload(service, 20, "C2")
    service.upload_from_file(ME, "C1", "external", io.BytesIO(b"X1\nX2\n"))
    first = service.reserve(ME, "C1", "tm", 5, key="r-1").codes
    who = Principal(subject, supreme=True)
    with pytest.raises(Conflict) as err:
        service.reserve(who, campaign, code_type, count, key="r-1")
    assert err.value.code == "reservation_key_reused"
    assert err.value.message == (
        "reservation key 'r-1' was used for campaign C1, type tm, count 5 by 'local-operator'; "
        "a key belongs to one reservation: use a new key"
    ) if subject == "local-operator" else (
        # Another caller learns nothing of what the key's owner reserved.
        "reservation key 'r-1' belongs to another caller; use a new key"
    )
    assert service.count(ME, "C1", "tm") == {"available": 15, "reserved": 5, "assigned": 0}
    assert service.count(ME, "C1", "external") == {"available": 2, "reserved": 0, "assigned": 0}
    assert service.count(ME, "C2", "tm") == {"available": 20, "reserved": 0, "assigned": 0}
    assert service.reserve(ME, "C1", "tm", 5, key="r-1").codes == first


def test_retry_after_assigning_returns_the_assigned_codes_too(service):
    _upload(service, 20)
    first = service.reserve(ME, "C1", "tm", 4, key="r-1").codes
    service.assign(ME, "C1", first[:2])
    assert sorted(service.reserve(ME, "C1", "tm", 4, key="r-1").codes) == sorted(first)
    assert service.count(ME, "C1", "tm") == {"available": 16, "reserved": 2, "assigned": 2}


def test_a_retry_after_the_reservation_expired_is_refused_and_never_returns_free_codes(service, clock):
    _upload(service, 20)
    service.reserve(ME, "C1", "tm", 4, key="r-1")
    clock.advance(hours=23, minutes=59, seconds=59)
    assert len(service.reserve(ME, "C1", "tm", 4, key="r-1").codes) == 4  # still held: the same answer
    clock.advance(seconds=1)  # exactly 24 h: the original's boundary, available again
    assert service.count(ME, "C1", "tm") == {"available": 20, "reserved": 0, "assigned": 0}
    with pytest.raises(Conflict) as err:
        service.reserve(ME, "C1", "tm", 4, key="r-1")
    assert err.value.code == "reservation_expired"
    assert err.value.message == (
        "the reservation with key 'r-1' expired at 2026-03-02T08:00:00+00:00 and its codes went back to the pool; "
        "reserve with a new key"
    )
    assert service.count(ME, "C1", "tm") == {"available": 20, "reserved": 0, "assigned": 0}
    assert len(service.reserve(ME, "C1", "tm", 4, key="r-2").codes) == 4


def test_an_expired_key_is_pruned_after_its_retention_and_is_new_again_once_no_code_carries_it(service, clock):
    _upload(service, 20)
    first = service.reserve(ME, "C1", "tm", 4, key="r-1").codes
    clock.advance(days=8)  # 24 h TTL + 7 days' retention: the key's record is pruned
    # Its expired codes still carry r-1 (an assign naming r-1 may still take them): the id is
    # not free, or a new reservation under it would share them.
    with pytest.raises(Conflict) as err:
        service.reserve(ME, "C1", "tm", 5, key="r-1")
    assert err.value.code == "reservation_id_in_use"
    service.release_reservation(ME, "C1", "r-1")
    again = service.reserve(ME, "C1", "tm", 5, key="r-1").codes  # another count: a new reservation
    assert len(again) == 5 and service.count(ME, "C1", "tm") == {"available": 15, "reserved": 5, "assigned": 0}
    assert {r.code for r in service.reservation(ME, "C1", "r-1")} == set(again)
    assert len(set(first) | set(again)) <= 9


@pytest.mark.parametrize("key", ["", "has space", "k" * 129, "a/b", "ключ", 42])
def test_malformed_keys_are_refused_before_anything_is_read(service, key):
    _upload(service, 5)
    with pytest.raises(InvalidInput) as err:
        service.reserve(ME, "C1", "tm", 2, key=key).codes
    assert err.value.code == "invalid_key"
    assert service.count(ME, "C1", "tm") == {"available": 5, "reserved": 0, "assigned": 0}


def test_a_key_that_is_another_reservations_id_is_refused_and_takes_nothing(service):
    """A caller that names another reservation's reserveId as its key must not join it: two
    reservations under one id would share a release, and the newcomer would get its codes."""
    _upload(service, 20)
    other = service.reserve(ME, "C1", "tm", 3)
    with pytest.raises(Conflict) as err:
        service.reserve(ME, "C1", "tm", 2, key=other.reserve_id)
    assert err.value.code == "reservation_id_in_use"
    assert err.value.message == (
        f"reservation key {other.reserve_id!r} is already the id of another reservation in campaign C1; use a new key"
    )
    assert [r.code for r in service.reservation(ME, "C1", other.reserve_id)] == other.codes
    assert service.count(ME, "C1", "tm") == {"available": 17, "reserved": 3, "assigned": 0}


def test_a_retry_never_returns_codes_its_reservation_no_longer_holds(service):
    """Released codes, and codes another caller reserved since, are not the keyed reservation's
    any more: a retry returns only what still carries the key (reserved or assigned)."""
    _upload(service, 6)
    first = service.reserve(ME, "C1", "tm", 3, key="r-1").codes
    service.assign(ME, "C1", first[:1], reserve_id="r-1")
    service.release(ME, "C1", first[1:2])
    taken = service.reserve(ME, "C1", "tm", 4).codes  # the pool: 3 never reserved + the released one
    assert first[1] in taken
    assert service.reserve(ME, "C1", "tm", 3, key="r-1").codes == [first[0], first[2]]
    assert service.count(ME, "C1", "tm") == {"available": 0, "reserved": 5, "assigned": 1}
