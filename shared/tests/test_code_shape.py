"""The code's shape, read from the source with ``ast``: no import circle between the modules of
the services' and the shared packages, absolute imports only, no module over 400 lines and no
function over 40 (migrations aside).

An import counts at module level (also under ``try``/``if``), and separately with those under
``if TYPE_CHECKING:``; imports inside functions are left out (they run later, on a call).
``from a.b import c`` depends on ``a.b`` (its ``__init__``) and, when ``c`` is a module, on
``a.b.c``; the implicit import of a module's parent packages is not an edge (every package
would circle with its own submodules).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(p for p in ROOT.glob("services/*/looptrace_*") if p.is_dir())
PACKAGES.append(ROOT / "shared" / "looptrace_shared")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in package.rglob("*.py"):
            parts = list(path.relative_to(package.parent).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(name: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    target = node.module or ""
    if node.level:
        is_package = MODULES[name].name == "__init__.py"
        base = name.split(".") if is_package else name.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, *([node.module] if node.module else [])])
    yield target
    yield from (f"{target}.{alias.name}" for alias in node.names)


def _imports(name: str, body: list[ast.stmt], type_checking: bool) -> Iterator[tuple[str, bool]]:
    """(module imported, whether only under TYPE_CHECKING) for the statements of ``body``."""
    for node in body:
        if isinstance(node, ast.If):
            yield from _imports(name, node.body, type_checking or _is_type_checking(node))
            yield from _imports(name, node.orelse, type_checking)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _imports(name, block, type_checking)
            for handler in node.handlers:
                yield from _imports(name, handler.body, type_checking)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for target in _imported(name, node):
                if target in MODULES and target != name:
                    yield target, type_checking


def _graph(with_type_checking: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        body = ast.parse(path.read_text()).body
        graph[name] = {
            target
            for target, type_checking in _imports(name, body, False)
            if with_type_checking or not type_checking
        }
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = stack[stack.index(node) :]
                    del stack[stack.index(node) :]
                    if len(component) > 1:
                        circles.append(sorted(component))
            elif target not in index:
                index[target] = low[target] = len(index)
                stack.append(target)
                work.append((target, iter(sorted(graph[target]))))
            elif target in stack:
                low[node] = min(low[node], index[target])
    return circles


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_every_package_is_seen() -> None:
    names = {package.name for package in PACKAGES}
    assert {"looptrace_production", "looptrace_shared", "looptrace_orders"} <= names
    assert "looptrace_production.domain.supplier_order" in MODULES


@pytest.mark.parametrize("with_type_checking", [False, True], ids=["module level", "typing"])
def test_no_import_circle(with_type_checking: bool) -> None:
    assert _circles(_graph(with_type_checking)) == []


def test_imports_are_absolute() -> None:
    relative = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in MODULES.values()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.level
    ]
    assert relative == []


def _source_files() -> Iterator[Path]:
    for package in PACKAGES:
        for path in package.rglob("*.py"):
            if "migrations" not in path.relative_to(package).parts:
                yield path


def test_no_module_or_function_too_long() -> None:
    too_long: list[str] = []
    for path in _source_files():
        text = path.read_text()
        where = path.relative_to(ROOT)
        if (lines := len(text.splitlines())) > MAX_MODULE_LINES:
            too_long.append(f"{where}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{where}:{node.lineno} {node.name}: {length} lines")
    assert too_long == []
