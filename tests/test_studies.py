"""Optuna studies that never mix, hang or lose data (issue 11, points 1-5).

Real processes, real files, a real tiny filesystem and a real PostgreSQL
server started by the tests (Debian's ``postgresql`` package; ``.ci/run``
installs it with ``psycopg2-binary``).
"""

import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

from sklearn_learnact import LearnedActivationClassifier
from sklearn_learnact.cli import main
from sklearn_learnact.compare import compare_activations
from sklearn_learnact.studies import (
    OVER_BUDGET_ATTR,
    StorageRecoveredWarning,
    StorageUnavailableError,
    StudyMismatchError,
    bind_study,
    open_storage,
    recover_journal,
    study_definition,
    tune_activation,
)
from sklearn_learnact.studies._tuning import _OptunaPruning

optuna = pytest.importorskip("optuna")

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
FAST = ["--max-iter", "3", "--hidden", "8", "--no-progress"]
TINY = {"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0}
FINISHED = ("COMPLETE", "PRUNED", "FAIL")


def _learnact(*argv, cwd, timeout=300) -> subprocess.CompletedProcess:
    """``python -m sklearn_learnact ARGV`` in a real process."""
    return subprocess.run(
        [sys.executable, "-m", "sklearn_learnact", *map(str, argv)],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _plain_storage(path):
    """The journal read by plain Optuna: it refuses a damaged file."""
    backend = optuna.storages.journal.JournalFileBackend(str(path))
    return optuna.storages.JournalStorage(backend)


def _studies(storage) -> dict[str, list]:
    """Every study's trials, by study name."""
    return {
        name: optuna.load_study(study_name=name, storage=storage).trials
        for name in optuna.get_all_study_names(storage)
    }


def _finished(trials) -> dict[int, float | None]:
    return {t.number: t.value for t in trials if t.state.name in FINISHED}


def _compare_argv(csv, out, *more) -> list[str]:
    """``learnact compare`` of one activation with Optuna on ``csv``."""
    options = "--target label --activations relu --search optuna".split()
    return ["compare", "--dataset", str(csv), *options, "--out", str(out), *FAST, *more]


# ------------------------------------------- 1. a study is bound to its definition
def test_reused_output_folder_never_reports_another_comparisons_scores(tmp_path):
    """The issue's case: Titanic with 3 folds, then synthetic data with 5 folds
    into the same folder; the second must be what a fresh folder gives."""
    titanic = ["--dataset", "titanic", "--cv", "3"]
    synthetic = ["--dataset", "synthetic", "--n-samples", "300", "--cv", "5"]
    common = ["compare", "--activations", "relu,tanh", "--search", "optuna"]
    common += ["--trials", "2", *FAST]
    reused, fresh = tmp_path / "reuse", tmp_path / "fresh"
    assert main([*common, *titanic, "--out", str(reused)]) == 0
    titanic_scores = pd.read_csv(reused / "results.csv")
    assert main([*common, *synthetic, "--out", str(reused)]) == 0
    assert main([*common, *synthetic, "--out", str(fresh)]) == 0
    got, want = (pd.read_csv(d / "results.csv") for d in (reused, fresh))
    assert (
        pd.read_csv(reused / "fold_scores.csv").groupby("activation").size().eq(5).all()
    )
    assert "**cv folds**: 5" in (reused / "report.md").read_text()
    columns = ["activation", "mean_score", "study", "n_trials_complete"]
    pd.testing.assert_frame_equal(got[columns], want[columns])
    assert not set(got["study"]) & set(titanic_scores["study"])
    # both comparisons keep their own studies in the one journal
    names = set(_studies(_plain_storage(reused / "optuna.journal")))
    assert names == set(got["study"]) | set(titanic_scores["study"])
    # the first command again resumes its studies: 2 trials kept, 1 more run
    before = _studies(_plain_storage(reused / "optuna.journal"))
    argv = [*common, *titanic, "--out", str(reused)]
    argv[argv.index("--trials") + 1] = "3"
    assert main(argv) == 0
    after = _studies(_plain_storage(reused / "optuna.journal"))
    for name in titanic_scores["study"]:
        kept = _finished(before[name])
        assert len(kept) == 2 and len(_finished(after[name])) == 3
        assert {n: _finished(after[name])[n] for n in kept} == kept


def test_a_named_study_stops_a_different_comparison_and_says_what_differs(
    tiny_classification, tmp_path
):
    X, y = tiny_classification
    run = {"search": "optuna", "n_trials": 2, "refit": False, "random_state": 0}
    storage = tmp_path / "s.journal"
    est = LearnedActivationClassifier(**TINY)
    compare_activations(
        est, X, y, "relu", cv=2, storage=storage, **run, study_name="exp"
    )
    with pytest.raises(StudyMismatchError) as exc:
        compare_activations(
            est.set_params(max_iter=4),
            X,
            y,
            "relu",
            cv=3,
            storage=storage,
            study_name="exp",
            **run,
        )
    message = str(exc.value)
    assert "'exp.relu'" in message and "different comparison" in message
    assert "splits: 2 folds of 60 training and 60 test rows" in message
    assert "-> 3 folds of 80 training and 40 test rows" in message
    assert "estimator: max_iter 3 -> 4" in message
    assert "--study-name" in message
    with pytest.raises(StudyMismatchError, match=r"data: 120 rows x 6 columns, sha"):
        compare_activations(
            est.set_params(max_iter=3),
            X[::-1],
            y[::-1],
            "relu",
            cv=2,
            storage=storage,
            study_name="exp",
            **run,
        )
    # the same comparison resumes it
    table = compare_activations(
        est,
        X,
        y,
        "relu",
        cv=2,
        storage=storage,
        study_name="exp",
        **{**run, "n_trials": 3},
    )
    assert table["study"].tolist() == ["exp.relu"]
    assert table["n_trials_complete"].iloc[0] + table["n_trials_pruned"].iloc[0] == 3


def test_the_cli_stops_a_different_comparison_with_one_line(csv, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(
            _compare_argv(csv, out, "--trials", "1", "--cv", "2", "--study-name", "exp")
        )
        == 0
    )
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(
            _compare_argv(csv, out, "--trials", "1", "--cv", "3", "--study-name", "exp")
        )
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("learnact compare: error: The Optuna study 'exp.relu'")
    assert "splits: 2 folds" in err and "-> 3 folds" in err


def test_the_same_command_gives_the_same_trials_in_another_process(csv, tmp_path):
    # issue 24: the sampler's seed mixed in the process id whenever a storage
    # was used (always, from the CLI): --random-state 0 twice gave other trials
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        argv = _compare_argv(csv, out, "--trials", "3", "--cv", "2")
        done = _learnact(*argv, "--random-state", "0", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        (trials,) = _studies(_plain_storage(out / "optuna.journal")).values()
        runs.append([(t.params, t.value, t.state.name) for t in trials])
        runs.append(pd.read_csv(out / "results.csv")["mean_score"].tolist())
    assert runs[0] == runs[2] and runs[1] == runs[3]
    assert len({json.dumps(p, sort_keys=True) for p, _, _ in runs[0]}) == 3


def test_a_study_without_a_definition_is_not_trusted(tiny_classification):
    X, y = tiny_classification
    splits = [(np.arange(60), np.arange(60, 120))]
    definition = study_definition(LearnedActivationClassifier(), X, y, splits)
    storage = optuna.storages.InMemoryStorage()
    legacy = optuna.create_study(storage=storage, study_name="learnact.relu")
    legacy.add_trial(optuna.trial.create_trial(value=0.9))  # an older version's
    with pytest.raises(StudyMismatchError, match="without a record of what it"):
        bind_study(storage, "learnact.relu", definition)
    empty = bind_study(storage, "other", definition)  # new: bound on creation
    assert empty.user_attrs["learnact_definition"] == definition
    with pytest.raises(StudyMismatchError, match="No study 'missing'"):
        bind_study(storage, "missing", definition, create=False)


def test_definition_covers_data_target_splits_estimator_space_and_scoring(
    tiny_classification,
):
    X, y = tiny_classification
    splits = [(np.arange(60), np.arange(60, 120))]
    est = LearnedActivationClassifier(**TINY)
    base = study_definition(est, X, y, splits)
    changed = {
        "data": study_definition(est, X + 1, y, splits),
        "target": study_definition(est, X, (y + 1) % 3, splits),
        "splits": study_definition(est, X, y, [(np.arange(1, 61), np.arange(61, 120))]),
        "estimator": study_definition(est.set_params(alpha=0.1), X, y, splits),
        "search space": study_definition(
            LearnedActivationClassifier(**TINY),
            X,
            y,
            splits,
            search_space=lambda trial, e: {"alpha": trial.suggest_float("a", 0, 1)},
        ),
        "scoring": study_definition(
            LearnedActivationClassifier(**TINY), X, y, splits, scorer=max
        ),
    }
    for key, other in changed.items():
        assert [k for k in base if base[k] != other[k]] == [key]
    # how a fit runs is not what it computes
    assert study_definition(est.set_params(alpha=1e-4, verbose=1), X, y, splits) == (
        base
    )
    frame = pd.DataFrame({"a": ["x", None, "y"], "b": [1.0, np.nan, 2.0]})
    assert study_definition(est, frame, y[:3], splits)["data"].startswith(
        "3 rows x 2 columns, sha256 "
    )


# ------------------------------------------------------- 2. a stale lock never hangs
def test_a_dangling_lock_left_by_a_killed_run_is_cleared(csv, tmp_path):
    """The issue's case, with a relative --out: the run must finish."""
    (tmp_path / "runs" / "x").mkdir(parents=True)
    os.symlink("/nonexistent", tmp_path / "runs/x/optuna.journal.lock")
    argv = _compare_argv(csv, "runs/x", "--trials", "2", "--cv", "2")
    run = _learnact(*argv, cwd=tmp_path, timeout=240)  # hung forever before
    assert run.returncode == 0, run.stderr
    assert re.search(
        r"^learnact compare: warning: Removed the stale lock \S+/runs/x/optuna"
        r"\.journal\.lock \(its link to '/nonexistent' dangles\)\. No finished "
        "trial is lost.$",
        run.stderr,
        re.MULTILINE,
    ), run.stderr
    assert not os.path.lexists(tmp_path / "runs/x/optuna.journal.lock")
    studies = _studies(_plain_storage(tmp_path / "runs/x/optuna.journal"))
    assert [len(_finished(t)) for t in studies.values()] == [2]


_HOLD_THE_LOCK = textwrap.dedent(
    """
    import sys, time
    from sklearn_learnact.studies._journal import JournalLock

    JournalLock(sys.argv[1]).acquire()
    print("holding", flush=True)
    time.sleep(600)
    """
)


def test_a_lock_held_by_a_killed_worker_is_cleared_at_once(tmp_path):
    path = tmp_path / "j.journal"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_THE_LOCK, str(path)],
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline() == "holding\n"
    holder.kill()  # SIGKILL inside the lock, as a crash mid-append
    holder.wait()
    assert os.path.islink(str(path) + ".lock")
    with pytest.warns(StorageRecoveredWarning, match="left by a run killed while"):
        open_storage(path)  # no 30 s grace period: its holder is known dead
    assert not os.path.lexists(str(path) + ".lock")


def test_an_old_lock_is_cleared_at_once_and_a_live_one_is_waited_for(tmp_path):
    from sklearn_learnact.studies._journal import JournalLock

    path = str(tmp_path / "j.journal")
    Path(path).touch()
    lock = JournalLock(path)
    os.symlink(path, lock.lock_path)  # plain Optuna's, left 31 s ago
    old = time.time() - 31
    os.utime(lock.lock_path, (old, old), follow_symlinks=False)
    with pytest.warns(StorageRecoveredWarning, match=r"31 s old"):
        open_storage(path)
    assert not os.path.lexists(lock.lock_path)

    # a live plain-Optuna holder: the waiter sleeps until it is released
    os.symlink(path, lock.lock_path)
    threading.Timer(1.0, lambda: os.unlink(lock.lock_path)).start()
    cpu = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a live lock is never cleared
        assert lock.acquire()
    cpu = time.process_time() - cpu
    lock.release()
    assert not os.path.lexists(lock.lock_path)
    assert cpu < 0.3, f"waiting for the lock used {cpu:.2f} s of CPU"


# ------------------------------------------- 3. a half-written record loses nothing
def _run(storage, n_trials: int, study_name: str = "t"):
    X, y = make_classification(120, 6, random_state=0)
    return compare_activations(
        LearnedActivationClassifier(**TINY),
        X,
        y,
        "relu",
        cv=2,
        search="optuna",
        n_trials=n_trials,
        storage=storage,
        study_name=study_name,
        random_state=0,
        refit=False,
    )


def test_truncated_journal_keeps_every_finished_trial(tmp_path):
    path = tmp_path / "optuna.journal"
    _run(path, 3)
    data = path.read_bytes()
    path.write_bytes(data[:-25])  # a kill or a full disk in the last append
    last = data[:-25].rsplit(b"\n", 1)[0] + b"\n"
    n_complete = last.count(b"\n")
    kept = _finished(_studies(_plain_storage(path))["t.relu"])
    assert len(kept) == 2  # the third trial's final record was cut
    with pytest.warns(
        StorageRecoveredWarning,
        match=rf"dropped 1 incomplete record \(\d+ bytes\).*kept {n_complete} "
        "complete records",
    ):
        _run(path, 4)
    _run(path, 5)  # rerun again: appending never damaged the file
    trials = _studies(_plain_storage(path))["t.relu"]  # plain Optuna reads it
    assert {n: _finished(trials)[n] for n in kept} == kept
    assert len(_finished(trials)) == 5


def test_journal_damaged_by_an_append_onto_a_partial_record_is_repaired(tmp_path):
    """What older versions did: append whole records onto the partial one."""
    path = tmp_path / "optuna.journal"
    _run(path, 2)
    path.write_bytes(path.read_bytes()[:-25])  # the 2nd trial's last record cut
    storage = _plain_storage(path)  # plain Optuna, as this library was before
    study_id = storage.get_study_id_from_name("t.relu")
    storage.set_study_user_attr(study_id, "next", 1)  # onto the partial record
    with pytest.raises(ValueError):  # from now on, every run refuses the file
        storage.set_study_user_attr(study_id, "again", 2)
    with pytest.raises(ValueError):
        _studies(_plain_storage(path))
    with pytest.warns(StorageRecoveredWarning, match="dropped 1 incomplete record"):
        n_records = recover_journal(path)
    assert Path(str(path) + ".damaged").is_file()
    assert n_records == path.read_bytes().count(b"\n")
    study = optuna.load_study(study_name="t.relu", storage=_plain_storage(path))
    assert study.user_attrs["next"] == 1 and study.user_attrs["again"] == 2
    # the second trial lost only its final record: it stays RUNNING
    assert [t.state.name for t in study.trials] == ["COMPLETE", "RUNNING"]
    assert recover_journal(path) == n_records  # an intact file is left alone


def test_a_storage_that_is_not_a_journal_is_refused_and_left_untouched(
    csv, tmp_path, capsys
):
    # issue 24: a user's CSV given as --storage was moved to NAME.damaged and
    # replaced by a journal, exit 0
    before, mtime = csv.read_bytes(), csv.stat().st_mtime_ns
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(
            _compare_argv(csv, out, "--trials", "1", "--cv", "2", "--storage", str(csv))
        )
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1, err
    assert "is not an Optuna journal" in err and str(csv) in err
    assert csv.read_bytes() == before and csv.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "out"]
    with pytest.raises(ValueError, match="is not an Optuna journal"):
        recover_journal(csv)
    assert csv.read_bytes() == before


def test_backups_of_damaged_journals_never_overwrite_each_other(tmp_path):
    path = tmp_path / "optuna.journal"
    good = b'{"op_code":0,"worker_id":"a"}\n'
    backups = []
    for damage in (b'{"op_code":4,"wor', b'{"op_', b'{"op_code":5'):
        path.write_bytes(good + damage + b"\n" + good)  # damaged in the middle
        with pytest.warns(StorageRecoveredWarning, match="kept as"):
            assert recover_journal(path) == 2
        backups.append(good + damage + b"\n" + good)
    kept = sorted(tmp_path.glob("optuna.journal.damaged*"))
    assert [p.read_bytes() for p in kept] == backups
    assert path.read_bytes() == good + good


def test_full_disk_during_a_study_keeps_finished_trials_and_resumes(
    csv, tmp_path, mount_namespace
):
    """A real 16 KiB tmpfs fills up mid-study; after it grows, the same command
    resumes with every finished trial."""
    disk = tmp_path / "disk"
    disk.mkdir()
    prefix = mount_namespace(disk)
    journal = disk / "optuna.journal"
    argv = _compare_argv(csv, tmp_path / "out", "--trials", "12", "--cv", "2")
    argv += ["--storage", str(journal)]
    command = " ".join([sys.executable, "-m", "sklearn_learnact", *argv])
    states = tmp_path / "states.py"  # prints the study's trial states
    states.write_text(
        "import json, sys, optuna\n"
        "s = optuna.storages.JournalStorage(\n"
        "    optuna.storages.journal.JournalFileBackend(sys.argv[1]))\n"
        "(name,) = optuna.get_all_study_names(s)\n"
        "study = optuna.load_study(study_name=name, storage=s)\n"
        "print(json.dumps([t.state.name for t in study.trials]))\n"
    )
    count = f"{sys.executable} {states} {journal}"
    script = textwrap.dedent(
        f"""
        mount -t tmpfs -o size=16k tmpfs {disk}
        {command} > {tmp_path}/full.out 2> {tmp_path}/full.err
        echo $? > {tmp_path}/full.status
        {count} > {tmp_path}/before.json
        mount -o remount,size=2m {disk}
        {command} > {tmp_path}/resumed.out 2> {tmp_path}/resumed.err
        echo $? > {tmp_path}/resumed.status
        {count} > {tmp_path}/after.json
        """
    )
    subprocess.run([*prefix, script], env=ENV, timeout=600, check=True)
    err = (tmp_path / "full.err").read_text()
    assert (tmp_path / "full.status").read_text().strip() == "2", err
    # (Optuna logs the trial that failed to record, with its traceback)
    assert err.splitlines()[-1].startswith(
        f"learnact compare: error: Cannot write the Optuna journal {journal}: No "
        "space left on device. The trials finished so far are kept"
    )
    before = json.loads((tmp_path / "before.json").read_text())
    after = json.loads((tmp_path / "after.json").read_text())
    assert (tmp_path / "resumed.status").read_text().strip() == "0", (
        tmp_path / "resumed.err"
    ).read_text()
    finished = [i for i, state in enumerate(before) if state in FINISHED]
    assert len(finished) >= 2 and len(before) < 12  # full mid-study...
    assert [after[i] for i in finished] == [before[i] for i in finished]  # kept
    assert sum(s in FINISHED for s in after) == 12


# ----------------------------------------------------- 4 and 5. several workers
def test_a_plain_postgresql_url_uses_the_installed_driver(postgres):
    # issue 24: SQLAlchemy 2 reads postgresql:// as psycopg 3, the [postgres]
    # extra installs psycopg2: "No module named 'psycopg'"
    url = postgres.new_database().replace("postgresql+psycopg2://", "postgresql://")
    storage = open_storage(url)
    optuna.create_study(study_name="plain", storage=storage).optimize(
        lambda trial: trial.suggest_float("x", 0, 1), n_trials=1
    )
    again = optuna.load_study(study_name="plain", storage=open_storage(url))
    assert again.trials[0].params


def _open_together(url: str, barrier, errors) -> None:
    barrier.wait()  # every worker opens the fresh database at the same moment
    try:
        open_storage(url).get_all_studies()
    except Exception as exc:
        errors.put(f"{type(exc).__name__}: {exc}")
        raise


def test_workers_started_together_on_a_fresh_database_all_open_it(postgres):
    ctx = multiprocessing.get_context("fork")  # real processes, started at once
    for _ in range(3):
        url, barrier, errors = postgres.new_database(), ctx.Barrier(4), ctx.Queue()
        workers = [
            ctx.Process(target=_open_together, args=(url, barrier, errors))
            for _ in range(4)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
        # before: IntegrityError ... duplicate key ... pg_type_typname_nsp_index
        assert errors.empty(), errors.get()
        assert [w.exitcode for w in workers] == [0] * 4


def _wait_for(predicate, timeout=240.0, what="it"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _stored(url) -> dict[str, list]:
    storage = optuna.storages.RDBStorage(url)
    try:
        return _studies(storage)
    finally:
        storage.engine.dispose()


def _n_finished(postgres, database_url) -> int:
    """Finished trials in a database, by SQL (creates nothing, unlike Optuna)."""
    import psycopg2

    connection = psycopg2.connect(
        host="127.0.0.1",
        port=postgres.port,
        user="postgres",
        dbname=database_url.rsplit("/", 1)[1],
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('trials') IS NOT NULL")
            if not cursor.fetchone()[0]:
                return 0
            cursor.execute(
                "SELECT count(*) FROM trials WHERE state IN "
                "('COMPLETE', 'PRUNED', 'FAIL')"
            )
            return cursor.fetchone()[0]
    finally:
        connection.close()


def _workers_together(argv, cwd, n: int = 2) -> list[str]:
    """Run ``learnact ARGV`` in ``n`` processes started together; their stderr."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "sklearn_learnact", *map(str, argv)],
            cwd=cwd,
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    errs = [w.communicate(timeout=300)[1] for w in workers]
    assert [w.returncode for w in workers] == [0] * n, errs
    return errs


def test_two_workers_on_a_fresh_database_share_the_study_and_report_it_all(
    postgres, csv, tmp_path
):
    url = postgres.new_database()
    argv = _compare_argv(csv, tmp_path / "out", "--trials", "4", "--cv", "2")
    _workers_together([*argv, "--storage", url], cwd=tmp_path)
    (trials,) = _stored(url).values()
    over = [t for t in trials if t.user_attrs.get(OVER_BUDGET_ATTR)]
    assert len(_finished(trials)) - len(over) == 4  # one budget for both
    assert len(over) <= 1  # a worker that started a trial too many stopped
    # the report left in the folder is read from the storage: every trial
    results = pd.read_csv(tmp_path / "out" / "results.csv")
    counts = results[["n_trials_complete", "n_trials_pruned", "n_trials_failed"]]
    counts = counts.sum(axis=1)
    assert counts.tolist() == [4]
    assert results["n_trials_running"].tolist() == [0]
    assert "0 still running" in (tmp_path / "out" / "report.md").read_text()


def test_a_database_restart_mid_run_does_not_crash_the_worker(postgres, csv, tmp_path):
    url = postgres.new_database()
    argv = _compare_argv(csv, tmp_path / "out", "--trials", "6", "--cv", "2")
    argv[argv.index("--max-iter") + 1] = "40"
    worker = subprocess.Popen(
        [sys.executable, "-m", "sklearn_learnact", *argv, "--storage", url],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: _n_finished(postgres, url) >= 1, what="a finished trial")
        postgres.pg_ctl("stop", "-m", "fast")  # drops every connection...
        time.sleep(2)  # ...and refuses new ones for a while
        postgres.pg_ctl("start")
        _, err = worker.communicate(timeout=300)
    finally:
        worker.kill()
    assert worker.returncode == 0, err
    assert "connection lost" in err and "retrying" in err
    (trials,) = _stored(url).values()
    assert len(_finished(trials)) == 6


def test_a_database_down_for_good_gives_up_with_a_clear_error(postgres):
    url = postgres.new_database()
    storage = open_storage(url, retry_timeout=2)
    study = optuna.create_study(storage=storage, study_name="down")
    postgres.pg_ctl("stop", "-m", "fast")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StorageRecoveredWarning)
            with pytest.raises(StorageUnavailableError) as exc:
                study.ask()
    finally:
        postgres.pg_ctl("start")
    message = str(exc.value)
    assert f"Lost the connection to the Optuna storage {url}" in message
    assert "could not reconnect in" in message and "finished trials are kept" in (
        message
    )
    assert isinstance(exc.value, OSError)  # the CLI prints it as one line
    # what waiting cannot cure is said at once
    with pytest.raises(ValueError, match='database "nosuchdb" does not exist'):
        open_storage(postgres.url("nosuchdb"))


_RUN_UNTIL_DOWN = textwrap.dedent(
    """
    import sys
    from sklearn.datasets import make_classification
    from sklearn_learnact import LearnedActivationClassifier
    from sklearn_learnact.compare import compare_activations
    from sklearn_learnact.studies import open_storage

    X, y = make_classification(120, 6, random_state=0)
    try:
        compare_activations(
            LearnedActivationClassifier((8,), max_iter=40, random_state=0), X, y,
            "relu", cv=2, search="optuna", n_trials=200, refit=False,
            storage=open_storage(sys.argv[1], retry_timeout=3),
        )
    except Exception as exc:
        print(type(exc).__name__, exc)
    """
)


def test_a_database_down_mid_study_ends_it_with_the_storage_error(postgres):
    url = postgres.new_database()
    worker = subprocess.Popen(
        [sys.executable, "-c", _RUN_UNTIL_DOWN, url],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        _wait_for(lambda: _n_finished(postgres, url) >= 1, what="a finished trial")
        postgres.pg_ctl("stop", "-m", "fast")
        out, _ = worker.communicate(timeout=120)
    finally:
        worker.kill()
        postgres.pg_ctl("start")
    # before: Optuna's own AssertionError or UnboundLocalError hid it
    assert out.startswith("StorageUnavailableError Lost the connection to the "), out
    assert "could not reconnect in" in out


def test_different_comparisons_in_one_database_never_mix(postgres, csv, tmp_path):
    url = postgres.new_database()
    for cv in ("2", "3"):
        argv = _compare_argv(csv, tmp_path / cv, "--trials", "1", "--cv", cv)
        assert main([*argv, "--storage", url]) == 0
    assert len(_stored(url)) == 2  # one study each, under the default name


# --------------------------------------------- 5. the report comes from the storage
def test_report_reads_the_storage_and_counts_running_trials(csv, tmp_path, capsys):
    out = tmp_path / "out"
    journal = out / "optuna.journal"
    argv = _compare_argv(csv, out, "--trials", "6", "--cv", "2")
    argv[argv.index("--max-iter") + 1] = "40"
    worker = subprocess.Popen(
        [sys.executable, "-m", "sklearn_learnact", *argv],
        cwd=tmp_path,
        env=ENV,
        stderr=subprocess.DEVNULL,
    )
    running = False

    def two_finished_one_running() -> bool:
        nonlocal running
        if not journal.exists() or worker.poll() is not None:
            return worker.poll() is not None
        trials = next(iter(_studies(_plain_storage(journal)).values()), [])
        # killed mid-trial: after the trial recorded its worker (a kill before
        # that leaves a trial that counts as running for a grace period)
        last = trials[-1] if trials else None
        running = (
            len(_finished(trials)) >= 2
            and last.state.name == "RUNNING"
            and "worker" in last.user_attrs
        )
        return running

    _wait_for(two_finished_one_running, what="two finished trials")
    worker.send_signal(signal.SIGKILL)  # a worker killed mid-trial
    worker.wait()
    assert running, "the worker finished before it could be killed"
    assert not (out / "results.csv").exists()
    snapshot = tmp_path / "snapshot.journal"
    shutil.copy(journal, snapshot)

    assert main(["report", str(out)]) == 0
    results = pd.read_csv(out / "results.csv")
    trials = next(iter(_studies(_plain_storage(journal)).values()))
    assert results["n_trials_running"].tolist() == [1]
    assert results["n_trials_complete"].iloc[0] + results["n_trials_pruned"].iloc[
        0
    ] == len(_finished(trials))
    report = (out / "report.md").read_text()
    assert "1 still running when this report was written" in report
    assert "learnact report" in report

    # another worker finishes the study; the report follows the storage
    assert main(argv) == 0
    assert main(["report", str(out)]) == 0
    results = pd.read_csv(out / "results.csv")
    assert (
        results["n_trials_complete"].iloc[0] + results["n_trials_pruned"].iloc[0] == 6
    )
    # a worker that saw fewer finished trials never overwrites it
    capsys.readouterr()
    assert main(["report", str(out), "--storage", str(snapshot)]) == 0
    assert "Kept the report" in capsys.readouterr().out
    assert pd.read_csv(out / "results.csv").equals(results)


def test_report_needs_a_recorded_optuna_comparison(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", str(tmp_path)])
    assert exc.value.code == 2
    assert "No run.json in" in capsys.readouterr().err


def test_two_workers_in_one_folder_leave_the_complete_report(csv, tmp_path):
    argv = _compare_argv(csv, "out", "--trials", "4", "--cv", "2")
    argv[argv.index("--activations") + 1] = "relu,tanh"
    _workers_together(argv, cwd=tmp_path)
    studies = _studies(_plain_storage(tmp_path / "out" / "optuna.journal"))
    results = pd.read_csv(tmp_path / "out" / "results.csv").set_index("study")
    for name, trials in studies.items():
        complete = [t for t in trials if t.state.name == "COMPLETE"]
        row = results.loc[name]
        assert row["n_trials_complete"] == len(complete)
        assert row["n_trials_running"] == 0
        assert row["mean_score"] == pytest.approx(max(t.value for t in complete))


def test_pruning_stops_training_at_the_first_epoch(tiny_classification):
    class _AlwaysPrune(optuna.pruners.BasePruner):
        def prune(self, study, trial):
            return True

    X, y = tiny_classification
    est = LearnedActivationClassifier(**TINY)
    assert est.fit(X, y, callbacks=[]).n_iter_ == 3  # the hook alone changes nothing
    study = optuna.create_study(direction="maximize", pruner=_AlwaysPrune())
    trial = study.ask()
    pruned = LearnedActivationClassifier(**TINY, early_stopping=True)
    with pytest.raises(optuna.TrialPruned):
        pruned.fit(X, y, callbacks=[("pruning", _OptunaPruning(trial, 0))])
    assert list(trial.storage.get_trial(trial._trial_id).intermediate_values) == [0]
    # a study without a completed trial is reported as failed, not raised
    summary = tune_activation(
        LearnedActivationClassifier(**TINY),
        X,
        y,
        "relu",
        splits=[(np.arange(60), np.arange(60, 120))],
        scorer=lambda est, X, y: est.score(X, y),
        n_trials=2,
        pruner=_AlwaysPrune(),
    )
    assert summary["n_trials_pruned"] == 2
    (fold,) = summary["folds"]
    assert np.isnan(fold["score"]) and "no trial completed (2 pruned" in fold["error"]
