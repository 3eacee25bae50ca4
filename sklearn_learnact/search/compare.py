"""Which activation is best for my data, learned or fixed? A fair comparison.

Every activation is trained and scored on the same cross-validation splits,
with the same tuning budget, so the per-fold scores are paired and the
differences between activations can be tested.

Significance test
-----------------
Each activation is compared with a baseline (``"relu"`` by default) by the
corrected resampled t-test of Nadeau and Bengio (2003, *Inference for the
Generalization Error*, Machine Learning 52): the k per-fold differences
``d_j`` give ``t = mean(d) / sqrt((1/k + n_test/n_train) * var(d))`` with
k - 1 degrees of freedom. The correction ``n_test/n_train`` accounts for the
overlap of the training sets across folds, which makes the plain paired t-test
far too optimistic. The p-values are then adjusted for the number of
comparisons by Holm's method; ``significant`` is ``p_value_holm < alpha``.
The confidence intervals use the same corrected variance.
"""

import json
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import (
    KFold,
    ParameterGrid,
    StratifiedKFold,
    check_cv,
)
from sklearn.utils import _safe_indexing, check_random_state

from ..activations import is_learnable
from ..estimators import learnact_step
from .grids import parse_activations
from .optuna import _json_params

__all__ = [
    "DEFAULT_ACTIVATIONS",
    "Comparison",
    "compare_activations",
    "corrected_ttest",
]

#: The default comparison: three fixed and five learned activations.
DEFAULT_ACTIVATIONS = (
    "relu",
    "tanh",
    "sigmoid",
    "affine",
    "mixture",
    "rational",
    "spline",
    "mlp",
)


@dataclass
class Comparison:
    """Everything behind a :func:`compare_activations` table.

    Attributes
    ----------
    table : pandas.DataFrame
        The returned table, one row per activation.
    fold_scores : pandas.DataFrame
        Long table: ``activation``, ``fold``, ``condition`` (``"clean"``, or
        ``"dirty"`` in robustness mode) and ``score``.
    estimators : dict
        Per activation, its chosen configuration refitted on all of X, y
        (empty with ``refit=False``); their ``history_`` gives the training
        curves and their activations the learned shapes.
    splits : list of (train, test) index arrays
        The cross-validation splits every activation was scored on.
    """

    table: pd.DataFrame
    fold_scores: pd.DataFrame
    estimators: dict[str, BaseEstimator] = field(default_factory=dict)
    splits: list = field(default_factory=list)


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

    Examples
    --------
    >>> from sklearn_learnact.search import corrected_ttest
    >>> t, p = corrected_ttest([0.8, 0.82, 0.79, 0.81, 0.8],
    ...                        [0.7, 0.71, 0.72, 0.69, 0.7], 800, 200)
    >>> round(t, 2), p < 0.01
    (7.97, True)
    """
    diff = np.asarray(scores_a, float) - np.asarray(scores_b, float)
    k = diff.size
    mean, var = diff.mean(), diff.var(ddof=1) if k > 1 else 0.0
    if var == 0:
        return (0.0, 1.0) if mean == 0 else (float(np.copysign(np.inf, mean)), 0.0)
    t = mean / np.sqrt((1 / k + n_test / n_train) * var)
    return float(t), float(2 * stats.t.sf(abs(t), df=k - 1))


def _corrected_ci(values, n_train, n_test, level=0.95) -> tuple[float, float]:
    values = np.asarray(values, float)
    k, mean = values.size, values.mean()
    if k < 2:
        return float(mean), float(mean)
    half = stats.t.ppf((1 + level) / 2, df=k - 1) * np.sqrt(
        (1 / k + n_test / n_train) * values.var(ddof=1)
    )
    return float(mean - half), float(mean + half)


def _holm(p_values: np.ndarray) -> np.ndarray:
    order = np.argsort(p_values)
    m = len(p_values)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p_values[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _splits(cv, X, y, classifier: bool, random_state) -> list:
    if isinstance(cv, numbers.Integral):
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        splitter_cls = StratifiedKFold if classifier else KFold
        cv = splitter_cls(n_splits=int(cv), shuffle=True, random_state=seed)
    return list(check_cv(cv, y, classifier=classifier).split(X, y))


def _run(tasks: list, n_jobs, desc: str, verbose: int) -> list:
    """Run joblib tasks in parallel, with a progress bar when verbose."""
    results = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
    if verbose:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(tasks), desc=desc, unit="fit")
    return list(results)


def _fit_score(estimator, X, y, train, test, scorer, corrupt=None):
    """Fit on ``train`` (corrupted if asked), score on the clean ``test``."""
    X_train, y_train = _safe_indexing(X, train), _safe_indexing(y, train)
    if corrupt is not None:
        X_train, y_train = corrupt(X_train, y_train)
    start = perf_counter()
    est = clone(estimator).fit(X_train, y_train)
    fit_time, start = perf_counter() - start, perf_counter()
    score = float(scorer(est, _safe_indexing(X, test), _safe_indexing(y, test)))
    return score, fit_time, perf_counter() - start


def _grid_search(
    configured, X, y, names, splits, scorer, param_grid, n_jobs, verbose
) -> dict[str, dict]:
    """Every activation x ``param_grid`` candidate on every split (a grid search
    with a progress bar); per activation, its best candidate."""
    candidates = list(ParameterGrid(dict(param_grid or {})))
    jobs = [
        (name, c, fold)
        for name in names
        for c in range(len(candidates))
        for fold in range(len(splits))
    ]
    out = _run(
        [
            delayed(_fit_score)(
                configured(name, candidates[c]), X, y, *splits[fold], scorer
            )
            for name, c, fold in jobs
        ],
        n_jobs,
        "grid search",
        verbose,
    )
    cells: dict = {}
    for (name, c, _), result in zip(jobs, out):
        cells.setdefault((name, c), []).append(result)
    results = {}
    for name in names:
        best = max(
            range(len(candidates)),
            key=lambda c: np.mean([r[0] for r in cells[name, c]]),
        )
        scores, fit_times, score_times = zip(*cells[name, best])
        results[name] = {
            "params": candidates[best],
            "fold_scores": list(scores),
            "fit_time": float(np.mean(fit_times)),
            "score_time": float(np.mean(score_times)),
        }
    return results


def _corrupter(classifier: bool, fraction: float, noise_std: float, seed: int):
    from ..datasets import corrupt_labels, corrupt_regression

    def corrupt(X, y):
        if classifier:
            return X, corrupt_labels(y, fraction, random_state=seed)[0]
        return corrupt_regression(
            X, y, fraction, noise_std=noise_std, random_state=seed
        )[:2]

    return corrupt


def _learned_summary(estimator) -> str:
    _, inner = learnact_step(estimator)
    frame = inner.learned_activations_
    if frame.empty:
        return ""
    parts = []
    for layer, rows in frame.groupby("layer", sort=True):
        values = rows.groupby("parameter", sort=False)["value"]
        means = values.mean()
        per_neuron = (values.size() > 1).any()
        shown = [f"{p}={v:.3g}" for p, v in means.iloc[:6].items()]
        more = f", +{len(means) - 6} more" if len(means) > 6 else ""
        mean = " (means over neurons)" if per_neuron else ""
        parts.append(f"layer {layer}: {', '.join(shown)}{more}{mean}")
    return "; ".join(parts)


def _n_parameters(estimator) -> tuple[int, int]:
    _, inner = learnact_step(estimator)
    module = inner.net_.module_
    total = sum(p.numel() for p in module.parameters())
    act = sum(p.numel() for p in module.activations.parameters())
    return int(total), int(act)


def compare_activations(
    estimator: BaseEstimator,
    X,
    y,
    activations: str | Iterable[str] = DEFAULT_ACTIVATIONS,
    *,
    cv=5,
    scoring: str | Callable | None = None,
    search: str = "grid",
    param_grid: Mapping[str, Iterable] | None = None,
    n_trials: int = 20,
    storage=None,
    study_name: str = "learnact",
    search_space: Callable | None = None,
    n_jobs: int | None = None,
    random_state: int | None = None,
    corruption: float | None = None,
    noise_std: float = 1.0,
    baseline: str | None = "relu",
    alpha: float = 0.05,
    refit: bool = True,
    return_details: bool = False,
    verbose: int = 0,
) -> pd.DataFrame | tuple[pd.DataFrame, Comparison]:
    """Compare activations, learned and fixed, on the same CV splits.

    Parameters
    ----------
    estimator : estimator
        A :class:`~sklearn_learnact.LearnedActivationClassifier` or regressor,
        or a :class:`~sklearn.pipeline.Pipeline` ending in one (e.g. behind
        a preprocessor). Its other parameters are the starting configuration.
    X : array-like or DataFrame of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    activations : str or iterable of str, default=DEFAULT_ACTIVATIONS
        Registry names (or ``"fixed"``, ``"learnable"``, ``"all"``); a string
        may be comma-separated.
    cv : int or cross-validation splitter, default=5
        An int builds a shuffled (stratified for classifiers) K-fold seeded
        from ``random_state``. The splits are drawn once and shared by every
        activation, which makes the fold scores paired.
    scoring : str or callable, optional
        A scikit-learn scorer; None is the estimator's ``score`` (accuracy or
        R^2). Greater is better.
    search : {"grid", "optuna"}, default="grid"
        ``"grid"`` fits every activation crossed with ``param_grid`` (the same
        grid for each) on every split, as
        :class:`~sklearn.model_selection.GridSearchCV` would.
        ``"optuna"`` gives each activation its own study of ``n_trials``
        trials over ``search_space`` (by default learning rate, width and
        weight decay), with pruning, see :mod:`sklearn_learnact.search.optuna`.
        Either way every activation gets the same tuning budget, and its best
        configuration's fold scores are reported (the selection bias of taking
        a best configuration is the same for all).
    param_grid : dict, optional
        Extra grid of the learned-activation estimator's parameters (names
        without pipeline prefix), for ``search="grid"``.
    n_trials : int, default=20
        Trials per activation for ``search="optuna"``.
    storage : str, path-like or None, default=None
        Optuna storage: None (in memory), a journal-file path or a storage URL;
        a stored study resumes where it stopped.
    study_name : str, default="learnact"
        Studies are named ``"{study_name}.{activation}"``.
    search_space : callable, optional
        ``search_space(trial, learned_activation_estimator) -> dict`` of
        estimator parameters; default
        :func:`~sklearn_learnact.search.optuna.default_search_space`.
    n_jobs : int, optional
        Parallel jobs (joblib): fits of the grid search, activations of an
        Optuna comparison, robustness fits and refits. Use
        ``joblib.parallel_config(backend="dask")`` (or ``"ray"``) to spread
        them over a cluster.
    random_state : int, optional
        Seeds the splits, the corruption and the Optuna samplers. The
        estimator's own ``random_state`` seeds the networks.
    corruption : float, optional
        Robustness mode (seed 004): also train every activation on the
        training folds with this fraction of corrupted targets
        (:func:`~sklearn_learnact.datasets.corrupt_labels` or
        :func:`~sklearn_learnact.datasets.corrupt_regression`, a new seed per
        fold) and score it on the same clean test folds.
    noise_std : float, default=1.0
        Noise scale of the corrupted regression targets.
    baseline : str or None, default="relu"
        Activation the others are tested against; None (or a name not
        compared) uses the best one.
    alpha : float, default=0.05
        Level of the Holm-adjusted tests (``significant``).
    refit : bool, default=True
        Refit each activation's chosen configuration on all of X, y, for the
        parameter counts, the learned parameters, figures and compression.
    return_details : bool, default=False
        Also return a :class:`Comparison`.
    verbose : int, default=0
        1 shows progress bars (fits, or Optuna trials).

    Returns
    -------
    table : pandas.DataFrame
        One row per activation, best first: ``activation``, ``kind``
        (``"fixed"``, ``"learned"`` or ``"frozen"`` when ``learn_activation``
        is False), ``rank``, ``mean_score``, ``std_score``, ``ci_low``,
        ``ci_high``, ``baseline``, ``diff_vs_baseline``, ``p_value``,
        ``p_value_holm``, ``significant``, ``fit_time`` and ``predict_time``
        (mean seconds per fold), ``n_parameters``, ``n_activation_parameters``,
        ``learned_parameters`` (per-layer summary), ``params`` (the chosen
        configuration, JSON). Optuna adds ``n_trials_complete``,
        ``n_trials_pruned``, ``n_trials_failed``, ``n_trials_running``;
        robustness mode adds ``clean_score``, ``dirty_score``,
        ``dirty_minus_clean`` and ``dirty_minus_clean_ci_low``/``_ci_high``.
    details : Comparison
        Only with ``return_details=True``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.search import compare_activations
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LearnedActivationClassifier((8,), max_iter=5, random_state=0)
    >>> table = compare_activations(clf, X, y, ["relu", "affine"], cv=3,
    ...                             random_state=0)
    >>> table[["activation", "kind"]].sort_values("activation").values.tolist()
    [['affine', 'learned'], ['relu', 'fixed']]
    """
    names = parse_activations(activations)
    if search not in ("grid", "optuna"):
        raise ValueError(f"search must be 'grid' or 'optuna', got {search!r}.")
    if corruption is not None and not (
        isinstance(corruption, numbers.Real) and 0 < corruption < 1
    ):
        raise ValueError(f"corruption must be in (0, 1) or None, got {corruption!r}.")
    if not (isinstance(n_trials, numbers.Integral) and n_trials >= 1):
        raise ValueError(f"n_trials must be an int >= 1, got {n_trials!r}.")
    prefix, inner = learnact_step(estimator)
    classifier = is_classifier(estimator)
    if search == "optuna":
        from .optuna import open_storage

        open_storage(storage)  # fails before any training; workers open their own
    splits = _splits(cv, X, y, classifier, random_state)
    scorer = check_scoring(estimator, scoring)
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))

    def configured(name: str, params: Mapping[str, Any]) -> BaseEstimator:
        params = {prefix + k: v for k, v in params.items()}
        return clone(estimator).set_params(**{f"{prefix}activation": name}, **params)

    if search == "grid":
        results = _grid_search(
            configured, X, y, names, splits, scorer, param_grid, n_jobs, verbose
        )
    else:
        from .optuna import tune_activation

        summaries = Parallel(n_jobs=n_jobs)(
            delayed(tune_activation)(
                estimator,
                X,
                y,
                name,
                splits=splits,
                scorer=scorer,
                n_trials=n_trials,
                storage=storage,
                study_name=study_name,
                random_state=seed,
                search_space=search_space,
                show_progress_bar=verbose > 0,
            )
            for name in names
        )
        results = dict(zip(names, summaries))

    if corruption is not None:
        jobs = [(name, fold) for name in names for fold in range(len(splits))]
        dirty = _run(
            [
                delayed(_fit_score)(
                    configured(name, results[name]["params"]),
                    X,
                    y,
                    *splits[fold],
                    scorer,
                    _corrupter(classifier, corruption, noise_std, seed + fold),
                )
                for name, fold in jobs
            ],
            n_jobs,
            "dirty training data",
            verbose,
        )
        for (name, _), (score, *_) in zip(jobs, dirty):
            results[name].setdefault("dirty_scores", []).append(score)

    estimators = {}
    if refit:
        fitted = _run(
            [
                delayed(configured(name, results[name]["params"]).fit)(X, y)
                for name in names
            ],
            n_jobs,
            "refit on all data",
            verbose,
        )
        estimators = dict(zip(names, fitted))

    table = _table(names, results, estimators, splits, inner, baseline, alpha)
    fold_scores = pd.DataFrame(
        [
            (name, fold, condition, score)
            for name in names
            for condition, key in (("clean", "fold_scores"), ("dirty", "dirty_scores"))
            for fold, score in enumerate(results[name].get(key, []))
        ],
        columns=["activation", "fold", "condition", "score"],
    )
    if not return_details:
        return table
    return table, Comparison(table, fold_scores, estimators, splits)


def _kind(name: str, inner) -> str:
    if not is_learnable(name):
        return "fixed"
    return "learned" if inner.learn_activation else "frozen"


def _table(names, results, estimators, splits, inner, baseline, alpha):
    n_train = float(np.mean([len(tr) for tr, _ in splits]))
    n_test = float(np.mean([len(te) for _, te in splits]))
    means = {n: float(np.mean(results[n]["fold_scores"])) for n in names}
    if baseline not in names:
        baseline = max(means, key=means.get)
    base_scores = results[baseline]["fold_scores"]
    rows = []
    for name in names:
        res = results[name]
        scores = np.asarray(res["fold_scores"], float)
        ci_low, ci_high = _corrected_ci(scores, n_train, n_test)
        p = (
            np.nan
            if name == baseline
            else corrected_ttest(scores, base_scores, n_train, n_test)[1]
        )
        row = {
            "activation": name,
            "kind": _kind(name, inner),
            "mean_score": scores.mean(),
            "std_score": scores.std(ddof=1) if scores.size > 1 else 0.0,
            "ci_low": ci_low,
            "ci_high": ci_high,
            "baseline": baseline,
            "diff_vs_baseline": scores.mean() - np.mean(base_scores),
            "p_value": p,
            "fit_time": float(res["fit_time"]),
            "predict_time": float(res["score_time"]),
            "params": json.dumps(
                _json_params(res["params"]), sort_keys=True, default=str
            ),
        }
        if name in estimators:
            row["n_parameters"], row["n_activation_parameters"] = _n_parameters(
                estimators[name]
            )
            row["learned_parameters"] = _learned_summary(estimators[name])
        row.update({k: v for k, v in res.items() if k.startswith("n_trials_")})
        if "dirty_scores" in res:
            diff = np.asarray(res["dirty_scores"]) - scores
            low, high = _corrected_ci(diff, n_train, n_test)
            row.update(
                clean_score=scores.mean(),
                dirty_score=float(np.mean(res["dirty_scores"])),
                dirty_minus_clean=float(diff.mean()),
                dirty_minus_clean_ci_low=low,
                dirty_minus_clean_ci_high=high,
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    others = table["activation"] != baseline
    table["p_value_holm"] = np.nan
    if others.any():
        table.loc[others, "p_value_holm"] = _holm(table.loc[others, "p_value"].values)
    table["significant"] = table["p_value_holm"] < alpha
    table = table.sort_values("mean_score", ascending=False, kind="stable")
    table.insert(2, "rank", np.arange(1, len(table) + 1))
    first = [
        "activation",
        "kind",
        "rank",
        "mean_score",
        "std_score",
        "ci_low",
        "ci_high",
        "baseline",
        "diff_vs_baseline",
        "p_value",
        "p_value_holm",
        "significant",
    ]
    return table[first + [c for c in table.columns if c not in first]].reset_index(
        drop=True
    )
