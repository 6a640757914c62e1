"""The smaller things of issue 12, point 11, each as the user sees it."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Footer, Input, TabbedContent
from textual.widgets._toast import Toast

from code_console.core.errors import NotConfigured
from code_console.core.sqlite import SqliteStore
from code_console.ui.app import short_label

from tests.stores import embedded_path
from tests.ui.conftest import make_app, make_service, settle, text

pytestmark = pytest.mark.anyio


async def test_home_and_end_move_through_the_campaigns(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        await pilot.press("end")
        assert table.cursor_row == 2
        await pilot.press("home")
        assert table.cursor_row == 0


async def test_a_filter_that_matches_nothing_says_so(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"XMAS")
        assert text(app, "#browser-empty") == "No campaign matches 'XMAS': escape clears the filter."
        assert text(app, "#browser-status").startswith("0 of 3 campaigns · ")
        await pilot.press("escape")
        assert not app.screen.query_one("#browser-empty").display


async def test_paused_says_how_to_resume(service):
    app = make_app(service, refresh_seconds=30)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert text(app, "#campaign-title") == "SPRING-TOUR · rates over 24h · w window · refresh every 30 s · r refresh now · p pause"
        await pilot.press("p")
        assert text(app, "#campaign-title") == "SPRING-TOUR · rates over 24h · w window · refresh paused · r refresh now · p resume"
        assert [b.binding.action for b in app.screen.active_bindings.values() if b.binding.key == "p" and b.enabled] == ["resume"]
        await pilot.press("p")
        assert text(app, "#campaign-title") == "SPRING-TOUR · rates over 24h · w window · refresh every 30 s · r refresh now · p pause"


async def test_one_is_singular(service):
    codes = service.reserve(service_me(), "VIP-PRESALE", "tm", 1).codes
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"VIP", "enter")
        assert text(app, "#browser-status").startswith("1 of 3 campaigns")
        await pilot.press("l", *codes[0], "enter")
        await settle(pilot)
        assert text(app, "#lookup-status").startswith(f"1 record for code {codes[0]}")
        await pilot.press("x", "y")
        await settle(pilot)
        assert text(app, "#lookup-status").startswith("released 1 of 1 code · ")


MONGO_LABEL = "mongodb://app:***@mongo-1.internal.example.com:27017,mongo-2.internal.example.com:27017/?replicaSet=rs0"


def MongoLabelled() -> SqliteStore:
    """An embedded store that calls itself what a replica set's label looks like."""
    return SqliteStore(embedded_path(), label=MONGO_LABEL)


async def test_the_header_fits_80_columns_with_whole_parts(bucket, clock):
    service = make_service(MongoLabelled(), bucket, clock)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        header = str(app.screen.query_one("ConsoleHeader").render())
        assert header == " code-console · mongodb mongo-1.internal.example.com:27017 +1 · s3://codes"
    async with make_app(service).run_test(size=(200, 36)) as pilot:  # room for the whole label
        await settle(pilot)
        # The operator too (issue 14): the first part dropped when the width runs short.
        assert str(pilot.app.screen.query_one("ConsoleHeader").render()) == f" code-console · as local-operator · {MONGO_LABEL} · s3://codes"


def test_short_labels():
    assert short_label("mongodb://127.0.0.1:27017/?directConnection=true") == "mongodb 127.0.0.1:27017"
    assert short_label("embedded (SQLite ~/.local/share/code-console/codes.sqlite3)") == "embedded"
    assert short_label("embedded demo (SQLite, discarded at exit)") == "embedded demo"
    assert short_label("s3://codes") == "s3 codes"
    assert short_label("mongodb://a:1,b:2,c:3/db") == "mongodb a:1 +2"


async def test_toasts_stay_clear_of_the_status_line_and_footer(service):
    app = make_app(service)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        app.notify("saved 5 codes to /somewhere/long/enough/to/take/a/few/lines.txt", timeout=30)
        await pilot.pause()
        toast = app.screen.query_one(Toast)
        status = app.screen.query_one("#browser-status")
        footer = app.screen.query_one(Footer)
        assert toast.region.height > 0
        assert not toast.region.overlaps(status.region) and not toast.region.overlaps(footer.region)
        assert toast.region.y <= 2  # under the header


async def test_a_folder_given_as_the_file_to_upload_is_called_a_folder(service, tmp_path):
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        app.screen.query_one(TabbedContent).active = "tab-file"
        await pilot.pause()
        field = app.screen.query_one("#upload-path", Input)
        field.focus()
        await pilot.press(*str(tmp_path), "enter")
        await settle(pilot)
        assert text(app, "#source-hint") == f"Cannot do that: {tmp_path} is a folder: give the path of a CSV file in it"
        assert app.screen.query_one("#steps").current == "step-source" and app.focused is field


class NoCredentials:
    label = "s3://codes"

    def list(self, prefix, limit=1000):
        raise NotConfigured(
            "s3_credentials_missing",
            "no AWS credentials for S3: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (boto3's usual chain)",
        )


async def test_missing_aws_credentials_say_what_to_set(service):
    service.objects = NoCredentials()
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_upload("SPRING-TOUR")
        await settle(pilot)
        assert text(app, "#source-hint") == (
            "Not configured: no AWS credentials for S3: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (boto3's usual chain)"
        )
        assert "unreachable" not in app.sub_title.lower()


def service_me():
    from code_console.core.models import LOCAL_OPERATOR

    return LOCAL_OPERATOR
