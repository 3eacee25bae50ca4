"""Optuna studies per activation: equal budgets, pruning, resumable storage.

Optuna is optional (``pip install "sklearn-learnact[optuna]"``); it is imported
only when a study is run.

Storage
-------
``storage`` is ``None`` (in memory: nothing survives the process), a file path
(an Optuna journal file, the default of ``learnact compare``: no server, safe
for several processes on one machine) or any Optuna storage URL, e.g.
``sqlite:///studies.db`` or, for workers on several machines,
``postgresql+psycopg2://user:password@host/db`` (install ``psycopg2``, create
the database once, then start the same command on every machine).

Every study is opened with ``load_if_exists=True`` and runs only the trials it
still lacks, so a killed run resumes where it stopped: finished trials are
kept, and only the trial that was running when it was killed is lost (it stays
``RUNNING`` in the storage and does not count). With several workers on one
study each stops once the study has ``n_trials`` finished trials, so the total
may exceed ``n_trials`` by at most the number of workers minus one.
"""

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from skorch.callbacks import Callback

from ..estimators import learnact_step
from ..nets import check_hidden_layer_sizes
from ._fit import fit_and_score

__all__ = ["default_search_space", "import_optuna", "open_storage"]

#: Trial states that count against a study's budget.
_FINISHED = ("COMPLETE", "PRUNED", "FAIL")


def import_optuna():
    """Import :mod:`optuna`, or explain how to install it.

    Examples
    --------
    >>> from sklearn_learnact.search.optuna import import_optuna
    >>> import_optuna().__name__
    'optuna'
    """
    try:
        import optuna
    except ImportError as exc:  # pragma: no cover - optuna is in [dev]
        raise ImportError(
            'search="optuna" needs Optuna: pip install "sklearn-learnact[optuna]".'
        ) from exc
    return optuna


def open_storage(storage: str | os.PathLike | None):
    """Open an Optuna storage from a URL or a journal-file path.

    Parameters
    ----------
    storage : str, path-like, optuna.storages.BaseStorage or None
        A storage object is returned as is; None means in memory; a string
        containing ``"://"`` is an Optuna storage URL (``sqlite:///file.db``,
        ``postgresql+psycopg2://...``); anything else is the path of an Optuna
        journal file, created if missing.

    Returns
    -------
    storage : optuna.storages.BaseStorage or None

    Raises
    ------
    ValueError
        If the storage cannot be opened; the message says why.

    Examples
    --------
    >>> from sklearn_learnact.search.optuna import open_storage
    >>> open_storage(None) is None
    True
    >>> open_storage("nodb://nowhere")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Cannot open the Optuna storage 'nodb://nowhere': ...
    """
    if storage is None:
        return None
    optuna = import_optuna()
    if isinstance(storage, optuna.storages.BaseStorage):
        return storage
    text = os.fspath(storage)
    try:
        if "://" in text:
            return optuna.storages.RDBStorage(text)
        path = Path(text)
        if not path.parent.is_dir():
            raise FileNotFoundError(f"folder {str(path.parent)!r} does not exist")
        if path.is_dir():
            raise IsADirectoryError("it is a folder, not a journal file")
        with open(path, "a"):  # fails early on a read-only file or folder
            pass
        backend = optuna.storages.journal.JournalFileBackend(text)
        return optuna.storages.JournalStorage(backend)
    except Exception as exc:  # sqlalchemy, drivers and the OS raise many kinds
        raise ValueError(
            f"Cannot open the Optuna storage {text!r}: {type(exc).__name__}: {exc}"
        ) from exc


def default_search_space(trial, estimator) -> dict[str, Any]:
    """Learning rate, width and weight decay: the same for every activation.

    Parameters
    ----------
    trial : optuna.trial.Trial
    estimator : LearnedActivationClassifier or LearnedActivationRegressor
        Its number of hidden layers is kept; every layer gets the sampled width.

    Returns
    -------
    params : dict
        ``learning_rate_init`` (1e-4 to 1e-1, log), ``hidden_layer_sizes``
        (width 8 to 128, log) and ``alpha`` (L2 weight decay, 1e-6 to 1e-1,
        log), as estimator parameters.

    Examples
    --------
    >>> import optuna
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.search.optuna import default_search_space
    >>> trial = optuna.trial.FixedTrial(
    ...     {"learning_rate_init": 1e-3, "width": 16, "alpha": 1e-4})
    >>> default_search_space(trial, LearnedActivationClassifier((32, 32)))
    {'learning_rate_init': 0.001, 'hidden_layer_sizes': (16, 16), 'alpha': 0.0001}
    """
    n_layers = len(check_hidden_layer_sizes(estimator.hidden_layer_sizes))
    lr = trial.suggest_float("learning_rate_init", 1e-4, 1e-1, log=True)
    width = trial.suggest_int("width", 8, 128, log=True)
    alpha = trial.suggest_float("alpha", 1e-6, 1e-1, log=True)
    return {
        "learning_rate_init": lr,
        "hidden_layer_sizes": (width,) * n_layers,
        "alpha": alpha,
    }


class _OptunaPruning(Callback):
    """Reports each epoch's validation score to a trial; prunes when told to.

    Steps are ``offset + epoch``, with one offset per CV fold, so the pruner
    compares trials at the same fold and epoch.
    """

    def __init__(self, trial, offset: int):
        self.trial, self.offset = trial, offset

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        value = row["valid_score"] if "valid_score" in row else -row["train_loss"]
        step = self.offset + len(net.history) - 1
        self.trial.report(float(value), step)
        if self.trial.should_prune():
            raise import_optuna().TrialPruned(f"pruned at step {step}")


def _json_params(params: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def _estimator_params(params: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


def _sampler_seed(random_state: int | None, n_existing: int, shared: bool):
    """The same seed for every activation (same first configurations); a new one
    for each resumed or parallel worker of a stored study, so none repeats."""
    if random_state is None:
        return None
    entropy = [random_state, n_existing, os.getpid() if shared else 0]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def tune_activation(
    estimator,
    X,
    y,
    activation: str,
    *,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    scorer: Callable,
    n_trials: int,
    storage=None,
    study_name: str = "learnact",
    random_state: int | None = None,
    pruner=None,
    search_space: Callable | None = None,
    show_progress_bar: bool = False,
) -> dict[str, Any]:
    """Tune one activation's network with Optuna; resume a stored study.

    Each trial samples ``search_space(trial, learned_activation_estimator)``,
    trains on every split of ``splits`` with ``early_stopping=True`` and
    reports the per-epoch validation score for pruning (default
    :class:`optuna.pruners.MedianPruner`, 3 startup trials, 5 warm-up epochs).
    The study ``"{study_name}.{activation}"`` runs until it has ``n_trials``
    finished (complete, pruned or failed) trials. Every fold is trained and
    scored by :func:`~sklearn_learnact.search.fit_and_score`: a fold whose
    fit diverges or raises fails the trial (its reason is the trial's
    ``error`` user attribute) and the study goes on; a study without any
    completed trial is reported as failed, not raised.

    Returns
    -------
    summary : dict
        ``params`` (the best trial's estimator parameters, with
        ``early_stopping=True``, which the pruning needs), ``folds`` (the best
        trial's per-fold results, see
        :func:`~sklearn_learnact.search.fit_and_score`; NaN scores with the
        reason when no trial completed), ``selection_score`` (the best trial's
        mean score) and the trial counts ``n_trials_complete``,
        ``n_trials_pruned``, ``n_trials_failed``, ``n_trials_running``
        (running elsewhere, or killed).
    """
    optuna = import_optuna()
    prefix, inner = learnact_step(estimator)
    space = search_space or default_search_space
    name = f"{study_name}.{activation}"
    stored = (
        open_storage(storage) if not hasattr(storage, "get_all_studies") else storage
    )
    study = optuna.create_study(
        storage=stored,
        study_name=name,
        direction="maximize",
        load_if_exists=True,
        pruner=pruner
        or optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=5),
    )
    states = tuple(getattr(optuna.trial.TrialState, s) for s in _FINISHED)
    n_done = len(study.get_trials(deepcopy=False, states=states))
    study.sampler = optuna.samplers.TPESampler(
        seed=_sampler_seed(random_state, len(study.trials), stored is not None)
    )
    base = clone(estimator).set_params(
        **{f"{prefix}activation": activation, f"{prefix}early_stopping": True}
    )
    stride = sum(epochs for epochs, _ in inner.cycle_plan())

    def objective(trial) -> float:
        params = space(trial, inner)
        trial.set_user_attr("estimator_params", _json_params(params))
        est = clone(base).set_params(**{prefix + k: v for k, v in params.items()})
        folds = []
        for fold, (train, test) in enumerate(splits):
            pruning = ("optuna_pruning", _OptunaPruning(trial, fold * stride))
            result = fit_and_score(
                est,
                X,
                y,
                train,
                test,
                scorer,
                callbacks=[pruning],
                reraise=(optuna.TrialPruned,),
            )
            folds.append(result)
            if result["error"]:  # the trial fails; the next folds are not fitted
                trial.set_user_attr("error", f"fold {fold}: {result['error']}")
                break
        scores = [r["score"] for r in folds]
        trial.set_user_attr("folds", folds)
        trial.set_user_attr("fold_scores", scores)
        # NaN marks the trial FAIL (Optuna's rule); its reason is the user attr
        return float(np.mean(scores))

    if n_done < n_trials:
        study.optimize(
            objective,
            n_trials=n_trials - n_done,
            callbacks=[optuna.study.MaxTrialsCallback(n_trials, states=states)],
            show_progress_bar=show_progress_bar,
        )
    state = optuna.trial.TrialState
    counts = {
        key: len(study.get_trials(deepcopy=False, states=(getattr(state, s),)))
        for key, s in (
            ("complete", "COMPLETE"),
            ("pruned", "PRUNED"),
            ("failed", "FAIL"),
            ("running", "RUNNING"),
        )
    }
    fixed = {"early_stopping": True}
    summary = {f"n_trials_{key}": n for key, n in counts.items()}
    if not counts["complete"]:
        errors = [
            t.user_attrs["error"]
            for t in study.get_trials(deepcopy=False, states=(state.FAIL,))
            if "error" in t.user_attrs
        ]
        reason = (
            f"Optuna study {name!r}: no trial completed ({counts['pruned']} "
            f"pruned, {counts['failed']} failed"
            + (f"; first failure: {errors[0]}" if errors else "")
            + "); raise n_trials or max_iter"
        )
        failed = {
            "score": float("nan"),
            "error": reason,
            "fit_time": float("nan"),
            "score_time": float("nan"),
            "n_iter": None,
            "under_trained": False,
            "movement": None,
            "layer_movement": None,
        }
        return {
            "params": fixed,
            "folds": [{**failed, "params": fixed} for _ in splits],
            "selection_score": float("nan"),
            **summary,
        }
    best = study.best_trial
    params = {**_estimator_params(best.user_attrs["estimator_params"]), **fixed}
    return {
        "params": params,
        "folds": [{**r, "params": params} for r in best.user_attrs["folds"]],
        "selection_score": float(best.value),
        **summary,
    }
