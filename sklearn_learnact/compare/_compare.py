"""Comparing activations on the same splits: the orchestration of
:func:`compare_activations` (grid or Optuna tuning, nested CV, robustness,
refits)."""

import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from joblib import delayed
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import ParameterGrid
from sklearn.utils import (  # _safe_indexing: public in sklearn.utils API docs
    _safe_indexing,
    check_random_state,
)

from .._validation import (
    CV,
    N_JOBS,
    RANDOM_STATE,
    VERBOSE,
    Boolean,
    InstanceOf,
    Interval,
    Options,
    Satisfies,
    validate_call,
)
from ..estimators import learnact_step
from ..evaluation import cv_splits, fit_and_score, run_parallel
from ..studies import open_storage, study_summary, tune_activation
from . import _summary
from ._comparison import Comparison
from ._grids import parse_activations
from ._stats import score_bounds
from ._table import _fold_frame, _nan_to_inf, _table

__all__ = ["DEFAULT_ACTIVATIONS", "compare_activations"]

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


def _scoring_name(scoring, estimator) -> str:
    if scoring is None:
        return "accuracy" if is_classifier(estimator) else "r2"
    if isinstance(scoring, str):
        return scoring
    return getattr(scoring, "__name__", None) or type(scoring).__name__


def _splits(cv, X, y, classifier: bool, random_state) -> list:
    """:func:`~sklearn_learnact.evaluation.cv_splits`; an int ``cv`` is seeded
    by a number drawn from ``random_state``."""
    if isinstance(cv, numbers.Integral):
        random_state = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    return cv_splits(cv, X, y, classifier=classifier, random_state=random_state)


def _run(tasks: list, n_jobs, desc: str, verbose: int) -> list:
    """Run joblib tasks in parallel, with a progress bar when verbose."""
    return run_parallel(tasks, n_jobs, desc=desc if verbose else None)


def _mean(folds: list[dict]) -> float:
    """Mean score over folds; NaN if one failed (as ``error_score=np.nan``)."""
    return float(np.mean([r["score"] for r in folds]))


def _best(cells: list[list[dict]]) -> int:
    """The candidate with the best mean score. Candidates with a failed fold
    lose to any without; among them, the fewest failures win."""

    def key(c):
        scores = np.array([r["score"] for r in cells[c]], float)
        ok = scores[np.isfinite(scores)]
        return (-int(np.isnan(scores).sum()), ok.mean() if ok.size else -math.inf)

    return max(range(len(cells)), key=key)


def _choose(configured, X, y, names, split_sets, scorer, candidates, run, diagnose):
    """Every activation x candidate on each set of splits; per (activation,
    set) the best candidate and its fold results."""
    jobs = [
        (name, c, s, f)
        for name in names
        for c in range(len(candidates))
        for s, splits in enumerate(split_sets)
        for f in range(len(splits))
    ]
    out = run(
        [
            delayed(fit_and_score)(
                configured(name, candidates[c]),
                X,
                y,
                *split_sets[s][f],
                scorer,
                diagnose=diagnose,
            )
            for name, c, s, f in jobs
        ],
        "grid search",
    )
    cells: dict = {}
    for (name, c, s, _), result in zip(jobs, out):
        cells.setdefault((name, s), {}).setdefault(c, []).append(result)
    chosen = {}
    for (name, s), per_candidate in cells.items():
        best = _best([per_candidate[c] for c in range(len(candidates))])
        folds = [{**r, "params": candidates[best]} for r in per_candidate[best]]
        chosen[name, s] = {"params": candidates[best], "folds": folds}
    return chosen


def _tune(estimator, problems, names, scorer, run_studies, nested, optuna_kwargs):
    """One Optuna study per activation and problem ``(X, y, splits)``: one
    problem, or one per outer training fold when ``nested`` (studies then named
    ``"{study_name}.outer{k}.{activation}"``, or by their fingerprints)."""
    jobs = [(name, k) for name in names for k in range(len(problems))]
    base = optuna_kwargs.pop("study_name")
    summaries = run_studies(
        delayed(tune_activation)(
            estimator,
            problems[k][0],
            problems[k][1],
            name,
            splits=problems[k][2],
            scorer=scorer,
            study_name=f"{base}.outer{k}" if nested and base else base,
            **optuna_kwargs,
        )
        for name, k in jobs
    )
    return dict(zip(jobs, summaries))


def _inner_splits(inner_cv, X, y, splits, classifier, seed) -> list:
    """Per outer training fold, the inner splits (indices into that fold)."""
    return [
        _splits(
            inner_cv,
            _safe_indexing(X, train),
            _safe_indexing(y, train),
            classifier,
            seed + k,
        )
        for k, (train, _) in enumerate(splits)
    ]


def _corrupter(classifier: bool, fraction: float, noise_std: float, seed: int):
    from ..datasets import corrupt_labels, corrupt_regression

    def corrupt(X, y):
        if classifier:
            return X, corrupt_labels(y, fraction, random_state=seed)[0]
        return corrupt_regression(
            X, y, fraction, noise_std=noise_std, random_state=seed
        )[:2]

    return corrupt


@validate_call(
    {
        "cv": CV,
        "inner_cv": [None, *CV],
        "scoring": [None, InstanceOf(str), Satisfies(callable, "a scorer callable")],
        "search": [Options("grid", "optuna")],
        "param_grid": [
            None,
            InstanceOf(Mapping, description="a dict of parameter value lists"),
        ],
        "n_trials": [Interval(numbers.Integral, 0, None)],
        "study_name": [None, InstanceOf(str)],
        "search_space": [
            None,
            Satisfies(callable, "a function (trial, estimator) -> parameters"),
        ],
        "n_jobs": N_JOBS,
        "random_state": RANDOM_STATE,
        "corruption": [None, Interval(numbers.Real, 0.0, 1.0, "neither")],
        "noise_std": [Interval(numbers.Real, 0.0, None)],
        "baseline": [None, InstanceOf(str, description="an activation name")],
        "alpha": [Interval(numbers.Real, 0.0, 1.0, "neither")],
        "refit": [Boolean()],
        "return_details": [Boolean()],
        "verbose": VERBOSE,
    }
)
def compare_activations(
    estimator: BaseEstimator,
    X,
    y,
    activations: str | Iterable[str] = DEFAULT_ACTIVATIONS,
    *,
    cv=5,
    inner_cv=None,
    scoring: str | Callable | None = None,
    search: str = "grid",
    param_grid: Mapping[str, Iterable] | None = None,
    n_trials: int = 20,
    storage=None,
    study_name: str | None = None,
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
    inner_cv : int, cross-validation splitter or None, default=None
        Nested cross-validation for the tuning (``search="optuna"``, or a
        ``param_grid`` with several candidates): in each outer training fold
        of ``cv``, the configuration is chosen on these inner splits only,
        refitted on the outer training fold and scored on the outer test fold.
        None chooses and scores on the same ``cv`` splits, which biases the
        reported scores upwards (a warning says so). An int builds a shuffled
        (stratified) K-fold.
    scoring : str or callable, optional
        A scikit-learn scorer; None is the estimator's ``score`` (accuracy or
        R^2). Greater is better.
    search : {"grid", "optuna"}, default="grid"
        ``"grid"`` fits every activation crossed with ``param_grid`` (the same
        grid for each) on every split, as
        :class:`~sklearn.model_selection.GridSearchCV` would.
        ``"optuna"`` gives each activation its own study of ``n_trials``
        trials over ``search_space`` (by default learning rate, width and
        weight decay), with pruning, see :mod:`sklearn_learnact.studies`.
        Either way every activation gets the same tuning budget.
    param_grid : dict, optional
        Extra grid of the learned-activation estimator's parameters (names
        without pipeline prefix), for ``search="grid"``.
    n_trials : int, default=20
        Trials per activation (per outer fold when nested) for
        ``search="optuna"``; 0 runs none and reports the studies stored by an
        earlier run (needs ``storage``).
    storage : str, path-like or None, default=None
        Optuna storage: None (in memory), a journal-file path or a storage URL;
        a stored study resumes where it stopped. Each study is bound to the
        data, folds, estimator, search space and scoring that define its
        scores (see :mod:`sklearn_learnact.studies`). The table is read
        back from the storage once every study is done, so it includes the
        trials other workers finished meanwhile.
    study_name : str, optional
        None: each study is named ``"learnact.{activation}.{fingerprint}"``,
        one per comparison (and per outer fold when nested, whose data differ),
        so a different comparison in the same storage never reuses its scores.
        A name: ``"{study_name}.{activation}"`` (nested:
        ``"{study_name}.outer{k}.{activation}"``), which only the same
        comparison may resume (a different one stops with
        :class:`~sklearn_learnact.studies.StudyMismatchError`).
    search_space : callable, optional
        ``search_space(trial, learned_activation_estimator) -> dict`` of
        estimator parameters; default
        :func:`~sklearn_learnact.studies.default_search_space`.
    n_jobs : int, optional
        Parallel jobs (joblib): fits of the grid search, studies of an
        Optuna comparison, robustness fits and refits. Use
        ``joblib.parallel_config(backend="dask")`` (or ``"ray"``) to spread
        them over a cluster (on Dask every worker thread works; a worker lost
        midway only has its fits run again, see
        :func:`~sklearn_learnact.evaluation.run_parallel`).
    random_state : int, optional
        Seeds the splits, the corruption and the Optuna samplers. The
        estimator's own ``random_state`` seeds the networks.
    corruption : float, optional
        Robustness mode: also train every activation on the
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
        parameter counts, the learned parameters, figures and compression
        (nested: the configuration whose inner search scored best).
    return_details : bool, default=False
        Also return a :class:`Comparison` (with its :meth:`~Comparison.verdict`).
    verbose : int, default=0
        1 shows progress bars (fits, or Optuna trials).

    Returns
    -------
    table : pandas.DataFrame
        One row per activation, best first (failed ones last): ``activation``,
        ``kind`` (``"fixed"``, ``"learned"`` or ``"frozen"`` when
        ``learn_activation`` is False), ``rank``, ``mean_score``,
        ``std_score``, ``ci_low``, ``ci_high`` (95%, clipped to the metric's
        range), ``baseline``, ``diff_vs_baseline``, ``diff_ci_low``,
        ``diff_ci_high``, ``p_value``, ``p_value_holm``, ``significant``,
        ``untested`` (why a row has no test: ``"baseline"``, ``"failed
        folds"``, ``"too few folds"``, ``"no variance"``; ``""`` if tested;
        see :func:`~sklearn_learnact.compare.untestable`),
        ``n_failed_folds``, ``failure`` (the first reason), ``n_fits``,
        ``n_under_trained`` (fits that ran all their epochs while still
        improving), ``movement`` (median over folds of a learned activation's
        movement from its initialisation), ``barely_moved``, ``fit_time`` and
        ``predict_time`` (median seconds per fold), ``selection`` (``"none"``,
        ``"same folds"`` or ``"nested"``), ``params`` (the chosen
        configuration, JSON; nested: one per outer fold), and after a refit
        ``n_parameters``, ``n_activation_parameters``, ``learned_parameters``
        (per-layer summary). Optuna adds ``n_trials_complete``,
        ``n_trials_pruned``, ``n_trials_failed``, ``n_trials_running``
        (summed over the outer folds when nested) and ``study`` (the study's
        name; nested: the outer folds' names, space-separated); robustness
        mode adds
        ``clean_score``, ``dirty_score``, ``dirty_minus_clean`` and
        ``dirty_minus_clean_ci_low``/``_ci_high``.
    details : Comparison
        Only with ``return_details=True``.

    Warns
    -----
    FitFailedWarning
        When folds failed (their scores are NaN; the reasons are in the table).
    ConvergenceWarning
        When fits ran all their epochs while still improving (under-trained).
    UserWarning
        When several configurations were chosen and scored on the same folds
        (no ``inner_cv``): the scores are optimistically biased.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.compare import compare_activations
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LearnedActivationClassifier((8,), max_iter=40, random_state=0)
    >>> table, details = compare_activations(clf, X, y, ["relu", "affine"], cv=3,
    ...                                      random_state=0, return_details=True)
    >>> table[["activation", "kind"]].sort_values("activation").values.tolist()
    [['affine', 'learned'], ['relu', 'fixed']]
    >>> details.verdict()  # doctest: +ELLIPSIS
    'No learned activation beat relu significantly (3-fold CV, ...'
    """
    names = parse_activations(activations)
    if n_trials == 0 and (search != "optuna" or storage is None):
        raise ValueError(
            'n_trials=0 reports stored Optuna studies: it needs search="optuna" '
            "and a storage."
        )
    prefix, inner = learnact_step(estimator)
    classifier = is_classifier(estimator)
    if search == "optuna":
        open_storage(storage)  # fails before any training; workers open their own
    splits = _splits(cv, X, y, classifier, random_state)
    scorer = check_scoring(estimator, scoring)
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    candidates = list(ParameterGrid(dict(param_grid or {}))) if search == "grid" else []
    tuned = search == "optuna" or len(candidates) > 1
    nested = tuned and inner_cv is not None
    selection = "nested" if nested else ("same folds" if tuned else "none")

    def configured(name: str, params: Mapping[str, Any]) -> BaseEstimator:
        params = {prefix + k: v for k, v in params.items()}
        return clone(estimator).set_params(**{f"{prefix}activation": name}, **params)

    def run(tasks, desc):
        return _run(tasks, n_jobs, desc, verbose)

    inner_splits = (
        _inner_splits(inner_cv, X, y, splits, classifier, seed + 1) if nested else []
    )
    results: dict[str, dict] = {}
    if search == "grid":
        split_sets = (
            [
                [(train[a], train[b]) for a, b in local]
                for (train, _), local in zip(splits, inner_splits)
            ]
            if nested
            else [splits]
        )
        chosen = _choose(
            configured, X, y, names, split_sets, scorer, candidates, run, not nested
        )
    else:
        problems = (
            [
                (_safe_indexing(X, train), _safe_indexing(y, train), local)
                for (train, _), local in zip(splits, inner_splits)
            ]
            if nested
            else [(X, y, splits)]
        )
        chosen = _tune(
            estimator,
            problems,
            names,
            scorer,
            lambda tasks: run_parallel(tasks, n_jobs),
            nested,
            {
                "n_trials": n_trials,
                "storage": storage,
                "study_name": study_name,
                "random_state": seed,
                "search_space": search_space,
                "show_progress_bar": verbose > 0,
            },
        )
        if storage is not None:  # with the trials other workers finished since
            stored = open_storage(storage)
            chosen = {
                (name, k): study_summary(
                    s["study_name"], stored, n_folds=len(problems[k][2])
                )
                for (name, k), s in chosen.items()
            }
    for name in names:
        per_set = [chosen[name, k] for k in range(len(splits) if nested else 1)]
        counts = {
            key: sum(c[key] for c in per_set)
            for key in per_set[0]
            if key.startswith("n_trials_")
        }
        results[name] = {"per_set": per_set, **counts}
        if search == "optuna":
            results[name]["studies"] = [c["study_name"] for c in per_set]
    if nested:
        outer = run(
            [
                delayed(fit_and_score)(
                    configured(name, results[name]["per_set"][k]["params"]),
                    X,
                    y,
                    *splits[k],
                    scorer,
                )
                for name in names
                for k in range(len(splits))
            ],
            "outer folds",
        )
        for i, name in enumerate(names):
            folds = outer[i * len(splits) : (i + 1) * len(splits)]
            results[name]["folds"] = [
                {**r, "params": c["params"]}
                for r, c in zip(folds, results[name]["per_set"])
            ]
    else:
        for name in names:
            results[name]["folds"] = results[name]["per_set"][0]["folds"]
    for name in names:
        # the refitted configuration: the chosen one; nested: the one whose
        # inner search scored best (no outer test fold involved)
        per_set = results[name]["per_set"]
        best = max(per_set, key=lambda c: _nan_to_inf(_selection_score(c)))
        results[name]["params"] = best["params"]

    if corruption is not None:
        jobs = [(name, fold) for name in names for fold in range(len(splits))]
        dirty = run(
            [
                delayed(fit_and_score)(
                    configured(name, results[name]["folds"][fold]["params"]),
                    X,
                    y,
                    *splits[fold],
                    scorer,
                    corrupt=_corrupter(classifier, corruption, noise_std, seed + fold),
                    diagnose=False,
                )
                for name, fold in jobs
            ],
            "dirty training data",
        )
        for (name, _), result in zip(jobs, dirty):
            results[name].setdefault("dirty", []).append(result)

    refits = {}
    if refit:
        everything = np.arange(len(y))
        fitted = run(
            [
                delayed(fit_and_score)(
                    configured(name, results[name]["params"]),
                    X,
                    y,
                    everything,
                    None,
                    scorer,
                    return_estimator=True,
                )
                for name in names
            ],
            "refit on all data",
        )
        refits = dict(zip(names, fitted))

    bounds = score_bounds(scoring if isinstance(scoring, str) else None, estimator)
    if scoring is not None and not isinstance(scoring, str):
        bounds = (-math.inf, math.inf)
    table = _table(names, results, refits, splits, inner, baseline, alpha, bounds)
    table["selection"] = selection
    comparison = Comparison(
        table=table,
        fold_scores=_fold_frame(names, results),
        estimators={n: r["estimator"] for n, r in refits.items() if r["estimator"]},
        splits=splits,
        scoring=_scoring_name(scoring, estimator),
        score_bounds=bounds,
        alpha=alpha,
        selection=selection,
        n_inner_splits=len(inner_splits[0]) if nested else None,
        search=search,
        n_candidates=n_trials if search == "optuna" else len(candidates),
        max_iter=inner.max_iter,
        input_ranges={
            n: r["input_ranges"] for n, r in refits.items() if r["input_ranges"]
        },
        initial_activations={
            n: r["initial_activations"]
            for n, r in refits.items()
            if r["initial_activations"]
        },
    )
    _warn(comparison)
    if not return_details:
        return table
    return table, comparison


def _selection_score(chosen: dict) -> float:
    """The score that chose a configuration: Optuna's best value, or the grid
    candidate's mean over the splits it was chosen on."""
    if "selection_score" in chosen:
        return chosen["selection_score"]
    return _mean(chosen["folds"])


def _warn(comparison: Comparison) -> None:
    """The caveats that Python users would otherwise not see."""
    table = comparison.table
    failed = table[table["n_failed_folds"] > 0]
    if len(failed):
        warnings.warn(
            f"{int(failed['n_failed_folds'].sum())} fit(s) failed and were scored "
            "NaN: "
            + "; ".join(f"{a}: {f}" for a, f in zip(failed.activation, failed.failure)),
            FitFailedWarning,
            stacklevel=3,
        )
    if table["n_under_trained"].sum():
        warnings.warn(
            _summary.under_trained(comparison), ConvergenceWarning, stacklevel=3
        )
    if comparison.selection == "same folds":
        warnings.warn(
            "Each activation's configuration was chosen and scored on the same "
            "folds: its score is optimistically biased, the more so the more "
            "configurations are tried. Pass inner_cv for nested cross-validation.",
            UserWarning,
            stacklevel=3,
        )
