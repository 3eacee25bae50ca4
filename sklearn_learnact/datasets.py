"""Datasets for the studies, each available in one line, offline.

- :func:`load_titanic` reads the Titanic passengers shipped inside the package,
  and :func:`make_titanic_preprocessor` turns them into dense floats;
- :func:`load_mnist`, :func:`load_fashion_mnist`, :func:`load_kmnist` and
  :func:`load_cifar10` read the canonical files from the data folder
  (:func:`get_data_home`, one subfolder per dataset: ``mnist/``,
  ``fashion_mnist/``, ``kmnist/``, ``cifar10/``), check their checksums, and
  fetch them with ``download=True`` on a machine with internet access;
- :func:`corrupt_labels` and :func:`corrupt_regression` make seed 004's "dirty"
  copies of a dataset;
- :func:`make_infinite_regression` and :class:`InfiniteRegressionStream` generate
  seed 004's "infinite multivariate" regression data.

Image and synthetic inputs are float32 arrays.
"""

import gzip
import hashlib
import http.client
import numbers
import os
import pickle
import struct
import tarfile
import tempfile
import urllib.request
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import Bunch, check_array, check_random_state

__all__ = [
    "DATA_HOME_ENV",
    "CorruptDataError",
    "HiddenFunction",
    "InfiniteRegressionStream",
    "corrupt_labels",
    "corrupt_regression",
    "get_data_home",
    "load_cifar10",
    "load_fashion_mnist",
    "load_kmnist",
    "load_mnist",
    "load_titanic",
    "make_infinite_regression",
    "make_titanic_preprocessor",
]


# %% Titanic

_TITANIC_NUMERIC = ["age", "sibsp", "parch", "fare"]
_TITANIC_CATEGORICAL = ["pclass", "sex", "embarked"]
_TITANIC_FEATURES = ["pclass", "sex", "age", "sibsp", "parch", "fare", "embarked"]

_TITANIC_DESCR = """\
Titanic passengers ("titanic3")
-------------------------------
The 1309 passengers of the RMS Titanic (crew excluded) and whether they survived
the sinking of 15 April 1912: 500 survived, 809 died.

Source: "titanic3", Titanic Dataset v3.5 by Thomas E. Cason and Frank E. Harrell
Jr. (Vanderbilt University, Department of Biostatistics), from the Encyclopedia
Titanica; the columns are those of OpenML's ``titanic``. The copy shipped here is
the Excel CSV export of ``titanic3.xls`` with its trailing all-empty row removed.
No license is stated by the source.

Columns of ``frame`` (missing values in brackets):

- pclass: ticket class, 1, 2 or 3 (a proxy for wealth); 323 / 277 / 709 passengers
- survived: the target, 1 = survived, 0 = died
- name: full name with title (Mr., Mrs., Master., ...)
- sex: "male" (843) or "female" (466)
- age: years; fractional below one year; estimated ages end in .5 (263 missing)
- sibsp: number of siblings or spouses aboard
- parch: number of parents or children aboard
- ticket: ticket number
- fare: ticket price in pounds sterling (1 missing)
- cabin: cabin number(s) (1014 missing, mostly in 2nd and 3rd class)
- embarked: port, C = Cherbourg, Q = Queenstown, S = Southampton (2 missing)
- boat: lifeboat number (823 missing)
- body: body identification number (1188 missing)
- home.dest: home and destination (564 missing)

Caveats:

- ``boat`` and ``body`` leak the target: they were recorded after the sinking.
  95% of survivors have a boat and 1% of the dead; only the dead have a body
  number. They are kept in ``frame`` but never in ``data`` / ``feature_names``.
- ``name``, ``ticket``, ``cabin`` and ``home.dest`` are free text with hundreds of
  distinct values; they are left out of ``feature_names`` (the default features
  used by ``make_titanic_preprocessor``) but kept in ``frame`` for feature
  engineering (titles, decks, family groups).
- Ages are missing for 20% of passengers, and many recorded ages are estimates.
- Rows are sorted by class, then by name: shuffle before any split (e.g.
  ``StratifiedKFold(shuffle=True)``), or the folds differ in class.
"""


def load_titanic(
    *, as_frame: bool = True, return_X_y: bool = False
) -> Bunch | tuple[pd.DataFrame | np.ndarray, pd.Series | np.ndarray]:
    """Load the 1309-passenger Titanic data ("titanic3"), shipped in the package.

    The default features are ``pclass, sex, age, sibsp, parch, fare, embarked``;
    the columns that leak the target (``boat``, ``body``) and the free-text ones
    (``name``, ``ticket``, ``cabin``, ``home.dest``) are only in ``frame``. See
    ``DESCR`` for the source, the columns and the caveats.

    Parameters
    ----------
    as_frame : bool, default=True
        Return ``data`` as a DataFrame, ``target`` as a Series and ``frame``;
        otherwise ``data`` is an object array (mixed types, missing values as
        NaN) in ``feature_names`` order, ``target`` an int64 array and ``frame``
        is None.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (1309 rows, the default features), ``target`` (int: 1 = survived),
        ``frame`` (all 14 columns, target included), ``feature_names``,
        ``target_names`` (``["died", "survived"]``) and ``DESCR``.
    (data, target) : tuple
        When ``return_X_y=True``.

    See Also
    --------
    make_titanic_preprocessor : Impute, one-hot encode and scale the features.

    Examples
    --------
    >>> from sklearn_learnact.datasets import load_titanic
    >>> titanic = load_titanic()
    >>> titanic.frame.shape, int(titanic.target.sum())
    ((1309, 14), 500)
    >>> titanic.feature_names
    ['pclass', 'sex', 'age', 'sibsp', 'parch', 'fare', 'embarked']
    """
    source = resources.files("sklearn_learnact").joinpath("data/titanic3.csv")
    with source.open("rb") as f:
        frame = pd.read_csv(
            f,
            encoding="utf-8-sig",
            dtype={
                **dict.fromkeys(["pclass", "survived", "sibsp", "parch"], "int64"),
                **dict.fromkeys(["name", "ticket", "boat"], "str"),
            },
        )
    data = frame[_TITANIC_FEATURES]
    target = frame["survived"]
    if not as_frame:
        data, target, frame = data.to_numpy(dtype=object), target.to_numpy(), None
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        feature_names=list(_TITANIC_FEATURES),
        target_names=np.array(["died", "survived"]),
        DESCR=_TITANIC_DESCR,
    )


def make_titanic_preprocessor() -> ColumnTransformer:
    """Return a transformer from :func:`load_titanic` features to dense floats.

    Numeric columns (``age, sibsp, parch, fare``) are median-imputed and
    standardised; categorical ones (``pclass, sex, embarked``) are imputed with
    their most frequent value and one-hot encoded (unknown categories give all
    zeros). Other columns are dropped. The output is a dense float array of 12
    columns (or a DataFrame after ``set_output(transform="pandas")``), so
    ``make_pipeline(make_titanic_preprocessor(), LearnedActivationClassifier())``
    is the canonical tabular model.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Unfitted; it selects columns by name, so fit it on a DataFrame such as
        ``load_titanic().data``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_learnact.datasets import load_titanic, make_titanic_preprocessor
    >>> X, y = load_titanic(return_X_y=True)
    >>> make_titanic_preprocessor().fit_transform(X).shape
    (1309, 12)
    >>> model = make_pipeline(make_titanic_preprocessor(), LogisticRegression())
    >>> bool(model.fit(X, y).score(X, y) > 0.75)
    True
    """
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    return ColumnTransformer(
        [
            ("num", numeric, list(_TITANIC_NUMERIC)),
            ("cat", categorical, list(_TITANIC_CATEGORICAL)),
        ],
        sparse_threshold=0.0,
    )


# %% Data folder

#: Environment variable naming the data folder (see :func:`get_data_home`).
DATA_HOME_ENV = "SKLEARN_LEARNACT_DATA"
_DEFAULT_DATA_HOME = "~/sklearn_learnact_data"


class CorruptDataError(OSError):
    """A data file exists but fails its checksum or its format check."""


def _resolve_data_home(data_home: str | os.PathLike | None) -> tuple[Path, str]:
    """Return the data folder and a phrase saying where it came from."""
    if data_home is not None:
        return Path(data_home).expanduser(), "the data_home argument"
    env = os.environ.get(DATA_HOME_ENV)
    if env:
        return Path(env).expanduser(), f"the {DATA_HOME_ENV} environment variable"
    return (
        Path(_DEFAULT_DATA_HOME).expanduser(),
        f"the default {_DEFAULT_DATA_HOME} ({DATA_HOME_ENV} is not set)",
    )


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the folder the image loaders read from.

    The folder is, in order: ``data_home`` if given, else the folder named by the
    ``SKLEARN_LEARNACT_DATA`` environment variable if set and non-empty, else
    ``~/sklearn_learnact_data``. It holds one subfolder per dataset (``mnist/``,
    ``fashion_mnist/``, ``kmnist/``, ``cifar10/``). The folder is not created here;
    loaders create it only when they download.

    Parameters
    ----------
    data_home : str or path-like, default=None
        An explicit folder; ``~`` is expanded.

    Returns
    -------
    pathlib.Path
        The data folder.

    Examples
    --------
    >>> from sklearn_learnact.datasets import get_data_home
    >>> get_data_home("/tmp/learnact-data").as_posix()
    '/tmp/learnact-data'
    """
    return _resolve_data_home(data_home)[0]


# %% Argument checks


def _check_int(name: str, value: object, low: int, high: int | None = None) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be an integer {bounds}; got {value!r}")


def _check_real(
    name: str, value: object, low: float, high: float | None = None
) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not value >= low
        or (high is not None and value > high)
    ):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be a number {bounds}; got {value!r}")


# %% Checksums

#: Verified (path, size, mtime, algorithm, digest) keys: each file is hashed once per
#: process unless it changes on disk.
_VERIFIED: set[tuple[str, int, int, str, str]] = set()


def _file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _verify_checksum(path: Path, algorithm: str, expected: str, fix: str) -> None:
    """Raise :class:`CorruptDataError` unless ``path`` has the expected digest."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, algorithm, expected)
    if key in _VERIFIED:
        return
    actual = _file_digest(path, algorithm)
    if actual != expected:
        raise CorruptDataError(
            f"{path} is corrupted or incomplete: its {algorithm} is {actual}, "
            f"expected {expected}. {fix}"
        )
    _VERIFIED.add(key)


# %% Image datasets: file readers


@dataclass(frozen=True)
class _File:
    """A file of a dataset; ``algorithm=None`` means only its format is checked."""

    name: str
    algorithm: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class _FileSet:
    """Files that together hold one split, read by ``reader`` into uint8 arrays.

    ``reader`` takes the file paths (in ``files`` order) and returns images of shape
    ``(n, ...)`` and labels of shape ``(n,)``. ``downloadable`` marks the set that
    ``download=True`` fetches.
    """

    files: tuple[_File, ...]
    reader: Callable[[list[Path]], tuple[np.ndarray, np.ndarray]]
    subdir: str = ""
    subset: bool = False
    downloadable: bool = False
    note: str = ""


def _read_idx(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """Read a gzipped IDX file of unsigned bytes and check its shape."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptDataError(f"{path} is not a readable gzip file: {exc}") from exc
    ndim = len(shape)
    # Header: two zero bytes, type code 0x08 (unsigned byte), ndim, then ndim
    # big-endian uint32 sizes.
    header_size = 4 + 4 * ndim
    if len(raw) < header_size or raw[:4] != bytes((0, 0, 8, ndim)):
        raise CorruptDataError(f"{path} is not an IDX file of {ndim}-D unsigned bytes")
    dims = struct.unpack(f">{ndim}I", raw[4:header_size])
    if dims != shape or len(raw) != header_size + int(np.prod(shape)):
        raise CorruptDataError(
            f"{path} holds {len(raw) - header_size} bytes with header shape {dims}; "
            f"expected shape {shape}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def _read_npz(path: Path, key: str, shape: tuple[int, ...]) -> np.ndarray:
    """Read one uint8 array from an ``.npz`` file and check its shape."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            array = archive[key]
    except (OSError, ValueError, KeyError, zlib.error) as exc:
        raise CorruptDataError(f"cannot read {key!r} from {path}: {exc}") from exc
    if array.dtype != np.uint8 or array.shape != shape:
        raise CorruptDataError(
            f"{path}[{key!r}] has shape {array.shape} and dtype {array.dtype}; "
            f"expected {shape} uint8"
        )
    return array


def _idx_reader(n: int, side: int = 28):
    def read(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
        return _read_idx(paths[0], (n, side, side)), _read_idx(paths[1], (n,))

    return read


def _npz_reader(n: int, side: int = 28):
    def read(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
        images = _read_npz(paths[0], "arr_0", (n, side, side))
        return images, _read_npz(paths[1], "arr_0", (n,))

    return read


def _read_kmnist_subset(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    images = _read_npz(paths[0], "images", (7011, 28, 28))
    return images, _read_npz(paths[0], "labels", (7011,))


def _read_cifar_batches(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    # The official pickles are only unpickled after their md5 matched, so no
    # untrusted bytes reach pickle.
    images, labels = [], []
    for path in paths:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        images.append(np.asarray(batch[b"data"], dtype=np.uint8))
        labels.append(np.asarray(batch[b"labels"], dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


_CIFAR_SUBSET_ROWS = 761


def _cifar_subset_reader(batches: Sequence[str]):
    def read(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
        images = [
            _read_npz(paths[0], f"{b}_data", (_CIFAR_SUBSET_ROWS, 3072))
            for b in batches
        ]
        labels = [
            _read_npz(paths[0], f"{b}_labels", (10000,))[:_CIFAR_SUBSET_ROWS]
            for b in batches
        ]
        return np.concatenate(images), np.concatenate(labels)

    return read


# %% Image datasets: specifications


@dataclass(frozen=True)
class _Archive:
    """A downloadable tar.gz whose members ``prefix + file.name`` are ``files``."""

    url: str
    md5: str
    prefix: str
    files: tuple[_File, ...]


@dataclass(frozen=True)
class _ImageDataset:
    key: str
    title: str
    loader: str
    image_shape: tuple[int, int, int]
    target_names: tuple[str, ...]
    splits: dict[str, tuple[_FileSet, ...]]
    descr: str
    n_train: int = 60000
    mirrors: tuple[str, ...] = ()
    archive: _Archive | None = None


def _sha(name: str, digest: str) -> _File:
    return _File(name, "sha256", digest)


# Checksums of the official files: sha256 as published (e.g. in TFDS's checksum
# lists) where known; md5 from torchvision's ``resources`` for KMNIST's training
# images and the CIFAR-10 batches, which have no published sha256. The two
# ``subset-*.npz`` partial copies are this project's own files.
_MNIST_IDX = {
    "train": (
        _sha(
            "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ),
        _sha(
            "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
    ),
    "test": (
        _sha(
            "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ),
        _sha(
            "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
    ),
}
_FASHION_IDX = {
    "train": (
        _sha(
            "train-images-idx3-ubyte.gz",
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        ),
        _sha(
            "train-labels-idx1-ubyte.gz",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        ),
    ),
    "test": (
        _sha(
            "t10k-images-idx3-ubyte.gz",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        ),
        _sha(
            "t10k-labels-idx1-ubyte.gz",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        ),
    ),
}
_KMNIST_IDX = {
    "train": (
        _File("train-images-idx3-ubyte.gz", "md5", "bdb82020997e1d708af4cf47b453dcf7"),
        _sha(
            "train-labels-idx1-ubyte.gz",
            "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
        ),
    ),
    "test": (
        _sha(
            "t10k-images-idx3-ubyte.gz",
            "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
        ),
        _sha(
            "t10k-labels-idx1-ubyte.gz",
            "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",
        ),
    ),
}
_KMNIST_NPZ = {
    "train": (
        # No published checksum is known for the training images .npz: only its
        # format and shape are checked.
        _File("kmnist-train-imgs.npz"),
        _sha(
            "kmnist-train-labels.npz",
            "a325c877035602cb9b9ba54f4194a2a1b5f718026a463db5b5e0cdc124c03720",
        ),
    ),
    "test": (
        _sha(
            "kmnist-test-imgs.npz",
            "692d824896bec8f3c357ebf7a0fe904ed67ac632ce953d0b58f7fbef7bb27d87",
        ),
        _sha(
            "kmnist-test-labels.npz",
            "660f13a4705431ea2a6391c41ecbe384cd0d932c595a101ec4f3b8989e785046",
        ),
    ),
}
_KMNIST_SUBSET = _sha(
    "subset-train-first7011.npz",
    "77d1030b4ba66e0fe40143462a1482eb75f5eaa9d6b106c1d1b9ada41dbf5c8d",
)
_CIFAR_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
_CIFAR_FILES = tuple(_File(name, "md5", md5) for name, md5 in _CIFAR_MD5.items())
_CIFAR_SUBSET = _sha(
    "subset-first761-per-batch.npz",
    "c11e26d35df2535a8cdd11693650ff777b4a423fa5081037b89739618feadc6a",
)


def _mnist_like_splits(idx: dict[str, tuple[_File, _File]]):
    return {
        "train": (_FileSet(idx["train"], _idx_reader(60000), downloadable=True),),
        "test": (_FileSet(idx["test"], _idx_reader(10000), downloadable=True),),
    }


def _cifar_splits() -> dict[str, tuple[_FileSet, ...]]:
    splits = {}
    for split, batches in (("train", _CIFAR_TRAIN_BATCHES), ("test", ("test_batch",))):
        files = tuple(f for f in _CIFAR_FILES if f.name in batches)
        n_rows = _CIFAR_SUBSET_ROWS * len(batches)
        splits[split] = (
            _FileSet(files, _read_cifar_batches),
            _FileSet(
                files,
                _read_cifar_batches,
                subdir="cifar-10-batches-py",
                downloadable=True,
            ),
            _FileSet(
                (_CIFAR_SUBSET,),
                _cifar_subset_reader(batches),
                subset=True,
                note=f"partial copy: the first {_CIFAR_SUBSET_ROWS} images of each "
                f"batch ({n_rows} images)",
            ),
        )
    return splits


_MNIST = _ImageDataset(
    key="mnist",
    title="MNIST",
    loader="load_mnist",
    image_shape=(1, 28, 28),
    target_names=tuple(str(d) for d in range(10)),
    splits=_mnist_like_splits(_MNIST_IDX),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    descr="""\
MNIST handwritten digits
------------------------
70,000 grey-scale 28x28 images of the digits 0-9 (60,000 train, 10,000 test),
by Y. LeCun, C. Cortes and C. J. C. Burges, read from the four original IDX gzip
files. Train class counts: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851,
5949]; test: [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009].

Reference: Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning
applied to document recognition", Proc. IEEE 86(11), 1998.
""",
)

_FASHION_MNIST = _ImageDataset(
    key="fashion_mnist",
    title="Fashion-MNIST",
    loader="load_fashion_mnist",
    image_shape=(1, 28, 28),
    target_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    splits=_mnist_like_splits(_FASHION_IDX),
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    descr="""\
Fashion-MNIST
-------------
70,000 grey-scale 28x28 images of Zalando articles in 10 classes (60,000 train,
10,000 test, exactly 6,000 and 1,000 per class), in the IDX format of MNIST.
License: MIT, (c) 2017 Zalando SE.

Reference: H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset
for Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017.
""",
)

_KMNIST_SUBSET_NOTE = (
    "partial copy: the first 7011 training images, decoded from a truncated copy "
    "of the official train-images-idx3-ubyte.gz; its classes are not balanced"
)
_KMNIST = _ImageDataset(
    key="kmnist",
    title="Kuzushiji-MNIST",
    loader="load_kmnist",
    image_shape=(1, 28, 28),
    target_names=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
    splits={
        "train": (
            _FileSet(_KMNIST_IDX["train"], _idx_reader(60000), downloadable=True),
            _FileSet(_KMNIST_NPZ["train"], _npz_reader(60000)),
            _FileSet(
                (_KMNIST_SUBSET,),
                _read_kmnist_subset,
                subset=True,
                note=_KMNIST_SUBSET_NOTE,
            ),
        ),
        "test": (
            _FileSet(_KMNIST_IDX["test"], _idx_reader(10000), downloadable=True),
            _FileSet(_KMNIST_NPZ["test"], _npz_reader(10000)),
        ),
    },
    mirrors=(
        "https://codh.rois.ac.jp/kmnist/dataset/kmnist/",
        "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
    ),
    descr="""\
Kuzushiji-MNIST
---------------
70,000 grey-scale 28x28 images of cursive Japanese (Kuzushiji) hiragana in 10
classes (60,000 train, 10,000 test, exactly 6,000 and 1,000 per class), read from
the IDX files or the equivalent ``kmnist-*.npz`` arrays. The classes are the
characters o, ki, su, tsu, na, ha, ma, ya, re, wo (U+304A, U+304D, U+3059, U+3064,
U+306A, U+306F, U+307E, U+3084, U+308C, U+3092). License: CC BY-SA 4.0
(ROIS-DS Center for Open Data in the Humanities).

Reference: T. Clanuwat et al., "Deep Learning for Classical Japanese Literature",
arXiv:1812.01718, 2018.
""",
)

_CIFAR10 = _ImageDataset(
    key="cifar10",
    title="CIFAR-10",
    loader="load_cifar10",
    image_shape=(3, 32, 32),
    target_names=(
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ),
    splits=_cifar_splits(),
    n_train=50000,
    archive=_Archive(
        url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        md5="c58f30108f718f92721af3b95e74349a",
        prefix="cifar-10-batches-py/",
        files=_CIFAR_FILES,
    ),
    descr="""\
CIFAR-10
--------
60,000 colour 32x32 images in 10 classes (50,000 train in five batches, 10,000
test, exactly 5,000 and 1,000 per class), read from the python pickles of
``cifar-10-batches-py``. Each row holds the red, then green, then blue 32x32 plane,
so ``X.reshape(-1, 3, 32, 32)`` gives the images.

Reference: A. Krizhevsky, "Learning Multiple Layers of Features from Tiny Images",
technical report, University of Toronto, 2009.
""",
)


# %% Image datasets: download


def _download_to(urls: Sequence[str], dest: Path, algorithm: str, digest: str) -> None:
    """Fetch ``dest`` from the first URL that works and gives the right digest.

    The bytes go to a temporary file beside ``dest`` that is renamed only after its
    checksum matched, so ``dest`` is never left half-written.
    """
    failures = []
    for url in urls:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{dest.name}.", suffix=".part", dir=dest.parent
        )
        try:
            hasher = hashlib.new(algorithm)
            with (
                os.fdopen(fd, "wb") as out,
                urllib.request.urlopen(url, timeout=60) as response,
            ):
                while chunk := response.read(1 << 20):
                    hasher.update(chunk)
                    out.write(chunk)
            if hasher.hexdigest() != digest:
                raise CorruptDataError(
                    f"{url} gave {algorithm} {hasher.hexdigest()}, expected {digest}"
                )
            os.replace(tmp_name, dest)
            return
        except (OSError, http.client.HTTPException) as exc:
            # OSError covers URLError, timeouts, dropped connections and
            # CorruptDataError; HTTPException covers truncated responses.
            failures.append((url, exc))
        finally:
            Path(tmp_name).unlink(missing_ok=True)
    reasons = "; ".join(f"{url}: {exc}" for url, exc in failures)
    if any(isinstance(exc, CorruptDataError) for _, exc in failures):
        raise CorruptDataError(f"downloaded {dest.name} is corrupted ({reasons})")
    raise FileNotFoundError(f"could not download {dest.name} ({reasons})")


def _download(spec: _ImageDataset, fileset: _FileSet, folder: Path) -> None:
    """Fetch the files of ``fileset`` that ``folder`` lacks."""
    folder.mkdir(parents=True, exist_ok=True)
    if spec.archive is None:
        for file in fileset.files:
            if not (folder / file.name).is_file():
                urls = [mirror + file.name for mirror in spec.mirrors]
                _download_to(urls, folder / file.name, file.algorithm, file.digest)
        return
    archive = spec.archive
    wanted = [f for f in archive.files if not (folder / f.name).is_file()]
    # The archive and the members being copied out live in a temporary folder
    # beside the data; a member is renamed into place once its checksum matched.
    with tempfile.TemporaryDirectory(prefix=".download.", dir=folder) as tmp:
        tar_path = Path(tmp) / "archive.tar.gz"
        _download_to([archive.url], tar_path, "md5", archive.md5)
        with tarfile.open(tar_path, "r:gz") as tar:
            for file in wanted:
                member = tar.extractfile(archive.prefix + file.name)
                if member is None:
                    raise CorruptDataError(f"{archive.url} has no file {file.name}")
                part = Path(tmp) / file.name
                with member, open(part, "wb") as out:
                    while chunk := member.read(1 << 20):
                        out.write(chunk)
                if _file_digest(part, file.algorithm) != file.digest:
                    raise CorruptDataError(f"{archive.url} holds a bad {file.name}")
                os.replace(part, folder / file.name)


# %% Image datasets: loading


def _canonical_sources(spec: _ImageDataset) -> str:
    return spec.archive.url if spec.archive else " or ".join(spec.mirrors)


def _missing_message(
    spec: _ImageDataset, split: str, folder: Path, home: Path, origin: str
) -> str:
    lines = [
        f"{spec.title} {split} data not found. Accepted files, in order of "
        "preference (any one complete set is enough):"
    ]
    for fileset in spec.splits[split]:
        directory = folder / fileset.subdir
        states = ", ".join(
            f"{f.name} ({'found' if (directory / f.name).is_file() else 'MISSING'})"
            for f in fileset.files
        )
        note = f" [{fileset.note}]" if fileset.note else ""
        lines.append(f"  - in {directory}: {states}{note}")
    lines += [
        f"The data folder {home} comes from {origin}.",
        "To provide the files: run "
        f"{spec.loader}(download=True) on a machine with internet access (it fetches "
        f"them from {_canonical_sources(spec)}); or copy them into {folder}; or set "
        f"the {DATA_HOME_ENV} environment variable (or pass data_home=...) to a "
        f"folder that holds {spec.key}/.",
    ]
    return "\n".join(lines)


def _stratified_indices(
    y: np.ndarray, n_samples: int, random_state: int | np.random.RandomState | None
) -> np.ndarray:
    """Sorted indices of ``n_samples`` rows whose class counts follow ``y``'s."""
    rng = check_random_state(random_state)
    classes, y_index, counts = np.unique(y, return_inverse=True, return_counts=True)
    quota = counts * n_samples / len(y)
    take = np.floor(quota).astype(int)
    # Largest remainders get the rows left over; ties are broken at random.
    order = np.lexsort((rng.permutation(len(classes)), take - quota))
    take[order[: n_samples - take.sum()]] += 1
    picked = [
        rng.choice(np.flatnonzero(y_index == k), size=take[k], replace=False)
        for k in range(len(classes))
    ]
    return np.sort(np.concatenate(picked))


def _load_images(
    spec: _ImageDataset,
    data_home: str | os.PathLike | None,
    split: str,
    n_samples: int | None,
    random_state: int | np.random.RandomState | None,
    download: bool,
    return_X_y: bool,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    if split not in spec.splits:
        raise ValueError(f"split must be one of {sorted(spec.splits)}; got {split!r}")
    if n_samples is not None:
        _check_int("n_samples", n_samples, 1)
    home, origin = _resolve_data_home(data_home)
    folder = home / spec.key
    chosen = next(
        (
            fileset
            for fileset in spec.splits[split]
            if all((folder / fileset.subdir / f.name).is_file() for f in fileset.files)
        ),
        None,
    )
    if download and (chosen is None or chosen.subset):
        chosen = next(fs for fs in spec.splits[split] if fs.downloadable)
        try:
            _download(spec, chosen, folder / chosen.subdir)
        except (FileNotFoundError, CorruptDataError) as exc:
            message = _missing_message(spec, split, folder, home, origin)
            raise type(exc)(f"{exc}\n{message}") from exc
    elif chosen is None:
        raise FileNotFoundError(_missing_message(spec, split, folder, home, origin))

    directory = folder / chosen.subdir
    paths = [directory / f.name for f in chosen.files]
    fix = (
        f"Delete it and run {spec.loader}(download=True) on a machine with internet "
        f"access (canonical files: {_canonical_sources(spec)}), or replace it with "
        "a good copy."
    )
    for file, path in zip(chosen.files, paths):
        if file.algorithm is not None:
            _verify_checksum(path, file.algorithm, file.digest, fix)
    images, labels = chosen.reader(paths)
    n_classes = len(spec.target_names)
    if len(images) != len(labels) or labels.max() >= n_classes:
        raise CorruptDataError(
            f"{directory}: {len(images)} images with {len(labels)} labels in "
            f"0..{labels.max()}; expected as many labels as images, in "
            f"0..{n_classes - 1}. {fix}"
        )

    n_total = len(labels)
    descr = (
        spec.descr
        + f"\nLoaded {split} split from {directory}: "
        + ", ".join(f.name for f in chosen.files)
    )
    if chosen.subset:
        descr += f"\nSUBSET: this is a {chosen.note}."
    if n_samples is not None:
        if n_samples > n_total:
            raise ValueError(
                f"n_samples={n_samples} exceeds the {n_total} {spec.title} {split} "
                f"images in {directory}"
            )
        index = _stratified_indices(labels, n_samples, random_state)
        images, labels = images[index], labels[index]
        descr += f"\nStratified subsample of {n_samples} of these {n_total} images."

    X = images.reshape(len(images), -1).astype(np.float32)
    X /= 255.0
    y = labels.astype(np.int64)
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        image_shape=spec.image_shape,
        target_names=np.asarray(spec.target_names),
        DESCR=descr,
        subset=chosen.subset,
    )


_LOADER_DOC = """Load {title}: {n_train:,} train, {n_test:,} test images ({shape_text}).

    Reads the canonical files from ``get_data_home(data_home) / "{key}"``, checks
    their checksums (once per file per process) and scales the pixels to [0, 1].

    Accepted files, in order of preference:

{files_doc}

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data folder; see :func:`get_data_home`.
    split : {{"train", "test"}}, default="train"
        Which split to load.
    n_samples : int, default=None
        Draw a stratified subsample of this many images (kept in file order);
        ``None`` loads them all.
    random_state : int, RandomState instance or None, default=None
        Seed of the subsample; an int makes it reproducible.
    download : bool, default=False
        Fetch the missing canonical files, checking their checksums, before
        loading; with only a partial copy present, the full set is fetched and
        used instead. The files come from:
        {sources}.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data``: float32 array of shape (n_samples, {n_features}) in [0, 1], one
        flattened image per row (``data.reshape(-1, *image_shape)`` restores
        them); ``target``: int64 array of class indices; ``image_shape``:
        ``{shape}``; ``target_names``; ``DESCR``; ``subset``: True when only a
        partial copy was found.
    (X, y) : tuple of ndarray
        When ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        When no complete set of files is found (or downloading fails); the message
        names the missing files, the folder searched, and how to provide them.
    CorruptDataError
        When a file fails its checksum or format check.

    Examples
    --------
    >>> from sklearn_learnact.datasets import {loader}
    >>> X, y = {loader}(split="test", n_samples=500, random_state=0,
    ...     return_X_y=True)  # doctest: +SKIP
    >>> X.shape, X.dtype  # doctest: +SKIP
    ((500, {n_features}), dtype('float32'))
    """


def _loader_doc(spec: _ImageDataset) -> str:
    lines = []
    for split in ("train", "test"):
        for fileset in spec.splits[split]:
            where = f"in ``{fileset.subdir}/``" if fileset.subdir else "directly"
            note = f" ({fileset.note})" if fileset.note else ""
            names = " + ".join(f"``{f.name}``" for f in fileset.files)
            lines.append(f"    - {split}, {where}: {names}{note}")
    c, h, w = spec.image_shape
    return _LOADER_DOC.format(
        title=spec.title,
        key=spec.key,
        loader=spec.loader,
        n_train=spec.n_train,
        n_test=10000,
        shape_text=f"{h}x{w} {'colour' if c == 3 else 'grey-scale'}",
        files_doc="\n".join(lines),
        sources=_canonical_sources(spec),
        n_features=c * h * w,
        shape=spec.image_shape,
    )


def load_mnist(
    data_home: str | os.PathLike | None = None,
    *,
    split: str = "train",
    n_samples: int | None = None,
    random_state: int | np.random.RandomState | None = None,
    download: bool = False,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    return _load_images(
        _MNIST, data_home, split, n_samples, random_state, download, return_X_y
    )


load_mnist.__doc__ = _loader_doc(_MNIST)


def load_fashion_mnist(
    data_home: str | os.PathLike | None = None,
    *,
    split: str = "train",
    n_samples: int | None = None,
    random_state: int | np.random.RandomState | None = None,
    download: bool = False,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    return _load_images(
        _FASHION_MNIST, data_home, split, n_samples, random_state, download, return_X_y
    )


load_fashion_mnist.__doc__ = _loader_doc(_FASHION_MNIST)


def load_kmnist(
    data_home: str | os.PathLike | None = None,
    *,
    split: str = "train",
    n_samples: int | None = None,
    random_state: int | np.random.RandomState | None = None,
    download: bool = False,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    return _load_images(
        _KMNIST, data_home, split, n_samples, random_state, download, return_X_y
    )


load_kmnist.__doc__ = _loader_doc(_KMNIST)


def load_cifar10(
    data_home: str | os.PathLike | None = None,
    *,
    split: str = "train",
    n_samples: int | None = None,
    random_state: int | np.random.RandomState | None = None,
    download: bool = False,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    return _load_images(
        _CIFAR10, data_home, split, n_samples, random_state, download, return_X_y
    )


load_cifar10.__doc__ = _loader_doc(_CIFAR10)


# %% Corruption (seed 004's "dirty" data)


def corrupt_labels(
    y: np.ndarray | Sequence,
    fraction: float,
    *,
    random_state: int | np.random.RandomState | None = None,
    n_classes: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Change a fraction of the labels to a different class.

    Exactly ``round(fraction * len(y))`` rows, drawn at random, get a new label
    drawn uniformly from the *other* classes. ``y`` itself is not modified.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels: integers, strings or any sortable values.
    fraction : float
        Fraction of rows to change, in [0, 1].
    random_state : int, RandomState instance or None, default=None
        Seed; the same int gives the same corruption.
    n_classes : int, default=None
        With integer labels ``0 .. n_classes - 1``, draw the new labels from all
        of them, also from classes absent in ``y``. By default the classes are
        those present in ``y``.

    Returns
    -------
    y_corrupt : ndarray of shape (n_samples,)
        A copy of ``y`` with the changed labels.
    mask : ndarray of shape (n_samples,), bool
        True for the changed rows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_learnact.datasets import corrupt_labels
    >>> y = np.repeat([0, 1, 2], 10)
    >>> y_dirty, mask = corrupt_labels(y, 0.1, random_state=0)
    >>> int(mask.sum()), bool(np.all(y_dirty[mask] != y[mask]))
    (3, True)
    """
    _check_real("fraction", fraction, 0.0, 1.0)
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D; got shape {y.shape}")
    if n_classes is None:
        classes = np.unique(y)
    else:
        _check_int("n_classes", n_classes, 2)
        classes = np.arange(n_classes)
        if not np.isin(y, classes).all():
            raise ValueError(
                f"with n_classes={n_classes}, y must hold 0..{n_classes - 1}"
            )
    if len(classes) < 2:
        raise ValueError(f"y needs at least two classes; got {classes.tolist()}")
    rng = check_random_state(random_state)
    rows = rng.choice(len(y), size=round(fraction * len(y)), replace=False)
    # A shift of 1 .. n_classes - 1 positions reaches every other class once.
    shift = rng.randint(1, len(classes), size=len(rows))
    y_corrupt = y.copy()
    y_corrupt[rows] = classes[
        (np.searchsorted(classes, y[rows]) + shift) % len(classes)
    ]
    mask = np.zeros(len(y), dtype=bool)
    mask[rows] = True
    return y_corrupt, mask


def corrupt_regression(
    X: np.ndarray,
    y: np.ndarray,
    fraction: float,
    *,
    noise_std: float = 1.0,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add Gaussian noise to the inputs and the target of a fraction of the rows.

    Exactly ``round(fraction * n_samples)`` rows, drawn at random, get independent
    Gaussian noise of std ``noise_std`` added to every feature and to the target
    (seed 004's "dirty" regression data). The noise is in the units of ``X`` and
    ``y``: standardise them first if their scales differ. ``X`` and ``y`` are not
    modified.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Inputs; float32 stays float32, anything else becomes float64.
    y : array-like of shape (n_samples,)
        Target; same dtype rule.
    fraction : float
        Fraction of rows to corrupt, in [0, 1].
    noise_std : float, default=1.0
        Standard deviation of the noise.
    random_state : int, RandomState instance or None, default=None
        Seed; the same int gives the same corruption.

    Returns
    -------
    X_corrupt : ndarray of shape (n_samples, n_features)
    y_corrupt : ndarray of shape (n_samples,)
    mask : ndarray of shape (n_samples,), bool
        True for the corrupted rows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_learnact.datasets import corrupt_regression
    >>> X, y = np.zeros((100, 3)), np.zeros(100)
    >>> X_dirty, y_dirty, mask = corrupt_regression(X, y, 0.1, random_state=0)
    >>> int(mask.sum()), bool((X_dirty[~mask] == X[~mask]).all())
    (10, True)
    """
    _check_real("fraction", fraction, 0.0, 1.0)
    _check_real("noise_std", noise_std, 0.0)
    X_corrupt = check_array(X, dtype=[np.float64, np.float32], copy=True)
    y_corrupt = check_array(
        y, dtype=[np.float64, np.float32], copy=True, ensure_2d=False
    )
    if y_corrupt.ndim != 1 or len(y_corrupt) != len(X_corrupt):
        raise ValueError(
            f"y must be 1-D with one value per row of X ({len(X_corrupt)}); "
            f"got shape {y_corrupt.shape}"
        )
    rng = check_random_state(random_state)
    rows = rng.choice(
        len(y_corrupt), size=round(fraction * len(y_corrupt)), replace=False
    )
    X_corrupt[rows] += rng.normal(0.0, noise_std, (len(rows), X_corrupt.shape[1]))
    y_corrupt[rows] += rng.normal(0.0, noise_std, len(rows))
    mask = np.zeros(len(y_corrupt), dtype=bool)
    mask[rows] = True
    return X_corrupt, y_corrupt, mask


# %% Infinite multivariate regression (seed 004)

_FUNCTION_FAMILIES = ("sin", "cos", "linear", "quadratic", "cubic")
_POLYNOMIAL_DEGREE = {"linear": 1, "quadratic": 2, "cubic": 3}
#: Points of [-1, 1] over which each hidden function is scaled to unit std.
_UNIT_GRID = np.linspace(-1.0, 1.0, 201)


@dataclass(frozen=True)
class HiddenFunction:
    """One hidden column function of :func:`make_infinite_regression`.

    It maps a value ``x`` of column ``column`` to ``f(t)``, where
    ``t = (2 * x - low - high) / (high - low)`` rescales the column's domain
    ``(low, high)`` to [-1, 1]:

    - ``"sin"``, ``"cos"``: ``coef = (amplitude, frequency, offset)`` and
      ``f(t) = amplitude * sin(frequency * t) + offset`` (or ``cos``);
    - ``"linear"``, ``"quadratic"``, ``"cubic"``: ``coef = (c0, c1, ...)`` and
      ``f(t) = c0 + c1 * t + c2 * t**2 + ...``.

    Parameters
    ----------
    column : int
        Index of the column of ``X`` it applies to.
    family : str
        One of ``"sin", "cos", "linear", "quadratic", "cubic"``.
    coef : tuple of float
        The coefficients, as above.
    domain : tuple of float
        ``(low, high)``: the range the column's values are drawn from.

    Examples
    --------
    >>> from sklearn_learnact.datasets import HiddenFunction
    >>> f = HiddenFunction(column=0, family="quadratic", coef=(0.0, 0.0, 1.0),
    ...                    domain=(2.0, 4.0))
    >>> f([2.0, 3.0, 4.0]).tolist()
    [1.0, 0.0, 1.0]
    """

    column: int
    family: str
    coef: tuple[float, ...]
    domain: tuple[float, float]

    def __call__(self, x: np.ndarray | Sequence[float]) -> np.ndarray:
        """Evaluate the function at the column values ``x`` (float64 result)."""
        low, high = self.domain
        t = (2.0 * np.asarray(x, dtype=np.float64) - low - high) / (high - low)
        if self.family in ("sin", "cos"):
            amplitude, frequency, offset = self.coef
            wave = np.sin if self.family == "sin" else np.cos
            return amplitude * wave(frequency * t) + offset
        return np.polynomial.polynomial.polyval(t, self.coef)


def _draw_function(
    rng: np.random.RandomState, column: int, family: str, domain: tuple[float, float]
) -> HiddenFunction:
    """Draw random coefficients, scaled so that ``f`` has unit std over the domain.

    Waves run over half a period to one and a half periods of the domain
    (frequency in [pi/2, 3*pi/2] on t in [-1, 1]); polynomials have a leading
    coefficient of magnitude at least 0.5 before scaling, so each family keeps its
    shape. Offsets are uniform in [-1, 1].
    """
    sign = rng.choice((-1.0, 1.0))
    if family in ("sin", "cos"):
        frequency = rng.uniform(np.pi / 2, 1.5 * np.pi)
        wave = np.sin if family == "sin" else np.cos
        amplitude = sign / wave(frequency * _UNIT_GRID).std()
        coef = (amplitude, frequency, rng.uniform(-1.0, 1.0))
    else:
        degree = _POLYNOMIAL_DEGREE[family]
        shape = np.append(rng.uniform(-1.0, 1.0, degree), sign * rng.uniform(0.5, 1.0))
        shape[0] = 0.0
        shape /= np.polynomial.polynomial.polyval(_UNIT_GRID, shape).std()
        shape[0] = rng.uniform(-1.0, 1.0)
        coef = tuple(shape)
    return HiddenFunction(
        column=column,
        family=family,
        coef=tuple(float(c) for c in coef),
        domain=domain,
    )


class InfiniteRegressionStream:
    """Endless regression data from fixed hidden functions (seed 004, made learnable).

    Seed 004's "infinite multivariate dataset": each column ``j`` has a domain and
    the first ``n_informative`` columns a hidden random function ``f_j`` (sin, cos,
    linear, quadratic or cubic with random coefficients, see
    :class:`HiddenFunction`); the target is the row mean
    ``y = mean_j f_j(X[:, j])`` over the informative columns, plus Gaussian noise
    of std ``noise``. The remaining ``n_features - n_informative`` columns are pure
    noise features that ``y`` does not use.

    Every :meth:`sample` draws a fresh batch: each column holds an evenly spaced
    grid over its domain, jittered and shuffled independently of the other
    columns (a Latin hypercube sample: seed 004's "fill each column with the
    domain, then shuffle each column independently"), so no row structure links
    the columns and a model has to learn each function.

    Made well-posed: seed 004 applied sin and cos to raw values spanning hundreds
    of periods, which no model can learn from a few thousand rows. Here each
    function acts on its column rescaled to [-1, 1] over its domain, waves span
    half a period to one and a half periods of it, and each function is scaled to
    unit std over the domain, so every family is learnable and ``y`` has a scale of
    order one (std about ``1 / sqrt(n_informative)``). Domains are
    ``center +- width / 2`` with center uniform in [-2, 2] and width uniform in
    [1, 4]. With 5000 rows and the defaults, an MLP with hidden layers (128, 64)
    reaches a validation R^2 above 0.97.

    Parameters
    ----------
    n_features : int, default=10
        Number of columns of ``X``.
    n_informative : int, default=5
        Number of leading columns that carry a hidden function; between 1 and
        ``n_features``.
    function_families : sequence of str, default=("sin", "cos", "linear", \
"quadratic", "cubic")
        Families to draw each hidden function's family from, uniformly.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to ``y``.
    batch_size : int, default=256
        Rows per batch when iterating.
    random_state : int, RandomState instance or None, default=None
        Seeds the hidden functions and the batches. The same int gives the same
        functions and the same sequence of batches.

    Attributes
    ----------
    functions : list of HiddenFunction
        The hidden functions, one per informative column.
    domains : list of tuple of float
        ``(low, high)`` of every column, noise features included.

    See Also
    --------
    make_infinite_regression : One finite draw from this stream.

    Examples
    --------
    >>> from sklearn_learnact.datasets import InfiniteRegressionStream
    >>> stream = InfiniteRegressionStream(n_features=4, n_informative=2,
    ...                                   batch_size=32, random_state=0)
    >>> [f.family for f in stream.functions]
    ['sin', 'cubic']
    >>> X, y = next(iter(stream))
    >>> X.shape, y.shape, X.dtype
    ((32, 4), (32,), dtype('float32'))
    """

    def __init__(
        self,
        n_features: int = 10,
        *,
        n_informative: int = 5,
        function_families: Sequence[str] = _FUNCTION_FAMILIES,
        noise: float = 0.0,
        batch_size: int = 256,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        _check_int("n_features", n_features, 1)
        _check_int("n_informative", n_informative, 1, n_features)
        _check_real("noise", noise, 0.0)
        _check_int("batch_size", batch_size, 1)
        if isinstance(function_families, str):
            function_families = (function_families,)
        unknown = sorted(set(function_families) - set(_FUNCTION_FAMILIES))
        if unknown or not function_families:
            raise ValueError(
                f"function_families must be a non-empty sequence of names from "
                f"{list(_FUNCTION_FAMILIES)}; got {function_families!r}"
            )
        self.n_features = n_features
        self.n_informative = n_informative
        self.function_families = tuple(function_families)
        self.noise = noise
        self.batch_size = batch_size
        self._rng = check_random_state(random_state)
        centers = self._rng.uniform(-2.0, 2.0, n_features)
        widths = self._rng.uniform(1.0, 4.0, n_features)
        self.domains = [
            (float(c - w / 2), float(c + w / 2)) for c, w in zip(centers, widths)
        ]
        families = self._rng.choice(self.function_families, n_informative)
        self.functions = [
            _draw_function(self._rng, j, str(family), self.domains[j])
            for j, family in enumerate(families)
        ]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_features={self.n_features}, "
            f"n_informative={self.n_informative}, noise={self.noise}, "
            f"batch_size={self.batch_size})"
        )

    def true_target(self, X: np.ndarray) -> np.ndarray:
        """Noise-free target of ``X``: the row mean of the hidden functions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, e.g. from :meth:`sample`.

        Returns
        -------
        ndarray of shape (n_samples,), float64
        """
        X = check_array(X, dtype=np.float64)
        if X.shape[1] != self.n_features:
            raise ValueError(f"X has {X.shape[1]} columns; expected {self.n_features}")
        return np.mean([f(X[:, f.column]) for f in self.functions], axis=0)

    def sample(self, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
        """Draw a fresh batch.

        Parameters
        ----------
        n_samples : int
            Number of rows.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features), float32
        y : ndarray of shape (n_samples,), float32
        """
        _check_int("n_samples", n_samples, 1)
        X = np.empty((n_samples, self.n_features), dtype=np.float32)
        for j, (low, high) in enumerate(self.domains):
            cells = self._rng.permutation(n_samples) + self._rng.uniform(size=n_samples)
            X[:, j] = low + (high - low) * cells / n_samples
        y = self.true_target(X)
        if self.noise > 0:
            y += self._rng.normal(0.0, self.noise, n_samples)
        return X, y.astype(np.float32)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(X, y)`` batches of ``batch_size`` rows, forever."""
        while True:
            yield self.sample(self.batch_size)


def make_infinite_regression(
    n_samples: int = 1000,
    n_features: int = 10,
    *,
    n_informative: int = 5,
    function_families: Sequence[str] = _FUNCTION_FAMILIES,
    noise: float = 0.0,
    random_state: int | np.random.RandomState | None = None,
    return_functions: bool = False,
) -> (
    tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, list[HiddenFunction]]
):
    """Generate seed 004's "infinite multivariate" regression data.

    Per informative column a domain and a hidden random function (sin, cos,
    linear, quadratic or cubic with random coefficients); the columns are filled
    independently (each column shuffled on its own), and ``y`` is the row mean of
    the transformed informative columns. Columns past ``n_informative`` are noise
    features that ``y`` ignores. Unlike the seed, every function acts on its column
    rescaled to [-1, 1] over its domain and is scaled to unit std, so every family
    is learnable (see :class:`InfiniteRegressionStream` for the details). For more
    data from the same hidden functions, use the stream.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows.
    n_features : int, default=10
        Number of columns.
    n_informative : int, default=5
        Number of leading columns that carry a hidden function.
    function_families : sequence of str, default=("sin", "cos", "linear", \
"quadratic", "cubic")
        Families to draw each hidden function's family from.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to ``y``.
    random_state : int, RandomState instance or None, default=None
        Seed; the same int gives identical data and functions.
    return_functions : bool, default=False
        Also return the hidden functions.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32
    y : ndarray of shape (n_samples,), float32
    functions : list of HiddenFunction
        Only when ``return_functions=True``.

    Notes
    -----
    ``make_infinite_regression(n, random_state=s)`` equals the first
    ``InfiniteRegressionStream(random_state=s).sample(n)`` (same other
    parameters), whose later samples continue from the same hidden functions.

    Examples
    --------
    >>> from sklearn_learnact.datasets import make_infinite_regression
    >>> X, y, functions = make_infinite_regression(
    ...     200, random_state=0, return_functions=True)
    >>> X.shape, y.shape, y.dtype, len(functions)
    ((200, 10), (200,), dtype('float32'), 5)
    >>> functions[0].family
    'linear'
    """
    stream = InfiniteRegressionStream(
        n_features,
        n_informative=n_informative,
        function_families=function_families,
        noise=noise,
        random_state=random_state,
    )
    X, y = stream.sample(n_samples)
    if return_functions:
        return X, y, stream.functions
    return X, y
