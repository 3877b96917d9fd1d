"""The transactor's shape: no module of the storage layer that ``db.py`` uses imports it back (group commit
and group reads depend on the small ``Transactions`` protocol instead), counting every import, also those
made only for type checking or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import policyhub.storage

STORAGE = Path(policyhub.storage.__file__).parent


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _module(path: Path) -> str:
    return "policyhub.storage." + ".".join(path.relative_to(STORAGE).with_suffix("").parts)


def test_nothing_the_transactor_imports_imports_it_back() -> None:
    graph = {_module(p): _imports(p) for p in STORAGE.rglob("*.py")}
    start = "policyhub.storage.db"
    seen: set[str] = set()
    todo = [m for m in graph[start] if m in graph]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        assert start not in graph[module], f"{module} imports {start}: an import cycle"
        todo += [m for m in graph[module] if m in graph]
    assert {"policyhub.storage.group_commit", "policyhub.storage.group_read"} <= seen
