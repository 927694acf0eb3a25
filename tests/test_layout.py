"""Where things live: the library never reaches up into the command layer."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_library_module_or_the_explorer_imports_the_command_layer():
    """The command line is built on the library; the explorer and the library import abm.spec and
    abm.jsonable, never abm.commands (only abm/cli.py and abm/commands/ itself may)."""
    offenders = []
    for path in sorted((ROOT / "abm").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("abm/commands/") or rel == "abm/cli.py":
            continue
        bad = sorted(n for n in _imports(path) if n == "abm.commands" or n.startswith("abm.commands."))
        if bad:
            offenders.append(f"{rel}: {', '.join(bad)}")
    assert not offenders, offenders
