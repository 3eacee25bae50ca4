"""The one fit-and-score path of every comparison: grid, Optuna, nested,
robustness and refits all train and score a fold through :func:`fit_and_score`.

Failures
--------
As scikit-learn's ``error_score=np.nan``: a fit or a scoring that raises
(e.g. :class:`~sklearn_learnact.estimators.TrainingDivergedError`), or a
score that is not finite, is recorded as a fold with score NaN and the reason
(``error``), and the comparison goes on. Only ``KeyboardInterrupt`` and the
exceptions named in ``reraise`` (Optuna's ``TrialPruned``) propagate.

Timing
------
The first fit of a process pays one-off costs (torch's lazy initialisation,
thread pools, first kernel calls: 0.4 s on 2 CPU cores, against 0.05-0.1 s
for a whole small fit). Before timing the first fit of an activation in a
process, :func:`fit_and_score` therefore trains a copy for one epoch on a few
rows, untimed. Comparisons report the median over the folds.
"""

import math
import numbers
import warnings
from time import perf_counter

import numpy as np
from sklearn.base import clone
from sklearn.utils import _safe_indexing  # public in sklearn.utils' API docs

from ..activations import ACTIVATIONS
from ..estimators import learnact_step
from ._diagnostics import (
    InitialActivations,
    activation_input_ranges,
    activation_movement,
    is_under_trained,
)

__all__ = ["fit_and_score"]

#: (estimator class, activation) pairs already warmed up in this process.
_WARMED: set = set()
#: Rows of the untimed warm-up fit.
_WARM_UP_ROWS = 64


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _warm_up(estimator, X, y) -> None:
    """One untimed epoch on a few rows, once per process and activation."""
    prefix, inner = learnact_step(estimator)
    key = (type(inner).__name__, inner.activation, inner.architecture)
    if key in _WARMED:
        return
    _WARMED.add(key)
    n = min(_WARM_UP_ROWS, _num_samples(X))
    est = clone(estimator).set_params(
        **{
            f"{prefix}max_iter": 1,
            f"{prefix}cycle_epochs": None,
            f"{prefix}early_stopping": False,
            f"{prefix}verbose": 0,
        }
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idx = np.arange(n)
            est.fit(_safe_indexing(X, idx), _safe_indexing(y, idx))
    except Exception:  # noqa: S110 - the timed fit reports any real problem
        pass


def _num_samples(X) -> int:
    return X.shape[0] if hasattr(X, "shape") else len(X)


def fit_and_score(
    estimator,
    X,
    y,
    train,
    test,
    scorer,
    *,
    corrupt=None,
    callbacks=(),
    reraise: tuple[type[BaseException], ...] = (),
    diagnose: bool = True,
    return_estimator: bool = False,
) -> dict:
    """Fit a clone of ``estimator`` on the ``train`` rows, score it on ``test``.

    Parameters
    ----------
    estimator : estimator
        A learned-activation classifier or regressor, or a pipeline ending in
        one; it is cloned.
    X : array-like or DataFrame of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    train : ndarray of int
        Rows to fit on.
    test : ndarray of int or None
        Rows to score on; None only fits (a refit on all the data).
    scorer : callable
        ``scorer(estimator, X, y)``, greater is better.
    corrupt : callable, optional
        ``corrupt(X_train, y_train) -> (X_train, y_train)`` applied to the
        training rows only (robustness mode); the test rows stay clean.
    callbacks : sequence of (str, skorch callback), default=()
        Extra skorch callbacks for this fit (e.g. Optuna pruning).
    reraise : tuple of exception types, default=()
        Exceptions that propagate instead of being recorded as a failure.
    diagnose : bool, default=True
        Record whether the fit is under-trained and, for a learned activation,
        how far it moved from its initialisation (see
        :mod:`sklearn_learnact.evaluation`).
    return_estimator : bool, default=False
        Also return the fitted estimator, its hidden activations before
        training and the range of their inputs on the training rows.

    Returns
    -------
    result : dict
        JSON-serialisable: ``score`` (NaN if the fold failed), ``error``
        (None, or the exception's type and message), ``fit_time`` and
        ``score_time`` (seconds), ``n_iter`` (epochs run), ``under_trained``
        (bool), ``movement`` (the largest relative movement over the learned
        hidden layers, None for a fixed or frozen activation) and
        ``layer_movement`` (per layer). With ``return_estimator``:
        ``estimator`` (None if the fit failed), ``initial_activations`` (None
        for a fixed or frozen activation) and ``input_ranges``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.metrics import check_scoring
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.evaluation import fit_and_score
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LearnedActivationClassifier((8,), "relu", max_iter=3, random_state=0)
    >>> train, test = np.arange(0, 150, 2), np.arange(1, 150, 2)
    >>> result = fit_and_score(clf, X, y, train, test, check_scoring(clf))
    >>> result["error"] is None, 0 <= result["score"] <= 1
    (True, True)
    >>> bad = clf.set_params(learning_rate_init=1e12)
    >>> fit_and_score(bad, X, y, train, test, check_scoring(bad))["error"][:21]
    'TrainingDivergedError'
    """
    prefix, inner = learnact_step(estimator)
    X_train, y_train = _safe_indexing(X, train), _safe_indexing(y, train)
    if corrupt is not None:
        X_train, y_train = corrupt(X_train, y_train)
    result = {
        "score": math.nan,
        "error": None,
        "fit_time": math.nan,
        "score_time": math.nan,
        "n_iter": None,
        "under_trained": False,
        "movement": None,
        "layer_movement": None,
    }
    if return_estimator:
        result.update(estimator=None, initial_activations=None, input_ranges=None)
    name = inner.activation
    spec = ACTIVATIONS.get(name) if isinstance(name, str) else None
    learned = bool(inner.learn_activation) and spec is not None and spec.learnable
    start = InitialActivations() if (diagnose or return_estimator) and learned else None
    extra = list(callbacks) + ([("learnact_initial", start)] if start else [])
    _warm_up(estimator, X_train, y_train)
    est = clone(estimator)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", category=Warning)
            tick = perf_counter()
            fit_params = {prefix + "callbacks": extra} if extra else {}
            est.fit(X_train, y_train, **fit_params)
            result["fit_time"] = perf_counter() - tick
        for w in caught:  # pass the others on, through the user's filters
            if not is_under_trained([w]):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        score = None
        if test is not None:
            tick = perf_counter()
            score = scorer(est, _safe_indexing(X, test), _safe_indexing(y, test))
            result["score_time"] = perf_counter() - tick
    except reraise:
        raise
    except Exception as exc:
        result["error"] = _reason(exc)
        return result
    if score is not None:
        if not (isinstance(score, numbers.Real) and math.isfinite(score)):
            result["error"] = f"the score is not a finite number ({score!r})"
            return result
        result["score"] = float(score)
    if diagnose or return_estimator:
        _, fitted = learnact_step(est)
        result["n_iter"] = int(fitted.n_iter_)
        # from the estimator, not from the warning: another thread's
        # warnings.catch_warnings (e.g. a Dask worker unpickling data) can
        # swap the filters that record it
        result["under_trained"] = not fitted.converged_
        ranges = None
        if return_estimator or start is not None:
            ranges = activation_input_ranges(est, X_train)
        if start is not None and start.modules_ is not None:
            layers = activation_movement(est, start.modules_, ranges)
            if layers:
                result["layer_movement"] = [d["movement"] for d in layers]
                result["movement"] = max(result["layer_movement"])
        if return_estimator:
            result.update(
                estimator=est,
                initial_activations=start.modules_ if start else None,
                input_ranges=ranges,
            )
    return result
