"""The package's modules import each other without circles, and the layers in the right direction.

The graph counts every import statement, including those under ``TYPE_CHECKING`` and inside
functions: a type-only or deferred import still ties the two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import wingbeat

_SRC = Path(wingbeat.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(_SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in _SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # ``from pkg import mod`` names a module; ``from mod import Name`` names mod
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            graph[name].update(t for t in targets if t in files and t != name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _without_package_inits(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    # a package's __init__ re-exports its modules lazily (wingbeat._exports); an edge into an
    # __init__ is a name looked up through it, not a module that must load first
    inits = {name for name in graph if (_SRC.parent / name.replace(".", "/") / "__init__.py").exists()}
    return {k: {t for t in v if t not in inits} for k, v in graph.items() if k not in inits}


def test_the_import_graph_sees_the_known_edges() -> None:
    graph = _import_graph()
    assert "wingbeat.hyperliquid.schemas_fields" in graph["wingbeat.hyperliquid.schemas_account"]
    assert "wingbeat.sim.venue.risk" in graph["wingbeat.sim.venue.engine"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_itself_through_others() -> None:
    assert _cycles(_without_package_inits(_import_graph())) == []


def test_layers_import_downwards_only() -> None:
    forbidden = {
        "wingbeat.core": ("wingbeat.hyperliquid", "wingbeat.sim", "wingbeat.engine", "wingbeat.backtest"),
        "wingbeat.hyperliquid": ("wingbeat.sim", "wingbeat.engine", "wingbeat.backtest"),
        "wingbeat.sim": ("wingbeat.engine", "wingbeat.backtest"),
        # the venue half is plain computation: it never reaches for the protocol half
        "wingbeat.sim.venue": ("wingbeat.sim.protocol",),
    }
    wrong = [
        (module, target)
        for module, targets in _import_graph().items()
        for layer, above in forbidden.items()
        if module.startswith(layer + ".") or module == layer
        for target in targets
        if target.startswith(above)
    ]
    assert wrong == []


def test_the_venue_half_of_the_local_exchange_loads_without_the_network_stack() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pkgutil, importlib, wingbeat.sim.venue as v\n"
        "for m in pkgutil.iter_modules(v.__path__): importlib.import_module(f'wingbeat.sim.venue.{m.name}')\n"
        "print(sorted(n for n in ('aiohttp', 'wingbeat.sim.protocol') if n in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
