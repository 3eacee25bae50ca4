"""Tuning one activation's network in an Optuna study, with pruning."""

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.base import clone
from skorch.callbacks import Callback

from .._validation import (
    RANDOM_STATE,
    Boolean,
    InstanceOf,
    Interval,
    Satisfies,
    validate_call,
)
from ..estimators import learnact_step
from ..evaluation import fit_and_score
from ._definition import study_definition
from ._space import default_search_space
from ._storage import import_optuna
from ._study import bind_study, json_params, study_summary

__all__ = ["tune_activation"]

#: Trial states that count against a study's budget.
_FINISHED = ("COMPLETE", "PRUNED", "FAIL")


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


def _storage_error(exc: BaseException) -> OSError | None:
    """The OSError nearest ``exc`` in its chain of context, if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OSError):
            return exc
        seen.add(id(exc))
        exc = exc.__context__
    return None


@validate_call(
    {
        "activation": [InstanceOf(str, description="an activation name")],
        "n_trials": [Interval(numbers.Integral, 0, None)],
        "study_name": [None, InstanceOf(str)],
        "random_state": RANDOM_STATE,
        "search_space": [
            None,
            Satisfies(callable, "a function (trial, estimator) -> parameters"),
        ],
        "show_progress_bar": [Boolean()],
    }
)
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
    study_name: str | None = None,
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
    The study runs until it has ``n_trials`` finished (complete, pruned or
    failed) trials; ``n_trials=0`` runs none: it reads the stored study back
    (which must exist). Every fold is trained and scored by
    :func:`~sklearn_learnact.evaluation.fit_and_score`: a fold whose fit diverges
    or raises fails the trial (its reason is the trial's ``error`` user
    attribute) and the study goes on; a study without any completed trial is
    reported as failed, not raised.

    The study is bound to its :func:`study_definition` (:func:`bind_study`):
    with ``study_name=None`` it is ``"learnact.{activation}.{fingerprint}"``,
    one per comparison; else ``"{study_name}.{activation}"``, which only the
    same comparison may resume (:class:`StudyMismatchError` otherwise).

    Returns
    -------
    summary : dict
        :func:`study_summary` of the study: ``params`` (the best trial's
        estimator parameters, with ``early_stopping=True``, which the pruning
        needs), ``folds`` (the best trial's per-fold results, see
        :func:`~sklearn_learnact.evaluation.fit_and_score`; NaN scores with the
        reason when no trial completed), ``selection_score`` (the best trial's
        mean score), ``study_name`` and the trial counts
        ``n_trials_complete``, ``n_trials_pruned``, ``n_trials_failed``,
        ``n_trials_running`` (running elsewhere, or killed).
    """
    optuna = import_optuna()
    from ._sampler import TrialSeededSampler  # needs Optuna

    prefix, inner = learnact_step(estimator)
    space = search_space or default_search_space
    base = clone(estimator).set_params(
        **{f"{prefix}activation": activation, f"{prefix}early_stopping": True}
    )
    definition = study_definition(
        base, X, y, splits, scorer=scorer, search_space=search_space
    )
    study = bind_study(
        storage,
        f"{study_name or 'learnact'}.{activation}",
        definition,
        unique_name=study_name is None,
        create=n_trials > 0,
        pruner=pruner
        or optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=5),
    )
    states = tuple(getattr(optuna.trial.TrialState, s) for s in _FINISHED)
    n_done = len(study.get_trials(deepcopy=False, states=states))
    # the same seed for every activation (the same first configurations), mixed
    # with each trial's number: one worker reproduces, parallel ones never repeat
    study.sampler = (
        optuna.samplers.TPESampler()
        if random_state is None
        else TrialSeededSampler(random_state)
    )
    stride = sum(epochs for epochs, _ in inner.cycle_plan())

    def objective(trial) -> float:
        params = space(trial, inner)
        trial.set_user_attr("estimator_params", json_params(params))
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
        try:
            study.optimize(
                objective,
                n_trials=n_trials - n_done,
                callbacks=[optuna.study.MaxTrialsCallback(n_trials, states=states)],
                show_progress_bar=show_progress_bar,
            )
        except (AssertionError, UnboundLocalError) as exc:
            # When recording a trial's end fails (a full disk, a lost database),
            # Optuna 5's _run_trial hides the storage error behind an error of
            # its own ("assert False", or an unbound "updated_state"); raise the
            # storage error instead: it says what happened.
            cause = _storage_error(exc)
            if cause is None:
                raise
            raise cause from None
    return study_summary(study, n_folds=len(splits))
