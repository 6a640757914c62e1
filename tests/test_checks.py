"""The static checks `make test` runs, each as a test so that a broken one fails the suite.

- import-linter: the layers (contracts in pyproject.toml, [tool.importlinter]);
- ruff: lint rules E, F, W, I, B, UP ([tool.ruff]);
- mypy with pydantic's plugin over code_console/ ([tool.mypy]).

Each tool's own output is the failure message.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*command: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_import_contracts_are_kept():
    out = run(str(BIN / "lint-imports"), "--no-cache")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_ruff_finds_nothing():
    out = run(sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.timeout(600)
def test_mypy_finds_nothing():
    out = run(sys.executable, "-m", "mypy", timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("Success: no issues found")
