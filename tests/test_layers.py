"""The package layout follows the data flow, and imports only go down it (docs/architecture.md):

    errors -> inputs, io, venues -> results -> program -> plan -> solve -> transition -> analysis -> batch -> report
    -> cli

A module may import from its own tier or a lower one, never a higher one (imports under ``if TYPE_CHECKING:`` are
type annotations only and not counted), and no two modules import each other at load time, directly or around a
circle. The one exception is ALLOWED, listed by name.
"""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import ROOT

PACKAGE = ROOT / "allocator"

#: Lowest first. A module belongs to the first tier naming it or one of its packages.
TIERS: list[tuple[str, ...]] = [
    ("allocator.errors", "allocator.lazy"),
    ("allocator.inputs", "allocator.io", "allocator.venues"),
    ("allocator.results",),
    ("allocator.program",),
    ("allocator.plan",),
    ("allocator.solve",),
    ("allocator.transition",),
    ("allocator.analysis",),
    ("allocator.batch",),
    ("allocator.report",),
    ("allocator.cli", "allocator.cli_options", "allocator"),
]

#: Upward imports allowed by name, each a deferred import inside a function (never at load time): the results'
#: face methods ``to_html()`` and ``_repr_html_()`` hand the result to the report (a higher tier), so that a user
#: writes ``result.to_html()`` (or ``report.to_html()`` of a StressReport; BacktestResult, not a pydantic
#: Reportable, has its own two). Nothing else in results/, transition/ or
#: analysis/ may import the report. The circle these edges close (the report reads results) is left out of the
#: circle test; the test below keeps them deferred.
ALLOWED = {("allocator.results.reportable", "allocator.report"),
           ("allocator.analysis.backtest.result", "allocator.report")}


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _tier(module: str) -> int:
    for i, tier in enumerate(TIERS):
        if any(module == name or module.startswith(name + ".") for name in tier if name != "allocator"):
            return i
    return len(TIERS) - 1  # the package face, allocator/__init__.py


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(every allocator module imported anywhere, those imported at load time), type-checking blocks left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    anywhere: set[str] = set()
    loaded: set[str] = set()

    def visit(node: ast.AST, top: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child, top)
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("allocator"):
            names = {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
            found = {n for n in names if _exists(n)}
            anywhere.update(found)
            if top:
                loaded.update(found)
        elif isinstance(node, ast.Import):
            found = {alias.name for alias in node.names if alias.name.startswith("allocator") and _exists(alias.name)}
            anywhere.update(found)
            if top:
                loaded.update(found)
        deeper = top and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, deeper)

    visit(tree, True)
    return anywhere, loaded


def _exists(module: str) -> bool:
    path = ROOT / Path(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph() -> dict[str, tuple[set[str], set[str]]]:
    return {_name(path): _imports(path) for path in PACKAGE.rglob("*.py")}


def test_imports_only_go_down_the_data_flow():
    upward = sorted(f"{module} (tier {_tier(module)}) imports {target} (tier {_tier(target)})"
                    for module, (anywhere, _) in _graph().items() for target in anywhere
                    if _tier(target) > _tier(module) and (module, target) not in ALLOWED)
    assert upward == []


def test_the_allowed_upward_imports_are_deferred():
    """Each ALLOWED edge exists and is a function-level import (the report loads only when a report is asked for),
    so importing a result never imports plotly or the report."""
    graph = _graph()
    for module, target in ALLOWED:
        anywhere, loaded = graph[module]
        assert target in anywhere, f"{module} no longer imports {target}: remove it from ALLOWED"
        assert target not in loaded, f"{module} imports {target} at load time"


def test_no_import_circle():
    """Every import counts, deferred ones too (a function-level import that hides a circle is still one); a
    package's face (its __init__) importing its own modules is how it re-exports them, not a dependency, but a
    module that leaves the package and comes back to its face is a circle."""
    graph = {module: {t for t in anywhere if t != module and not t.startswith(module + ".")
                      and (module, t) not in ALLOWED}
             for module, (anywhere, _) in _graph().items()}
    circles = set()
    for start in graph:
        stack, seen = [(start, (start,))], {start}
        while stack:
            node, route = stack.pop()
            for target in graph.get(node, ()):
                if target == start:
                    circles.add(" -> ".join((*route, start)))
                elif target not in seen:
                    seen.add(target)
                    stack.append((target, (*route, target)))
    assert sorted(circles) == []


def test_every_module_has_a_tier():
    assert all(_tier(module) < len(TIERS) for module in _graph())
