"""What a comparison returns besides its table."""

import math
from dataclasses import dataclass, field

import pandas as pd
from sklearn.base import BaseEstimator

from . import _summary

__all__ = ["Comparison"]


@dataclass
class Comparison:
    """Everything behind a :func:`compare_activations` table.

    Attributes
    ----------
    table : pandas.DataFrame
        The returned table, one row per activation.
    fold_scores : pandas.DataFrame
        Long table, one row per reported fit: ``activation``, ``fold``,
        ``condition`` (``"clean"``, or ``"dirty"`` in robustness mode),
        ``score`` (NaN for a failed fold), ``error`` (its reason),
        ``fit_time``, ``score_time``, ``n_iter``, ``under_trained``,
        ``movement`` and ``params`` (the configuration scored, JSON).
    estimators : dict
        Per activation, its chosen configuration refitted on all of X, y
        (empty with ``refit=False``; an activation whose refit failed is
        missing); their ``history_`` gives the training curves and their
        activations the learned shapes.
    splits : list of (train, test) index arrays
        The cross-validation splits every activation was scored on.
    scoring : str
        The metric's name (``"accuracy"``, ``"r2"``, a scorer name, or the
        callable's name).
    score_bounds : (float, float)
        The range the metric can take, to which the intervals are clipped
        (``(-inf, inf)`` when unknown).
    alpha : float
        Level of the Holm-adjusted tests.
    selection : str
        How each activation's configuration was chosen: ``"none"`` (one
        configuration), ``"same folds"`` (chosen and scored on the same
        splits: optimistically biased) or ``"nested"``.
    n_inner_splits : int or None
        Inner splits per outer training fold when nested.
    search : str
        ``"grid"`` or ``"optuna"``.
    n_candidates : int or None
        Configurations per activation: the grid's size, or Optuna's trials.
    max_iter : int or None
        The estimator's ``max_iter`` (maximum epochs of a fit).
    input_ranges : dict
        Per refitted activation, ``(min, max)`` of each hidden layer's inputs
        on all of X (:func:`~sklearn_learnact.evaluation.activation_input_ranges`).
    initial_activations : dict
        Per refitted learned activation, its hidden activation modules before
        training.
    """

    table: pd.DataFrame
    fold_scores: pd.DataFrame
    estimators: dict[str, BaseEstimator] = field(default_factory=dict)
    splits: list = field(default_factory=list)
    scoring: str = "score"
    score_bounds: tuple[float, float] = (-math.inf, math.inf)
    alpha: float = 0.05
    selection: str = "none"
    n_inner_splits: int | None = None
    search: str = "grid"
    n_candidates: int | None = None
    max_iter: int | None = None
    input_ranges: dict[str, list] = field(default_factory=dict)
    initial_activations: dict[str, list] = field(default_factory=dict)

    def verdict(self) -> str:
        """The answer in plain words, e.g. "No learned activation beat relu
        significantly (5-fold CV, Holm-adjusted, alpha 0.05); best: mlp,
        +0.5 pp [-1.2, +2.2]": the difference from the baseline's mean score
        (percentage points for a score in [0, 1]) with its 95% interval."""
        return _summary.verdict(self)

    def caveats(self) -> list[str]:
        """What limits the verdict: failed fits, under-training, activations
        that did not learn, selection bias, low power (most important first)."""
        return _summary.caveats(self)

    def selection_note(self) -> str:
        """How each activation's configuration was chosen, in one sentence."""
        return _summary.selection_text(self)

    def interval_note(self) -> str:
        """How the confidence intervals were bounded, in one sentence."""
        return _summary.bounds_text(self)
