"""A real terminal for console tests: the app runs in a tmux session; keys go in with send-keys
and the screen comes back as text with capture-pane."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

WIDTH, HEIGHT = 80, 24
# A tmux server of this test run's own: nobody else's sessions are ever touched.
SOCKET = f"code-console-tests-{os.getpid()}"


def tmux(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["tmux", "-L", SOCKET, *args], **kwargs)


class Terminal:
    """A tmux session running one command; keys in, screen text out."""

    def __init__(self, command: list[str], width: int = WIDTH, height: int = HEIGHT) -> None:
        self.name = f"cc-{uuid.uuid4().hex[:8]}"
        self.height = height
        # When the command ends its pane stays (what it printed can be read) until close().
        line = " ".join(command) + f"; tmux wait-for -S {self.name}-done; sleep 600"
        tmux("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), line, check=True)

    def keys(self, *keys: str) -> None:
        tmux("send-keys", "-t", self.name, *keys, check=True)

    def type(self, text: str) -> None:
        tmux("send-keys", "-t", self.name, "-l", text, check=True)

    def screen(self) -> list[str]:
        out = tmux("capture-pane", "-p", "-t", self.name, check=True, capture_output=True, text=True).stdout
        return (out.split("\n") + [""] * self.height)[: self.height]

    def text(self) -> str:
        """Everything on the screen, lines the terminal wrapped joined back (what a command printed)."""
        return tmux("capture-pane", "-p", "-J", "-t", self.name, check=True, capture_output=True, text=True).stdout

    def wait_for(self, *texts: str, timeout: float = 30, footer: bool = True, gone: tuple[str, ...] = ()) -> list[str]:
        """Poll the screen until every text shows and none of `gone` does (nothing announces a
        redraw to a test outside)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.screen()
            # The footer is drawn last: a screen is complete when it shows.
            if (
                (not footer or "^p palette" in rows[-1])
                and all(any(text in row for row in rows) for text in texts)
                and not any(text in row for text in gone for row in rows)
            ):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"{texts!r} never showed; the screen was:\n" + "\n".join(rows))
            time.sleep(0.1)

    def wait_exit(self, timeout: float) -> None:
        tmux("wait-for", f"{self.name}-done", check=True, timeout=timeout)

    def close(self) -> None:
        tmux("kill-session", "-t", self.name, capture_output=True)
        left = tmux("list-sessions", capture_output=True, text=True)
        if left.returncode != 0 or not left.stdout.strip():
            tmux("kill-server", capture_output=True)  # our own server, now empty
            socket = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}" / SOCKET
            socket.unlink(missing_ok=True)
