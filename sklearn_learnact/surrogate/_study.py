"""The Optuna side of the surrogate search: a study per search, a sampler.

One trial is one candidate evaluation: its only parameter ``candidate`` is
the index of the expression in the candidate space, chosen by
:func:`~sklearn_learnact.surrogate.propose_candidate` (the baselines first,
then the candidate with the highest score predicted by a 3-nearest-neighbour
regression on the 2-D embedding) and queued with its
worker in one record (:func:`next_trial`); :class:`CandidateSampler` picks
the same way when another worker took the queued trial. Workers that share a
storage share the study: each reads the finished, running and queued trials
before it picks, so they do not evaluate the same candidate twice (up to a
race of a few milliseconds).

A study is bound to what defines the search: the data, the splits, the
scoring, the estimator's configuration, the candidate space and the surrogate
settings, recorded in the study by the studies' one binder
(:func:`~sklearn_learnact.studies.bind_study`). The default study name
contains the definition's fingerprint, so a different search gets its own
study; a study opened by name whose definition differs is an error that says
what differs. The embedding (NaN for the candidates the failure filter
removed) and the filter's counts are stored in the study too: a resumed
worker skips the features, the filter and UMAP, and all workers use one
embedding.

A worker that is killed leaves its trial ``RUNNING`` (or queued). Each worker
records ``host:pid`` on its trials, in the record that creates them; a running
trial of a dead process on this host is marked failed when a worker
(re)starts, and its candidate is picked again; a queued one is started by the
next worker. Trials of workers on other hosts are left alone.
"""

import os
import socket
import time
import warnings
from datetime import datetime

import numpy as np
import optuna
from optuna.distributions import IntDistribution
from optuna.trial import TrialState

from ..studies import (
    DEFINITION_ATTR,
    bind_study,
    definition_fingerprint,
    process_alive,
)
from ._surrogate import SearchExhausted, propose_candidate

__all__ = [
    "CandidateSampler",
    "SearchExhausted",
    "next_trial",
    "open_search_study",
    "taken_by",
]

#: A running trial without a worker record older than this is stale (seconds).
_GRACE = 60.0


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def candidate_distribution(n_candidates: int) -> IntDistribution:
    return IntDistribution(0, n_candidates - 1)


class CandidateSampler(optuna.samplers.BaseSampler):
    """Optuna sampler over the candidate index, driven by the surrogate.

    Parameters
    ----------
    distance : CandidateDistance
        Between the candidates' embedding coordinates.
    first : sequence of int
        Candidates evaluated first, in order (the baselines).
    seed : int
        With the trial number, seeds the tie-breaking: a resumed search picks
        as an uninterrupted one would.
    n_neighbors : int, default=3
    allowed : ndarray of bool, optional
        The candidates the failure filter kept; default all.
    """

    def __init__(self, distance, first, seed: int, n_neighbors: int = 3, allowed=None):
        self.distance = distance
        self.first = list(first)
        self.seed = seed
        self.n_neighbors = n_neighbors
        self.allowed = allowed
        self.predicted: dict[int, float] = {}

    def propose(self, scores, busy, rng) -> tuple[int, float]:
        return propose_candidate(
            self.distance,
            scores,
            busy,
            self.first,
            rng,
            self.n_neighbors,
            allowed=self.allowed,
        )

    def infer_relative_search_space(self, study, trial) -> dict:
        return {}

    def sample_relative(self, study, trial, search_space) -> dict:
        return {}

    def sample_independent(self, study, trial, param_name, param_distribution):
        scores, busy = evaluated(study, exclude=trial.number)
        rng = np.random.default_rng([self.seed, trial.number])
        index, predicted = self.propose(scores, busy, rng)
        self.predicted[trial.number] = predicted
        return index


def evaluated(study, exclude: int | None = None) -> tuple[dict[int, float], set[int]]:
    """Scores of the evaluated candidates, and the candidates being evaluated
    (running, or queued by :func:`next_trial`)."""
    scores: dict[int, float] = {}
    busy: set[int] = set()
    for t in study.get_trials(deepcopy=False):
        index = t.params.get("candidate")
        if index is None and t.state == TrialState.WAITING:  # queued: no params yet
            index = t.user_attrs.get("candidate")
        if index is None or t.number == exclude:
            continue
        if t.state == TrialState.COMPLETE:
            scores.setdefault(index, t.value)  # a duplicate keeps the first
        elif t.state in (TrialState.RUNNING, TrialState.WAITING):
            busy.add(index)
    return scores, busy - set(scores)


def next_trial(study, sampler: CandidateSampler, expressions, worker: str):
    """Start the next evaluation: a trial whose worker is recorded with it.

    The candidate is chosen as :class:`CandidateSampler` would, and queued
    (``study.enqueue_trial``) with the worker, the expression and the predicted
    score as user attributes: one storage record, so a worker killed at any
    point leaves no running trial without its worker (which
    :func:`fail_stale_trials` could not attribute). ``study.ask`` then starts
    the oldest queued trial; one queued by a worker killed before it asked is
    started first, and taken over. If another worker took this one, the
    sampler picks (its worker is then recorded right after).
    """
    waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    if not waiting:
        scores, busy = evaluated(study)
        n_trials = len(study.get_trials(deepcopy=False))
        rng = np.random.default_rng([sampler.seed, n_trials])  # as the sampler
        index, predicted = sampler.propose(scores, busy, rng)
        study.enqueue_trial(
            {"candidate": index},
            user_attrs={
                "worker": worker,
                "candidate": index,
                "expression": expressions[index],
                "predicted_score": predicted,
            },
        )
    trial = study.ask({"candidate": candidate_distribution(len(expressions))})
    attrs = trial.user_attrs
    if attrs.get("worker") != worker:
        trial.set_user_attr("worker", worker)
    if "expression" not in attrs:  # picked by the sampler
        index = trial.params["candidate"]
        trial.set_user_attr("expression", expressions[index])
        predicted = sampler.predicted.pop(trial.number, float("nan"))
        trial.set_user_attr("predicted_score", predicted)
    return trial


def taken_by(study, trial) -> int | None:
    """The number of an earlier trial of the same candidate, if any.

    Two workers that pick at the same moment can pick the same candidate.
    Each checks once its trial is started: the later trial (by number) yields,
    so at most one of them is evaluated.
    """
    index = trial.params["candidate"]
    for t in study.get_trials(deepcopy=False):
        if t.number >= trial.number or t.state == TrialState.FAIL:
            continue
        other = t.params.get("candidate", t.user_attrs.get("candidate"))
        if other == index:
            return t.number
    return None


def fail_stale_trials(study) -> list[int]:
    """Mark running trials of dead processes on this host as failed."""
    host = socket.gethostname()
    failed = []
    now = time.time()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = t.user_attrs.get("worker")
        if worker is None:
            started = t.datetime_start.timestamp() if t.datetime_start else now
            stale = now - started > _GRACE
        else:
            worker_host, _, pid = worker.rpartition(":")
            stale = worker_host == host and not process_alive(int(pid))
        if stale:
            study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
            failed.append(t.number)
    return failed


def open_search_study(storage, study_name: str | None, definition: dict, prefix: str):
    """Create or resume the study of this search; refuse another search's.

    A thin use of :func:`~sklearn_learnact.studies.bind_study`, which raises
    :class:`~sklearn_learnact.studies.StudyMismatchError` (a ``ValueError``)
    for another search's study, saying what differs.

    Parameters
    ----------
    storage : optuna storage or None
    study_name : str or None
        None names the study ``f"{prefix}.{fingerprint}"`` from the definition
        (:func:`~sklearn_learnact.studies.definition_fingerprint`).
    definition : dict
        JSON-able description of the search.
    prefix : str
        Prefix of the default names.

    Returns
    -------
    study : optuna.Study
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if study_name is None and storage is not None:
        name = f"{prefix}.{definition_fingerprint(definition)}"
        _warn_about_siblings(storage, name, prefix, definition)
    return bind_study(
        storage,
        study_name or prefix,
        definition,
        unique_name=study_name is None,
        made_by="search",
    )


def _warn_about_siblings(storage, name: str, prefix: str, definition: dict) -> None:
    """A new default-named study beside older ones: say why it is not resumed."""
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    if any(s.study_name == name for s in summaries):
        return  # resumed
    others = [s for s in summaries if s.study_name.startswith(prefix + ".")]
    if not others:
        return
    # a study just created by another worker has no start yet
    latest = max(others, key=lambda s: s.datetime_start or datetime.min)
    stored = latest.user_attrs.get(DEFINITION_ATTR, {})
    keys = sorted(set(stored) | set(definition))
    differ = [k for k in keys if stored.get(k) != definition.get(k)]
    warnings.warn(
        f"Starting a new study {name!r}: the storage holds {len(others)} other "
        f"surrogate search(es), e.g. {latest.study_name!r}, which differs in: "
        f"{', '.join(differ)}; they are not resumed (a search resumes only with "
        "the same data, splits, scoring, estimator, space and settings; fix "
        "random_state to get the same splits).",
        UserWarning,
        stacklevel=4,
    )
