"""Compare learned and fixed activations: grids, Optuna studies, paired tests."""

from .compare import (
    DEFAULT_ACTIVATIONS,
    Comparison,
    compare_activations,
    corrected_ttest,
)
from .grids import activation_grid, parse_activations

__all__ = [
    "DEFAULT_ACTIVATIONS",
    "Comparison",
    "activation_grid",
    "compare_activations",
    "corrected_ttest",
    "parse_activations",
]
