"""Compare learned and fixed activations (grids, Optuna studies, paired tests),
and search new ones with a surrogate (seed 003)."""

from .compare import (
    DEFAULT_ACTIVATIONS,
    Comparison,
    compare_activations,
    corrected_ttest,
)
from .grids import activation_grid, parse_activations
from .surrogate import SurrogateActivationSearch

__all__ = [
    "DEFAULT_ACTIVATIONS",
    "Comparison",
    "SurrogateActivationSearch",
    "activation_grid",
    "compare_activations",
    "corrected_ttest",
    "parse_activations",
]
