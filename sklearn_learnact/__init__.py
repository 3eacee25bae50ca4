"""sklearn-learnact: learned activation functions as scikit-learn estimators.

The top-level names are imported on first use (PEP 562), so that importing the
package, and ``learnact --help`` or ``--version``, does not import torch.
"""

import importlib

__version__ = "0.1.0"

#: Top-level name -> the subpackage that defines it.
_LAZY = {
    "LearnedActivationClassifier": "estimators",
    "LearnedActivationRegressor": "estimators",
    "TrainingDivergedError": "estimators",
    "SplineActivationCompressor": "compression",
    "load_model": "persistence",
    "save_model": "persistence",
}
#: Subpackages and modules reachable as attributes before they are imported.
_SUBMODULES = {
    "activations",
    "cli",
    "compare",
    "compression",
    "datasets",
    "estimators",
    "evaluation",
    "export",
    "nets",
    "persistence",
    "plotting",
    "reports",
    "search",
    "studies",
    "surrogate",
}

__all__ = [
    "LearnedActivationClassifier",
    "LearnedActivationRegressor",
    "SplineActivationCompressor",
    "TrainingDivergedError",
    "__version__",
    "load_model",
    "save_model",
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBMODULES})
