"""MNIST, Fashion-MNIST, Kuzushiji-MNIST and CIFAR-10 from their canonical files."""

import gzip
import numbers
import os
import pickle
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state

from .._validation import Boolean, Interval, Options, validate_params
from ._fetch import (
    DATA_HOME_ENV,
    MIRROR_ENV,
    Archive,
    CorruptDataError,
    DatasetNotFoundError,
    DownloadFailedError,
    File,
    download_files,
    get_mirror,
    resolve_data_home,
    verify_checksum,
)
from ._options import OptionNames

# %% File readers


@dataclass(frozen=True)
class _FileSet:
    """Files that together hold one split, read by ``reader`` into uint8 arrays.

    ``reader`` takes the file paths (in ``files`` order) and returns images of shape
    ``(n, ...)`` and labels of shape ``(n,)``. ``downloadable`` marks the set that
    ``download=True`` fetches.
    """

    files: tuple[File, ...]
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


# %% Specifications


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
    archive: Archive | None = None


def _sha(name: str, digest: str) -> File:
    return File(name, "sha256", digest)


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
        File("train-images-idx3-ubyte.gz", "md5", "bdb82020997e1d708af4cf47b453dcf7"),
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
        File("kmnist-train-imgs.npz"),
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
_CIFAR_FILES = tuple(File(name, "md5", md5) for name, md5 in _CIFAR_MD5.items())
_CIFAR_SUBSET = _sha(
    "subset-first761-per-batch.npz",
    "c11e26d35df2535a8cdd11693650ff777b4a423fa5081037b89739618feadc6a",
)


def _mnist_like_splits(idx: dict[str, tuple[File, File]]):
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
    archive=Archive(
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


# %% Loading


def _canonical_sources(spec: _ImageDataset) -> str:
    return spec.archive.url if spec.archive else " or ".join(spec.mirrors)


def _missing_message(
    spec: _ImageDataset,
    split: str,
    folder: Path,
    home: Path,
    origin: str,
    names: OptionNames,
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
        "To provide the files: "
        f"{names.rerun(spec.loader, 'download', True)} on a machine with internet "
        f"access (it fetches them from {_canonical_sources(spec)}; set "
        f"{MIRROR_ENV} to fetch them from a mirror instead); or copy them "
        f"into {folder}; or set the {DATA_HOME_ENV} environment variable (or pass "
        f"{names.use('data_home')}) to a folder that holds {spec.key}/.",
    ]
    return "\n".join(lines)


def _missing_summary(
    spec: _ImageDataset,
    split: str,
    folder: Path,
    names: OptionNames,
    failure: DownloadFailedError | None,
) -> str:
    """What is missing and how to provide it, in one line."""
    if failure is None:
        fetch = (
            f"{names.rerun(spec.loader, 'download', True)} to fetch it from "
            f"{_canonical_sources(spec)} (checksums checked)"
        )
        return (
            f"{spec.title} {split} data not found in {folder}: {fetch}, or set "
            f"{DATA_HOME_ENV} (or pass {names.use('data_home')}) to a folder that "
            f"holds {spec.key}/."
        )
    if get_mirror() is None:
        sources = (
            f"connect to the internet, or set {MIRROR_ENV} to a mirror (a URL or "
            f"a folder that holds {spec.key}/)"
        )
    else:
        sources = (
            f"give {MIRROR_ENV} a mirror that holds {spec.key}/ (or unset it to "
            "download from the canonical sources)"
        )
    return (
        f"{spec.title} {split} data not found in {folder} and could not be "
        f"downloaded ({failure.reason}): {sources}, or set {DATA_HOME_ENV} (or "
        f"pass {names.use('data_home')}) to a folder that holds {spec.key}/."
    )


def _fetch(spec: _ImageDataset, split: str, folder: Path) -> _FileSet:
    """Download one complete set of ``split``'s files into ``folder``.

    Without a mirror: the canonical set, from the canonical sources. With
    ``SKLEARN_LEARNACT_MIRROR``: the first set, in order of preference (partial
    copies last), that the mirror holds under ``<key>/``, from the mirror only.
    Every file with a known checksum is checked before it is kept.
    """
    mirror = get_mirror()
    if mirror is None:
        fileset = next(fs for fs in spec.splits[split] if fs.downloadable)
        download_files(
            fileset.files,
            folder / fileset.subdir,
            mirrors=spec.mirrors,
            archive=spec.archive,
        )
        return fileset
    failures: list[DownloadFailedError] = []
    for fileset in spec.splits[split]:
        subdir = f"{fileset.subdir}/" if fileset.subdir else ""
        try:
            download_files(
                fileset.files,
                folder / fileset.subdir,
                mirrors=[f"{mirror}{spec.key}/{subdir}"],
            )
        except DownloadFailedError as exc:
            failures.append(exc)
            continue
        return fileset
    raise DownloadFailedError(
        f"the mirror {mirror} ({MIRROR_ENV}) holds none of the accepted sets: "
        + "; ".join(str(exc) for exc in failures),
        failures[0].reason,
    )


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


def load_images(
    spec: _ImageDataset,
    data_home: str | os.PathLike | None,
    split: str,
    n_samples: int | None,
    random_state: int | np.random.RandomState | None,
    download: bool | str,
    return_X_y: bool,
    names: OptionNames | None = None,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load ``spec``'s images; ``names`` says how messages name the options."""
    names = names or OptionNames()
    validate_params(
        {"split": split, "n_samples": n_samples, "download": download},
        {
            "split": [Options(*sorted(spec.splits))],
            "n_samples": [None, Interval(numbers.Integral, 1, None)],
            "download": [Boolean(), Options("if_missing")],
        },
    )
    home, origin = resolve_data_home(data_home, names)
    folder = home / spec.key
    chosen = next(
        (
            fileset
            for fileset in spec.splits[split]
            if all((folder / fileset.subdir / f.name).is_file() for f in fileset.files)
        ),
        None,
    )
    if download == "if_missing":
        wanted = chosen is None
    else:  # True: the full set also replaces a partial copy
        wanted = bool(download) and (chosen is None or chosen.subset)
    if wanted:
        try:
            chosen = _fetch(spec, split, folder)
        except DownloadFailedError as exc:
            raise DatasetNotFoundError(
                f"{exc}\n{_missing_message(spec, split, folder, home, origin, names)}",
                _missing_summary(spec, split, folder, names, exc),
            ) from exc
        except CorruptDataError as exc:
            message = _missing_message(spec, split, folder, home, origin, names)
            raise CorruptDataError(f"{exc}\n{message}") from exc
    elif chosen is None:
        raise DatasetNotFoundError(
            _missing_message(spec, split, folder, home, origin, names),
            _missing_summary(spec, split, folder, names, None),
        )

    directory = folder / chosen.subdir
    paths = [directory / f.name for f in chosen.files]
    fix = (
        f"Delete it and {names.rerun(spec.loader, 'download', True)} on a machine "
        f"with internet access (canonical files: {_canonical_sources(spec)}), or "
        "replace it with a good copy."
    )
    for file, path in zip(chosen.files, paths):
        if file.algorithm is not None:
            verify_checksum(path, file.algorithm, file.digest, fix)
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
                f"{names.use('n_samples', n_samples)} exceeds the {n_total} "
                f"{spec.title} {split} images in {directory}"
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
    download : bool or "if_missing", default=False
        ``True``: fetch the missing canonical files, checking their checksums,
        before loading; with only a partial copy present, the full set is
        fetched and used instead. ``"if_missing"``: fetch them only when no set
        of files, partial or full, is present (what the examples and the
        ``learnact`` command do). The files come from {sources}, or, when the
        ``SKLEARN_LEARNACT_MIRROR`` environment variable names a mirror (a URL,
        or a folder, laid out as the data folder: ``{key}/...``), from the
        mirror only.
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
    DatasetNotFoundError
        A :class:`FileNotFoundError`: no complete set of files is found (or
        downloading fails). The message names the missing files, the folder
        searched and how to provide them; its ``summary`` says so in one line.
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


def _image_loader(spec: _ImageDataset):
    """The public loader of ``spec`` (``load_mnist``...), documented from it."""

    def loader(
        data_home: str | os.PathLike | None = None,
        *,
        split: str = "train",
        n_samples: int | None = None,
        random_state: int | np.random.RandomState | None = None,
        download: bool | str = False,
        return_X_y: bool = False,
    ) -> Bunch | tuple[np.ndarray, np.ndarray]:
        return load_images(
            spec, data_home, split, n_samples, random_state, download, return_X_y
        )

    loader.__name__ = loader.__qualname__ = spec.loader
    loader.__doc__ = _loader_doc(spec)
    return loader


load_mnist = _image_loader(_MNIST)
load_fashion_mnist = _image_loader(_FASHION_MNIST)
load_kmnist = _image_loader(_KMNIST)
load_cifar10 = _image_loader(_CIFAR10)


#: The image datasets by their ``load_dataset`` name.
IMAGE_DATASETS = {
    spec.key: spec for spec in (_MNIST, _FASHION_MNIST, _KMNIST, _CIFAR10)
}
