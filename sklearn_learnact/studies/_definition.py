"""What defines a study's scores, and its fingerprint."""

import hashlib
import json
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from ..estimators import learnact_step
from ._space import default_search_space

__all__ = ["DEFINITION_ATTR", "definition_fingerprint", "study_definition"]

#: The study user attribute holding its definition (see :func:`study_definition`).
DEFINITION_ATTR = "learnact_definition"

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
    >>> from sklearn_learnact.studies import study_definition
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
    >>> from sklearn_learnact.studies import definition_fingerprint
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
