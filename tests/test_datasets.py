"""Tests for sklearn_learnact.datasets.

Image loaders read MNIST's test split from ``tests/data`` (the ``mnist_test_home``
fixture) and the full image sets from ``SKLEARN_LEARNACT_DATA`` (the
``shared_data`` fixture: without it those tests skip, saying how to provide it);
downloads are exercised with a fake ``urlopen`` and a local HTTP server, never
the network.
"""

import io
import os
import re
import shutil
import struct
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_learnact import LearnedActivationRegressor
from sklearn_learnact.datasets import (
    DATA_HOME_ENV,
    DATASET_NAMES,
    MIRROR_ENV,
    CorruptDataError,
    DatasetNotFoundError,
    HiddenFunction,
    InfiniteRegressionStream,
    corrupt_labels,
    corrupt_regression,
    get_data_home,
    load_cifar10,
    load_csv,
    load_dataset,
    load_fashion_mnist,
    load_kmnist,
    load_mnist,
    load_titanic,
    make_infinite_regression,
    make_tabular_preprocessor,
    make_titanic_preprocessor,
)

IMAGE_LOADERS = [load_mnist, load_fashion_mnist, load_kmnist, load_cifar10]
MNIST_TEST_FILES = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def _link(src_dir: Path, dst_dir: Path, names) -> None:
    """Symlink the named reference files into a temporary dataset folder."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        (dst_dir / name).symlink_to(src_dir / name)


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


# %% Titanic


def test_load_titanic():
    titanic = load_titanic()
    frame = titanic.frame
    assert frame.shape == (1309, 14)
    assert list(frame.columns[:4]) == ["pclass", "survived", "name", "sex"]
    assert "boat" in frame and "body" in frame and "home.dest" in frame
    assert int(titanic.target.sum()) == 500
    assert titanic.target.dtype == np.int64
    assert frame["pclass"].value_counts().sort_index().tolist() == [323, 277, 709]
    assert titanic.feature_names == list(titanic.data.columns)
    leaks_and_text = {"survived", "boat", "body", "name", "ticket", "cabin"}
    assert not leaks_and_text & set(titanic.feature_names)
    assert "boat" in titanic.DESCR and "leak" in titanic.DESCR
    assert titanic.data["age"].isna().sum() == 263


def test_load_titanic_return_X_y_and_arrays():
    X, y = load_titanic(return_X_y=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    X_arr, y_arr = load_titanic(as_frame=False, return_X_y=True)
    assert X_arr.shape == (1309, 7) and X_arr.dtype == object
    np.testing.assert_array_equal(y_arr, y.to_numpy())
    assert load_titanic(as_frame=False).frame is None


def test_titanic_preprocessor_pipeline():
    X, y = load_titanic(return_X_y=True)
    Xt = make_titanic_preprocessor().fit_transform(X)
    assert isinstance(Xt, np.ndarray) and Xt.dtype.kind == "f"
    assert Xt.shape == (1309, 12) and np.isfinite(Xt).all()
    model = make_pipeline(make_titanic_preprocessor(), LogisticRegression())
    cv = StratifiedKFold(3, shuffle=True, random_state=0)  # rows are sorted
    assert cross_val_score(model, X, y, cv=cv).mean() > 0.75
    pandas_out = make_titanic_preprocessor().set_output(transform="pandas")
    assert list(pandas_out.fit_transform(X).columns[:2]) == ["num__age", "num__sibsp"]


# %% CSV files


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


_ROWS = "".join(f"{i},{i % 3},{'ab'[i % 2]},{i * 0.5}\n" for i in range(30))


def test_load_csv_guesses_the_task_and_preprocesses(tmp_path):
    path = _write(tmp_path / "data.csv", "x,k,label,value\n" + _ROWS)
    data = load_csv(path, "value")
    assert data.task == "regression" and data.target.dtype == np.float64
    assert data.feature_names == ["x", "k", "label"] and data.target_name == "value"
    Xt = data.preprocessor.fit_transform(data.data)
    assert Xt.shape == (30, 4) and np.isfinite(Xt).all()  # x, k, label one-hot
    assert load_csv(path, "label").task == "classification"
    assert load_csv(path, "k").task == "classification"  # 3 distinct integers
    assert load_csv(path, "k", task="regression").task == "regression"
    assert data.description == "data.csv (30 rows), target: value (regression)."


def test_load_csv_drops_rows_without_target_and_keeps_missing_features(tmp_path):
    path = _write(tmp_path / "gaps.csv", "x,y\n1,0\n,1\n3,\n4,1\n5,0\n")
    data = load_csv(path, "y")
    assert data.target.tolist() == [0, 1, 1, 0]
    assert data.data["x"].isna().sum() == 1  # imputed by the preprocessor
    assert "1 row without a target dropped" in data.description


@pytest.mark.parametrize(
    "sep, header",
    [(";", "x;k;label;value"), ("\t", "x\tk\tlabel\tvalue"), ("|", "x|k|label|value")],
)
def test_load_csv_detects_the_separator(tmp_path, sep, header):
    path = _write(tmp_path / "data.csv", header + "\n" + _ROWS.replace(",", sep))
    data = load_csv(path, "value")
    assert data.feature_names == ["x", "k", "label"]
    assert data.target[:3].tolist() == [0.0, 0.5, 1.0]
    assert f"separator {sep!r}" in data.description


def test_load_csv_reads_decimal_commas_and_quoted_headers(tmp_path):
    # A spreadsheet export in a European locale: ';' between columns, ',' in
    # numbers; a quoted column name holding the other separator.
    text = '"size, m2";city;price\n"12,5";Lyon;1,5\n3;Paris;-2,25\n7,0;Lyon;3\n'
    data = load_csv(_write(tmp_path / "eu.csv", text), "price")
    assert data.feature_names == ["size, m2", "city"]
    assert data.task == "regression"
    assert data.target.tolist() == [1.5, -2.25, 3.0]
    assert data.data["size, m2"].tolist() == [12.5, 3.0, 7.0]
    assert data.data["city"].tolist() == ["Lyon", "Paris", "Lyon"]
    comma = load_csv(_write(tmp_path / "c.csv", "a,b\n1,x\n2,y\n"), "b", sep=",")
    assert comma.feature_names == ["a"]


def test_load_csv_encodings(tmp_path):
    text = "name,x,y\n" + "".join(f"café{i},{i},{i % 2}\n" for i in range(10))
    latin = _write(tmp_path / "latin.csv", text, "cp1252")
    with pytest.raises(ValueError) as info:
        load_csv(latin, "y")
    message = str(info.value)
    assert "latin.csv is not UTF-8 text (byte 0xe9 on line 2 cannot be decoded)" in (
        message
    )
    assert "encoding='cp1252'" in message
    data = load_csv(latin, "y", encoding="cp1252")
    assert data.data["name"].iloc[0] == "café0"
    utf16 = _write(tmp_path / "utf16.csv", text, "utf-16")
    with pytest.raises(ValueError, match="encoding='utf-16'"):
        load_csv(utf16, "y")
    assert load_csv(utf16, "y", encoding="utf-16").data["name"].iloc[1] == "café1"
    bom = _write(tmp_path / "bom.csv", "\ufeff" + text)
    assert load_csv(bom, "y").feature_names == ["name", "x"]
    with pytest.raises(ValueError, match="Unknown encoding 'klingon'"):
        load_csv(latin, "y", encoding="klingon")


@pytest.mark.parametrize(
    "text, target, match",
    [
        ("", "y", "empty.csv is empty: a CSV file starts with a header line"),
        ("x,y\n", "y", r"has a header \(x, y\) but no data rows"),
        ("x,y\n1,\n2,\n3,\n", "y", "'y' of empty.csv is empty in all 3 rows"),
        ("x,y\n1,4\n2,4\n", "y", "has the single value 4 in all 2 rows"),
        ("x,y\n1,a\n2,a\n", "y", "has the single value 'a' in all 2 rows"),
        (
            "x,y\n1,0\ninf,1\n2,0\n-inf,1\n",
            "y",
            r"Column 'x' of empty.csv holds an infinite value in 2 rows \(rows 2, 4 "
            "after the header\\): replace it",
        ),
        (
            "x,y\n1,0.5\n2,inf\n3,1.5\n",
            "y",
            r"Target column 'y' .* in 1 row \(row 2 after the header\): a target "
            "must be finite",
        ),
        (
            "x,y\n1,2\n3,4\n",
            "z",
            "Column 'z' is not in empty.csv; its columns are: x, y",
        ),
        ("y\n1\n2\n", "y", "no column besides the target 'y'"),
        ("x,y\n1,2,3\n4,5,6\n", "y", "Rows of empty.csv have more fields than"),
        ('x,y\n1,"2\n', "y", "Cannot parse empty.csv as a CSV file with separator"),
    ],
)
def test_load_csv_bad_files(tmp_path, text, target, match):
    path = _write(tmp_path / "empty.csv", text)
    with pytest.raises(ValueError, match=match):
        load_csv(path, target)


def test_load_csv_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="CSV file '.*nope.csv' not found"):
        load_csv(tmp_path / "nope.csv", "y")
    path = _write(tmp_path / "a.csv", "x,y\n1,a\n2,b\n")
    with pytest.raises(ValueError, match="use task='classification'"):
        load_csv(path, "y", task="regression")
    with pytest.raises(ValueError, match="task must be one of 'auto'"):
        load_csv(path, "y", task="ranking")


def test_make_tabular_preprocessor_by_dtype_or_by_name():
    X = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": ["u", "v", "u"], "c": [1, 2, 3]})
    assert make_tabular_preprocessor().fit_transform(X).shape == (3, 4)
    named = make_tabular_preprocessor(numeric=["a"], categorical=["c"])
    assert named.fit_transform(X).shape == (3, 4)  # a, then c one-hot; b dropped


# %% Any dataset by name


def test_load_dataset_by_name(tmp_path):
    assert DATASET_NAMES == (
        "titanic", "synthetic", "mnist", "fashion_mnist", "kmnist", "cifar10"
    )  # fmt: skip
    synthetic = load_dataset("synthetic", n_samples=100)
    assert synthetic.task == "regression" and synthetic.data.shape == (100, 10)
    assert abs(synthetic.target.mean()) < 1e-6
    titanic = load_dataset("titanic")
    assert titanic.task == "classification" and titanic.target.shape == (1309,)
    assert titanic.preprocessor.fit_transform(titanic.data).shape == (1309, 12)
    path = _write(tmp_path / "d.csv", "x,y\n1,a\n2,b\n")
    assert load_dataset(str(path), target="y").task == "classification"
    tsv = _write(tmp_path / "d.txt", "x\ty\n1\ta\n2\tb\n")  # any existing file
    assert load_dataset(str(tsv), target="y").feature_names == ["x"]
    with pytest.raises(ValueError, match="Unknown dataset 'iris': choose one of"):
        load_dataset("iris")


def test_load_dataset_images_by_name(shared_data):
    images = load_dataset("mnist", n_samples=50)
    assert images.data.shape == (50, 784) and images.preprocessor is None
    flags = {"n_samples": "--n-samples"}
    with pytest.raises(ValueError, match="--n-samples 70000 exceeds the 60000"):
        load_dataset("mnist", n_samples=70000, option_flags=flags)


@pytest.mark.parametrize(
    "name, kwargs, python, cli",
    [
        ("titanic", {"target": "age"}, "target='age'", "--target age"),
        ("mnist", {"encoding": "cp1252"}, "encoding='cp1252'", "--encoding cp1252"),
        ("titanic", {"n_samples": 10}, "n_samples=10", "--n-samples 10"),
        ("{csv}", {}, "with target=...", "with --target TARGET"),
        ("{csv}", {"target": "x", "n_samples": 5}, "n_samples=5", "--n-samples 5"),
    ],
)
def test_load_dataset_names_python_arguments_or_cli_flags(
    tmp_path, name, kwargs, python, cli
):
    name = name.replace("{csv}", str(_write(tmp_path / "d.csv", "x,y\n1,a\n")))
    flags = {"target": "--target", "encoding": "--encoding", "n_samples": "--n-samples"}
    with pytest.raises(ValueError, match=re.escape(python)):
        load_dataset(name, **kwargs)
    with pytest.raises(ValueError, match=re.escape(cli)):
        load_dataset(name, **kwargs, option_flags=flags)


def test_load_dataset_image_messages_name_cli_flags(tmp_path):
    flags = {"data_home": "--data-home", "download": "--download"}
    with pytest.raises(FileNotFoundError) as info:
        load_dataset("kmnist", data_home=tmp_path, option_flags=flags)
    message = str(info.value)
    assert f"The data folder {tmp_path} comes from --data-home." in message
    assert "run again with --download on a machine" in message
    assert "(or pass --data-home DATA_HOME)" in message
    assert "data_home" not in message and "download=True" not in message


# %% Data folder


def test_get_data_home_order(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_HOME_ENV, str(tmp_path / "from-env"))
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert get_data_home() == tmp_path / "from-env"
    monkeypatch.delenv(DATA_HOME_ENV)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home() == tmp_path / "sklearn_learnact_data"
    assert not (tmp_path / "sklearn_learnact_data").exists()


# %% Image loaders: reference copies


@pytest.fixture(scope="module")
def mnist_train(shared_data):
    return load_mnist(split="train")


def test_load_mnist_train(mnist_train):
    X, y = mnist_train.data, mnist_train.target
    assert X.shape == (60000, 784) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.dtype == np.int64
    assert np.bincount(y)[1] == 6742
    assert mnist_train.image_shape == (1, 28, 28)
    assert list(mnist_train.target_names) == [str(d) for d in range(10)]
    assert mnist_train.subset is False
    assert X.reshape(-1, *mnist_train.image_shape).shape == (60000, 1, 28, 28)


def test_load_mnist_test(mnist_test_home):
    X, y = load_mnist(mnist_test_home, split="test", return_X_y=True)
    assert X.shape == (10000, 784)
    counts = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert np.bincount(y).tolist() == counts


@pytest.mark.parametrize("split, n_per_class", [("train", 6000), ("test", 1000)])
def test_load_fashion_mnist(split, n_per_class, shared_data):
    bunch = load_fashion_mnist(split=split)
    assert bunch.data.shape == (10 * n_per_class, 784)
    assert bunch.data.dtype == np.float32 and 0 <= bunch.data.min() < bunch.data.max()
    assert bunch.data.max() <= 1
    assert np.bincount(bunch.target).tolist() == [n_per_class] * 10
    assert bunch.target_names[0] == "T-shirt/top" and not bunch.subset


def test_load_kmnist_train_is_documented_subset(shared_data):
    bunch = load_kmnist(split="train")
    assert bunch.subset is True
    assert bunch.data.shape == (7011, 784) and bunch.data.dtype == np.float32
    counts = [690, 690, 695, 702, 757, 708, 688, 708, 672, 701]
    assert np.bincount(bunch.target).tolist() == counts
    assert "SUBSET" in bunch.DESCR and "7011" in bunch.DESCR


def test_load_kmnist_test_idx_and_npz_agree(shared_data, tmp_path):
    idx = load_kmnist(split="test")
    assert not idx.subset and np.bincount(idx.target).tolist() == [1000] * 10
    npz_names = ["kmnist-test-imgs.npz", "kmnist-test-labels.npz"]
    _link(shared_data / "kmnist", tmp_path / "kmnist", npz_names)
    npz = load_kmnist(tmp_path, split="test")
    np.testing.assert_array_equal(npz.data, idx.data)
    np.testing.assert_array_equal(npz.target, idx.target)


@pytest.mark.parametrize(
    "split, n_rows, first_labels, first_pixels, last_pixels",
    [
        ("train", 5 * 761, [6, 9, 9, 4, 1, 1, 2, 7, 8, 3], [59, 43, 50], [140, 84, 72]),
        ("test", 761, [3, 8, 8, 0, 6, 6, 1, 6, 3, 1], [158, 159, 165], [124, 129, 110]),
    ],
)
def test_load_cifar10_subset(
    split, n_rows, first_labels, first_pixels, last_pixels, shared_data
):
    bunch = load_cifar10(split=split)
    assert bunch.subset is True and "SUBSET" in bunch.DESCR
    assert bunch.data.shape == (n_rows, 3 * 32 * 32) and bunch.data.dtype == np.float32
    assert bunch.image_shape == (3, 32, 32)
    assert bunch.target[:10].tolist() == first_labels
    # Published first and last bytes of image 0: the R plane comes first.
    pixels = np.rint(bunch.data[0] * 255).astype(int)
    assert pixels[:3].tolist() == first_pixels and pixels[-3:].tolist() == last_pixels
    assert bunch.target_names[0] == "airplane"


def test_cifar10_full_pickles_are_preferred_and_verified(shared_data, tmp_path):
    folder = tmp_path / "cifar10"
    _link(shared_data / "cifar10", folder, ["subset-first761-per-batch.npz"])
    batches = folder / "cifar-10-batches-py"
    batches.mkdir()
    for name in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4"]:
        (batches / name).write_bytes(b"not the official pickle")
    assert load_cifar10(tmp_path).subset  # an incomplete full set is skipped
    (batches / "data_batch_5").write_bytes(b"not the official pickle")
    with pytest.raises(CorruptDataError, match="data_batch_1.*md5"):
        load_cifar10(tmp_path)
    assert load_cifar10(tmp_path, split="test").subset  # no full test batch here


def _python2_cifar_pickle(data: np.ndarray, labels: list[int]) -> bytes:
    """A batch pickled as the official files are: by Python 2, protocol 2.

    Python 2 ``str`` objects (dict keys, dtype code, raw array bytes) are
    BINSTRING opcodes, which Python 3 only reads with ``encoding="bytes"``
    (or latin1). Opcodes: T BINSTRING, J BININT, c GLOBAL, R REDUCE, b BUILD,
    \\x85-\\x87 TUPLE1-3, \\x89 NEWFALSE, ( MARK, t TUPLE, ] EMPTY_LIST, e APPENDS,
    } EMPTY_DICT, u SETITEMS.
    """

    def string(b: bytes) -> bytes:
        return b"T" + struct.pack("<I", len(b)) + b

    def integer(i: int) -> bytes:
        return b"J" + struct.pack("<i", i)

    array = (
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
        + integer(0) + b"\x85" + string(b"b") + b"\x87R"
        + b"(" + integer(1) + integer(data.shape[0]) + integer(data.shape[1])
        + b"\x86cnumpy\ndtype\n" + string(b"u1") + integer(0) + integer(1)
        + b"\x87R(" + integer(3) + string(b"|") + b"NNN" + integer(-1)
        + integer(-1) + integer(0) + b"tb\x89" + string(data.tobytes()) + b"tb"
    )  # fmt: skip
    labels_list = b"](" + b"".join(integer(i) for i in labels) + b"e"
    return (
        b"\x80\x02}(" + string(b"data") + array
        + string(b"labels") + labels_list + b"u."
    )  # fmt: skip


def test_cifar10_pickle_layout(tmp_path):
    # The official pickles are not in the reference data; check the reader on
    # pickles of the same format (it is private because it only ever runs on
    # files whose md5 matched).
    from sklearn_learnact.datasets._images import _read_cifar_batches

    rng = np.random.RandomState(0)
    paths, images = [], []
    for i in range(2):
        data = rng.randint(0, 256, (4, 3072)).astype(np.uint8)
        paths.append(tmp_path / f"data_batch_{i + 1}")
        paths[-1].write_bytes(_python2_cifar_pickle(data, [i, 9, 0, 5]))
        images.append(data)
    got_images, got_labels = _read_cifar_batches(paths)
    np.testing.assert_array_equal(got_images, np.concatenate(images))
    assert got_labels.tolist() == [0, 9, 0, 5, 1, 9, 0, 5]


# %% Image loaders: subsampling and arguments


def test_stratified_subsample(mnist_test_home):
    home = mnist_test_home
    X_full, y_full = load_mnist(home, split="test", return_X_y=True)
    X, y = load_mnist(
        home, split="test", n_samples=1000, random_state=0, return_X_y=True
    )
    assert X.shape == (1000, 784) and X.dtype == np.float32
    expected = np.bincount(y_full) * 1000 / len(y_full)
    assert np.abs(np.bincount(y) - expected).max() < 1
    full_rows = {row.tobytes(): label for row, label in zip(X_full, y_full)}
    assert all(full_rows[row.tobytes()] == label for row, label in zip(X, y))
    X_again, y_again = load_mnist(
        home, split="test", n_samples=1000, random_state=0, return_X_y=True
    )
    np.testing.assert_array_equal(X_again, X)
    np.testing.assert_array_equal(y_again, y)
    _, y_other = load_mnist(
        home, split="test", n_samples=1000, random_state=1, return_X_y=True
    )
    assert not np.array_equal(y_other, y)


def test_stratified_subsample_of_a_partial_copy(shared_data):
    assert len(load_kmnist(split="train", n_samples=10, random_state=0).target) == 10


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"split": "valid"}, ValueError, "split must be one of 'test', 'train'"),
        ({"n_samples": 0}, ValueError, "must be None or an int >= 1, got 0"),
        ({"n_samples": 2.5}, TypeError, "must be None or an int >= 1, got 2.5"),
        ({"n_samples": True}, TypeError, "must be None or an int >= 1, got True"),
        ({"split": "test", "n_samples": 10001}, ValueError, "exceeds the 10000"),
    ],
)
def test_image_loader_bad_arguments(kwargs, error, match, mnist_test_home):
    with pytest.raises(error, match=match):
        load_mnist(mnist_test_home, **kwargs)


# %% Image loaders: missing and corrupted files


@pytest.mark.parametrize("loader", IMAGE_LOADERS)
def test_missing_files_error(loader, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        loader(tmp_path / "empty", split="test")
    message = str(info.value)
    assert "MISSING" in message and "test" in message
    assert str(tmp_path / "empty") in message and "data_home argument" in message
    assert f"{loader.__name__}(download=True)" in message
    assert DATA_HOME_ENV in message
    assert not (tmp_path / "empty").exists()


def test_missing_files_error_names_each_file(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path)
    message = str(info.value)
    for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]:
        assert f"{name} (MISSING)" in message
    assert str(tmp_path / "mnist") in message


@pytest.mark.parametrize("use_env", [True, False])
def test_missing_files_error_says_where_folder_came_from(
    use_env, monkeypatch, tmp_path
):
    if use_env:
        monkeypatch.setenv(DATA_HOME_ENV, str(tmp_path))
        origin = "environment variable"
    else:
        monkeypatch.delenv(DATA_HOME_ENV, raising=False)
        monkeypatch.setenv("HOME", str(tmp_path))
        origin = "~/sklearn_learnact_data"
    with pytest.raises(FileNotFoundError, match=origin):
        load_fashion_mnist()


def test_corrupted_file_is_detected(mnist_test_home, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in MNIST_TEST_FILES:
        shutil.copy(mnist_test_home / "mnist" / name, folder / name)
    assert load_mnist(tmp_path, split="test").data.shape == (10000, 784)
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(labels.read_bytes())
    raw[1000:1004] = bytes(b ^ 0xFF for b in raw[1000:1004])
    labels.write_bytes(bytes(raw))
    stat = labels.stat()
    # Make sure the in-process verification cache sees a change of mtime.
    os.utime(labels, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with pytest.raises(CorruptDataError) as info:
        load_mnist(tmp_path, split="test")
    message = str(info.value)
    assert str(labels) in message and "sha256" in message
    assert "load_mnist(download=True)" in message


def test_bad_format_without_checksum_is_detected(shared_data, tmp_path):
    # kmnist-train-imgs.npz has no published checksum: its shape is checked.
    folder = tmp_path / "kmnist"
    _link(shared_data / "kmnist", folder, ["kmnist-train-labels.npz"])
    np.savez(folder / "kmnist-train-imgs.npz", np.zeros((5, 28, 28), np.uint8))
    with pytest.raises(CorruptDataError, match=r"expected \(60000, 28, 28\) uint8"):
        load_kmnist(tmp_path)


# %% Image loaders: download (with a fake urlopen, never the network)


class _FakeResponse(io.BytesIO):
    """A response that fails after ``fail_after`` bytes, if set."""

    def __init__(self, data: bytes, fail_after: int | None = None):
        super().__init__(data)
        self.fail_after = fail_after

    def read(self, size=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection dropped")
        return super().read(size if self.fail_after is None else 100)


def _serve(monkeypatch, folder: Path, *, flip=False, fail_after=None) -> list[str]:
    """Make urlopen serve files of ``folder`` by name; return the URLs asked for."""
    requested = []

    def fake_urlopen(url, timeout=None):
        requested.append(url)
        data = bytearray((folder / url.rsplit("/", 1)[-1]).read_bytes())
        if flip:
            data[-10] ^= 0xFF
        return _FakeResponse(bytes(data), fail_after)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    return requested


def _go_offline(monkeypatch) -> list[str]:
    requested = []

    def offline(url, timeout=None):
        requested.append(url)
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    return requested


def test_download_fetches_verifies_and_loads(mnist_test_home, monkeypatch, tmp_path):
    requested = _serve(monkeypatch, mnist_test_home / "mnist")
    bunch = load_mnist(tmp_path, split="test", download=True)
    assert bunch.data.shape == (10000, 784)
    assert sorted(p.name for p in _files_under(tmp_path)) == MNIST_TEST_FILES
    assert requested[0].startswith("https://") and len(requested) == 2
    requested.clear()
    load_mnist(tmp_path, split="test", download=True)
    assert requested == []  # present files are not fetched again


@pytest.mark.parametrize("loader", IMAGE_LOADERS)
def test_download_offline_gives_clear_error(loader, monkeypatch, tmp_path):
    requested = _go_offline(monkeypatch)
    with pytest.raises(FileNotFoundError) as info:
        loader(tmp_path, split="test", download=True)
    message = str(info.value)
    assert "could not download" in message and "no network" in message
    assert "MISSING" in message and f"{loader.__name__}(download=True)" in message
    assert requested and _files_under(tmp_path) == []


def test_download_with_bad_checksum_keeps_nothing(
    mnist_test_home, monkeypatch, tmp_path
):
    _serve(monkeypatch, mnist_test_home / "mnist", flip=True)
    with pytest.raises(CorruptDataError, match="t10k-images-idx3-ubyte.gz.*sha256"):
        load_mnist(tmp_path, split="test", download=True)
    assert _files_under(tmp_path) == []


def test_interrupted_download_keeps_nothing(mnist_test_home, monkeypatch, tmp_path):
    _serve(monkeypatch, mnist_test_home / "mnist", fail_after=1000)
    with pytest.raises(FileNotFoundError, match="connection dropped"):
        load_mnist(tmp_path, split="test", download=True)
    assert _files_under(tmp_path) == []


def test_download_replaces_a_partial_copy(shared_data, monkeypatch, tmp_path):
    _link(shared_data / "kmnist", tmp_path / "kmnist", ["subset-train-first7011.npz"])
    requested = _go_offline(monkeypatch)
    with pytest.raises(FileNotFoundError):
        load_kmnist(tmp_path, download=True)
    assert requested[0].endswith("/train-images-idx3-ubyte.gz")
    assert load_kmnist(tmp_path).subset  # without download, the subset is used


def test_missing_data_summary_is_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    with pytest.raises(DatasetNotFoundError) as info:
        load_fashion_mnist(tmp_path, split="test")
    summary = info.value.summary
    assert "\n" not in summary and "\n" in str(info.value)
    assert summary.startswith(f"Fashion-MNIST test data not found in {tmp_path}")
    assert "run load_fashion_mnist(download=True) to fetch it" in summary
    assert DATA_HOME_ENV in summary and "data_home=..." in summary
    requested = _go_offline(monkeypatch)
    with pytest.raises(DatasetNotFoundError) as info:
        load_fashion_mnist(tmp_path, split="test", download="if_missing")
    summary = info.value.summary
    assert "\n" not in summary and requested
    assert "could not be downloaded (http://fashion-mnist" in summary
    assert "no network" in summary and "connect to the internet" in summary
    assert MIRROR_ENV in summary and DATA_HOME_ENV in summary
    assert _files_under(tmp_path) == []


def test_download_from_a_local_http_mirror(
    mnist_test_home, http_mirror, monkeypatch, tmp_path
):
    # A mirror is laid out as the data folder; only the mirror is asked.
    monkeypatch.setenv(MIRROR_ENV, http_mirror(mnist_test_home))
    bunch = load_mnist(tmp_path, split="test", download="if_missing")
    assert bunch.data.shape == (10000, 784) and not bunch.subset
    assert sorted(p.name for p in _files_under(tmp_path)) == MNIST_TEST_FILES
    # the mirror lacks the train split: one line names the mirror and the file
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(tmp_path, download=True)
    assert "could not be downloaded (http://127.0.0.1:" in info.value.summary
    assert "train-images-idx3-ubyte.gz: File not found" in info.value.summary
    assert f"give {MIRROR_ENV} a mirror that holds mnist/" in info.value.summary
    assert "none of the accepted sets" in str(info.value)


def test_download_from_a_mirror_folder_checks_checksums(
    mnist_test_home, monkeypatch, tmp_path
):
    mirror = tmp_path / "mirror" / "mnist"
    mirror.mkdir(parents=True)
    for name in MNIST_TEST_FILES:
        shutil.copy(mnist_test_home / "mnist" / name, mirror / name)
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path / "mirror"))
    home = tmp_path / "home"
    assert load_mnist(home, split="test", download=True).data.shape == (10000, 784)
    shutil.rmtree(home)
    labels = mirror / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(labels.read_bytes())
    raw[-10] ^= 0xFF
    labels.write_bytes(bytes(raw))
    with pytest.raises(CorruptDataError, match="t10k-labels-idx1-ubyte.gz.*sha256"):
        load_mnist(home, split="test", download=True)
    assert not (home / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()


def test_if_missing_keeps_a_partial_copy_offline(shared_data, monkeypatch, tmp_path):
    _link(shared_data / "kmnist", tmp_path / "kmnist", ["subset-train-first7011.npz"])
    requested = _go_offline(monkeypatch)
    assert load_kmnist(tmp_path, download="if_missing").subset
    assert requested == []


def test_a_mirror_of_partial_copies_gives_them(
    shared_data, http_mirror, monkeypatch, tmp_path
):
    # the shared folder holds KMNIST's train images only as a partial copy
    monkeypatch.setenv(MIRROR_ENV, http_mirror(shared_data))
    bunch = load_kmnist(tmp_path, download="if_missing", n_samples=20)
    assert bunch.subset and len(bunch.target) == 20
    assert [p.name for p in _files_under(tmp_path)] == ["subset-train-first7011.npz"]


@pytest.mark.parametrize("download", ["yes", 1.5, None])
def test_download_must_be_a_bool_or_if_missing(download, mnist_test_home):
    with pytest.raises(ValueError, match="download must be"):
        load_mnist(mnist_test_home, split="test", download=download)


# %% Corruption


def test_corrupt_labels_changes_exactly_a_fraction():
    y = np.repeat(np.arange(4), 250)
    y_before = y.copy()
    y_dirty, mask = corrupt_labels(y, 0.1, random_state=0)
    np.testing.assert_array_equal(y, y_before)  # the input is untouched
    assert mask.dtype == bool and mask.sum() == 100
    assert np.all(y_dirty[mask] != y[mask]) and np.all(y_dirty[~mask] == y[~mask])
    y_again, mask_again = corrupt_labels(y, 0.1, random_state=0)
    np.testing.assert_array_equal(y_again, y_dirty)
    np.testing.assert_array_equal(mask_again, mask)
    _, mask_other = corrupt_labels(y, 0.1, random_state=1)
    assert not np.array_equal(mask_other, mask)


def test_corrupt_labels_draws_other_classes_uniformly():
    y = np.zeros(30000, dtype=int)
    y[1::2] = 1
    y[2::4] = 2
    y_dirty, mask = corrupt_labels(y, 0.5, random_state=0)
    for k in range(3):
        changed = y_dirty[mask & (y == k)]
        counts = np.bincount(changed, minlength=3)
        assert counts[k] == 0
        others = np.delete(counts, k)
        assert abs(others[0] - others[1]) < 0.05 * others.sum()


def test_corrupt_labels_strings_and_n_classes():
    y = np.array(["cat", "dog", "bird"] * 10)
    y_dirty, mask = corrupt_labels(list(y), 1 / 3, random_state=0)
    assert mask.sum() == 10 and set(y_dirty) <= {"cat", "dog", "bird"}
    assert np.all(y_dirty[mask] != y[mask])
    y01 = np.tile([0, 1], 500)
    y_dirty, mask = corrupt_labels(y01, 1.0, random_state=0, n_classes=3)
    assert mask.all() and np.all(y_dirty != y01) and (y_dirty == 2).any()
    assert corrupt_labels(y01, 0.0)[1].sum() == 0


@pytest.mark.parametrize(
    "y, kwargs, match",
    [
        ([0, 1], {"fraction": 1.5}, r"fraction must be .* got 1.5"),
        ([0, 1], {"fraction": -0.1}, r"fraction must be .* got -0.1"),
        ([0, 1], {"fraction": float("nan")}, r"a number in \[0.0, 1.0\], got nan"),
        ([[0, 1]], {"fraction": 0.1}, "y must be 1-D"),
        ([1, 1, 1], {"fraction": 0.1}, "at least two classes"),
        ([0, 3], {"fraction": 0.1, "n_classes": 3}, "y must hold 0..2"),
    ],
)
def test_corrupt_labels_bad_arguments(y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        corrupt_labels(np.array(y), **kwargs)


def test_corrupt_regression():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(10000, 5)).astype(np.float32)
    y = rng.normal(size=10000).astype(np.float32)
    X_before, y_before = X.copy(), y.copy()
    X_dirty, y_dirty, mask = corrupt_regression(
        X, y, 0.5, noise_std=2.0, random_state=0
    )
    np.testing.assert_array_equal(X, X_before)  # the inputs are untouched
    np.testing.assert_array_equal(y, y_before)
    assert X_dirty.dtype == np.float32 and y_dirty.dtype == np.float32
    assert mask.sum() == 5000
    np.testing.assert_array_equal(X_dirty[~mask], X[~mask])
    np.testing.assert_array_equal(y_dirty[~mask], y[~mask])
    assert np.all(X_dirty[mask] != X[mask]) and np.all(y_dirty[mask] != y[mask])
    assert (X_dirty - X)[mask].std() == pytest.approx(2.0, rel=0.02)
    assert (y_dirty - y)[mask].std() == pytest.approx(2.0, rel=0.05)
    X_again, y_again, _ = corrupt_regression(X, y, 0.5, noise_std=2.0, random_state=0)
    np.testing.assert_array_equal(X_again, X_dirty)
    np.testing.assert_array_equal(y_again, y_dirty)


def test_corrupt_regression_lists_and_bad_arguments():
    X_dirty, _, mask = corrupt_regression(
        [[0, 1], [2, 3], [4, 5]], [1, 2, 3], 1 / 3, random_state=0
    )
    assert X_dirty.dtype == np.float64 and mask.sum() == 1
    with pytest.raises(ValueError, match="one value per row"):
        corrupt_regression(np.zeros((3, 2)), np.zeros(4), 0.1)
    with pytest.raises(ValueError, match="noise_std must be a number >= 0.0, got -1"):
        corrupt_regression(np.zeros((3, 2)), np.zeros(3), 0.1, noise_std=-1)
    with pytest.raises(ValueError, match=r"fraction must be .* got 2"):
        corrupt_regression(np.zeros((3, 2)), np.zeros(3), 2)
    with pytest.raises(TypeError, match="fraction must be a number in"):
        corrupt_regression(np.zeros((3, 2)), np.zeros(3), "0.1")


# %% Infinite regression


def test_make_infinite_regression_shapes_and_reproducibility():
    X, y, functions = make_infinite_regression(
        300, n_features=7, n_informative=3, random_state=0, return_functions=True
    )
    assert X.shape == (300, 7) and X.dtype == np.float32
    assert y.shape == (300,) and y.dtype == np.float32
    assert [f.column for f in functions] == [0, 1, 2]
    assert all(isinstance(f, HiddenFunction) for f in functions)
    X2, y2, functions2 = make_infinite_regression(
        300, n_features=7, n_informative=3, random_state=0, return_functions=True
    )
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert functions == functions2
    X3, _ = make_infinite_regression(300, n_features=7, random_state=1)
    assert not np.array_equal(X, X3)


def test_target_is_row_mean_of_hidden_functions():
    X, y, functions = make_infinite_regression(
        500, random_state=3, return_functions=True
    )
    expected = np.mean([f(X[:, f.column]) for f in functions], axis=0)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    assert 0.2 < y.std() < 2  # a target of order one


def test_columns_are_independent_grids_over_their_domains():
    stream = InfiniteRegressionStream(n_features=6, n_informative=2, random_state=0)
    X, _ = stream.sample(1000)
    for j, (low, high) in enumerate(stream.domains):
        # One value in each of the 1000 equal cells of the domain.
        cells = np.floor((X[:, j] - low) / (high - low) * 1000).astype(int)
        assert np.abs(np.sort(cells) - np.arange(1000)).max() <= 1
    assert abs(np.corrcoef(X[:, 0], X[:, 1])[0, 1]) < 0.1


def test_noise_features_do_not_enter_target():
    stream = InfiniteRegressionStream(n_features=5, n_informative=2, random_state=0)
    X, _ = stream.sample(200)
    X_shuffled = X.copy()
    X_shuffled[:, 2:] = X_shuffled[::-1, 2:]
    np.testing.assert_array_equal(stream.true_target(X_shuffled), stream.true_target(X))


@pytest.mark.parametrize("family", ["sin", "cos", "linear", "quadratic", "cubic"])
def test_each_family_is_scaled_to_unit_std(family):
    _, _, functions = make_infinite_regression(
        10,
        n_features=8,
        n_informative=8,
        function_families=[family],
        random_state=0,
        return_functions=True,
    )
    for f in functions:
        assert f.family == family
        low, high = f.domain
        values = f(np.linspace(low, high, 2001))
        assert values.std() == pytest.approx(1.0, rel=0.02)
        if family in ("sin", "cos"):
            assert np.pi / 2 <= f.coef[1] <= 1.5 * np.pi  # 0.5 to 1.5 periods


def test_stream_continues_make_infinite_regression():
    X, y = make_infinite_regression(100, noise=0.1, random_state=5)
    stream = InfiniteRegressionStream(noise=0.1, batch_size=64, random_state=5)
    X_first, y_first = stream.sample(100)
    np.testing.assert_array_equal(X_first, X)
    np.testing.assert_array_equal(y_first, y)
    batches = iter(stream)
    X_a, y_a = next(batches)
    X_b, _ = next(batches)
    assert X_a.shape == (64, 10) and y_a.shape == (64,)
    assert not np.array_equal(X_a, X_b)
    residual = y_a - stream.true_target(X_a)
    assert 0.05 < residual.std() < 0.2
    assert "n_informative=5" in repr(stream)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "n_samples must be an int >= 1, got 0"),
        ({"n_features": 0}, "n_features must be an int >= 1, got 0"),
        ({"n_features": 3, "n_informative": 4}, r"n_informative must be .* got 4"),
        ({"noise": -1.0}, r"noise must be a number >= 0.0, got -1.0"),
        ({"noise": float("nan")}, "noise must be a number >= 0.0, got nan"),
        ({"function_families": ["tanh"]}, "function_families must be"),
        ({"function_families": []}, "function_families must be"),
    ],
)
def test_make_infinite_regression_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_infinite_regression(**kwargs)


@pytest.fixture(scope="module")
def regression_fits():
    """Validation R^2 and MSE of one network fitted on clean and on corrupted data."""
    # seed 004's setup: 10 -> 128 -> 64 -> 1, batch 64, 20 epochs, Adam lr 1e-3,
    # 5000 train / 2000 validation rows
    stream = InfiniteRegressionStream(random_state=0)
    X, y = stream.sample(5000)
    X_val, y_val = stream.sample(2000)
    X_dirty, y_dirty, _ = corrupt_regression(X, y, 0.1, random_state=0)
    scores = {}
    for name, X_fit, y_fit in [("clean", X, y), ("dirty", X_dirty, y_dirty)]:
        model = make_pipeline(
            StandardScaler(),
            LearnedActivationRegressor(
                (128, 64), "relu", batch_size=64, max_iter=20, alpha=0.0,
                random_state=0,
            ),
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_fit, y_fit)
        y_pred = model.predict(X_val)
        scores[name] = (r2_score(y_val, y_pred), mean_squared_error(y_val, y_pred))
    return scores


def test_clean_infinite_regression_is_learnable(regression_fits):
    r2, _ = regression_fits["clean"]
    assert r2 >= 0.95


def test_corrupted_regression_raises_validation_mse(regression_fits):
    _, mse_clean = regression_fits["clean"]
    _, mse_dirty = regression_fits["dirty"]
    assert mse_dirty > 2 * mse_clean
