"""The upload wizard's check step (issue 10, item 8): how the file was read, its warnings and
repeats, a column chosen in the wizard, and an Upload action that is visibly unavailable (and
says why) for a file that cannot be uploaded. Exact expected states, on the embedded store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets import Button, ContentSwitcher, Input, TabbedContent

from code_console.core.models import LOCAL_OPERATOR as ME, StatusCounts
from code_console.ui.dialogs.confirm import ConfirmScreen
from code_console.ui.screens.upload import UploadScreen

from tests.ui.conftest import make_app, settle, text

pytestmark = pytest.mark.anyio


def screenshot(app, name: str) -> None:
    """With CODE_CONSOLE_SHOTS=DIR, save the screen as DIR/name.svg (for reviewing by eye)."""
    folder = os.environ.get("CODE_CONSOLE_SHOTS")
    if folder:
        Path(folder, f"{name}.svg").write_text(app.export_screenshot())


async def check_file(pilot, path: Path) -> None:
    """From the browser: open the wizard, give a local file, wait for its check."""
    app = pilot.app
    await settle(pilot)
    await pilot.press("u")  # the selected campaign: PARTNER-PROMO
    await settle(pilot)
    app.screen.query_one(TabbedContent).active = "tab-file"
    await pilot.pause()
    field = app.screen.query_one("#upload-path", Input)
    field.focus()
    field.value = str(path)
    await pilot.press("enter")
    await settle(pilot)
    assert app.screen.query_one(ContentSwitcher).current == "step-check"


async def choose_column(pilot, column: str) -> None:
    field = pilot.app.screen.query_one("#check-column", Input)
    field.focus()
    field.value = column
    await pilot.press("enter")
    await settle(pilot)


def lines_of(app) -> list[str]:
    return text(app, "#check-lines").splitlines()


async def test_check_shows_the_sep_line_header_column_warnings_and_repeats(service, tmp_path):
    path = tmp_path / "partner.csv"
    path.write_bytes(
        b"sep=;\r\nVoucher Code;value\r\nSUMMER01;10\r\nsummer01;10\r\n1.23457E+11;5\r\nSUMMER02;5\r\nSUMMER02;5\r\n"
    )
    app = make_app(service)
    async with app.run_test(size=(120, 36)) as pilot:
        await check_file(pilot, path)
        screenshot(app, "check-warnings")
        assert text(app, "#check-summary").splitlines() == [
            str(path),
            "campaign PARTNER-PROMO · type tm · 5 codes on 7 lines",
            "no problems found",
        ]
        assert lines_of(app) == [
            "read as",
            "  delimiter  semicolon ; (from the sep= line)",
            "  header     line 2: Voucher Code, value (skipped)",
            "  column     1 'Voucher Code' (named by the header)",
            "warnings (they do not block the upload)",
            "  1 code looks like a number a spreadsheet wrote in scientific notation (digits are lost): line 5 1.23457E+11",
            "  1 code differs only by letter case from another code of the file: line 4 summer01 (like SUMMER01)",
            "  1 code repeats an earlier code of the file (written once, counted as duplicates)",
            "first codes",
            "  SUMMER01",
            "  summer01",
            "  1.23457E+11",
            "  SUMMER02",
            "  SUMMER02",
        ]
        start = app.screen.query_one("#start", Button)
        assert not start.disabled and text(app, "#start-why") == ""
        assert app.focused is start
        await pilot.press("ctrl+u")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert text(app, "#run-result") == "done · in: 5 · inserted: 4 · updated: 0 · conflicts: 0 · duplicates: 1"
    assert service.lookup(ME, "SUMMER01", "PARTNER-PROMO")
    assert service.counts(ME, "PARTNER-PROMO", "tm") == StatusCounts(4, 0, 0)


async def test_several_fields_make_upload_unavailable_until_a_column_is_chosen(service, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"A1,10,x\nA2,20,y\nA3,30,z\n")
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await check_file(pilot, path)
        screenshot(app, "check-several-fields")
        assert text(app, "#check-summary").splitlines()[1:] == [
            "campaign PARTNER-PROMO · type tm · 0 codes on 0 lines",
            "3 problems found: fix the file, nothing will be uploaded",
        ]
        hint = "put one code per line, or choose the column that holds the codes (by its header name or number)"
        assert lines_of(app)[:8] == [
            "problems",
            f"  line 1: holds 3 values separated by commas (A1, 10, x): {hint}",
            f"  line 2: holds 3 values separated by commas (A2, 20, y): {hint}",
            f"  line 3: holds 3 values separated by commas (A3, 30, z): {hint}",
            "read as",
            "  delimiter  comma , (detected)",
            "  header     none",
            "  column     1 (one code per row)",
        ]
        start = app.screen.query_one("#start", Button)
        assert start.disabled
        assert text(app, "#start-why") == "Upload unavailable: 3 problems in the file: choose the code column above"
        assert start.tooltip == "Upload unavailable: 3 problems in the file: choose the code column above"
        column = app.screen.query_one("#check-column", Input)
        assert app.focused is column  # a column would cure it: the cursor is there
        await pilot.press("ctrl+u")
        assert isinstance(app.screen, UploadScreen) and app.screen.checked is None  # no confirmation

        await choose_column(pilot, "1")
        assert text(app, "#check-summary").splitlines()[1:] == [
            "campaign PARTNER-PROMO · type tm · 3 codes on 3 lines",
            "no problems found",
        ]
        assert lines_of(app)[:4] == ["read as", "  delimiter  comma , (detected)", "  header     none", "  column     1 (chosen)"]
        assert not start.disabled and text(app, "#start-why") == ""
        assert app.focused is start and column.value == "1"  # the file can go: the cursor is on Upload
        await pilot.press("ctrl+u", "y")
        await settle(pilot)
        assert text(app, "#run-result").startswith("done · in: 3 · inserted: 3 · updated: 0 · conflicts: 0")
    assert sorted(c.code for c in service.store.scan("PARTNER-PROMO", 100) if c.code_type == "tm") == ["A1", "A2", "A3"]


async def test_a_header_column_chosen_by_name_and_a_name_that_is_not_there(service, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"id,coupon,ref\n1,CPN-1,r1\n2,CPN-2,r2\n")
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await check_file(pilot, path)
        assert lines_of(app)[:4] == [
            "read as",
            "  delimiter  comma , (detected)",
            "  header     line 1: id, coupon, ref (skipped)",
            "  column     2 'coupon' (named by the header)",
        ]
        await choose_column(pilot, "ref")
        assert lines_of(app)[3] == "  column     3 'ref' (chosen)"
        assert lines_of(app)[-2:] == ["  r1", "  r2"]
        await choose_column(pilot, "price")
        assert lines_of(app)[:2] == ["problems", "  line 1: no column is named 'price': the first row holds 'id', 'coupon', 'ref'"]
        assert app.screen.query_one("#start", Button).disabled
        assert text(app, "#start-why") == "Upload unavailable: 1 problem in the file: choose the code column above"
        await choose_column(pilot, "")  # automatic again
        assert lines_of(app)[3] == "  column     2 'coupon' (named by the header)"
        assert not app.screen.query_one("#start", Button).disabled
        await pilot.press("ctrl+u", "y")
        await settle(pilot)
    assert sorted(c.code for c in service.store.scan("PARTNER-PROMO", 100) if c.code_type == "tm") == ["CPN-1", "CPN-2"]


@pytest.mark.parametrize(
    "content, what",
    [
        (b"", "no codes to upload: the file is empty"),
        (b"\xef\xbb\xbfCoupon Code\r\n", "no codes to upload: the file has a header (line 1: Coupon Code) and no codes under it"),
        (b"\n\n \n", "no codes to upload: the file has only blank lines"),
    ],
    ids=["empty", "header-only", "blank-lines"],
)
async def test_a_file_without_codes_cannot_be_uploaded_and_says_why(service, tmp_path, content, what):
    path = tmp_path / "none.csv"
    path.write_bytes(content)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await check_file(pilot, path)
        assert lines_of(app)[:2] == ["problems", f"  {what}"]
        assert app.screen.query_one("#start", Button).disabled
        assert text(app, "#start-why") == "Upload unavailable: the file holds no codes"
        assert app.focused is app.screen.query_one("#back", Button)
        await pilot.press("ctrl+u")
        assert isinstance(app.screen, UploadScreen)
    assert service.counts(ME, "PARTNER-PROMO", "tm") == StatusCounts(0, 0, 0)


async def test_check_warns_about_codes_that_differ_by_case_from_the_campaign(service, tmp_path):
    stored = sorted(c.code for c in service.store.scan("PARTNER-PROMO", 10_000))[0]
    path = tmp_path / "twins.csv"
    path.write_bytes(f"{stored.lower()}\nFRESH-1\n".encode())
    app = make_app(service)
    async with app.run_test(size=(120, 36)) as pilot:
        await check_file(pilot, path)
        assert lines_of(app)[4:6] == [
            "warnings (they do not block the upload)",
            f"  1 code differs only by letter case from a code already in the campaign: line 1 {stored.lower()} (like {stored})",
        ]
        assert not app.screen.query_one("#start", Button).disabled


async def test_check_of_an_excel_unicode_text_file_names_its_encoding(service, tmp_path):
    path = tmp_path / "unicode.txt"
    path.write_bytes("Coupon Code\tValue\r\nU16-1\t10\r\nU16-2\t20\r\n".encode("utf-16"))
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await check_file(pilot, path)
        assert lines_of(app)[:5] == [
            "read as",
            "  encoding   UTF-16-LE (from its byte order mark)",
            "  delimiter  tab (detected)",
            "  header     line 1: Coupon Code, Value (skipped)",
            "  column     1 'Coupon Code' (named by the header)",
        ]
        assert lines_of(app)[-2:] == ["  U16-1", "  U16-2"]
        assert not app.screen.query_one("#start", Button).disabled


@pytest.mark.parametrize(
    "campaign, hint",
    [
        ("", "the campaign is missing: type it above, then choose the file again"),
        ("bad campaign", "invalid campaign id 'bad campaign': use 1-128 letters, digits, '_', '-', '.', ':' (starting with a letter or digit)"),
    ],
)
async def test_a_missing_or_invalid_campaign_is_said_at_the_source_step(service, tmp_path, campaign, hint):
    path = tmp_path / "codes.csv"
    path.write_bytes(b"C1\nC2\n")
    app = make_app(service)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        app.screen.query_one("#upload-campaign", Input).value = campaign
        app.screen.query_one(TabbedContent).active = "tab-file"
        await pilot.pause()
        field = app.screen.query_one("#upload-path", Input)
        field.focus()
        field.value = str(path)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one(ContentSwitcher).current == "step-source"
        assert text(app, "#source-hint") == hint
        assert app.focused is app.screen.query_one("#upload-campaign", Input)


async def test_with_no_bucket_configured_the_wizard_opens_on_a_local_file(clock, tmp_path):
    from code_console.core.service import CodeService

    from tests.stores import embedded_store

    service = CodeService(embedded_store(), None, clock=clock)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_upload("SOLO")
        await settle(pilot)
        assert app.screen.query_one(TabbedContent).active == "tab-file"
        assert app.focused is app.screen.query_one("#upload-path", Input)
        path = tmp_path / "codes.csv"
        path.write_bytes(b"S1\nS2\n")
        app.focused.value = str(path)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one(ContentSwitcher).current == "step-check"
