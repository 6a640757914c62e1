"""Where the console saves lists of codes, and how: under the user's data directory, owner-only.

Real promotional codes must not land in the current directory (in a git checkout they show up
in `git status`, one commit away from a repository) nor be readable by other users.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

APP_NAME = "code-console"


def default_save_dir() -> Path:
    """`~/.local/share/code-console/codes` on Linux (platformdirs' user data directory)."""
    return platformdirs.user_data_path(APP_NAME) / "codes"


def file_name(*parts: str) -> str:
    """A file name from parts, safe on every filesystem: `reserved-SPRING-TOUR-tm-<id>.txt`."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(p for p in parts if p)) + ".txt"


def save_codes(path: str | os.PathLike, codes: list[str]) -> Path:
    """Write one code per line to a new file readable by its owner only (mode 0600).

    Refuses an empty list and an existing file (FileExistsError names it): saving never
    overwrites codes saved earlier. Missing directories are created owner-only (0700).
    """
    if not codes:
        raise ValueError("there are no codes to save")
    target = Path(path).expanduser()
    missing = [d for d in (target.parent, *target.parent.parents) if not d.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(codes) + "\n")
    return target
