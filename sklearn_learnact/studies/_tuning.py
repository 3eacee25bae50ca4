"""Tuning one activation's network in an Optuna study, with pruning."""

import numbers
import os
import socket
import time
import uuid
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
from ._study import OVER_BUDGET_ATTR, bind_study, json_params, study_summary

__all__ = ["tune_activation"]

#: Trial states that count against a study's budget.
_FINISHED = ("COMPLETE", "PRUNED", "FAIL")
#: The trial user attribute naming the call that runs it (:func:`_worker`).
_WORKER_ATTR = "worker"
#: The worker ids of the tune_activation calls running in this process.
_CALLS_HERE: set[str] = set()
#: Seconds a running trial without a worker record counts as alive (a worker
#: records itself as the trial starts: only a kill in between leaves none).
_UNRECORDED_GRACE = 60.0


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


class _StopAtBudget:
    """Stops a worker once the study has ``n_trials`` finished trials that
    count (:func:`_n_counted`)."""

    def __init__(self, n_trials: int):
        self.n_trials = n_trials

    def __call__(self, study, trial) -> None:
        if _n_counted(study, running=False) >= self.n_trials:
            study.stop()


def _worker() -> str:
    """A new worker id, ``host:pid:call``: one per :func:`tune_activation` call."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _may_be_running(trial, host: str, now: float) -> bool:
    """Whether a ``RUNNING`` trial may still finish: its call is running in
    this process, its process is alive on this host, or it runs on another
    host (which cannot be checked from here)."""
    worker = trial.user_attrs.get(_WORKER_ATTR)
    if worker is None:
        started = trial.datetime_start.timestamp() if trial.datetime_start else now
        return now - started < _UNRECORDED_GRACE
    parts = str(worker).rsplit(":", 2)
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return True  # another host's, or not a record of this library's
    pid = int(parts[1])
    if pid == os.getpid():  # e.g. a trial whose end a full disk lost
        return worker in _CALLS_HERE
    return process_alive(pid)


def process_alive(pid: int) -> bool:
    """Whether the process ``pid`` of this host is alive (a worker's; another
    user's process counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _n_counted(study, below: int | None = None, *, running: bool = True) -> int:
    """Trials that count against the budget (numbered below ``below``):
    finished ones, and with ``running`` those running in a live process.

    Trials over the budget never count, nor do those left running by a
    killed process of this host: a worker takes their place.
    """
    state = import_optuna().trial.TrialState
    finished = tuple(getattr(state, s) for s in _FINISHED)
    host, now, n = socket.gethostname(), time.time(), 0
    for t in study.get_trials(deepcopy=False):
        if (below is not None and t.number >= below) or t.user_attrs.get(
            OVER_BUDGET_ATTR
        ):
            continue
        if t.state in finished:
            n += 1
        elif running and t.state == state.RUNNING and _may_be_running(t, host, now):
            n += 1
    return n


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

    Several workers (processes, machines) that tune the same study share its
    budget: a trial counts once it is started, unless its process died on
    this host (then another takes its place), and a worker that starts a
    trial beyond the budget records it as pruned and over the budget
    (user attribute ``"over_budget"``, counted nowhere) and stops. So the
    study ends with ``n_trials`` trials however many workers ran it.

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
    n_done = _n_counted(study, running=False)
    worker = _worker()
    # the same seed for every activation (the same first configurations), mixed
    # with each trial's number: one worker reproduces, parallel ones never repeat
    study.sampler = (
        optuna.samplers.TPESampler()
        if random_state is None
        else TrialSeededSampler(random_state)
    )
    stride = sum(epochs for epochs, _ in inner.cycle_plan())

    def objective(trial) -> float:
        trial.set_user_attr(_WORKER_ATTR, worker)
        if _n_counted(study, below=trial.number) >= n_trials:
            # other workers started the last trials of the budget meanwhile
            trial.set_user_attr(OVER_BUDGET_ATTR, True)
            study.stop()
            raise optuna.TrialPruned(f"over the budget of {n_trials} trials")
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
        _CALLS_HERE.add(worker)
        try:
            study.optimize(
                objective,
                n_trials=n_trials - n_done,
                callbacks=[_StopAtBudget(n_trials)],
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
        finally:
            _CALLS_HERE.discard(worker)
    return study_summary(study, n_folds=len(splits))
