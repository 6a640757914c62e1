"""Property: random codes written as CSV in random dialects upload to exactly the normalised set of codes.

Dialects vary the encoding (UTF-8, UTF-16 LE or BE with a BOM), the delimiter (, ; TAB |), the
quoting, the line endings (LF, CRLF, CR), a BOM,
an Excel sep= line, a header, a second column (before or after the codes; without a header the
column is chosen by number), blank lines, and invisible or spacing characters around the codes.
Without a sep= line the codes hold no delimiter or quote character: only the sep= line can tell a reader that a one-column file's ';' is part of its codes.
"""

from __future__ import annotations

import csv
import io
import string

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from code_console.core.code_rule import normalize_code
from code_console.core.csvcodes import CODE_COLUMN_NAMES, _header_key
from code_console.core.errors import InvalidCode
from code_console.core.service import CodeService

from tests.conftest import ME, FakeClock, secantus_store
from tests.stores import embedded_store

MAX_LENGTH = 32
PLAIN = string.ascii_letters + string.digits + "-_./#+=!*() " + "\u00e9\u00df\u03a9\u6f22\u00c4\u0301"
SPECIAL = ",;\t|\"'"  # delimiters and quotes: only with a sep= line
AROUND = ["", " ", "  ", "\u200b", "\u00a0", "\u3000", "\u2060", "\ufeff"]


def _valid(core: str) -> bool:
    try:
        normalize_code(core, max_length=MAX_LENGTH)
    except InvalidCode:
        return False
    # A first row reading "code" is a header, a first line "sep=;" an Excel directive: not codes.
    return _header_key(core) not in CODE_COLUMN_NAMES and not core.lower().lstrip().startswith(("sep=", '"sep='))


@st.composite
def code_files(draw):
    sep_line = draw(st.booleans())
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    alphabet = PLAIN + SPECIAL if sep_line else PLAIN
    core = st.text(alphabet=alphabet, min_size=1, max_size=12).filter(_valid)
    raws = draw(
        st.lists(st.tuples(st.sampled_from(AROUND), core, st.sampled_from(AROUND)).map("".join), min_size=1, max_size=25)
    )
    two_columns = draw(st.booleans())
    code_first = not two_columns or draw(st.booleans())
    header = draw(st.sampled_from([None, "code", "Coupon Code", "voucher_code", "PROMO"]))
    terminator = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    blanks = draw(st.lists(st.integers(0, len(raws)), max_size=3))

    out = io.StringIO()
    if draw(st.booleans()):
        out.write("\ufeff")
    if sep_line:
        out.write(f"sep={delimiter}{terminator}")
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=terminator)
    def row(code: str, other: str) -> list[str]:
        return [code] if not two_columns else [code, other] if code_first else [other, code]

    if header is not None:
        writer.writerow(row(header, "value"))
    for i, raw in enumerate(raws):
        if i in blanks:
            out.write(terminator)
        writer.writerow(row(raw, str(i)))
    # Two columns and no header: the caller says which column holds the codes.
    column = (1 if code_first else 2) if two_columns and header is None else None
    # UTF-8, or UTF-16 with its byte order mark (Excel's "Unicode text"), either byte order.
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16-le", "utf-16-be"]))
    text = out.getvalue()
    if encoding == "utf-8":
        return text.encode(), column, raws
    bom = b"\xff\xfe" if encoding == "utf-16-le" else b"\xfe\xff"
    return bom + text.encode(encoding), column, raws


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(code_files())
def test_random_dialects_upload_exactly_the_normalised_codes(case):
    data, column, raws = case
    expected = {normalize_code(raw, max_length=MAX_LENGTH) for raw in raws}
    service = CodeService(embedded_store(), clock=FakeClock(), code_max_length=MAX_LENGTH)
    result = service.upload_from_file(ME, "P", "tm", io.BytesIO(data), column=column)
    assert (result.in_, result.inserted, result.duplicates) == (len(raws), len(expected), len(raws) - len(expected))
    assert set(service.reserve(ME, "P", "tm", len(expected)).codes) == expected


@pytest.mark.realserver
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(case=code_files())
def test_random_dialects_upload_exactly_the_normalised_codes_on_secantus(secantus, case):
    """The same property on SecantusDB (fewer examples: each one is a database of its own)."""
    data, column, raws = case
    expected = {normalize_code(raw, max_length=MAX_LENGTH) for raw in raws}
    store = secantus_store(secantus)
    try:
        service = CodeService(store, clock=FakeClock(), code_max_length=MAX_LENGTH)
        result = service.upload_from_file(ME, "P", "tm", io.BytesIO(data), column=column)
        assert (result.in_, result.inserted, result.duplicates) == (len(raws), len(expected), len(raws) - len(expected))
        assert {c.code for c in store.scan("P", 100)} == expected
        assert set(service.reserve(ME, "P", "tm", len(expected)).codes) == expected
    finally:
        store.collection.drop()
        store.close()
