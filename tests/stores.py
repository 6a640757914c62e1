"""Stores for tests that need one outside the `store` fixture."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from code_console.core.sqlite import SqliteStore

# What the embedded store calls itself in the default place (on screen in snapshots).
LABEL = "embedded (SQLite ~/.local/share/code-console/codes.sqlite3)"


def embedded_path() -> Path:
    """A path for a fresh SQLite file in its own temporary folder, removed at exit."""
    folder = tempfile.mkdtemp(prefix="code-console-test-")
    atexit.register(shutil.rmtree, folder, True)
    return Path(folder) / "codes.sqlite3"


def embedded_store() -> SqliteStore:
    """A fresh embedded (SQLite) store, labelled the same every time (the label is on screen in snapshots)."""
    return SqliteStore(embedded_path(), label=LABEL)
