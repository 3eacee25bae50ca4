"""Comparisons: kept so that ``sklearn_learnact.search.compare`` imports keep
working; the code lives in :mod:`sklearn_learnact.compare`."""

from ..compare import (
    DEFAULT_ACTIVATIONS,
    Comparison,
    compare_activations,
    corrected_ttest,
    score_bounds,
)

__all__ = [
    "DEFAULT_ACTIVATIONS",
    "Comparison",
    "compare_activations",
    "corrected_ttest",
    "score_bounds",
]
