"""Tabular data from a CSV file, and the preprocessor that makes it dense floats."""

import codecs
import collections
import csv
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import Bunch

from .._validation import Options, validate_params
from ._options import OptionNames

#: Tasks of :func:`load_csv`; ``"auto"`` guesses from the target column.
TASKS = ("auto", "classification", "regression")
#: Separators :func:`load_csv` detects, in order of preference on a tie.
_SEPARATORS = (",", ";", "\t", "|")
#: A number with a decimal comma (``-1,5``, ``2,``, ``3,1e-4``).
_DECIMAL_COMMA = r"[+-]?(?:\d+,?\d*|,\d+)(?:[eE][+-]?\d+)?"
#: Integer targets with at most this many distinct values are classes.
_MAX_AUTO_CLASSES = 20


def make_tabular_preprocessor(
    numeric: Sequence[str] | None = None, categorical: Sequence[str] | None = None
) -> ColumnTransformer:
    """Return a transformer from a mixed-type DataFrame to dense floats.

    Numeric columns are median-imputed and standardised; categorical ones are
    imputed with their most frequent value and one-hot encoded (unknown
    categories give all zeros). Other columns are dropped.

    Parameters
    ----------
    numeric : sequence of str, optional
        Numeric columns, by name; default: every column of a numeric dtype.
    categorical : sequence of str, optional
        Categorical columns, by name; default: every other column (text,
        bool, category).

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Unfitted; its output is a dense float array (or a DataFrame after
        ``set_output(transform="pandas")``).

    See Also
    --------
    load_csv : Loads a CSV file with this preprocessor.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_learnact.datasets import make_tabular_preprocessor
    >>> X = pd.DataFrame({"age": [20.0, None, 40.0], "city": ["a", "b", None]})
    >>> make_tabular_preprocessor().fit_transform(X).round(2).tolist()
    [[-1.22, 1.0, 0.0], [0.0, 0.0, 1.0], [1.22, 1.0, 0.0]]
    """
    numeric_pipe = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical_pipe = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    return ColumnTransformer(
        [
            (
                "num",
                numeric_pipe,
                make_column_selector(dtype_include="number")
                if numeric is None
                else list(numeric),
            ),
            (
                "cat",
                categorical_pipe,
                make_column_selector(dtype_exclude="number")
                if categorical is None
                else list(categorical),
            ),
        ],
        sparse_threshold=0.0,
    )


def load_csv(
    path: str | os.PathLike,
    target: str,
    *,
    task: str = "auto",
    encoding: str | None = None,
    sep: str | None = None,
) -> Bunch:
    """Load a CSV file for a comparison: features, target, task and preprocessor.

    The first line names the columns. Rows without a target value are dropped;
    missing feature values are left to the preprocessor (imputed).

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    target : str
        Name of the column to predict.
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"`` treats a numeric target as a regression target unless it
        holds at most 20 distinct integers; text and bool targets are classes.
    encoding : str, optional
        Text encoding of the file; default UTF-8 (a byte-order mark is
        skipped). A file that is not UTF-8 gives an error that names an
        encoding that decodes it (e.g. ``"cp1252"``).
    sep : str, optional
        Column separator; default: detected from the header line among
        ``,`` ``;`` tab and ``|``. With a separator other than ``,``, text
        columns whose values are all numbers with a decimal comma (``1,5``)
        are read as numbers.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        A Bunch (not a tuple), without the rows that have no target:
        ``data``: DataFrame of the feature columns, as read (missing values
        kept); ``target``: ndarray (float64 for regression, the column's values
        as read for classification); ``task``: ``"classification"`` or
        ``"regression"``; ``preprocessor``: an unfitted
        :func:`make_tabular_preprocessor` for ``data``; ``feature_names``: list
        of str; ``target_name``; ``description``: one sentence on what was
        loaded (rows, separator, decimal commas, rows dropped).

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        If the file cannot be used, with what is wrong and how to fix it: no
        columns or no rows, an encoding or parsing error, a missing or empty
        target, a single target value, an infinite value (the message says
        in which column and rows), or a non-numeric target with
        ``task="regression"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn_learnact.datasets import load_csv
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "houses.csv"
    >>> _ = path.write_text("rooms;city;price\\n3;Lyon;2,5\\n5;Paris;4,1\\n4;Lyon;")
    >>> houses = load_csv(path, "price")
    >>> houses.task, houses.target.tolist(), houses.feature_names
    ('regression', [2.5, 4.1], ['rooms', 'city'])
    >>> houses.description
    "houses.csv (2 rows; separator ';'; decimal commas read in: price; 1 row \
without a target dropped), target: price (regression)."
    >>> houses.preprocessor.fit_transform(houses.data).shape
    (2, 3)
    """
    return read_csv_dataset(path, target, task=task, encoding=encoding, sep=sep)


def read_csv_dataset(
    path: str | os.PathLike,
    target: str | None,
    *,
    task: str = "auto",
    encoding: str | None = None,
    sep: str | None = None,
    names: OptionNames | None = None,
) -> Bunch:
    """:func:`load_csv`, with messages naming the options through ``names``."""
    names = names or OptionNames()
    validate_params({"task": task}, {"task": [Options(*TASKS)]})
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a folder, not a CSV file.")
    if not path.is_file():
        raise FileNotFoundError(f"CSV file {str(path)!r} not found.")
    frame, notes = _read(path, encoding, sep, names)
    columns = ", ".join(_shorten(map(str, frame.columns)))
    if target is None:
        raise ValueError(
            f"Say which column of {path.name} to predict with "
            f"{names.use('target')}; its columns are: {columns}."
        )
    if target not in frame.columns:
        raise ValueError(
            f"Column {target!r} is not in {path.name}; its columns are: {columns}."
        )
    if frame.shape[1] < 2:
        raise ValueError(
            f"{path.name} has no column besides the target {target!r}: no features."
        )
    n_rows = len(frame)
    if n_rows == 0:
        raise ValueError(
            f"{path.name} has a header ({columns}) but no data rows: add one "
            "line per sample."
        )
    frame = frame.dropna(subset=[target])
    if frame.empty:
        raise ValueError(
            f"Target column {target!r} of {path.name} is empty in all {n_rows} "
            f"rows: nothing to learn from; choose another column with "
            f"{names.use('target')}."
        )
    if len(frame) < n_rows:
        dropped = n_rows - len(frame)
        notes.append(f"{dropped} row{'s' * (dropped > 1)} without a target dropped")
    y, X = frame[target], frame.drop(columns=[target])
    _check_finite(X, y, path.name)
    if y.nunique() < 2:
        raise ValueError(
            f"Target column {target!r} of {path.name} has the single value "
            f"{_scalar(y.iloc[0])!r} in all {len(y)} rows: there is nothing to "
            f"predict; choose another column with {names.use('target')}."
        )
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if task == "regression" and not numeric:
        raise ValueError(
            f"Target column {target!r} is not numeric (e.g. {_scalar(y.iloc[0])!r}), "
            "so it cannot be a regression target; use "
            f"{names.use('task', 'classification')}."
        )
    if task == "auto":
        integral = numeric and np.allclose(y, np.round(y))
        task = (
            "regression"
            if numeric and not (integral and y.nunique() <= _MAX_AUTO_CLASSES)
            else "classification"
        )
    y = y.to_numpy(dtype=float) if task == "regression" else y.to_numpy()
    details = "; ".join([f"{len(y)} rows", *notes])
    return Bunch(
        data=X,
        target=y,
        task=task,
        preprocessor=make_tabular_preprocessor(),
        feature_names=[str(c) for c in X.columns],
        target_name=target,
        description=f"{path.name} ({details}), target: {target} ({task}).",
    )


def _scalar(value: object) -> object:
    """A numpy scalar as the Python value it holds (for a readable repr)."""
    return value.item() if isinstance(value, np.generic) else value


def _shorten(items, limit: int = 20) -> list[str]:
    items = list(items)
    if len(items) <= limit:
        return items
    return [*items[:limit], f"... ({len(items)} in all)"]


def _read(
    path: Path, encoding: str | None, sep: str | None, names: OptionNames
) -> tuple[pd.DataFrame, list[str]]:
    """Read ``path``; also return notes on what was detected."""
    notes = []
    try:
        codecs.lookup(encoding or "utf-8")
    except LookupError:
        raise ValueError(
            f"Unknown encoding {encoding!r}: give a Python codec name such as "
            "utf-8, cp1252 or latin-1."
        ) from None
    if sep == "\\t":  # a backslash and a t, as typed on a command line
        sep = "\t"
    if sep is not None and (not isinstance(sep, str) or len(sep) != 1):
        raise ValueError(
            f"{names.source('sep')} must be one character (e.g. , ; | or \\t), "
            f"got {sep!r}."
        )
    if sep is None:
        sep = _detect_separator(path, encoding)
        if sep != ",":
            notes.append(f"separator {sep!r}")
    try:
        frame = pd.read_csv(path, sep=sep, encoding=encoding or "utf-8")
    except UnicodeDecodeError:
        raise ValueError(_decoding_error(path, encoding, names)) from None
    except pd.errors.EmptyDataError:
        raise ValueError(
            f"{path.name} is empty: a CSV file starts with a header line naming "
            "its columns, then one line per sample."
        ) from None
    except pd.errors.ParserError as exc:
        raise ValueError(
            f"Cannot parse {path.name} as a CSV file with separator {sep!r}: "
            f"{exc}".rstrip()
            + f" (pass another separator with {names.use('sep')})."
        ) from None
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        # pandas makes the first columns the index when rows have more fields
        # than the header: refuse instead of shifting every column.
        raise ValueError(
            f"Rows of {path.name} have more fields than its header line "
            f"({frame.shape[1]} columns with separator {sep!r}); check the "
            f"separator ({names.use('sep')}) or remove trailing separators."
        )
    _check_unique_names(path, encoding, sep)
    if sep != ",":
        converted = _read_decimal_commas(frame)
        if converted:
            notes.append(f"decimal commas read in: {', '.join(converted)}")
    return frame, notes


def _check_unique_names(path: Path, encoding: str | None, sep: str) -> None:
    """Refuse a header that names a column twice (pandas would rename the
    copies ``name.1``... silently)."""
    with open(path, encoding=encoding or "utf-8", errors="replace", newline="") as f:
        header = next(csv.reader([f.readline()], delimiter=sep), [])
    counts = collections.Counter(name.strip() for name in header)
    twice = [(name, n) for name, n in counts.items() if name and n > 1]
    if twice:
        name, n = twice[0]
        raise ValueError(
            f"{path.name} has the column name {name!r} {n} times: give each column "
            "its own name in the header line."
        )


def _detect_separator(path: Path, encoding: str | None) -> str:
    """The separator that splits the header line into the most columns."""
    with open(path, encoding=encoding or "utf-8", errors="replace", newline="") as f:
        header = f.readline()
    counts = {
        sep: len(next(csv.reader([header], delimiter=sep), [])) for sep in _SEPARATORS
    }
    best = max(counts.values())
    return next(sep for sep in _SEPARATORS if counts[sep] == best)


def _read_decimal_commas(frame: pd.DataFrame) -> list[str]:
    """Turn text columns holding only decimal-comma numbers into floats."""
    converted = []
    for name in frame.select_dtypes(exclude=["number", "bool"]).columns:
        values = frame[name].dropna().astype(str).str.strip()
        if (
            len(values)
            and values.str.fullmatch(_DECIMAL_COMMA).all()
            and values.str.contains(",", regex=False).any()
        ):
            frame[name] = pd.to_numeric(
                frame[name].astype(str).str.strip().str.replace(",", ".", regex=False),
                errors="coerce",
            )
            converted.append(str(name))
    return converted


def _decoding_error(path: Path, encoding: str | None, names: OptionNames) -> str:
    """Say where ``path`` fails to decode, and which encoding would work."""
    raw = path.read_bytes()
    used = encoding or "UTF-8"
    try:
        raw.decode(used)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        where = f"byte {raw[exc.start]:#04x} on line {line}"
    else:  # pragma: no cover - pandas decodes the same bytes
        where = "a byte"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        suggestion, what = "utf-16", "its byte-order mark says UTF-16"
    else:
        suggestion, what = "latin-1", "Latin-1"
        try:
            raw.decode("cp1252")
            suggestion, what = "cp1252", "Windows/Excel Western European"
        except UnicodeDecodeError:
            pass
    return (
        f"{path.name} is not {used} text ({where} cannot be decoded). Pass its "
        f"encoding, e.g. {names.use('encoding', suggestion)} ({what}, which "
        "decodes this file), or save the file as UTF-8."
    )


def _check_finite(X: pd.DataFrame, y: pd.Series, name: str) -> None:
    """Refuse infinite values, naming the column and the rows."""
    for column in [y.name, *X.columns]:
        values = (y if column == y.name else X[column]).to_numpy()
        if not pd.api.types.is_numeric_dtype(values.dtype) or values.dtype == bool:
            continue
        rows = np.flatnonzero(np.isinf(values.astype(float)))
        if len(rows):
            where = _shorten((str(r) for r in (y.index[rows] + 1)), limit=5)
            what = "Target column" if column == y.name else "Column"
            plural = "s" * (len(rows) > 1)
            raise ValueError(
                f"{what} {column!r} of {name} holds an infinite value in "
                f"{len(rows)} row{plural} (row{plural} {', '.join(where)} after "
                "the header): "
                + (
                    "a target must be finite; fix or remove those rows."
                    if column == y.name
                    else "replace it by a finite value, or leave the cell empty "
                    "to have it imputed."
                )
            )
