"""The one code rule (code_console.core.code_rule), on its own."""

import pytest

from code_console.core import code_rule
from code_console.core.code_rule import normalize_code
from code_console.core.errors import InvalidCode, InvalidInput

CAFE_NFC = "CAF\u00c910"
CAFE_NFD = "CAFE\u0301" + "10"


@pytest.mark.parametrize(
    "value, stored",
    [
        ("PROMO-0001", "PROMO-0001"),
        ("  A1  ", "A1"),
        ("\tA1\r\n", "A1"),
        ("\u200bA1\u200b", "A1"),  # zero-width spaces around (a copy from a web page)
        ("\ufeffA1", "A1"),  # a BOM left in a cell
        ("\u00a0A1\u3000", "A1"),  # no-break and ideographic spaces
        ("\u2060A1\u00ad", "A1"),  # word joiner, soft hyphen
        ("\x1f030611", "030611"),  # an exporter's unit separator, prepended to keep leading zeros
        (CAFE_NFD, CAFE_NFC),
        (CAFE_NFC, CAFE_NFC),
        ("GIFT CARD 7", "GIFT CARD 7"),  # a plain space inside stays
        ("\u00fcber-\u6f22\u5b57", "\u00fcber-\u6f22\u5b57"),
    ],
)
def test_accepted_codes_and_their_stored_form(value, stored):
    assert normalize_code(value, max_length=32) == stored


@pytest.mark.parametrize(
    "value, reason, char, position",
    [
        ("A\u200bB", "invisible_character", "U+200B", 2),
        ("AB\ufeffC", "invisible_character", "U+FEFF", 3),
        ("A\tB", "control_character", "U+0009", 2),
        ("A\x00B", "control_character", "U+0000", 2),
        ("A\x07", "control_character", "U+0007", 2),
        ("A\u00a0B", "space_character", "U+00A0", 2),
        ("A\u2028B", "space_character", "U+2028", 2),
        ("A\udcffB", "invalid_character", "U+DCFF", 2),
        ("\ue000", "invalid_character", "U+E000", 1),
    ],
)
def test_characters_inside_a_code_are_refused_and_named(value, reason, char, position):
    with pytest.raises(InvalidCode) as info:
        normalize_code(value, max_length=32)
    assert (info.value.code, info.value.details["char"], info.value.details["position"]) == (reason, char, position)
    assert char in info.value.message and f"position {position}" in info.value.message


def test_messages_name_the_character():
    with pytest.raises(InvalidCode, match=r"^contains the invisible character U\+200B ZERO WIDTH SPACE at position 2$"):
        normalize_code("A\u200bB", max_length=32)
    with pytest.raises(InvalidCode, match=r"^contains the control character U\+0009 \(tab\) at position 2$"):
        normalize_code("A\tB", max_length=32)
    with pytest.raises(
        InvalidCode, match=r"^contains the space character U\+3000 IDEOGRAPHIC SPACE at position 2; only the plain space U\+0020 may be inside a code$"
    ):
        normalize_code("A\u3000B", max_length=32)


@pytest.mark.parametrize("value", ["", "   ", "\u200b\u00a0\ufeff", "\t\r\n"])
def test_empty_after_trimming_is_refused(value):
    with pytest.raises(InvalidCode) as info:
        normalize_code(value, max_length=32)
    assert info.value.code == "empty_code"
    assert isinstance(info.value, InvalidInput)


def test_length_is_counted_after_normalising():
    assert normalize_code("  " + "X" * 8 + "\u200b", max_length=8) == "X" * 8
    assert normalize_code(("E\u0301" * 4), max_length=4) == "\u00c9" * 4  # 8 code points decomposed, 4 composed
    with pytest.raises(InvalidCode, match=r"^code is 9 characters long; the maximum is 8$") as info:
        normalize_code("X" * 9, max_length=8)
    assert info.value.code == "code_too_long"


def test_a_plain_ascii_code_never_reaches_unicodedata(monkeypatch):
    # The fast path: the upload runs the rule on millions of codes.
    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError(f"unicodedata.{name} called for a plain code")

    monkeypatch.setattr(code_rule, "unicodedata", Untouchable())
    assert normalize_code("PROMO-0001", max_length=32) == "PROMO-0001"
    with pytest.raises(AssertionError):
        normalize_code("CAF\u00c910", max_length=32)
