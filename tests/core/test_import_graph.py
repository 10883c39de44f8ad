"""The package's import graph has no cycles: between modules, and between its subpackages.

Every `import` counts, those inside functions too (a lazy import is still a
dependency). The package's `__init__` is the public facade, which re-exports
from everywhere, so edges into and out of it are left out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import gaisnet_opt

ROOT = Path(gaisnet_opt.__file__).parent
PACKAGE = "gaisnet_opt"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> Iterator[str]:
    """The package's modules that `path` imports (a `from X import name` of a submodule counts as that submodule)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != PACKAGE:
                yield target


def module_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in ROOT.rglob("*.py")}
    modules = set(files)
    return {m: {t for t in _imports(p, modules) if t != m} for m, p in files.items() if m != PACKAGE}


def _unit(module: str) -> str:
    """A module's subpackage (`gaisnet_opt.solvers`), or the module itself at the top level (`gaisnet_opt.cost`)."""
    parts = module.split(".")
    return ".".join(parts[:2])


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_cycle_between_modules() -> None:
    assert cycles(module_graph()) == []


def test_no_cycle_between_subpackages() -> None:
    graph: dict[str, set[str]] = {}
    for m, targets in module_graph().items():
        graph.setdefault(_unit(m), set()).update(_unit(t) for t in targets if _unit(t) != _unit(m))
    assert cycles(graph) == []


def test_the_graph_sees_imports() -> None:
    """The checks above could pass on an empty graph: the checker reads the solver's known dependencies."""
    graph = module_graph()
    assert "gaisnet_opt.cost" in graph["gaisnet_opt.checker"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
