"""Any dataset by name (or CSV path), ready for a comparison: ``--dataset``."""

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch

from ._images import IMAGE_DATASETS, load_images
from ._options import OptionNames
from ._synthetic import make_infinite_regression
from ._tabular import read_csv_dataset
from ._titanic import load_titanic, make_titanic_preprocessor

#: Names :func:`load_dataset` knows (the path of a CSV file also works).
DATASET_NAMES = ("titanic", "synthetic", *IMAGE_DATASETS)


def load_dataset(
    name: str,
    *,
    target: str | None = None,
    task: str = "auto",
    encoding: str | None = None,
    sep: str | None = None,
    n_samples: int | None = None,
    data_home: str | os.PathLike | None = None,
    download: bool | str = False,
    random_state: int | np.random.RandomState | None = 0,
    option_flags: Mapping[str, str] | None = None,
) -> Bunch:
    """Load a dataset by name, or a CSV file, ready for a comparison.

    Parameters
    ----------
    name : str
        One of :data:`DATASET_NAMES`, or the path of a CSV file (an existing
        file, or a name ending in ``.csv`` or ``.tsv``; see :func:`load_csv`):

        - ``"titanic"``: :func:`load_titanic`'s features with
          :func:`make_titanic_preprocessor`;
        - ``"synthetic"``: ``n_samples`` rows (default 5000) of
          :func:`make_infinite_regression`, target standardised, with a
          :class:`~sklearn.preprocessing.StandardScaler`;
        - ``"mnist"``, ``"fashion_mnist"``, ``"kmnist"``, ``"cifar10"``: a
          stratified subsample of ``n_samples`` training images (default
          2000), flattened, no preprocessor.
    target, task, encoding, sep : optional
        For a CSV file only; see :func:`load_csv`. ``target`` is required there.
    n_samples : int, optional
        Rows of the synthetic data or of the image subsample (not for Titanic
        or a CSV file).
    data_home : str or path-like, optional
        Folder of the image datasets; see :func:`get_data_home`.
    download : bool or "if_missing", default=False
        Fetch missing image files (see :func:`load_mnist`).
    random_state : int, RandomState instance or None, default=0
        Seeds the synthetic data and the image subsample.
    option_flags : mapping of str to str, optional
        Argument name -> command-line flag (``{"data_home": "--data-home"}``):
        error messages then name the flag instead of the Python argument. Used
        by the ``learnact`` command.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (features), ``target``, ``task`` (``"classification"`` or
        ``"regression"``), ``preprocessor`` (an unfitted transformer for
        ``data``, or None when ``data`` is already dense floats) and
        ``description`` (one sentence for a report).

    Raises
    ------
    ValueError
        Unknown name, an option that does not apply to the dataset, or a CSV
        file that cannot be used (see :func:`load_csv`).
    FileNotFoundError
        A missing CSV file, or missing image files (a
        :class:`DatasetNotFoundError`: the message says how to provide them).

    Examples
    --------
    >>> from sklearn_learnact.datasets import load_dataset
    >>> data = load_dataset("synthetic", n_samples=100)
    >>> data.task, data.data.shape, type(data.preprocessor).__name__
    ('regression', (100, 10), 'StandardScaler')
    >>> load_dataset("iris")
    Traceback (most recent call last):
    ...
    ValueError: Unknown dataset 'iris': choose one of titanic, synthetic, mnist, \
fashion_mnist, kmnist, cifar10 or give the path of a CSV file.
    """
    names = OptionNames(option_flags)
    csv = name not in DATASET_NAMES and (
        str(name).lower().endswith((".csv", ".tsv")) or Path(name).is_file()
    )
    if name in DATASET_NAMES:
        auto = None if task == "auto" else task
        csv_only = {"target": target, "task": auto, "encoding": encoding, "sep": sep}
        for option, value in csv_only.items():
            if value is not None:
                raise ValueError(
                    f"{names.use(option, value)} only applies to a CSV file, not "
                    f"to {name!r}."
                )
    if n_samples is not None and (csv or name == "titanic"):
        raise ValueError(
            f"{names.use('n_samples', n_samples)} only applies to the synthetic and "
            f"the image datasets, not to {name!r}."
        )
    if name == "titanic":
        X, y = load_titanic(return_X_y=True)
        return Bunch(
            data=X,
            target=y.to_numpy(),
            task="classification",
            preprocessor=make_titanic_preprocessor(),
            description=f"Titanic passengers ({len(y)}), target: survived.",
        )
    if name == "synthetic":
        n = n_samples or 5000
        X, y = make_infinite_regression(n, random_state=random_state)
        return Bunch(
            data=X,
            target=(y - y.mean()) / y.std(),
            task="regression",
            preprocessor=StandardScaler(),
            description=f"Infinite multivariate regression ({n} "
            "samples, 10 features, standardised target).",
        )
    if name in IMAGE_DATASETS:
        n = n_samples or 2000
        bunch = load_images(
            IMAGE_DATASETS[name],
            data_home,
            "train",
            n,
            random_state,
            download,
            return_X_y=False,
            names=names,
        )
        return Bunch(
            data=bunch.data,
            target=bunch.target,
            task="classification",
            preprocessor=None,
            image_shape=bunch.image_shape,
            description=f"{name} training images ({n}, flattened pixels).",
        )
    if Path(name).is_dir():
        raise ValueError(
            f"{name!r} is a folder, not a CSV file: give the path of a CSV file or "
            f"one of {', '.join(DATASET_NAMES)}."
        )
    if not csv:
        raise ValueError(
            f"Unknown dataset {name!r}: choose one of {', '.join(DATASET_NAMES)} "
            "or give the path of a CSV file."
        )
    return read_csv_dataset(
        name, target, task=task, encoding=encoding, sep=sep, names=names
    )
