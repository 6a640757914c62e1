"""Save SVG screenshots of the console's main screens into screenshots/ (`make screenshots`).

They come from the real app on the demo's data: the demo's sample bucket and seeding, the
simulated verification service run for a fixed number of ticks (not on a timer), a fixed
clock, fixed reservation keys, steady cursors and fixed terminal sizes, so the pictures are
the same on every run.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import random
import shutil
import sys
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

from textual.reactive import reactive
from textual.widgets import Input, TextArea

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from code_console.core.models import LOCAL_OPERATOR as ME, CodeType  # noqa: E402
from code_console.core.service import CodeService  # noqa: E402
from code_console.core.sqlite import SqliteStore  # noqa: E402
from code_console.demo import SAMPLE_FILES, VerificationTraffic, seed, seed_history, write_bucket  # noqa: E402
from code_console.runtime import DEMO_STORE_LABEL  # noqa: E402
from code_console.ui.app import CodeConsoleApp  # noqa: E402
from code_console.ui.screens.upload import UploadScreen  # noqa: E402

OUT = ROOT / "screenshots"
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)


def demo_service(bucket_dir: str) -> tuple[CodeService, VerificationTraffic]:
    objects = write_bucket(bucket_dir)
    objects.label = "local folder (demo bucket)"
    folder = tempfile.mkdtemp(prefix="code-console-screenshots-")
    atexit.register(shutil.rmtree, folder, True)
    store = SqliteStore(Path(folder) / "demo.sqlite3", label=DEMO_STORE_LABEL)
    service = CodeService(store, objects, clock=lambda: NOW, batch_size=2_000, rng=random.Random(1))
    seed(service)
    seed_history(service)  # a day of back-dated traffic: rates, time to empty and the charts
    pools = sorted({(f.campaign, f.code_type) for f in SAMPLE_FILES if f.upload})
    return service, VerificationTraffic(service, pools, rate=200, seed=1)


def steady_cursors() -> None:
    """Cursors that do not blink (a blinking one is on or off depending on the moment)."""
    for cls in (Input, TextArea):
        steady = reactive(False, init=False)
        steady.__set_name__(cls, "cursor_blink")
        cls.cursor_blink = steady


def numbered_keys():
    counter = itertools.count(0x42)
    return lambda: str(uuid.UUID(int=next(counter), version=4))


async def settle(pilot) -> None:
    for _ in range(10):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in pilot.app.workers):
            return


async def shoot(size: tuple[int, int]) -> list[str]:
    saved: list[str] = []
    with tempfile.TemporaryDirectory() as bucket:
        service, traffic = demo_service(bucket)
        app = CodeConsoleApp(
            service,
            refresh_seconds=None,
            demo=True,
            traffic=None,
            save_dir=Path("/home/support/.local/share/code-console/codes"),
            wall_clock=lambda: NOW,
            new_reservation_key=numbered_keys(),
        )
        app.traffic = None
        suffix = f"{size[0]}x{size[1]}"

        def save(name: str) -> None:
            app.save_screenshot(f"{name}-{suffix}.svg", str(OUT))
            saved.append(f"{name}-{suffix}.svg")

        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            for _ in range(3):
                traffic.tick()
            # The VIP presale sells out fast: below its low-stock threshold.
            service.assign(ME, "VIP-PRESALE", service.reserve(ME, "VIP-PRESALE", CodeType.TM, 260).codes)
            await pilot.press("r")
            await settle(pilot)
            save("browser")

            await pilot.press("down", "enter")
            await settle(pilot)
            for _ in range(12):
                traffic.tick()
                service.assign(ME, "SPRING-TOUR", service.reserve(ME, "SPRING-TOUR", CodeType.TM, 40).codes)
                await pilot.press("r")
                await settle(pilot)
            save("campaign")

            await pilot.press("v", "2", "5", "enter", "y")
            await settle(pilot)
            save("reserved")
            await pilot.press("escape")
            await settle(pilot)

            await pilot.press("u")
            await settle(pilot)
            await pilot.press("down", "down", "down", "enter")
            await settle(pilot)
            save("upload-check")
            await pilot.press("escape", "escape")
            await settle(pilot)

            app.push_screen(UploadScreen("SPRING-TOUR"))
            await settle(pilot)
            await pilot.press("down", "enter")
            await settle(pilot)
            await pilot.press("ctrl+u", "y")
            await settle(pilot)
            app.clear_notifications()
            save("upload-done")
            await pilot.press("enter", "escape")
            await settle(pilot)

            await pilot.press("down", "enter")
            await settle(pilot)
            save("low-stock")
            await pilot.press("escape")

            codes = service.reserve(ME, "SPRING-TOUR", CodeType.EXTERNAL, 3, key="5f0c2a4e-9b1d-4c7e-8a3f-6d2e1b0c9a87").codes
            service.assign(ME, "SPRING-TOUR", codes[:1])
            await pilot.press("l", *codes[0], "enter")
            await settle(pilot)
            await pilot.press("enter")  # the code's whole reservation, with every field of the selected code
            await settle(pilot)
            save("lookup")
            await pilot.press("escape")

            await pilot.press("question_mark")
            await settle(pilot)
            save("help")
    return saved


def main() -> int:
    OUT.mkdir(exist_ok=True)
    steady_cursors()
    for size in ((80, 24), (120, 36)):
        for name in asyncio.run(shoot(size)):
            print(f"screenshots/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
