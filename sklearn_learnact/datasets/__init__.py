"""Datasets for the studies, each available in one line, offline.

- :func:`load_titanic` reads the Titanic passengers shipped inside the package,
  and :func:`make_titanic_preprocessor` turns them into dense floats;
- :func:`load_csv` reads your own CSV file (encoding and separator checked,
  task guessed) with a matching :func:`make_tabular_preprocessor`;
- :func:`load_mnist`, :func:`load_fashion_mnist`, :func:`load_kmnist` and
  :func:`load_cifar10` read the canonical files from the data folder
  (:func:`get_data_home`, one subfolder per dataset: ``mnist/``,
  ``fashion_mnist/``, ``kmnist/``, ``cifar10/``), check their checksums, and
  fetch them with ``download=True`` (or ``"if_missing"``) from their canonical
  sources, or from the mirror named by ``SKLEARN_LEARNACT_MIRROR``; a dataset
  that is neither there nor downloadable raises :class:`DatasetNotFoundError`,
  whose ``summary`` says in one line what is missing and how to provide it;
- :func:`corrupt_labels` and :func:`corrupt_regression` make "dirty"
  copies of a dataset;
- :func:`make_infinite_regression` and :class:`InfiniteRegressionStream` generate
  the "infinite multivariate" regression data of the robustness study;
- :func:`load_dataset` loads any of them by name (:data:`DATASET_NAMES`) or a
  CSV path, with its task and preprocessor: what ``learnact compare
  --dataset`` uses.

Image and synthetic inputs are float32 arrays.

One module per concept: ``_titanic`` (the shipped Titanic passengers),
``_tabular`` (CSV files and their preprocessor), ``_images`` (the image
loaders), ``_fetch`` (the data folder, checksums and downloads),
``_corruption`` (dirty copies), ``_synthetic`` (the synthetic regression generator),
``_by_name`` (:func:`load_dataset`) and ``_validation`` (argument checks).
"""

from ._by_name import DATASET_NAMES, load_dataset
from ._corruption import corrupt_labels, corrupt_regression
from ._fetch import (
    DATA_HOME_ENV,
    MIRROR_ENV,
    CorruptDataError,
    DatasetNotFoundError,
    get_data_home,
)
from ._images import load_cifar10, load_fashion_mnist, load_kmnist, load_mnist
from ._synthetic import (
    HiddenFunction,
    InfiniteRegressionStream,
    make_infinite_regression,
)
from ._tabular import load_csv, make_tabular_preprocessor
from ._titanic import load_titanic, make_titanic_preprocessor

__all__ = [
    "DATASET_NAMES",
    "DATA_HOME_ENV",
    "MIRROR_ENV",
    "CorruptDataError",
    "DatasetNotFoundError",
    "HiddenFunction",
    "InfiniteRegressionStream",
    "corrupt_labels",
    "corrupt_regression",
    "get_data_home",
    "load_cifar10",
    "load_csv",
    "load_dataset",
    "load_fashion_mnist",
    "load_kmnist",
    "load_mnist",
    "load_titanic",
    "make_infinite_regression",
    "make_tabular_preprocessor",
    "make_titanic_preprocessor",
]
