"""The one code rule: what every entry point (upload, assign, release, lookup, the API, the console) takes as a code.

`normalize_code(value, max_length=N)` returns the code as it is stored, or raises InvalidCode:

1. Surrounding characters are trimmed: whitespace as `str.isspace()` defines it (Unicode
   White_Space, e.g. U+00A0 NO-BREAK SPACE and U+3000 IDEOGRAPHIC SPACE, plus U+001C..U+001F,
   which some exporters prepend to keep leading zeros) and invisible format characters
   (General Category Cf: U+200B, U+FEFF, U+2060, U+00AD, ...).
2. The rest is put in Unicode Normalization Form C (UAX #15), so the composed and the
   decomposed spelling of one visible code (CAFÉ10) are one code.
3. Refused: an empty result; one longer than `max_length` code points; any character inside
   that `str.isprintable()` rejects, that is control characters (Cc, a tab included), format
   characters (Cf), separators other than the plain space U+0020 (Zs, Zl, Zp), surrogates (Cs),
   private-use (Co) and unassigned (Cn) code points.

A plain printable ASCII code with no surrounding space, the common case, is returned as it is
after four C-level checks: the upload runs this millions of times.
"""

from __future__ import annotations

import unicodedata

from code_console.core.errors import InvalidCode

# unicodedata has no names for C0/C1 controls; these are the ones people meet in files.
_CONTROL_NAMES = {
    "\x00": "NUL",
    "\t": "tab",
    "\n": "line feed",
    "\r": "carriage return",
    "\x0b": "vertical tab",
    "\x0c": "form feed",
    "\x1b": "escape",
    "\x7f": "delete",
    "\x85": "next line",
}


def normalize_code(value: str, *, max_length: int) -> str:
    """The stored form of `value` under the one code rule (see the module docstring).

    Raises InvalidCode whose message names the problem (and the character, as U+XXXX, with
    its 1-based position) and whose `code` is the reason: empty_code, code_too_long,
    control_character, invisible_character, space_character, invalid_character.
    """
    if value.isascii() and value.isprintable() and 0 < len(value) <= max_length and value[0] != " " and value[-1] != " ":
        return value
    code = _trim(value)
    if not code:
        what = "only spaces or invisible characters" if value else "nothing"
        raise InvalidCode("empty_code", f"the code is empty (it holds {what})", reason="empty_code")
    if not code.isascii():
        code = unicodedata.normalize("NFC", code)
    if len(code) > max_length:
        raise InvalidCode(
            "code_too_long", f"code is {len(code)} characters long; the maximum is {max_length}", reason="code_too_long"
        )
    if not code.isprintable():
        raise _bad_character(code)
    return code


def is_ignorable(ch: str) -> bool:
    """True for a character trimmed from the ends of a code: whitespace or an invisible format character (Cf)."""
    return ch.isspace() or unicodedata.category(ch) == "Cf"


def _trim(value: str) -> str:
    start, end = 0, len(value)
    while start < end and is_ignorable(value[start]):
        start += 1
    while end > start and is_ignorable(value[end - 1]):
        end -= 1
    return value[start:end]


def describe_character(ch: str) -> str:
    """`U+200B ZERO WIDTH SPACE`, `U+0009 (tab)`: how messages name a character."""
    point = f"U+{ord(ch):04X}"
    name = _CONTROL_NAMES.get(ch)
    if name:
        return f"{point} ({name})"
    name = unicodedata.name(ch, "")
    return f"{point} {name}" if name else point


def _bad_character(code: str) -> InvalidCode:
    position, ch = next((i, c) for i, c in enumerate(code, 1) if not c.isprintable())
    category = unicodedata.category(ch)
    named = describe_character(ch)
    hint = ""
    if category == "Cc":
        reason, text = "control_character", f"contains the control character {named}"
    elif category == "Cf":
        reason, text = "invisible_character", f"contains the invisible character {named}"
    elif category in ("Zs", "Zl", "Zp"):
        reason, text = "space_character", f"contains the space character {named}"
        hint = "; only the plain space U+0020 may be inside a code"
    elif category == "Cs":
        reason, text = "invalid_character", f"contains {named}, a lone surrogate, which is not valid Unicode text"
    elif category == "Co":
        reason, text = "invalid_character", f"contains the private-use character {named}"
    else:
        reason, text = "invalid_character", f"contains {named}, which is not an assigned Unicode character"
    return InvalidCode(reason, f"{text} at position {position}{hint}", reason=reason, char=f"U+{ord(ch):04X}", position=position)
