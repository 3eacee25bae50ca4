"""Binding a study to its definition, and reading its result back."""

import json
import os
from collections.abc import Mapping
from typing import Any

from ._definition import DEFINITION_ATTR, _differences, definition_fingerprint
from ._errors import StudyMismatchError
from ._storage import import_optuna, open_storage

__all__ = ["OVER_BUDGET_ATTR", "bind_study", "json_params", "study_summary"]

#: The user attribute of a trial started beyond the study's budget by one of
#: several workers (:func:`~sklearn_learnact.studies.tune_activation`): it is
#: pruned before training and counted nowhere.
OVER_BUDGET_ATTR = "over_budget"


def bind_study(
    storage,
    name: str,
    definition: Mapping,
    *,
    unique_name: bool = False,
    create: bool = True,
    direction: str = "maximize",
    pruner=None,
    made_by: str = "comparison",
):
    """Create or resume the study bound to ``definition``.

    The definition is recorded in the study (user attribute
    ``"learnact_definition"``) when it is created; resuming it requires the
    same definition, so a stored study never mixes scores of different
    comparisons (or searches).

    Parameters
    ----------
    storage : str, path-like, optuna.storages.BaseStorage or None
        As for :func:`open_storage`.
    name : str
        The study name; with ``unique_name=True``, its prefix.
    definition : dict
        From :func:`study_definition`.
    unique_name : bool, default=False
        Name the study ``f"{name}.{fingerprint}"`` (:func:`definition_fingerprint`):
        a different definition then gets a study of its own instead of an
        error.
    create : bool, default=True
        False: the study must exist already (to read or report it).
    direction : str, default="maximize"
    pruner : optuna.pruners.BasePruner, optional
    made_by : str, default="comparison"
        What makes such studies, as the messages name it (the surrogate
        search: ``"search"``).

    Returns
    -------
    study : optuna.Study

    Raises
    ------
    StudyMismatchError
        If the stored study was created by a different definition (the
        message lists what differs and how to go on), or without one (by an
        older version, or by hand) while it holds trials; with
        ``create=False``, if there is no such study.

    Examples
    --------
    >>> from sklearn_learnact.studies import bind_study
    >>> study = bind_study(None, "demo", {"data": "x"}, unique_name=True)
    >>> study.study_name
    'demo.8502d496557f'
    """
    optuna = import_optuna()
    stored = open_storage(storage)
    if unique_name:
        name = f"{name}.{definition_fingerprint(definition)}"
    definition = json.loads(json.dumps(definition))
    if stored is None and not create:
        raise ValueError("An in-memory study cannot be resumed: give a storage.")
    if not create:
        try:
            study = optuna.load_study(study_name=name, storage=stored, pruner=pruner)
        except KeyError:
            raise StudyMismatchError(
                f"No study {name!r} in the Optuna storage {_shown(storage)}: the "
                "comparison that would have made it (same data, folds, network, "
                "search space and scoring) has not run there."
            ) from None
    else:
        study = optuna.create_study(
            storage=stored,
            study_name=name,
            direction=direction,
            load_if_exists=True,
            pruner=pruner,
        )
    recorded = study.user_attrs.get(DEFINITION_ATTR)
    if recorded is None and not study.trials and create:
        study.set_user_attr(DEFINITION_ATTR, definition)
        # Another worker may have bound the new study at the same moment.
        recorded = study.user_attrs.get(DEFINITION_ATTR)
    if recorded != definition:
        raise StudyMismatchError(
            _mismatch_message(name, storage, recorded, definition, made_by)
        )
    return study


def _shown(storage) -> str:
    if storage is not None and not isinstance(storage, (str, os.PathLike)):
        return f"<{type(storage).__name__}>"  # an opened storage
    text = os.fspath(storage) if storage is not None else storage
    if isinstance(text, str) and "://" in text:
        from ._rdb import safe_url

        text = safe_url(text)
    return repr(text)


def _mismatch_message(name, storage, recorded, definition, made_by) -> str:
    if recorded is None:
        what = "was created without a record of what it compares (by an older "
        what += "version, or by hand), so its scores cannot be trusted to match"
    else:
        what = f"was made by a different {made_by}; it differs in: "
        what += "; ".join(_differences(recorded, definition))
        what += ". Its scores cannot be reused"
    return (
        f"The Optuna study {name!r} in {_shown(storage)} {what}. Rerun the command "
        f"that made it to resume it, or give this {made_by} its own study: another "
        f"study name (--study-name; leave it out to get one per {made_by}), or "
        "another output folder or storage (--out, --storage)."
    )


def study_summary(study, storage=None, *, n_folds: int | None = None) -> dict[str, Any]:
    """A study's result, read from its storage: the best trial and the counts.

    Parameters
    ----------
    study : optuna.Study or str
        A study, or the name of one in ``storage``.
    storage : str, path-like or optuna.storages.BaseStorage, optional
        Where the named study is (as for :func:`open_storage`).
    n_folds : int, optional
        How many failed folds to report when no trial completed; default the
        number of splits in the study's definition (:func:`study_definition`).

    Returns
    -------
    summary : dict
        ``params`` (the best trial's estimator parameters, with
        ``early_stopping=True``, which the pruning needs), ``folds`` (the best
        trial's per-fold results, see
        :func:`~sklearn_learnact.evaluation.fit_and_score`; NaN scores with the
        reason when no trial completed), ``selection_score`` (the best trial's
        mean score), ``study_name`` and the trial counts ``n_trials_complete``,
        ``n_trials_pruned``, ``n_trials_failed``, ``n_trials_running``
        (running elsewhere, or killed).

    Examples
    --------
    >>> import optuna
    >>> from sklearn_learnact.studies import study_summary
    >>> study = optuna.create_study(direction="maximize")
    >>> fold = {"score": 0.8, "error": None, "fit_time": 1.0, "score_time": 0.1}
    >>> attrs = {"estimator_params": {"alpha": 0.1}, "folds": [fold]}
    >>> study.add_trial(optuna.trial.create_trial(value=0.8, user_attrs=attrs))
    >>> summary = study_summary(study)
    >>> summary["params"], summary["n_trials_complete"], summary["n_trials_running"]
    ({'alpha': 0.1, 'early_stopping': True}, 1, 0)
    """
    optuna = import_optuna()
    if isinstance(study, str):
        study = optuna.load_study(study_name=study, storage=open_storage(storage))
    state = optuna.trial.TrialState
    trials = [
        t
        for t in study.get_trials(deepcopy=False)
        if not t.user_attrs.get(OVER_BUDGET_ATTR)
    ]
    counts = {
        key: sum(t.state == getattr(state, s) for t in trials)
        for key, s in (
            ("complete", "COMPLETE"),
            ("pruned", "PRUNED"),
            ("failed", "FAIL"),
            ("running", "RUNNING"),
        )
    }
    fixed = {"early_stopping": True}
    summary = {
        "study_name": study.study_name,
        **{f"n_trials_{key}": n for key, n in counts.items()},
    }
    if not counts["complete"]:
        errors = [
            t.user_attrs["error"]
            for t in trials
            if t.state == state.FAIL and "error" in t.user_attrs
        ]
        reason = (
            f"Optuna study {study.study_name!r}: no trial completed "
            f"({counts['pruned']} pruned, {counts['failed']} failed"
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
        n_folds = n_folds or _n_folds(study)
        return {
            "params": fixed,
            "folds": [{**failed, "params": fixed} for _ in range(n_folds)],
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


def _n_folds(study) -> int:
    """The number of splits a study's definition records ("3 folds of ...")."""
    splits = study.user_attrs.get(DEFINITION_ATTR, {}).get("splits", "")
    head = splits.split(" ", 1)[0]
    return int(head) if head.isdigit() else 1


def json_params(params: Mapping) -> dict:
    """Estimator parameters as JSON keeps them: tuples become lists.

    Parameters
    ----------
    params : mapping
        Estimator parameters, e.g. a trial's or a chosen configuration.

    Returns
    -------
    params : dict

    Examples
    --------
    >>> from sklearn_learnact.studies import json_params
    >>> json_params({"hidden_layer_sizes": (16, 16), "alpha": 0.1})
    {'hidden_layer_sizes': [16, 16], 'alpha': 0.1}
    """
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def _estimator_params(params: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
