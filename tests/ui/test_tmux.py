"""The real `code-console demo` in a real terminal (tmux) at 80x24: on every screen the header,
the status lines and the footer fit, with no word cut, checked from capture-pane text."""

from __future__ import annotations

import re
import shutil
import sys
import time

import pytest

from tests.terminal import WIDTH, Terminal

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

# The operator (issue 14) is shown when it fits; the store's label is shortened for it first.
HEADER = re.compile(
    r"^ code-console · DEMO · (traffic \d+/s|traffic paused) · (as \S+ · embedded demo|embedded demo \(SQLite, discarded at exit\))\s*$"
)
FOOTER = re.compile(r"^(?P<keys>\S.*\S) +▏\^p palette\s*$")


def fits(rows: list[str], *status: tuple[int, str]) -> None:
    """Header, footer and the given status rows (index, full-match regex) read whole."""
    assert all(len(row) <= WIDTH for row in rows)
    assert not any("…" in row for row in rows), "\n".join(rows)
    assert HEADER.match(rows[0]), rows[0]
    footer = FOOTER.match(rows[-1])
    assert footer, f"the footer ran into the palette key: {rows[-1]!r}"
    for index, pattern in status:
        assert re.fullmatch(pattern, rows[index].strip()), (index, rows[index])


@pytest.fixture
def demo(tmp_path):
    env = f"env XDG_DATA_HOME={tmp_path} CODE_CONSOLE_REFRESH_SECONDS=1"
    terminal = Terminal([env, sys.executable, "-m", "code_console", "demo"])
    yield terminal
    terminal.close()


def test_every_screen_fits_80_columns(demo):
    rows = demo.wait_for("campaigns · sorted by", "q Quit", timeout=90)
    fits(rows, (-2, r"3 campaigns( · \d low on stock \(!\))? · sorted by campaign · refresh every 1 s · enter opens"))
    assert rows[-1].startswith("/ Filter s Sort u Upload l Lookup t Traffic ? Help q Quit")

    demo.keys("Down", "Enter")
    # The panels say "loading…" until their first counts arrive (seconds on a loaded machine).
    rows = demo.wait_for("SPRING-TOUR · 24h · w window · refresh every", "q Quit", gone=("loading…",), timeout=60)
    fits(
        rows,
        (1, r"SPRING-TOUR · 24h · w window · refresh every 1 s · r refresh now · p pause"),
        (-3, r"v reserve · a assign · x release · u upload · e export · w window · l lookup"),
    )
    assert rows[-1].startswith("esc Back v Reserve a Assign x Release u Upload ? Help q Quit")
    assert re.search(r"available(, \d+ refresh(es)?| codes over the last)", "\n".join(rows))

    demo.keys("v")
    rows = demo.wait_for("Reserve codes in SPRING-TOUR")
    fits(rows)
    demo.type("5")
    demo.keys("Enter")
    fits(demo.wait_for("Reserve codes?"))
    demo.keys("y")
    rows = demo.wait_for("Reserved 5 tm codes in SPRING-TOUR")
    fits(rows)
    reserve_id = re.search(r"reserveId ([0-9a-f-]{36})", "\n".join(rows)).group(1)  # whole, at 80 columns
    code = re.search(r"\b(STT-\d{5}-[A-Z0-9]{6})\b", "\n".join(rows)).group(1)
    # After Escape, wait for the screen to change: an Escape followed at once by a key is alt+key.
    demo.keys("Escape")
    rows = demo.wait_for("reserved 5 of 5 tm codes", f"reserveId {reserve_id}")
    fits(
        rows,
        (1, r"SPRING-TOUR · 24h · w window · refresh every 1 s · r refresh now · p pause"),
        (-4, r"reserved 5 of 5 tm codes"),
        (-3, rf"reserveId {reserve_id}"),
    )

    demo.keys("a")
    fits(demo.wait_for("Assign codes in SPRING-TOUR"))
    demo.keys("Escape")
    demo.wait_for("reserved 5 of 5 tm codes")

    demo.keys("u")
    rows = demo.wait_for("codes/SPRING-TOUR/tm/broken.csv")
    fits(rows, (1, r"1 Source · 2 Check · 3 Upload"))
    demo.keys("Down", "Down", "Down", "Enter")
    rows = demo.wait_for("2 problems found")
    fits(rows, (1, r"1 Source · 2 Check · 3 Upload"))
    demo.keys("Escape")
    demo.wait_for("enter on a key or a path checks the file")
    demo.keys("Up", "Up", "Enter")
    rows = demo.wait_for("no problems found")
    fits(rows)
    demo.keys("C-u")
    fits(demo.wait_for("Upload codes?"))
    demo.keys("y")
    rows = demo.wait_for("done · in: 5,000")
    fits(rows, (1, r"1 Source · 2 Check · 3 Upload"))
    demo.keys("Enter")
    demo.wait_for("reserved 5 of 5 tm codes")

    demo.keys("l")
    # Focus is in the code field: the footer leaves out the letter keys the field takes.
    rows = demo.wait_for("enter searches", "esc Back")
    fits(rows, (-2, r"enter searches · x releases the code · X its whole reservation"))
    demo.type(code)
    demo.keys("Enter")
    rows = demo.wait_for(f"reserveId {reserve_id}", "c Copy id")
    fits(rows, (-2, rf"1 record for code {code} · c copies the reserveId"))  # a part dropped whole
    assert rows[-1].startswith("esc Back x Release X Release all c Copy id ? Help q Quit")
    demo.keys("Enter")
    rows = demo.wait_for(f"reservation {reserve_id}: 5 codes")
    fits(rows, (-2, rf"reservation {reserve_id}: 5 codes, \d reserved"))

    demo.keys("?")
    fits(demo.wait_for("Keys · escape closes"))
    demo.keys("Escape")
    demo.wait_for(f"reservation {reserve_id}: 5 codes")
    demo.keys("Escape")
    demo.wait_for("reserved 5 of 5 tm codes")
    demo.keys("Escape")
    demo.wait_for("campaigns · sorted by")

    began = time.monotonic()
    demo.keys("q")
    demo.wait_exit(10)
    assert time.monotonic() - began < 2
