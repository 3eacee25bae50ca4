"""The import graph runs one way (docs/architecture.rst), with no private reach
and no circle.

Every module of the package is parsed (not imported), lazy imports inside
functions included. Each import of another of the library's packages must be
allowed by ``ALLOWED`` and must go through that package's public names: never
one of its private ``_modules``, never a private ``_name``. And no module
imports itself back through others: the module-level import graph is acyclic.
"""

import ast
from pathlib import Path
from typing import NamedTuple

import pytest

import sklearn_learnact

ROOT = Path(sklearn_learnact.__file__).parent

#: What each package may import from the library (besides itself and the
#: private top-level helper modules ``sklearn_learnact._*``).
ALLOWED = {
    "activations": set(),
    "nets": {"activations"},
    "estimators": {"activations", "nets"},
    "datasets": set(),
    "compression": {"activations", "nets", "estimators"},
    "evaluation": {"activations", "estimators"},
    "studies": {"estimators", "nets", "evaluation"},
    "compare": {"activations", "estimators", "datasets", "evaluation", "studies"},
    "surrogate": {
        "activations",
        "nets",
        "estimators",
        "evaluation",
        "studies",
        "compare",
    },
    "search": {"evaluation", "studies", "compare", "surrogate"},
    "export": {"activations", "nets", "estimators", "compression"},
    "persistence": {"activations", "estimators", "compression"},
    "plotting": {
        "activations",
        "nets",
        "estimators",
        "compression",
        "evaluation",
        "compare",
        "surrogate",
    },
    "reports": {"estimators", "compression", "evaluation", "compare", "plotting"},
    "cli": {
        "activations",
        "nets",
        "estimators",
        "datasets",
        "compression",
        "evaluation",
        "studies",
        "compare",
        "surrogate",
        "search",
        "export",
        "persistence",
        "plotting",
        "reports",
    },  # fmt: skip
    "__init__": {"estimators", "compression", "persistence"},
    "__main__": {"cli"},
}


class Import(NamedTuple):
    """One imported library module, or one name taken from it."""

    module: tuple[str, ...]  # parts below the root; () is the root package
    name: str | None  # a name taken from ``module`` that is not a module itself
    line: int


def _module(path: Path) -> tuple[str, ...]:
    """A file's module, as parts below the root (a package is its folder)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def _is_module(parts: tuple[str, ...]) -> bool:
    where = ROOT.joinpath(*parts)
    return where.with_suffix(".py").is_file() or (where / "__init__.py").is_file()


def _imports(path: Path):
    """Every import of the library in ``path``, anywhere in it."""
    here = _module(path)
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = (*base, *(node.module.split(".") if node.module else ()))
            elif node.module and node.module.split(".")[0] == "sklearn_learnact":
                module = tuple(node.module.split(".")[1:])
            else:
                continue
            for alias in node.names:
                if _is_module((*module, alias.name)):  # "from . import compare"
                    yield Import((*module, alias.name), None, node.lineno)
                else:
                    yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sklearn_learnact":
                    yield Import(tuple(alias.name.split(".")[1:]), None, node.lineno)


def _package(module: tuple[str, ...]) -> str:
    """The library package of a module: its first part (the root: ``__init__``)."""
    return module[0] if module else "__init__"


FILES = sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def _name(module: tuple[str, ...]) -> str:
    return ".".join(module) or "__init__"


def _where(path: Path, imp: Import) -> str:
    what = _name(imp.module) + (f" import {imp.name}" if imp.name else "")
    return f"{path.relative_to(ROOT)}:{imp.line} imports {what}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_one_way_through_public_names(path):
    own = _package(_module(path))
    for imp in _imports(path):
        other = _package(imp.module)
        if other == own or other.startswith("_"):
            continue  # itself, or a private helper module shared by all
        assert other in ALLOWED[own], (
            f"{_where(path, imp)}: {own} may import only {sorted(ALLOWED[own])} "
            "(docs/architecture.rst)"
        )
        private = [part for part in imp.module[1:] if part.startswith("_")]
        assert not private, (
            f"{_where(path, imp)}, a private module of {other}: use {other}'s "
            "public names"
        )


def _private(name: str | None) -> bool:
    return bool(name) and name.startswith("_") and not name.endswith("__")


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_is_imported_from_another_package(path):
    own = _package(_module(path))
    reached = [
        _where(path, imp)
        for imp in _imports(path)
        if _package(imp.module) != own and _private(imp.name)
    ]
    assert not reached, (
        f"{'; '.join(reached)}: a private name of another package; give it a "
        "public name there (documented, in its __all__), or move it"
    )


def _graph() -> dict[tuple[str, ...], dict[tuple[str, ...], int]]:
    """Each module's imports of other library modules, with a line of each."""
    graph = {}
    for path in FILES:
        here = _module(path)
        edges = graph.setdefault(here, {})
        for imp in _imports(path):
            if imp.module != here and _is_module(imp.module):
                edges.setdefault(imp.module, imp.line)
    return graph


def _circle(graph) -> list[tuple[str, ...]] | None:
    """A circle of imports, as the modules along it, or None."""
    state = dict.fromkeys(graph, "new")
    trail: list[tuple[str, ...]] = []

    def visit(node):
        state[node] = "open"
        trail.append(node)
        for nxt in graph[node]:
            if state[nxt] == "open":
                return trail[trail.index(nxt) :] + [nxt]
            if state[nxt] == "new":
                found = visit(nxt)
                if found:
                    return found
        state[node] = "done"
        trail.pop()
        return None

    for node in graph:
        if state[node] == "new":
            found = visit(node)
            if found:
                return found
    return None


def _circles(graph) -> list[list[tuple[str, ...]]]:
    """Every circle of imports (one per import that closes one)."""
    graph = {node: dict(edges) for node, edges in graph.items()}
    found = []
    while circle := _circle(graph):
        found.append(circle)
        del graph[circle[-2]][circle[-1]]  # look for the others
    return found


def test_the_module_import_graph_has_no_circle():
    graph = _graph()
    shown = [
        " -> ".join(
            [
                *(f"{_name(a)} (line {graph[a][b]})" for a, b in zip(c, c[1:])),
                _name(c[-1]),
            ]
        )
        for c in _circles(graph)
    ]
    assert not shown, (
        f"import circles: {'; '.join(shown)}. Move what the modules of a circle "
        "share into a module that each of them imports"
    )


def test_the_circle_check_finds_a_circle():
    graph = {("a",): {("b",): 1}, ("b",): {("c",): 2}, ("c",): {("a",): 3}, ("d",): {}}
    assert _circle(graph) == [("a",), ("b",), ("c",), ("a",)]
    graph[("d",)] = {("d", "x"): 4}
    graph[("d", "x")] = {("d",): 5}
    assert len(_circles(graph)) == 2
    assert _circle({("a",): {("b",): 1}, ("b",): {}}) is None


def test_the_allowed_graph_has_no_cycle():
    done = set()

    def visit(node, trail):
        assert node not in trail, f"import cycle: {' -> '.join([*trail, node])}"
        if node in done:
            return
        for nxt in ALLOWED.get(node, ()):
            visit(nxt, (*trail, node))
        done.add(node)

    for node in ALLOWED:
        visit(node, ())
