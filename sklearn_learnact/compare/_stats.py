"""The paired statistics of a comparison: the corrected resampled t-test, its
intervals clipped to the metric's range, and Holm's adjustment."""

import math
from collections.abc import Iterable

import numpy as np
from scipy import stats
from sklearn.base import is_classifier

__all__ = ["MIN_PAIRED_FOLDS", "corrected_ttest", "score_bounds", "untestable"]

#: Fewest paired differences the test is run on: from 2 (1 degree of freedom)
#: one chance agreement of the folds gives any p-value.
MIN_PAIRED_FOLDS = 3


#: Ranges of scikit-learn's scorers, by name prefix (first match wins).
_BOUNDS = (
    (("neg_",), (-math.inf, 0.0)),
    (("r2", "explained_variance", "d2_"), (-math.inf, 1.0)),
    (("matthews_corrcoef",), (-1.0, 1.0)),
    (("adjusted_rand_score",), (-0.5, 1.0)),
    (("positive_likelihood_ratio",), (0.0, math.inf)),
    (
        (
            "accuracy",
            "balanced_accuracy",
            "top_k_accuracy",
            "average_precision",
            "roc_auc",
            "f1",
            "precision",
            "recall",
            "jaccard",
            "rand_score",
            "completeness_score",
            "homogeneity_score",
            "v_measure_score",
            "fowlkes_mallows_score",
            "normalized_mutual_info_score",
        ),
        (0.0, 1.0),
    ),
)


def score_bounds(scoring: str | None, estimator=None) -> tuple[float, float]:
    """The range a score can take, for clipping its confidence intervals.

    Parameters
    ----------
    scoring : str or None
        A scikit-learn scorer name, or None for the estimator's ``score``
        (accuracy for a classifier, R^2 for a regressor).
    estimator : estimator, optional
        Needed when ``scoring`` is None.

    Returns
    -------
    (low, high) : tuple of float
        ``(-inf, inf)`` for a name not known here (e.g. a custom scorer).

    Examples
    --------
    >>> from sklearn_learnact.compare import score_bounds
    >>> score_bounds("accuracy"), score_bounds("r2")
    ((0.0, 1.0), (-inf, 1.0))
    >>> score_bounds("neg_mean_absolute_error"), score_bounds("my_scorer")
    ((-inf, 0.0), (-inf, inf))
    """
    if scoring is None:
        scoring = "accuracy" if is_classifier(estimator) else "r2"
    if isinstance(scoring, str):
        for prefixes, bounds in _BOUNDS:
            if scoring.startswith(prefixes):
                return bounds
    return (-math.inf, math.inf)


def corrected_ttest(
    scores_a: Iterable[float], scores_b: Iterable[float], n_train: float, n_test: float
) -> tuple[float, float]:
    """Nadeau-Bengio corrected resampled paired t-test.

    Parameters
    ----------
    scores_a, scores_b : array-like of shape (k,)
        Scores of two models on the same k splits.
    n_train, n_test : float
        Mean training and test set sizes of the splits.

    Returns
    -------
    t : float
        The corrected t statistic of ``mean(a - b)``.
    p_value : float
        Two-sided, from Student's t with k - 1 degrees of freedom.

    Both are NaN where the differences cannot be tested
    (:func:`untestable`): fewer than :data:`MIN_PAIRED_FOLDS` of them, or all
    equal (no variance: identical differences are no evidence, however
    many).

    Examples
    --------
    >>> from sklearn_learnact.compare import corrected_ttest
    >>> t, p = corrected_ttest([0.8, 0.82, 0.79, 0.81, 0.8],
    ...                        [0.7, 0.71, 0.72, 0.69, 0.7], 800, 200)
    >>> round(t, 2), p < 0.01
    (7.97, True)
    """
    diff = np.asarray(scores_a, float) - np.asarray(scores_b, float)
    if untestable(diff):
        return math.nan, math.nan
    k = diff.size
    t = diff.mean() / np.sqrt((1 / k + n_test / n_train) * diff.var(ddof=1))
    return float(t), float(2 * stats.t.sf(abs(t), df=k - 1))


def untestable(differences: Iterable[float]) -> str:
    """Why paired differences cannot be tested, or ``""`` if they can.

    Parameters
    ----------
    differences : array-like of shape (k,)
        Per fold, the score of one model minus the other's.

    Returns
    -------
    reason : str
        ``"failed folds"`` (a difference is NaN), ``"too few folds"`` (fewer
        than :data:`MIN_PAIRED_FOLDS`) or ``"no variance"`` (all equal), else
        ``""``.

    Examples
    --------
    >>> from sklearn_learnact.compare import untestable
    >>> untestable([0.01, -0.02]), untestable([-0.07, -0.07, -0.07])
    ('too few folds', 'no variance')
    >>> untestable([0.01, 0.03, -0.01])
    ''
    """
    diff = np.asarray(differences, float)
    if not np.isfinite(diff).all():
        return "failed folds"
    if diff.size < MIN_PAIRED_FOLDS:
        return "too few folds"
    if np.ptp(diff) <= 1e-12 * max(1.0, float(np.abs(diff).max())):
        return "no variance"
    return ""


def _corrected_ci(
    values, n_train, n_test, bounds=(-math.inf, math.inf), level=0.95
) -> tuple[float, float]:
    """Corrected Student t interval of the mean of ``values``, clipped to
    ``bounds``; NaN if a value is NaN."""
    values = np.asarray(values, float)
    k, mean = values.size, values.mean()
    if k < 2 or not np.isfinite(mean):
        return float(mean), float(mean)
    half = stats.t.ppf((1 + level) / 2, df=k - 1) * np.sqrt(
        (1 / k + n_test / n_train) * values.var(ddof=1)
    )
    low, high = bounds
    return float(max(mean - half, low)), float(min(mean + half, high))


def _holm(p_values: np.ndarray) -> np.ndarray:
    order = np.argsort(p_values)
    m = len(p_values)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p_values[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _diff_bounds(bounds) -> tuple[float, float]:
    width = bounds[1] - bounds[0]
    return (-width, width) if math.isfinite(width) else (-math.inf, math.inf)
