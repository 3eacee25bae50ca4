"""Compare learned and fixed activations (grids, Optuna studies, paired tests),
and search new ones with a surrogate (seed 003)."""

from ..compare import (
    DEFAULT_ACTIVATIONS,
    Comparison,
    activation_grid,
    compare_activations,
    corrected_ttest,
    parse_activations,
    score_bounds,
)
from ..evaluation import (
    BARELY_MOVED,
    InitialActivations,
    activation_input_ranges,
    activation_movement,
    activation_outputs,
    fit_and_score,
)
from ..surrogate import SurrogateActivationSearch

__all__ = [
    "BARELY_MOVED",
    "DEFAULT_ACTIVATIONS",
    "Comparison",
    "InitialActivations",
    "SurrogateActivationSearch",
    "activation_grid",
    "activation_input_ranges",
    "activation_movement",
    "activation_outputs",
    "compare_activations",
    "corrected_ttest",
    "fit_and_score",
    "parse_activations",
    "score_bounds",
]
