"""The import graph runs one way (docs/architecture.rst), with no private reach.

Every module of the package is parsed (not imported); each import of another
of the library's packages must be allowed by ``ALLOWED`` and must go through
that package's public names, never one of its private ``_modules``.
"""

import ast
from pathlib import Path

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
        "plotting",
        "reports",
    },  # fmt: skip
    "__init__": {"estimators", "compression"},
    "__main__": {"cli"},
}


def _package(path: Path) -> str:
    """The library package a file belongs to (its first part below the root)."""
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def _imports(path: Path):
    """(target package, target module path) of every library import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = path.relative_to(ROOT).with_suffix("").parts
    package = here[:-1] if here[-1] != "__init__" else here[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                parts = (*base, *(node.module.split(".") if node.module else ()))
            elif node.module and node.module.startswith("sklearn_learnact"):
                parts = tuple(node.module.split(".")[1:])
            else:
                continue
            names = [a.name for a in node.names]
            targets = [parts] if parts else [(n,) for n in names]
            if parts and len(parts) == 1 and node.level:
                # "from .. import datasets": the names are modules or packages
                targets += [(*parts, n) for n in names if (ROOT / n).exists()]
            yield from (t for t in targets if t)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sklearn_learnact."):
                    yield tuple(alias.name.split(".")[1:])


FILES = sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_one_way_through_public_names(path):
    own = _package(path)
    for target in _imports(path):
        other = target[0].removesuffix(".py")
        if other == own or other.startswith("_"):
            continue  # itself, or a private helper module shared by all
        assert other in ALLOWED[own], (
            f"{path.relative_to(ROOT)} imports {'.'.join(target)}: {own} may "
            f"import only {sorted(ALLOWED[own])} (docs/architecture.rst)"
        )
        private = [part for part in target[1:] if part.startswith("_")]
        assert not private, (
            f"{path.relative_to(ROOT)} imports {'.'.join(target)}, a private "
            f"module of {other}: use {other}'s public names"
        )


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
