"""Compare learned and fixed activations, and search new ones: the names of
earlier versions, kept so that users' imports keep working.

The code lives in one package per product: :mod:`sklearn_learnact.compare`
(comparisons, paired statistics, grids), :mod:`sklearn_learnact.studies`
(Optuna studies and storages; also ``sklearn_learnact.search.optuna``),
:mod:`sklearn_learnact.surrogate` (the surrogate search of seed 003; also
``sklearn_learnact.search.surrogate``) and :mod:`sklearn_learnact.evaluation`
(the one fit-and-score path and the fit diagnostics). Nothing is defined here.
"""

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
