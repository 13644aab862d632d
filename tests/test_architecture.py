"""The layers of docs/architecture.md, checked on the source: imports point down only, and no
module imports (directly or through others) one that imports it back.

Every ``import``/``from ... import`` counts, at module level or inside a function: a lazy import
still couples the two modules, it only hides the cycle from the interpreter.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import groundup

SRC = Path(groundup.__file__).parent

# rank of each area; an import may go to the same or a lower rank only
RANKS = {"data": 1, "nn": 2, "optim": 2, "text": 3, "vision": 3, "train": 4,
         "lab": 5, "commands": 5, "cli": 6, "__main__": 6}


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = ("groundup",) + path.relative_to(SRC).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                targets = ([base] if node.module else []) + [f"{base}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[name].update(t for t in targets if t in mods and t != name)
    return graph


def _rank(module: str) -> int:
    parts = module.split(".")
    return RANKS.get(parts[1], 0) if len(parts) > 1 else 0   # top-level helpers: the foundation


def test_imports_point_down_only():
    graph = _graph()
    upward = sorted(f"{m} -> {t}" for m, ts in graph.items() for t in ts if _rank(t) > _rank(m))
    assert not upward, "imports that point up a layer:\n" + "\n".join(upward)


def test_no_import_cycles():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:            # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_check_sees_a_cycle_and_an_upward_import(monkeypatch):
    """The two tests above can fail: a fabricated graph with both faults is reported."""
    fake = {"groundup.data.a": {"groundup.lab.b"}, "groundup.lab.b": {"groundup.data.a"}}
    monkeypatch.setattr(__import__(__name__), "_graph", lambda: fake)
    with pytest.raises(AssertionError, match="point up"):
        test_imports_point_down_only()
    with pytest.raises(AssertionError, match="cycles"):
        test_no_import_cycles()
