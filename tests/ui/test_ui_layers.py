"""The console reaches the core through CodeService only: it imports the façade, the models and
the errors, never a store, the object source or the CSV reader, and never touches
`service.store` or `service.objects`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "code_console" / "ui"
ALLOWED = {"code_console.core.service", "code_console.core.models", "code_console.core.errors"}


def runtime_imports(tree: ast.Module) -> set[str]:
    """Modules imported outside `if TYPE_CHECKING:` blocks."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_the_console_imports_only_the_facade_the_models_and_the_errors():
    offenders = {}
    for path in sorted(UI.rglob("*.py")):
        core = {m for m in runtime_imports(ast.parse(path.read_text())) if m.startswith("code_console.core")}
        if core - ALLOWED:
            offenders[str(path.relative_to(UI))] = sorted(core - ALLOWED)
    assert offenders == {}


def test_the_console_never_reaches_past_the_facade():
    reach = re.compile(r"\bservice\.(store|objects)\b")
    assert [str(p.relative_to(UI)) for p in UI.rglob("*.py") if reach.search(p.read_text())] == []
