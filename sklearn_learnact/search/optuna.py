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

Studies
-------
A study is bound to what defines its scores (:func:`study_definition`: the
data, the target, the cross-validation splits, the estimator's parameters, the
search space and the scorer), recorded in the study. By default
(``study_name=None``) each activation's study is named
``learnact.<activation>.<fingerprint of the definition>``: the same comparison
run again resumes its studies, a different one (other data, folds, network...)
gets its own, even in the same file or database. A study named explicitly is
resumed only by the comparison that created it; any other stops with a
:class:`StudyMismatchError` that says what differs (:func:`bind_study`).

A stored study runs only the trials it still lacks, so a killed run resumes
where it stopped: finished trials are kept, and only the trial that was running
when it was killed is lost (it stays ``RUNNING`` in the storage and does not
count). With several workers on one study each stops once the study has
``n_trials`` finished trials, so the total may exceed ``n_trials`` by at most
the number of workers minus one. :func:`study_summary` reads a study's result
back from the storage (``learnact report DIR`` writes a report from it).
"""

import errno
import hashlib
import json
import numbers
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from skorch.callbacks import Callback

from ..estimators import learnact_step
from ..nets import check_hidden_layer_sizes
from ._fit import fit_and_score

__all__ = [
    "StorageRecoveredWarning",
    "StorageUnavailableError",
    "StudyMismatchError",
    "bind_study",
    "default_search_space",
    "definition_fingerprint",
    "import_optuna",
    "open_storage",
    "recover_journal",
    "study_definition",
    "study_summary",
    "tune_activation",
]

#: Trial states that count against a study's budget.
_FINISHED = ("COMPLETE", "PRUNED", "FAIL")
#: The study user attribute holding its definition (see :func:`study_definition`).
DEFINITION_ATTR = "learnact_definition"


class StorageRecoveredWarning(UserWarning):
    """A storage was repaired: a stale lock cleared, an incomplete record
    dropped, or a lost database connection retried."""


class StorageUnavailableError(ConnectionError):
    """The storage's server stayed unreachable for longer than the retry time.

    An :class:`OSError` (``errno.ECONNABORTED``) whose message says which
    storage, for how long, and what to do.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.errno = errno.ECONNABORTED


class StudyMismatchError(ValueError):
    """A stored study was made by a different comparison (the message says
    what differs), or there is no stored study to report."""


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


# ------------------------------------------------------------- study binding
#: Parameters that change how a fit runs, not what it computes.
_NOT_DEFINING = frozenset({"verbose", "n_jobs", "memory", "device"})


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode())
        h.update(b"\0")
    return h.hexdigest()[:12]


def _array_digest(data) -> tuple[str, str]:
    """(shape in words, content digest) of an array, frame, series or list."""
    import pandas as pd
    import scipy.sparse as sp

    if isinstance(data, (pd.DataFrame, pd.Series)):
        frame = data.to_frame() if isinstance(data, pd.Series) else data
        hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        columns = [(str(c), str(t)) for c, t in frame.dtypes.items()]
        return _shape_words(frame.shape), _digest(hashed.tobytes(), columns)
    if sp.issparse(data):
        data = sp.csr_array(data)
        return _shape_words(data.shape) + " (sparse)", _digest(
            data.data.tobytes(), data.indices.tobytes(), data.indptr.tobytes()
        )
    array = np.asarray(data)
    if array.dtype.kind == "O" or array.dtype.kind in "US":
        flat = pd.util.hash_array(array.ravel().astype(object))
        return _shape_words(array.shape), _digest(flat.tobytes(), array.shape)
    array = np.ascontiguousarray(array)
    return _shape_words(array.shape), _digest(
        array.tobytes(), array.dtype.str, array.shape
    )


def _shape_words(shape) -> str:
    if len(shape) == 1:
        return f"{shape[0]} values"
    return f"{shape[0]} rows x {' x '.join(map(str, shape[1:]))} columns"


def _describe(value, depth: int = 0) -> Any:
    """A JSON-able description of a parameter value, the same in every run
    (no memory addresses)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return repr(float(value))  # nan and inf, too
    if isinstance(value, np.ndarray):
        return "array " + ", sha256 ".join(_array_digest(value))
    if isinstance(value, BaseEstimator):
        return type(value).__qualname__  # its parameters are listed on their own
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    if depth > 8:  # a self-referencing object: its type only
        return type(value).__qualname__
    if isinstance(value, (list, tuple)):
        return [_describe(v, depth + 1) for v in value]
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return {str(k): _describe(v, depth + 1) for k, v in items}
    if hasattr(value, "__dict__"):
        return {type(value).__qualname__: _describe(vars(value), depth + 1)}
    return type(value).__qualname__ if " at 0x" in repr(value) else repr(value)


def _estimator_description(estimator) -> dict[str, Any]:
    return {
        name: _describe(value)
        for name, value in sorted(estimator.get_params(deep=True).items())
        if name.rsplit("__", 1)[-1] not in _NOT_DEFINING
    }


class _SpaceRecorder:
    """Stands in for an Optuna trial to read a search space without sampling.

    Each ``suggest_*`` records its arguments and returns the lowest value (or
    the first choice), or with ``high=True`` the highest (the last choice).
    """

    def __init__(self, high: bool = False):
        self.high, self.calls = high, {}

    def suggest_float(self, name, low, high, *, step=None, log=False):
        self.calls[name] = f"float in [{low!r}, {high!r}], step={step!r}, log={log}"
        return high if self.high else low

    def suggest_int(self, name, low, high, *, step=1, log=False):
        self.calls[name] = f"int in [{low!r}, {high!r}], step={step!r}, log={log}"
        return high if self.high else low

    def suggest_categorical(self, name, choices):
        self.calls[name] = f"one of {[_describe(c) for c in choices]!r}"
        return choices[-1] if self.high else choices[0]


def _space_description(search_space, estimator) -> dict[str, Any]:
    """The space's name, its ranges, and the parameters it sets unsampled."""
    space = search_space or default_search_space
    described = {"function": _describe(space)}
    low, high = _SpaceRecorder(), _SpaceRecorder(high=True)
    try:
        lows, highs = space(low, estimator), space(high, estimator)
    except Exception:  # a space that needs more of a trial: its name only
        return described
    described.update(low.calls)
    if isinstance(lows, Mapping) and isinstance(highs, Mapping):
        described["fixed"] = {
            k: _describe(v)
            for k, v in sorted(lows.items())
            if _describe(highs.get(k)) == _describe(v)
        }
    return described


def study_definition(
    estimator,
    X,
    y,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    scorer: Callable | None = None,
    search_space: Callable | None = None,
    **extra,
) -> dict[str, Any]:
    """What defines a study's scores, to bind the study to it.

    Two comparisons whose definitions are equal compute the same scores, so a
    stored study can be resumed; if anything differs, its scores must not be
    reused. See :func:`bind_study`.

    Parameters
    ----------
    estimator : estimator
        The estimator every trial starts from (with its activation set); every
        parameter counts except ``verbose``, ``n_jobs``, ``memory`` and
        ``device`` (how a fit runs, not what it computes).
    X, y : array-like, DataFrame or Series
        Described by their shape and a SHA-256 digest of their content.
    splits : sequence of (train, test) index arrays
        Described by their number, mean sizes and a digest of the indices.
    scorer : callable, optional
        Described by its ``repr`` (e.g. ``make_scorer(accuracy_score)``).
    search_space : callable, optional
        Default :func:`default_search_space`. Described by its qualified name
        and the ranges it suggests (read by calling it on a stand-in trial);
        the parameters it sets without sampling are listed under ``fixed``.
    **extra
        More entries, each described the same way (e.g. inner splits).

    Returns
    -------
    definition : dict
        JSON-able: ``data``, ``target``, ``splits``, ``scoring``,
        ``estimator`` (parameter name to value), ``search space`` and the
        ``extra`` entries.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.search.optuna import study_definition
    >>> X, y = make_classification(60, 4, random_state=0)
    >>> splits = [(np.arange(30), np.arange(30, 60))]
    >>> d = study_definition(LearnedActivationClassifier(), X, y, splits)
    >>> d["data"], d["estimator"]["max_iter"]  # doctest: +ELLIPSIS
    ('60 rows x 4 columns, sha256 ...', 200)
    >>> d["search space"]["width"]
    'int in [8, 128], step=1, log=True'
    """
    _, inner = learnact_step(estimator)
    train = float(np.mean([len(tr) for tr, _ in splits]))
    test = float(np.mean([len(te) for _, te in splits]))
    split_digest = _digest(
        *(np.asarray(i, dtype=np.int64).tobytes() for pair in splits for i in pair)
    )
    definition = {
        "data": ", sha256 ".join(_array_digest(X)),
        "target": ", sha256 ".join(_array_digest(y)),
        "splits": f"{len(splits)} folds of {train:.0f} training and {test:.0f} "
        f"test rows, sha256 {split_digest}",
        "scoring": "estimator.score" if scorer is None else _describe_scorer(scorer),
        "estimator": _estimator_description(estimator),
        "search space": _space_description(search_space, inner),
    }
    definition.update({k: _describe(v) for k, v in sorted(extra.items())})
    return json.loads(json.dumps(definition))  # as the storage gives it back


def _describe_scorer(scorer) -> str:
    text = repr(scorer)
    return text if " at 0x" not in text else _describe(scorer)


def definition_fingerprint(definition: Mapping) -> str:
    """A 12-hex-digit digest of a :func:`study_definition`.

    Examples
    --------
    >>> from sklearn_learnact.search.optuna import definition_fingerprint
    >>> definition_fingerprint({"data": "x"})
    '8502d496557f'
    """
    return _digest(json.dumps(definition, sort_keys=True))


def _differences(stored: Mapping, wanted: Mapping) -> list[str]:
    """What differs between two definitions, in words ("splits: A -> B")."""
    out = []
    for key in [*wanted, *(k for k in stored if k not in wanted)]:  # data first
        old, new = stored.get(key, "(none)"), wanted.get(key, "(none)")
        if old == new:
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            changed = [
                f"{k} {old.get(k, '(unset)')} -> {new.get(k, '(unset)')}"
                for k in sorted(set(old) | set(new))
                if old.get(k) != new.get(k)
            ]
            more = f", and {len(changed) - 4} more" if len(changed) > 4 else ""
            out.append(f"{key}: {'; '.join(changed[:4])}{more}")
        else:
            out.append(f"{key}: {old} -> {new}")
    return out


def bind_study(
    storage,
    name: str,
    definition: Mapping,
    *,
    unique_name: bool = False,
    create: bool = True,
    direction: str = "maximize",
    pruner=None,
):
    """Create or resume the study bound to ``definition``.

    The definition is recorded in the study (user attribute
    ``"learnact_definition"``) when it is created; resuming it requires the
    same definition, so a stored study never mixes scores of different
    comparisons.

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
    >>> from sklearn_learnact.search.optuna import bind_study
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
        raise StudyMismatchError(_mismatch_message(name, storage, recorded, definition))
    return study


def _shown(storage) -> str:
    text = os.fspath(storage) if isinstance(storage, (str, os.PathLike)) else storage
    if isinstance(text, str) and "://" in text:
        from ._storage import safe_url

        text = safe_url(text)
    return repr(text)


def _mismatch_message(name, storage, recorded, definition) -> str:
    if recorded is None:
        what = "was created without a record of what it compares (by an older "
        what += "version, or by hand), so its scores cannot be trusted to match"
    else:
        what = "was made by a different comparison, so its scores cannot be reused: "
        what += "; ".join(_differences(recorded, definition))
    return (
        f"The Optuna study {name!r} in {_shown(storage)} {what}. Rerun the command "
        "that made it to resume it, or give this comparison its own study: another "
        "study name (--study-name; leave it out to get one per comparison), or "
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
        :func:`~sklearn_learnact.search.fit_and_score`; NaN scores with the
        reason when no trial completed), ``selection_score`` (the best trial's
        mean score), ``study_name`` and the trial counts ``n_trials_complete``,
        ``n_trials_pruned``, ``n_trials_failed``, ``n_trials_running``
        (running elsewhere, or killed).

    Examples
    --------
    >>> import optuna
    >>> from sklearn_learnact.search.optuna import study_summary
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
    summary = {
        "study_name": study.study_name,
        **{f"n_trials_{key}": n for key, n in counts.items()},
    }
    if not counts["complete"]:
        errors = [
            t.user_attrs["error"]
            for t in study.get_trials(deepcopy=False, states=(state.FAIL,))
            if "error" in t.user_attrs
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


def _storage_error(exc: BaseException) -> OSError | None:
    """The OSError nearest ``exc`` in its chain of context, if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OSError):
            return exc
        seen.add(id(exc))
        exc = exc.__context__
    return None


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
    :func:`~sklearn_learnact.search.fit_and_score`: a fold whose fit diverges
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
        :func:`~sklearn_learnact.search.fit_and_score`; NaN scores with the
        reason when no trial completed), ``selection_score`` (the best trial's
        mean score), ``study_name`` and the trial counts
        ``n_trials_complete``, ``n_trials_pruned``, ``n_trials_failed``,
        ``n_trials_running`` (running elsewhere, or killed).
    """
    optuna = import_optuna()
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
    study.sampler = optuna.samplers.TPESampler(
        seed=_sampler_seed(random_state, len(study.trials), storage is not None)
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
