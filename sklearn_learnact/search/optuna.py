"""Optuna studies per activation: equal budgets, pruning, resumable storage.

Optuna is optional (``pip install "sklearn-learnact[optuna]"``); it is imported
only when a study is run.

Storage
-------
``storage`` is ``None`` (in memory: nothing survives the process), a file path
(an Optuna journal file, the default of ``learnact compare``: no server, safe
for several processes on one machine) or any Optuna storage URL, e.g.
``sqlite:///studies.db`` or, for workers on several machines,
``postgresql+psycopg2://user:password@host/db`` (``pip install
"sklearn-learnact[postgres]"``, create the database once, then start the same
command on every machine).
:func:`open_storage` makes each of them robust: a journal path is made
absolute, a lock left by a killed run is cleared, an incomplete last record
(a kill or a full disk mid-write) is dropped with a warning saying how many
records were kept; an SQL schema is created once however many workers start
together, and a lost connection (a database restart) is retried for a bounded
time, then :class:`StorageUnavailableError` says so.

Every study is opened with ``load_if_exists=True`` and runs only the trials it
still lacks, so a killed run resumes where it stopped: finished trials are
kept, and only the trial that was running when it was killed is lost (it stays
``RUNNING`` in the storage and does not count). With several workers on one
study each stops once the study has ``n_trials`` finished trials, so the total
may exceed ``n_trials`` by at most the number of workers minus one.
"""

import json
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from skorch.callbacks import Callback

from ..estimators import learnact_step
from ..nets import check_hidden_layer_sizes
from ._fit import fit_and_score

__all__ = [
    "StorageRecoveredWarning",
    "StorageUnavailableError",
    "default_search_space",
    "import_optuna",
    "open_storage",
    "recover_journal",
]

#: Trial states that count against a study's budget.
_FINISHED = ("COMPLETE", "PRUNED", "FAIL")


class StorageRecoveredWarning(UserWarning):
    """A storage was repaired: a stale lock cleared, an incomplete record
    dropped, or a lost database connection retried."""


class StorageUnavailableError(ConnectionError):
    """The storage's server stayed unreachable for longer than the retry time."""


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


# ---------------------------------------------------------------------- storage
def open_storage(storage: str | os.PathLike | None, *, retry_timeout: float = 60.0):
    """Open an Optuna storage from a URL or a journal-file path, robustly.

    Parameters
    ----------
    storage : str, path-like, optuna.storages.BaseStorage or None
        A storage object is returned as is; None means in memory; a string
        containing ``"://"`` is an Optuna storage URL (``sqlite:///file.db``,
        ``postgresql+psycopg2://...``); anything else is the path of an Optuna
        journal file, created if missing.
    retry_timeout : float, default=60
        For a URL: how many seconds a lost or refused connection is retried
        (with backoff) before :class:`StorageUnavailableError` is raised.

    Returns
    -------
    storage : optuna.storages.BaseStorage or None
        A journal path gives a :class:`~optuna.storages.JournalStorage` on the
        absolute path (a relative one is resolved now, so a later change of
        directory or a lock link cannot dangle), recovered first by
        :func:`recover_journal`; a lock left behind by a killed run is
        cleared with a :class:`StorageRecoveredWarning` (at once when the run
        was this library's, after a grace period otherwise). A URL gives an
        :class:`~optuna.storages.RDBStorage` whose schema is created once
        (PostgreSQL: under an advisory lock, so workers started together do
        not collide) and whose calls are retried after a lost connection.

    Raises
    ------
    ValueError
        If the storage cannot be opened; the message says why (a URL's
        password is hidden).

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
    from . import _storage

    text = os.fspath(storage)
    shown = _storage.safe_url(text) if "://" in text else text
    try:
        if "://" in text:
            return _storage.open_rdb(text, retry_timeout=retry_timeout)
        path = Path(text).expanduser().absolute()
        if not path.parent.is_dir():
            raise FileNotFoundError(f"folder {str(path.parent)!r} does not exist")
        if path.is_dir():
            raise IsADirectoryError("it is a folder, not a journal file")
        with open(path, "a"):  # fails early on a read-only file or folder
            pass
        return _storage.open_journal(os.path.realpath(path))
    except Exception as exc:  # sqlalchemy, drivers and the OS raise many kinds
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        if "://" in text:
            message = message.replace(text, shown)
        raise ValueError(
            f"Cannot open the Optuna storage {shown!r}: {message}"
        ) from exc


def recover_journal(path: str | os.PathLike) -> int:
    """Repair an Optuna journal file damaged by an interrupted write.

    A kill or a full disk during an append can leave an incomplete last
    record; an older writer may then have appended whole records onto it,
    which makes Optuna refuse the whole file. The incomplete record is
    dropped, a whole record written onto one is kept, and a
    :class:`StorageRecoveredWarning` says how many records were dropped and
    kept. An undamaged file is not touched; a damaged one whose middle had to
    be rewritten is first copied to ``path + ".damaged"``. Call it while no
    other process writes the file (:func:`open_storage` calls it under the
    journal's lock).

    Parameters
    ----------
    path : path-like
        The journal file; a missing file has no records.

    Returns
    -------
    n_records : int
        The number of records the file holds after the repair.

    Examples
    --------
    >>> import tempfile, warnings
    >>> from pathlib import Path
    >>> from sklearn_learnact.search.optuna import recover_journal
    >>> path = Path(tempfile.mkdtemp()) / "optuna.journal"
    >>> _ = path.write_text('{"op_code":0,"worker_id":"a"}\\n{"op_code":4,"wor')
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     recover_journal(path)
    1
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    Optuna journal ...: dropped 1 incomplete record (17 bytes) ...; kept 1 complete ...
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    lines = data.splitlines(keepends=True)
    kept, dropped, dropped_bytes, rewrite = [], 0, 0, False
    for i, line in enumerate(lines):
        record = _journal_record(line)
        if record is not None:
            kept.append(record)
            continue
        if i < len(lines) - 1 or line.endswith(b"\n"):
            rewrite = True  # damage in the middle: the file must be rewritten
        salvaged = _salvage(line)
        dropped += 1
        dropped_bytes += len(line) - len(salvaged or b"")
        if salvaged is not None:
            kept.append(salvaged)
    if not dropped:
        return len(kept)
    if rewrite:
        backup = path.with_name(path.name + ".damaged")
        backup.write_bytes(data)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.recovered")
        with open(tmp, "wb") as f:
            f.write(b"".join(kept))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        where = f" (the damaged file is kept as {backup})"
    else:
        with open(path, "r+b") as f:
            f.truncate(len(data) - dropped_bytes)
        where = ""
    warnings.warn(
        f"Optuna journal {path}: dropped {_records(dropped, 'incomplete')} "
        f"({dropped_bytes} bytes) left by an interrupted write (a kill or a full "
        f"disk); kept {_records(len(kept), 'complete')}{where}.",
        StorageRecoveredWarning,
        stacklevel=2,
    )
    return len(kept)


def _records(n: int, kind: str) -> str:
    return f"{n} {kind} record{'' if n == 1 else 's'}"


def _journal_record(line: bytes) -> bytes | None:
    """``line`` if it is one whole journal record, else None."""
    if not line.endswith(b"\n"):
        return None
    try:
        return line if isinstance(json.loads(line), dict) else None
    except ValueError:
        return None


def _salvage(line: bytes) -> bytes | None:
    """The whole record appended onto an incomplete one, if any."""
    start = line.find(b'{"op_code"', 1)
    while start > 0:
        record = _journal_record(line[start:])
        if record is not None:
            return record
        start = line.find(b'{"op_code"', start + 1)
    return None


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
        try:
            study.optimize(
                objective,
                n_trials=n_trials - n_done,
                callbacks=[optuna.study.MaxTrialsCallback(n_trials, states=states)],
                show_progress_bar=show_progress_bar,
            )
        except AssertionError as exc:
            # When recording a trial's end fails (a full disk, a lost database),
            # Optuna 5's _run_trial hides the storage error behind an
            # "assert False" of its own; raise the error that says what happened.
            if isinstance(exc.__context__, OSError):
                raise exc.__context__ from None
            raise
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
