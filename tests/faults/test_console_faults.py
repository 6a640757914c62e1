"""The console against a real SecantusDB that is killed and restarted: it stays up, shows the
outage, and recovers by itself; its upload wizard refuses bad files and writes nothing."""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import signal
import sys
import time
import uuid

import pytest

pytest.importorskip("code_console.ui.app")

from textual.widgets import Button, Input, Static, TabbedContent  # noqa: E402

from code_console.core.models import StatusCounts  # noqa: E402
from code_console.core.mongo import connect  # noqa: E402
from code_console.core.objects import DirectoryObjects  # noqa: E402
from code_console.core.service import CodeService  # noqa: E402
from code_console.ui.dialogs.reserve import ReserveDialog  # noqa: E402
from code_console.ui.messages import CampaignsLoaded, CountsLoaded, StoreStateChanged  # noqa: E402
from code_console.ui.screens.browser import BrowserScreen  # noqa: E402
from code_console.ui.screens.campaign import CampaignScreen  # noqa: E402
from code_console.ui.screens.upload import UploadScreen  # noqa: E402
from code_console.ui.widgets.counts import CountPanel  # noqa: E402

from tests.conftest import ME, FakeClock  # noqa: E402
from tests.faults.conftest import report, snapshot, wait_until  # noqa: E402
from tests.terminal import Terminal  # noqa: E402
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

        went_down = messages.expect(StoreStateChanged, lambda m: not m.ok)
        server.kill()
        killed = time.monotonic()
        await arrived(went_down, 30)
        noticed = time.monotonic() - killed
        assert "STORE UNREACHABLE" in app.sub_title and app.is_running
        assert isinstance(app.screen, CampaignScreen)

        # An action while it is down: said in the form, which stays open; not a crash.
        await pilot.press("v", "5", "enter", "y")
        await _until(pilot, lambda: "Store unreachable" in _text(app, "#reserve-error"))  # after the 1 s store timeout
        assert "MongoDB is unreachable" in _text(app, "#reserve-error")
        assert isinstance(app.screen, ReserveDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CampaignScreen)

        came_back = messages.expect(StoreStateChanged, lambda m: m.ok)
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


# -- quitting the real console mid-upload, with the store live or stalled (SIGSTOP) -------------
# Before issue 12 (measured with this setup): `q` mid-upload did not end the process within 90 s
# and the whole rest of the file (6,750 of 8,000 codes) landed after it; with the server stopped
# the process was still there after 30 s.

# The console's own quitting is bounded at 2 s by the Pilot tests (tests/ui/test_quit.py); here a
# whole process also tears its interpreter down on a shared 2-core machine (measured 0.8-1.2 s
# alone, 3.1 s once under the full suite's load), so the bound leaves room for that.
QUIT_BOUND = 6.0
BATCH = 250
CODES = 8_000
WRITTEN = re.compile(r"([\d,]+) of 8,000 codes were written when you answered")


@pytest.fixture
def quit_setup(own_server, s3_server, s3_bucket, tmp_path):
    """The console's configuration for a real run: SecantusDB of its own, moto's S3 with one big
    file, 250-code batches; one code already stored so that the browser lists the campaign."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    client, bucket = s3_bucket
    client.put_object(Bucket=bucket, Key="codes/QUIT/tm/big.csv", Body="".join(f"Q{i:06d}\n" for i in range(CODES)).encode())
    db = f"quit_{uuid.uuid4().hex[:8]}"
    store = connect(own_server.uri, db, timeout_seconds=5, batch_timeout_seconds=120)
    store.prepare()
    CodeService(store, clock=FakeClock()).upload_from_file(ME, "QUIT", "tm", io.BytesIO(b"SEED-1\n"))
    env = {
        "CODE_CONSOLE_MONGO_URI": own_server.uri,
        "CODE_CONSOLE_MONGO_DB": db,
        "CODE_CONSOLE_MONGO_TIMEOUT_SECONDS": "2",
        "CODE_CONSOLE_UPLOAD_BATCH_SIZE": str(BATCH),
        "CODE_CONSOLE_REFRESH_SECONDS": "2",
        "CODE_CONSOLE_S3_BUCKET": bucket,
        "CODE_CONSOLE_S3_ENDPOINT_URL": s3_server.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "XDG_DATA_HOME": str(tmp_path),
    }
    command = ["env", *(shlex.quote(f"{k}={v}") for k, v in env.items()), sys.executable, "-m", "code_console"]
    terminal = Terminal(command)
    yield own_server, store, terminal
    terminal.close()
    os.killpg(own_server.proc.pid, signal.SIGCONT)  # whatever happened, let the server be killed
    store.close()


def stored(store) -> int:
    return store.collection.count_documents({})


def settled_count(store, quiet: float = 1.5, timeout: float = 60) -> int:
    """The count once it has stopped changing for `quiet` seconds (nothing announces the server's
    last write landing; the console that sent it is gone)."""
    deadline = time.monotonic() + timeout
    last, since = stored(store), time.monotonic()
    while time.monotonic() - since < quiet:
        assert time.monotonic() < deadline, "the store never settled"
        time.sleep(0.2)
        now = stored(store)
        if now != last:
            last, since = now, time.monotonic()
    return last


def start_upload(terminal: Terminal, store) -> None:
    terminal.wait_for("1 campaign", "q Quit", timeout=60)
    terminal.keys("u")
    terminal.wait_for("codes/QUIT/tm/big.csv")
    terminal.keys("Enter")
    terminal.wait_for("no problems found")
    terminal.keys("C-u")
    terminal.wait_for("Upload codes?")
    terminal.keys("y")
    wait_until(lambda: stored(store) > 1 + 4 * BATCH, timeout=60)  # batches are landing


def quit_answering_yes(terminal: Terminal) -> tuple[float, int]:
    """q, the question, y: seconds until the process ended, and the codes written at the answer
    (as the console printed them on leaving)."""
    terminal.keys("q")
    terminal.wait_for("Cancel the upload and quit?", footer=False)
    began = time.monotonic()
    terminal.keys("y")
    terminal.wait_exit(30)
    took = time.monotonic() - began
    note = terminal.text()
    found = WRITTEN.search(note)
    assert found, note
    return took, int(found.group(1).replace(",", ""))


def test_quit_during_an_upload_leaves_within_2s_and_starts_no_batch_after(quit_setup):
    server, store, terminal = quit_setup
    start_upload(terminal, store)
    took, written = quit_answering_yes(terminal)
    final = settled_count(store) - 1  # the seed code
    landed_after = final - written
    assert took < QUIT_BOUND
    assert 0 <= landed_after <= BATCH  # at most the batch already sent; none started after
    assert final < CODES
    report("console.quit-during-upload", attempted=CODES, acknowledged=written, failed=0, duplicated=0, lost=0,
           quit_s=took, landed_after_answer=landed_after)


def test_quit_with_the_store_stalled_mid_upload_leaves_within_2s(quit_setup):
    server, store, terminal = quit_setup
    start_upload(terminal, store)
    os.killpg(server.proc.pid, signal.SIGSTOP)  # the server stops answering mid-batch
    took, written = quit_answering_yes(terminal)
    os.killpg(server.proc.pid, signal.SIGCONT)
    final = settled_count(store) - 1
    landed_after = final - written
    assert took < QUIT_BOUND
    assert 0 <= landed_after <= BATCH  # the batch the stalled server held, at most
    report("console.quit-stalled-store", attempted=CODES, acknowledged=written, failed=0, duplicated=0, lost=0,
           quit_s=took, landed_after_answer=landed_after)


def test_quit_with_the_store_stalled_and_no_upload_leaves_within_2s(quit_setup):
    server, store, terminal = quit_setup
    terminal.wait_for("1 campaign", "q Quit", timeout=60)
    os.killpg(server.proc.pid, signal.SIGSTOP)
    terminal.wait_for("STORE", timeout=30)  # a poll is stuck and has timed out at least once
    began = time.monotonic()
    terminal.keys("q")
    terminal.wait_exit(30)
    took = time.monotonic() - began
    assert took < QUIT_BOUND
    report("console.quit-stalled-idle", attempted=0, acknowledged=0, failed=0, duplicated=0, lost=0, quit_s=took)
