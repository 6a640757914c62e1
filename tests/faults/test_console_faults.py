"""The console against a real SecantusDB that is killed and restarted: it stays up, shows the
outage, and recovers by itself; its upload wizard refuses bad files and writes nothing."""

from __future__ import annotations

import io
import time

import pytest

pytest.importorskip("code_console.ui.app")

from textual.widgets import Button, Input, Static, TabbedContent  # noqa: E402

from code_console.core.models import StatusCounts  # noqa: E402
from code_console.core.objects import DirectoryObjects  # noqa: E402
from code_console.core.service import CodeService  # noqa: E402
from code_console.core.mongo import connect  # noqa: E402
from code_console.ui.messages import CampaignsLoaded, CountsLoaded, StoreStatusChanged  # noqa: E402
from code_console.ui.screens.browser import BrowserScreen  # noqa: E402
from code_console.ui.screens.campaign import CampaignScreen  # noqa: E402
from code_console.ui.screens.dialogs import ErrorScreen  # noqa: E402
from code_console.ui.screens.upload import UploadScreen  # noqa: E402
from code_console.ui.widgets.counts import CountPanel  # noqa: E402

from tests.conftest import ME, FakeClock  # noqa: E402
from tests.faults.conftest import report, snapshot  # noqa: E402
from tests.ui.conftest import Messages, arrived, make_app, settle  # noqa: E402

pytestmark = [pytest.mark.anyio, pytest.mark.realserver]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _until(pilot, predicate, timeout: float = 30) -> None:
    """Let the app run until a screen change that no message of ours announces has happened."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the console did not get there in time"
        await pilot.pause(0.05)


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


@pytest.fixture
def killable(own_server):
    store = connect(own_server.uri, "console", timeout_seconds=1, batch_timeout_seconds=5)
    store.prepare()
    service = CodeService(store, clock=FakeClock())
    service.upload_from_file(ME, "LIVE", "tm", io.BytesIO("".join(f"L{i:04d}\n" for i in range(500)).encode()))
    service.reserve(ME, "LIVE", "tm", 20, key="held").codes
    yield own_server, service
    store.close()


async def test_server_killed_under_the_console_it_stays_up_and_recovers(killable):
    server, service = killable
    messages = Messages()
    app = make_app(service, refresh_seconds=0.2)
    async with app.run_test(size=(100, 30), message_hook=messages) as pilot:
        await arrived(messages.expect(CampaignsLoaded), 30)
        await pilot.press("enter")
        await arrived(messages.expect(CountsLoaded), 30)
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen)

        went_down = messages.expect(StoreStatusChanged, lambda m: not m.ok)
        server.kill()
        killed = time.monotonic()
        await arrived(went_down, 30)
        noticed = time.monotonic() - killed
        assert "STORE UNREACHABLE" in app.sub_title and app.is_running
        assert isinstance(app.screen, CampaignScreen)

        # An action while it is down: an error modal, not a crash.
        await pilot.press("v", "enter", "y")
        await _until(pilot, lambda: isinstance(app.screen, ErrorScreen))  # after the 1 s store timeout
        assert "MongoDB is unreachable" in _text(app, "#error-message")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CampaignScreen)

        came_back = messages.expect(StoreStatusChanged, lambda m: m.ok)
        fresh = messages.expect(CountsLoaded)
        restarted = time.monotonic()
        server.start()  # returns once the server answers a ping
        await arrived(came_back, 30)  # the timer kept polling and noticed by itself
        await arrived(fresh, 30)
        recovered = time.monotonic() - restarted
        await pilot.pause()
        assert "STORE UNREACHABLE" not in app.sub_title and app.is_running
        assert app.screen.query_one("#panel-tm", CountPanel).counts == StatusCounts(480, 20, 0)
    report("console.server-killed", attempted=1, acknowledged=0, failed=1, duplicated=0, lost=0,
           noticed_s=noticed, recovery_s=recovered)


BAD_FILES = {
    "invalid_utf8.csv": (b"OK-1\n\xff\xfe\n", "line 2: is not valid UTF-8 text"),
    "nul.csv": (b"OK-1\nBAD\x00CODE\n", "line 2: contains a NUL byte"),
    "long.csv": (b"OK-1\n" + b"X" * 129 + b"\n", "line 2: code is 129 characters long; the maximum is 128"),
    "control.csv": (b"OK-1\nBEL\x07L\n", "line 2: contains the control character U+0007"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
async def test_upload_wizard_refuses_a_bad_file_and_writes_nothing(mongo_store, tmp_path, name):
    body, problem = BAD_FILES[name]
    (tmp_path / "bucket").mkdir()
    service = CodeService(mongo_store, DirectoryObjects(tmp_path / "bucket"), clock=FakeClock())
    service.upload_from_file(ME, "WIZ", "tm", io.BytesIO(b"W1\nW2\nW3\n"))
    service.reserve(ME, "WIZ", "tm", 1, key="held").codes
    before = snapshot(mongo_store.collection)
    path = tmp_path / name
    path.write_bytes(body)
    app = make_app(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, UploadScreen)
        app.screen.query_one(TabbedContent).active = "tab-file"
        await pilot.pause()
        field = app.screen.query_one("#upload-path", Input)
        field.focus()
        field.value = str(path)
        await pilot.press("enter")
        await settle(pilot)
        assert "1 problem found" in _text(app, "#check-summary")
        assert problem in _text(app, "#check-lines")
        assert app.screen.query_one("#start", Button).disabled
        await pilot.press("ctrl+u")  # refused: no confirmation, nothing written
        await settle(pilot)
        assert isinstance(app.screen, UploadScreen)
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen)
    assert snapshot(mongo_store.collection) == before
