"""The core is headless: importing it must not pull in textual or fastapi (checked in a clean interpreter)."""

import subprocess
import sys


def test_core_imports_neither_textual_nor_fastapi():
    code = (
        "import sys, pkgutil, importlib, code_console.core as core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'code_console.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('textual', 'fastapi', 'starlette', 'uvicorn'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""


def test_scripted_cli_does_not_load_the_console():
    code = (
        "import sys\n"
        "from code_console import cli\n"
        "rc = cli.main(['count', 'C1', '--type', 'tm'])\n"
        "print('textual' in sys.modules, file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip().endswith("False")
