"""The datasets of ``--dataset`` and the network every activation gets."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ..estimators import LearnedActivationClassifier, LearnedActivationRegressor
from ._common import UsageError

#: Built-in datasets of ``--dataset`` (a path ending in ``.csv`` also works).
DATASETS = ("titanic", "synthetic", "mnist", "fashion_mnist", "kmnist", "cifar10")


@dataclass
class Data:
    """A dataset ready for :func:`compare_activations`."""

    X: object
    y: np.ndarray
    task: str  # "classification" or "regression"
    preprocessor: object | None
    description: str


def load_dataset(
    name: str,
    *,
    target: str | None = None,
    task: str = "auto",
    n_samples: int | None = None,
    data_home: str | None = None,
    download: bool = False,
    random_state: int = 0,
) -> Data:
    """Load ``name`` (one of :data:`DATASETS` or a CSV file) for a comparison.

    Raises
    ------
    UsageError
        Unknown dataset, missing file, missing ``target`` column, or a
        non-numeric target with ``task="regression"``.
    """
    from .. import datasets

    if name == "titanic":
        X, y = datasets.load_titanic(return_X_y=True)
        return Data(
            X,
            np.asarray(y),
            "classification",
            datasets.make_titanic_preprocessor(),
            f"Titanic passengers ({len(y)}), target: survived.",
        )
    if name == "synthetic":
        n = n_samples or 5000
        X, y = datasets.make_infinite_regression(n, random_state=random_state)
        y = (y - y.mean()) / y.std()
        return Data(
            X,
            y,
            "regression",
            StandardScaler(),
            f"Seed 004's infinite multivariate regression ({n} samples, "
            "10 features, standardised target).",
        )
    if name in DATASETS:
        n = n_samples or 2000
        bunch = getattr(datasets, f"load_{name}")(
            data_home, n_samples=n, random_state=random_state, download=download
        )
        return Data(
            bunch.data,
            bunch.target,
            "classification",
            None,
            f"{name} training images ({n}, flattened pixels, MLP).",
        )
    if not name.lower().endswith(".csv"):
        raise UsageError(
            f"Unknown dataset {name!r}: choose one of {', '.join(DATASETS)} or give "
            "a path ending in .csv."
        )
    return _load_csv(Path(name), target, task)


def _load_csv(path: Path, target: str | None, task: str) -> Data:
    if not path.is_file():
        raise UsageError(f"CSV file {str(path)!r} not found.")
    if target is None:
        raise UsageError("--target COLUMN is required with a CSV file.")
    frame = pd.read_csv(path)
    if target not in frame.columns:
        raise UsageError(
            f"Column {target!r} is not in {path.name}; its columns are: "
            f"{', '.join(map(str, frame.columns))}."
        )
    frame = frame.dropna(subset=[target])
    y, X = frame[target], frame.drop(columns=[target])
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if task == "regression" and not numeric:
        raise UsageError(
            f"Target column {target!r} is not numeric (e.g. {y.iloc[0]!r}), so it "
            "cannot be a regression target; use --task classification."
        )
    if task == "auto":
        integral = numeric and np.allclose(y, np.round(y))
        task = (
            "regression"
            if numeric and not (integral and y.nunique() <= 20)
            else "classification"
        )
    preprocessor = make_column_transformer(
        (
            make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
            make_column_selector(dtype_include="number"),
        ),
        (
            make_pipeline(
                SimpleImputer(strategy="most_frequent"),
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
            ),
            make_column_selector(dtype_exclude="number"),
        ),
    )
    y = y.to_numpy(dtype=float) if task == "regression" else y.to_numpy()
    return Data(
        X,
        y,
        task,
        preprocessor,
        f"{path.name} ({len(y)} rows), target: {target} ({task}).",
    )


def make_estimator(data: Data, *, hidden=(32,), max_iter=60, lr=1e-2, random_state=0):
    """The network (behind the dataset's preprocessor) that every activation gets."""
    cls = (
        LearnedActivationClassifier
        if data.task == "classification"
        else LearnedActivationRegressor
    )
    net = cls(
        hidden,
        learning_rate_init=lr,
        max_iter=max_iter,
        early_stopping=True,
        random_state=random_state,
    )
    return net if data.preprocessor is None else make_pipeline(data.preprocessor, net)
