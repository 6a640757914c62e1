"""Idempotent reserve (issue 6, item 1) on every store: what a retry with a key returns."""

from __future__ import annotations

import io

from code_console.core.errors import InvalidInput

from tests.conftest import ME

import pytest


def _upload(service, n: int, campaign: str = "C1", prefix: str = "K") -> None:
    service.upload_from_file(ME, campaign, "tm", io.BytesIO("".join(f"{prefix}{i:03d}\n" for i in range(n)).encode()))


def test_retry_returns_the_same_codes_and_reserves_nothing_more(service):
    _upload(service, 20)
    first = service.reserve(ME, "C1", "tm", 5, key="r-1").codes
    for _ in range(3):
        assert sorted(service.reserve(ME, "C1", "tm", 5, key="r-1").codes) == sorted(first)
    assert service.count(ME, "C1", "tm") == {"available": 15, "reserved": 5, "assigned": 0}


def test_retry_with_a_smaller_count_returns_no_more_than_count(service):
    _upload(service, 20)
    first = service.reserve(ME, "C1", "tm", 5, key="r-1").codes
    again = service.reserve(ME, "C1", "tm", 2, key="r-1").codes
    assert again == sorted(first)[:2]
    assert service.count(ME, "C1", "tm")["reserved"] == 5


def test_retry_after_assigning_returns_the_assigned_codes_too(service):
    _upload(service, 20)
    first = service.reserve(ME, "C1", "tm", 4, key="r-1").codes
    service.assign(ME, "C1", first[:2])
    assert sorted(service.reserve(ME, "C1", "tm", 4, key="r-1").codes) == sorted(first)
    assert service.count(ME, "C1", "tm") == {"available": 16, "reserved": 2, "assigned": 2}


def test_retry_after_the_reservation_expired_reserves_again_instead_of_returning_free_codes(service, clock):
    _upload(service, 20)
    service.reserve(ME, "C1", "tm", 4, key="r-1").codes
    clock.advance(hours=24, seconds=1)
    assert service.count(ME, "C1", "tm") == {"available": 20, "reserved": 0, "assigned": 0}
    again = service.reserve(ME, "C1", "tm", 4, key="r-1").codes
    assert len(again) == 4
    # The caller holds what it was given: the codes are reserved now, not merely tagged.
    assert service.count(ME, "C1", "tm") == {"available": 16, "reserved": 4, "assigned": 0}
    records = service.reservation(ME, "C1", "r-1")
    assert {r.code for r in records if r.status.value == "reserved"} == set(again)


def test_same_key_in_another_campaign_is_another_reservation(service):
    _upload(service, 10, "C1", "A")
    _upload(service, 10, "C2", "B")
    a = service.reserve(ME, "C1", "tm", 3, key="shared").codes
    b = service.reserve(ME, "C2", "tm", 3, key="shared").codes
    assert all(c.startswith("A") for c in a) and all(c.startswith("B") for c in b)


@pytest.mark.parametrize("key", ["", "has space", "k" * 129, "a/b", "ключ", 42])
def test_malformed_keys_are_refused_before_anything_is_read(service, key):
    _upload(service, 5)
    with pytest.raises(InvalidInput) as err:
        service.reserve(ME, "C1", "tm", 2, key=key).codes
    assert err.value.code == "invalid_key"
    assert service.count(ME, "C1", "tm") == {"available": 5, "reserved": 0, "assigned": 0}
