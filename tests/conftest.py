"""Shared fixtures: seeded RNGs, tiny float32 data, real data (the small fixtures
in ``tests/data`` and the full image sets named by ``SKLEARN_LEARNACT_DATA``), a
throwaway PostgreSQL server."""

import os

# sklearn's array-API estimator check skips itself unless this is set before
# scipy is imported: set it so that the check runs instead of being skipped.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
# The fused (compiled) activation kernels cost seconds to compile the first
# time on a machine: the suite runs the eager path, and tests/test_fused.py
# (plus the compression tests that ask for it) the fused one, which must agree.
# SKLEARN_LEARNACT_FUSED=1 runs the whole suite fused.
os.environ.setdefault("SKLEARN_LEARNACT_FUSED", "0")

import functools  # noqa: E402
import glob  # noqa: E402
import http.server  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

#: A user's module of activations: imported only through the ``plugins``
#: fixture, so that its registrations do not leak into the other tests.
collect_ignore = ["plugin_activations.py"]
#: The activations tests/plugin_activations.py registers.
PLUGIN_NAMES = ("scaled_tanh", "bent_identity")

#: Small real files the tests need on a fresh clone (see tests/data/README.md).
TEST_DATA = Path(__file__).resolve().parent / "data"
#: Why a test that needs the full image sets is skipped without them.
NO_IMAGE_DATA = (
    "needs the reference image sets: set SKLEARN_LEARNACT_DATA to their folder, "
    "as CI does with ../shared/data (docs/install.rst, 'Running the tests')"
)


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture
def formulas_through_their_backward(monkeypatch):
    """Every formula trains through its hand-written backward (the autograd
    Function, fused or not), whatever the input's size: without it, small
    inputs of the formulas of a few ops (affine, swish) go through autograd."""
    from sklearn_learnact.activations import ACTIVATIONS

    for spec in ACTIVATIONS.values():
        if spec.formula is not None:
            monkeypatch.setattr(spec.formula, "autograd_below", 0)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The full image sets: the folder named by ``SKLEARN_LEARNACT_DATA``.

    Unset, the test is skipped, saying how to provide them (``.ci/run`` sets it
    to ``../shared/data``, so CI runs every such test); set to a folder that
    does not exist, it is an error, never a skip.
    """
    folder = os.environ.get("SKLEARN_LEARNACT_DATA")
    if not folder:
        pytest.skip(NO_IMAGE_DATA)
    path = Path(folder).expanduser().resolve()
    if not path.is_dir():
        raise FileNotFoundError(
            f"SKLEARN_LEARNACT_DATA={folder} is not a folder: point it at the "
            "reference image data, or unset it to skip the tests that need them."
        )
    return path


@pytest.fixture(scope="session")
def mnist_test_home() -> Path:
    """A data folder holding only MNIST's test split (``tests/data/mnist``)."""
    return TEST_DATA


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no line per request on stderr
        pass


@pytest.fixture
def http_mirror(monkeypatch):
    """``serve(folder)``: serve ``folder`` over HTTP on 127.0.0.1 from a thread
    (python's http.server), as a download mirror; returns its base URL."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    servers = []

    def serve(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


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


@pytest.fixture(scope="session")
def mnist(shared_data):
    """MNIST from the shared folder: X float32 in [0, 1], flattened; y int64."""
    from sklearn_learnact.datasets import load_mnist

    X_train, y_train = load_mnist(shared_data, split="train", return_X_y=True)
    X_test, y_test = load_mnist(shared_data, split="test", return_X_y=True)
    return X_train, y_train, X_test, y_test


@pytest.fixture
def mount_namespace():
    """``prefix(folder)``: ``unshare ... sh -c``, a shell in a private mount
    namespace where ``folder`` can be mounted (e.g. a tiny tmpfs, seen by nothing
    outside the command). Works as root, or where user namespaces are allowed;
    elsewhere the test is skipped, saying why."""

    def prefix(folder) -> list[str]:
        unshare = shutil.which("unshare")
        if unshare is None:
            pytest.skip("needs util-linux's unshare to mount a tiny tmpfs")
        shell = [unshare, "--mount", "--map-root-user", "sh", "-c"]
        probe = subprocess.run(
            [*shell, f"mount -t tmpfs -o size=4k tmpfs {folder}"],
            capture_output=True,
        )
        if probe.returncode != 0:
            pytest.skip(
                "cannot mount a tmpfs in a private namespace here (no root, no "
                f"user namespaces): {probe.stderr.decode().strip()}"
            )
        return shell

    return prefix


# A real PostgreSQL server (Debian's ``postgresql`` package; ``.ci/run``
# installs it with ``psycopg2-binary``) for the tests of workers sharing a study.
def _pg_bindir() -> str | None:
    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(os.path.realpath(found))
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(candidates[-1]) if candidates else None


class _Postgres:
    """A throwaway PostgreSQL cluster in a temporary folder, on a free port."""

    def __init__(self, bindir: str, folder: str, user: str | None):
        self.bindir, self.folder, self.user = bindir, folder, user
        self.data = os.path.join(folder, "data")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._n_databases = 0

    def _run(self, tool: str, *args) -> None:
        subprocess.run(
            [os.path.join(self.bindir, tool), *args],
            user=self.user,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def pg_ctl(self, *args) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        options += " -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            self.data,
            "-o",
            options,
            "-w",
            "-l",
            os.path.join(self.folder, "log"),
            *args,
        )

    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg2

        self._n_databases += 1
        name = f"learnact{self._n_databases}"
        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres"
        )
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        connection.close()
        return self.url(name)


@pytest.fixture(scope="module")
def postgres():
    pytest.importorskip("psycopg2", reason="pip install psycopg2-binary")
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip(
            "no PostgreSQL server here (initdb, pg_ctl): apt-get install postgresql"
        )
    folder = tempfile.mkdtemp(prefix="learnact-pg-")
    user = None
    if os.geteuid() == 0:  # the server refuses to run as root
        import pwd

        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user")
        os.chown(folder, account.pw_uid, account.pw_gid)
        user = "postgres"
    server = _Postgres(bindir, folder, user)
    server._run(
        "initdb", "-D", server.data, "--auth=trust", "-U", "postgres", "--no-sync"
    )
    server.pg_ctl("start")
    try:
        yield server
    finally:
        server.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def plugins():
    """The user's module of activations, imported (registering them), then removed."""
    import importlib
    import sys

    from sklearn_learnact.activations import ACTIVATIONS, unregister_activation

    sys.modules.pop("plugin_activations", None)
    yield importlib.import_module("plugin_activations")
    for name in PLUGIN_NAMES:
        if name in ACTIVATIONS:
            unregister_activation(name)
    sys.modules.pop("plugin_activations", None)


@pytest.fixture
def csv(tmp_path) -> Path:
    """A CSV file of 90 rows: three numeric columns and a yes/no ``label``."""
    import pandas as pd

    path = tmp_path / "data.csv"
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.normal(size=(90, 3)), columns=["x1", "x2", "x3"])
    frame["label"] = np.where(frame["x1"] + frame["x2"] > 0, "yes", "no")
    frame.to_csv(path, index=False)
    return path
