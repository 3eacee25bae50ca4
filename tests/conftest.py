"""Shared fixtures: seeded RNGs, tiny float32 data, the shared real-data folder."""

import os

# sklearn's array-API estimator check skips itself unless this is set before
# scipy is imported: set it so that the check runs instead of being skipped.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

#: ``../shared/data`` beside the checkout: real datasets for tests and benchmarks.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def pytest_configure(config):
    # Point the library's data folder at the shared copies, unless the user chose one.
    if SHARED_DATA.is_dir():
        os.environ.setdefault("SKLEARN_LEARNACT_DATA", str(SHARED_DATA))


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real-data folder; a missing folder is an error, never a skip."""
    if not SHARED_DATA.is_dir():
        raise FileNotFoundError(
            f"{SHARED_DATA} not found: the tests need the shared data folder beside "
            "the checkout (../shared/data)."
        )
    return SHARED_DATA


@pytest.fixture(scope="module")
def tiny_classification():
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=120, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def tiny_regression():
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=120, n_features=5, noise=0.1, random_state=0)
    return X.astype(np.float32), (y / y.std()).astype(np.float32)


def _read_idx(path: Path) -> np.ndarray:
    """An IDX file (MNIST's format), gzipped, as a numpy array."""
    import gzip

    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(
        int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


@pytest.fixture(scope="session")
def mnist(shared_data):
    """MNIST read with numpy: X float32 in [0, 1], flattened; y int64."""
    folder = shared_data / "mnist"

    def split(prefix):
        X = _read_idx(folder / f"{prefix}-images-idx3-ubyte.gz")
        y = _read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz")
        return (X.reshape(len(X), -1) / np.float32(255)).astype(np.float32), y.astype(
            np.int64
        )

    X_train, y_train = split("train")
    X_test, y_test = split("t10k")
    return X_train, y_train, X_test, y_test
