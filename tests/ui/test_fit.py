"""Fitting a line to the terminal: parts are shortened or dropped whole, never cut mid-word."""

from code_console.ui.fit import Part, fit, plural


def test_everything_fits_when_there_is_room():
    parts = [Part("code-console", 9), Part("DEMO", 8), Part("embedded (in-process, not persisted)", 5, short="embedded")]
    assert fit(parts, 80).plain == "code-console · DEMO · embedded (in-process, not persisted)"


def test_a_short_form_comes_before_dropping_anything():
    parts = [Part("code-console", 9), Part("DEMO", 8), Part("embedded (in-process, not persisted)", 5, short="embedded")]
    assert fit(parts, 30).plain == "code-console · DEMO · embedded"


def test_the_lowest_priority_goes_first_and_order_is_kept():
    parts = [Part("a" * 10, 1), Part("b" * 10, 9), Part("c" * 10, 5)]
    assert fit(parts, 23).plain == "b" * 10 + " · " + "c" * 10
    assert fit(parts, 12).plain == "b" * 10
    assert fit(parts, 5).plain == "bbbb…"  # one part longer than the line: its start, marked as cut


def test_a_message_longer_than_the_line_is_cut_never_blanked():
    message = "no code or reservation 0b9e6a50-4a2f-4c1e-9d7e-1f0c5d3b2a10 found (give a campaign to search a reserveId)"
    assert fit([Part(message)], 80).plain == message[:79] + "…"


def test_plural():
    assert [plural(n, "code") for n in (0, 1, 2, 1005)] == ["0 codes", "1 code", "2 codes", "1,005 codes"]
    assert plural(1, "refresh", "refreshes") == "1 refresh"
