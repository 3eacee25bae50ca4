"""Scaling out (issue 25): comparisons, grid searches and the surrogate search
on a real Dask cluster of worker processes, and worker processes in their own
folders (machines) sharing one PostgreSQL study.

One ``distributed.LocalCluster`` of two worker processes (one thread each)
serves the module. Its workers run the fused kernels, as users' do (the rest
of the suite runs the eager path); the serial references run them too, on
one thread as the workers do, so that both compute the same floats.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_learnact import LearnedActivationClassifier
from sklearn_learnact.activations import compiled_kernels, fused_kernels
from sklearn_learnact.cli import main
from sklearn_learnact.compare import compare_activations

distributed = pytest.importorskip("distributed")


ROOT = Path(__file__).resolve().parents[1]
TINY = {"hidden_layer_sizes": (8,), "max_iter": 4, "random_state": 0}
FINISHED = ("n_trials_complete", "n_trials_pruned", "n_trials_failed")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def client():
    """A client of a cluster of two worker processes, one thread each, whose
    scheduler drops the extra copies of data every 0.1 s (not 2 s)."""
    import dask

    amm = {"distributed.scheduler.active-memory-manager.interval": "100ms"}
    with dask.config.set(amm):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"SKLEARN_LEARNACT_FUSED": "1"},  # restarted workers too
        )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@contextlib.contextmanager
def serial():
    """Compute as a worker does: the fused kernels, on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with fused_kernels(True):
            yield
    finally:
        torch.set_num_threads(threads)


def _compare(X, y, activations, **kwargs):
    kwargs = {"cv": 3, "random_state": 0, "return_details": True, **kwargs}
    return compare_activations(
        LearnedActivationClassifier(**TINY), X, y, activations, **kwargs
    )


def _times(frame) -> list[str]:
    """The columns that are measured, not computed."""
    return [c for c in frame.columns if c.endswith("_time")]


def _assert_same(serial_run, dask_run):
    """The same table (but the measured times) and the same fold scores."""
    (table, details), (dask_table, dask_details) = serial_run, dask_run
    pd.testing.assert_frame_equal(
        table.drop(columns=_times(table)),
        dask_table.drop(columns=_times(table)),
        check_exact=True,
    )
    folds, dask_folds = details.fold_scores, dask_details.fold_scores
    pd.testing.assert_frame_equal(
        folds.drop(columns=_times(folds)),
        dask_folds.drop(columns=_times(folds)),
        check_exact=True,
    )


# --------------------------------------------------------------- 1. on Dask
@pytest.mark.parametrize(
    "search",
    [
        {"param_grid": {"learning_rate_init": [0.01, 0.05]}},
        {"search": "optuna", "n_trials": 3},
    ],
    ids=["grid", "optuna"],
)
def test_a_comparison_on_dask_equals_the_serial_one(
    client, tiny_classification, search
):
    X, y = tiny_classification
    activations = ["relu", "rational", "mixture"]
    with serial():
        expected = _compare(X, y, activations, **search)
    with joblib.parallel_config(backend="dask"):
        got = _compare(X, y, activations, **search)
    _assert_same(expected, got)
    assert got[0]["n_failed_folds"].sum() == 0


def _kill_the_last_holder(client, pids: dict, killed: list) -> None:
    """Kill (SIGKILL) a worker in the middle of a fit while it holds the only
    copy of some of the data (the folds' indices, X, y) that fits still need."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        busy = {w for w, keys in client.processing().items() if keys}
        only = [
            holders[0]
            for key, holders in client.who_has().items()
            if key.startswith("_same-") and len(holders) == 1
        ]
        held = [w for w in only if w in busy and w in pids]
        if held:
            os.kill(pids[held[0]], signal.SIGKILL)
            killed.append(held[0])
            return
        time.sleep(0.01)


def test_a_worker_killed_mid_comparison_loses_nothing(client, tiny_classification):
    """Dask runs the killed worker's fits again elsewhere, and recomputes the
    data it held: the table is complete and identical. (With joblib's own
    scattering, losing the last copy of scattered data failed the comparison
    with FutureCancelledError: Dask cannot recompute it.)"""
    X, y = tiny_classification
    X, y = np.tile(X, (3, 1)), np.tile(y, 3)  # fits long enough to be killed
    activations = ["relu", "tanh", "rational"]
    run = {"cv": 4, "refit": False}
    with serial():
        expected = _compare(X, y, activations, **run)
    client.wait_for_workers(2)
    pids = client.run(os.getpid)
    killed: list = []
    killer = threading.Thread(target=_kill_the_last_holder, args=(client, pids, killed))
    killer.start()
    with joblib.parallel_config(backend="dask"):
        got = _compare(X, y, activations, **run)
    killer.join()
    assert killed, "no worker was killed midway"
    _assert_same(expected, got)
    assert got[0]["n_fits"].tolist() == [4, 4, 4]
    assert got[0]["n_failed_folds"].sum() == 0
    client.wait_for_workers(2)  # the nanny started a new process in its place
    assert pids[killed[0]] not in client.run(os.getpid).values()


def test_grid_search_cv_on_dask_equals_the_serial_one(client, tiny_classification):
    X, y = tiny_classification
    grid = {"activation": ["relu", "rational"], "learning_rate_init": [0.01, 0.05]}

    def search():
        return GridSearchCV(LearnedActivationClassifier(**TINY), grid, cv=3).fit(X, y)

    with serial():
        expected = search()
    with joblib.parallel_config(backend="dask"):
        got = search()
    for k in range(3):
        key = f"split{k}_test_score"
        np.testing.assert_array_equal(expected.cv_results_[key], got.cv_results_[key])
    assert got.best_params_ == expected.best_params_


def test_the_surrogate_searchs_evaluations_on_dask_equal_the_serial_ones(
    client, tiny_classification
):
    pytest.importorskip("umap")
    from sklearn_learnact.surrogate import SurrogateActivationSearch, build_space

    X, y = tiny_classification
    space = build_space(("unary(x)",), ("relu", "tanh", "sin", "abs"), ("add",))

    def search():
        return SurrogateActivationSearch(
            LearnedActivationClassifier(**TINY),
            n_iter=10,
            cv=2,
            space=space,
            features="outputs",
            refit=False,
            random_state=0,
        ).fit(X, y)

    with serial():
        expected = search()
    with joblib.parallel_config(backend="dask"):
        got = search()
    pd.testing.assert_frame_equal(
        expected.results_.drop(columns="fit_time"),
        got.results_.drop(columns="fit_time"),
        check_exact=True,
    )
    pd.testing.assert_frame_equal(
        expected.fold_scores_, got.fold_scores_, check_exact=True
    )


def test_workers_build_each_kernel_once_however_many_fits(client, tiny_classification):
    """The estimators travel to the workers pickled; the fused kernels do not
    travel with them: each worker process compiles (or loads from the disk
    cache that all workers share) each kernel variant once, the first fit that
    needs it, and every later fit there reuses it."""
    X, y = tiny_classification
    with serial():  # the kernels in the disk cache before the workers need them
        LearnedActivationClassifier(**TINY, activation="rational").fit(X, y)
    with joblib.parallel_config(backend="dask"):
        table = _compare(X, y, ["rational", "mixture"], cv=5)[0]
    n_fits = int(table["n_fits"].sum()) + len(table)  # the folds, the refits
    assert n_fits > 2 * len(client.scheduler_info()["workers"])
    for worker, records in client.run(compiled_kernels).items():
        variants = [
            (r["kernel"], repr(r["variant"]), r["dtype"], r["device"], r["shape"])
            for r in records
        ]
        assert variants, f"{worker} ran no fused kernel"
        assert len(variants) == len(set(variants)), records  # never built twice
        rational = [r for r in records if r["kernel"] == "rational_forward"]
        assert [r["how"] for r in rational] == ["loaded"]  # the shared disk cache


def test_learnact_compare_on_dask_writes_the_serial_results(client, tmp_path, csv):
    argv = ["compare", "--dataset", str(csv), "--target", "label"]
    argv += ["--activations", "relu,rational", "--cv", "3"]
    argv += ["--max-iter", "3", "--hidden", "8", "--no-progress"]
    with serial():
        assert main([*argv, "--out", str(tmp_path / "serial")]) == 0
    address = client.scheduler.address
    assert main([*argv, "--out", str(tmp_path / "dask"), "--dask", address]) == 0
    expected = pd.read_csv(tmp_path / "serial" / "results.csv")
    got = pd.read_csv(tmp_path / "dask" / "results.csv")
    pd.testing.assert_frame_equal(
        expected.drop(columns=_times(expected)),
        got.drop(columns=_times(expected)),
        check_exact=True,
    )
    with pytest.raises(SystemExit):  # --n-jobs would be silently ignored
        main([*argv, "--out", str(tmp_path / "x"), "--dask", address, "--n-jobs", "2"])


def test_learnact_search_on_dask_writes_the_serial_results(client, tmp_path, csv):
    pytest.importorskip("umap")
    argv = ["search", "--dataset", str(csv), "--target", "label", "--budget", "9"]
    argv += ["--schemas", "unary(x)", "--unary", "relu,tanh,sin", "--binary", "add"]
    argv += ["--cv", "2", "--max-iter", "3", "--hidden", "8", "--top", "1"]
    argv += ["--no-progress"]
    with serial():
        assert main([*argv, "--out", str(tmp_path / "serial")]) == 0
    address = client.scheduler.address
    with distributed.get_task_stream(client) as stream:
        assert main([*argv, "--out", str(tmp_path / "dask"), "--dask", address]) == 0
    assert any("_fold_score" in task["key"] for task in stream.data)
    for name in ("results.csv", "retest.csv"):
        expected = pd.read_csv(tmp_path / "serial" / name)
        got = pd.read_csv(tmp_path / "dask" / name)
        pd.testing.assert_frame_equal(
            expected.drop(columns=_times(expected)),
            got.drop(columns=_times(expected)),
            check_exact=True,
        )


# ------------------------------------ 2. machines sharing a PostgreSQL study
#: ``learnact ARGV`` once ``n`` such processes have imported the library: so
#: that they start together, however long each takes to import.
_MACHINE = """
import os, sys, time
from pathlib import Path

import optuna  # noqa: F401 - imported now, not by the first trial
from sklearn_learnact.cli import main

if sys.argv[3] == "search":
    import umap  # noqa: F401
ready, n = Path(sys.argv[1]), int(sys.argv[2])
(ready / str(os.getpid())).touch()
while len(list(ready.iterdir())) < n:
    time.sleep(0.005)
sys.exit(main(sys.argv[3:]))
"""


def _machines(argv, folder: Path, n: int = 3) -> list[Path]:
    """``learnact ARGV`` in ``n`` processes started together, each in a folder
    of its own (standing in for a machine); the folders."""
    folders = [folder / f"machine{i}" for i in range(n)]
    ready = folder / "ready"
    ready.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = []
    for cwd in folders:
        cwd.mkdir(parents=True)
        workers.append(
            subprocess.Popen(
                [sys.executable, "-c", _MACHINE, ready, str(n), *map(str, argv)],
                cwd=cwd,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    errs = [w.communicate(timeout=400)[1] for w in workers]
    assert [w.returncode for w in workers] == [0] * n, errs
    return folders


def _trials(url) -> dict[str, list]:
    """Every study's trials in the database, by study name."""
    optuna = pytest.importorskip("optuna")
    storage = optuna.storages.RDBStorage(url)
    try:
        return {
            name: optuna.load_study(study_name=name, storage=storage).trials
            for name in optuna.get_all_study_names(storage)
        }
    finally:
        storage.engine.dispose()


def test_three_machines_on_one_postgres_study_report_as_one_worker(
    postgres, csv, tmp_path
):
    from sklearn_learnact.studies import OVER_BUDGET_ATTR

    argv = ["compare", "--dataset", csv, "--target", "label", "--no-progress"]
    argv += ["--activations", "relu,tanh", "--search", "optuna", "--trials", "4"]
    argv += ["--cv", "2", "--max-iter", "3", "--hidden", "8"]
    url = postgres.new_database()
    machines = _machines([*argv, "--storage", url, "--out", "out"], tmp_path)
    assert main(["report", str(machines[0] / "out")]) == 0  # once all are done
    report = pd.read_csv(machines[0] / "out" / "results.csv").set_index("study")

    # every trial in the database is counted once, by its own state
    stored = _trials(url)
    assert sorted(stored) == sorted(report.index)
    for name, trials in stored.items():
        counted = [t for t in trials if not t.user_attrs.get(OVER_BUDGET_ATTR)]
        states = pd.Series([t.state.name for t in counted]).value_counts()
        row = report.loc[name]
        assert row["n_trials_complete"] == states.get("COMPLETE", 0)
        assert row["n_trials_pruned"] == states.get("PRUNED", 0)
        assert row["n_trials_failed"] == states.get("FAIL", 0)
        assert row["n_trials_running"] == 0 and "RUNNING" not in states
    processes = {
        t.user_attrs["worker"].rsplit(":", 1)[0]  # host:pid
        for trials in stored.values()
        for t in trials
    }
    assert len(processes) > 1  # the machines shared the studies

    # the same activations and trial counts as one worker alone
    single = tmp_path / "single"
    one = [*argv, "--storage", postgres.new_database(), "--out", single]
    assert main(list(map(str, one))) == 0
    alone = pd.read_csv(single / "results.csv").set_index("study")
    assert sorted(alone.index) == sorted(report.index)  # the same studies
    for frame in (report, alone):
        assert frame[list(FINISHED)].sum(axis=1).tolist() == [4, 4]
    text = (machines[0] / "out" / "report.md").read_text()
    assert "8 finished over 2 studies" in text and "0 still running" in text


def test_three_machines_share_one_surrogate_search(postgres, csv, tmp_path):
    pytest.importorskip("umap")
    from sklearn_learnact.surrogate import build_space

    unary = ("relu", "tanh", "sin", "abs", "square")
    budget = len(build_space(("unary(x)",), unary, ("add",)))  # every candidate
    argv = ["search", "--dataset", csv, "--target", "label", "--no-progress"]
    argv += ["--schemas", "unary(x)", "--unary", ",".join(unary), "--binary", "add"]
    argv += ["--cv", "2", "--max-iter", "3", "--hidden", "8", "--top", "1"]
    url = postgres.new_database()
    # one worker first stores the embedding (a UMAP fit: its JIT compilation
    # costs each new process a minute), which the others then read
    first = [*argv, "--budget", "1", "--storage", url, "--out", tmp_path / "first"]
    assert main(list(map(str, first))) == 0
    shared = [*argv, "--budget", budget, "--storage", url, "--out", "out"]
    machines = _machines(shared, tmp_path)
    final = [*shared[:-1], machines[0] / "out"]  # once all are done: no new fit
    assert main(list(map(str, final))) == 0
    results = pd.read_csv(machines[0] / "out" / "results.csv")

    ((name, trials),) = _trials(url).items()
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    candidates = [t.params["candidate"] for t in complete]
    assert len(candidates) == len(set(candidates)) == budget  # each once
    # the others hold no evaluation: a duplicate pick that yielded, or a pick
    # that found every candidate taken (failed by the next worker to start)
    assert not any("fold_scores" in t.user_attrs for t in trials if t not in complete)
    machines = {t.user_attrs["worker"] for t in complete[1:]}  # after the first
    assert len(machines) > 1  # the machines shared the search

    single = [*argv, "--budget", budget, "--storage", postgres.new_database()]
    assert main(list(map(str, [*single, "--out", tmp_path / "single"]))) == 0
    alone = pd.read_csv(tmp_path / "single" / "results.csv")
    assert len(results) == len(alone) == budget
    by_expression = ["expression", "cv_score", "std_score", "n_diverged"]
    pd.testing.assert_frame_equal(
        results[by_expression].sort_values("expression", ignore_index=True),
        alone[by_expression].sort_values("expression", ignore_index=True),
        check_exact=True,
    )


def test_a_search_beside_a_study_another_worker_just_created_warns(
    tmp_path, tiny_classification
):
    """A study with no trial yet has no start date: beside one that has, the
    new search's warning about other studies compared None with a date."""
    optuna = pytest.importorskip("optuna")
    pytest.importorskip("umap")
    from sklearn_learnact.studies import open_storage
    from sklearn_learnact.surrogate import SurrogateActivationSearch, build_space

    storage = open_storage(tmp_path / "search.journal")
    older = optuna.create_study(study_name="learnact-surrogate.old", storage=storage)
    older.add_trial(optuna.trial.create_trial(value=0.5))
    optuna.create_study(study_name="learnact-surrogate.new", storage=storage)
    starts = [s.datetime_start for s in optuna.get_all_study_summaries(storage)]
    assert None in starts and any(starts)
    X, y = tiny_classification
    search = SurrogateActivationSearch(
        LearnedActivationClassifier(**TINY),
        n_iter=1,
        cv=2,
        space=build_space(("unary(x)",), ("relu", "tanh", "sin", "abs"), ("add",)),
        features="outputs",
        storage=storage,
        refit=False,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="holds 2 other surrogate search"):
        search.fit(X, y)
