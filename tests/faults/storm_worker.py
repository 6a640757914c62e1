"""A separate process that reserves with a key per call and retries a failed call with its key
until the server answers again (used by the kill tests).

It makes `calls` calls, and goes on (up to `most` in all) while the kill has been asked for but
`restarted` is not yet set, so that calls are in flight when the server dies however fast they are
(once a storm of 100 calls ended before the kill landed: each call had become a few ms)."""

from __future__ import annotations

import random
import time


def storm(
    uri: str, db: str, campaign: str, calls: int, most: int, seed: int, start, acked, kill_after: int, kill_now, restarted, results
) -> None:
    from code_console.core.errors import StoreUnavailable
    from code_console.core.models import LOCAL_OPERATOR
    from code_console.core.mongo import connect
    from code_console.core.service import CodeService

    # Each failed attempt is bounded by these timeouts, so a retry loop needs no sleep.
    store = connect(uri, db, timeout_seconds=1, batch_timeout_seconds=3)
    service = CodeService(store)
    rng = random.Random(seed)
    out = []
    start.wait()
    for i in range(most):
        if i >= calls and not (kill_now.is_set() and not restarted.is_set()):
            break
        key = f"w{seed}-{i}"
        asked = rng.randint(1, 5)
        errors: list[str] = []
        got = None
        began = time.monotonic()
        while time.monotonic() - began < 120:
            try:
                got = service.reserve(LOCAL_OPERATOR, campaign, "tm", asked, key=key).codes
                break
            except StoreUnavailable as exc:
                errors.append(str(exc))
        out.append({"key": key, "asked": asked, "got": got, "errors": errors, "began": began, "ended": time.monotonic()})
        with acked.get_lock():
            acked.value += 1
            if acked.value == kill_after:
                kill_now.set()
    store.close()
    results.put(out)
