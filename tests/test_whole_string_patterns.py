"""Every pattern in the product matches the whole string: a trailing newline is not a valid ending."""

from __future__ import annotations

import pytest

from code_console.core.errors import InvalidInput
from code_console.core.models import LOCAL_OPERATOR
from code_console.core.service import CodeService, parse_count, validate_campaign_id

from tests.stores import embedded_store


@pytest.mark.parametrize("campaign", ["CAMP1\n", "CAMP1\r\n", "\nCAMP1", "CAMP 1", ""])
def test_campaign_ids_must_match_whole(campaign):
    with pytest.raises(InvalidInput) as raised:
        validate_campaign_id(campaign)
    assert raised.value.code == "invalid_campaign"


def test_reservation_key_with_a_trailing_newline_is_refused():
    service = CodeService(embedded_store())
    with pytest.raises(InvalidInput) as raised:
        service.reserve(LOCAL_OPERATOR, "C1", "tm", 1, key="order-1\n")
    assert raised.value.code == "invalid_key"


@pytest.mark.parametrize("count", ["10 ", " 10", "+3", "-3", "١٠", "３", "1_0", "0x10", "1e3", "1" * 4301, "9" * 19])
def test_count_is_ascii_digits_only(count):
    with pytest.raises(InvalidInput) as raised:
        parse_count(count, 10_000)
    assert raised.value.code == "invalid_count"
    assert len(raised.value.message) < 120  # a 4,301-digit count is not echoed whole


@pytest.mark.parametrize("count, value", [("1", 1), ("0010", 10), ("10000", 10_000), (7, 7)])
def test_count_accepts_ascii_digits(count, value):
    assert parse_count(count, 10_000) == value
