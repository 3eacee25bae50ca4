"""Grids, compare_activations, the paired test and Optuna studies."""

import multiprocessing
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklearn_learnact import LearnedActivationClassifier, LearnedActivationRegressor
from sklearn_learnact.activations import ACTIVATIONS, available_activations
from sklearn_learnact.datasets import load_titanic, make_titanic_preprocessor
from sklearn_learnact.search import (
    activation_grid,
    compare_activations,
    corrected_ttest,
    parse_activations,
)
from sklearn_learnact.search.optuna import _OptunaPruning, tune_activation

optuna = pytest.importorskip("optuna")

ROOT = Path(__file__).resolve().parents[1]
TINY = {"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0}


# ------------------------------------------------------------------ grids
def test_activation_grid_comes_from_the_registry():
    names = activation_grid()["activation"]
    assert names == [n for n in available_activations() if n != "identity"]
    grid = activation_grid("learnable", include_params=True, prefix="m__")
    assert [g["m__activation"][0] for g in grid] == list(
        available_activations("learnable")
    )
    for g in grid:
        per_neuron = ACTIVATIONS[g["m__activation"][0]].per_neuron
        assert ({"per_neuron": True} in g["m__activation_params"]) == per_neuron


def test_parse_activations_expands_groups_and_rejects_unknown_names():
    assert parse_activations("relu,learnable")[:2] == ("relu", "affine")
    assert parse_activations(["tanh", "tanh"]) == ("tanh",)
    with pytest.raises(ValueError, match="Unknown activation 'relu6'.*mixture"):
        parse_activations("relu,relu6")
    with pytest.raises(ValueError, match="No activation"):
        parse_activations(" , ")


def test_gridsearchcv_works_as_is_in_parallel(tiny_classification):
    X, y = tiny_classification
    grid = [
        {"activation": ["relu"]},
        {"activation": ["mixture"], "activation_params": [None, {"per_neuron": True}]},
    ]
    search = GridSearchCV(
        LearnedActivationClassifier(**TINY), grid, cv=2, n_jobs=2, error_score="raise"
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 3
    assert search.best_estimator_.activation in ("relu", "mixture")


# ------------------------------------------------------------ paired test
def test_corrected_ttest_reduces_to_the_paired_ttest_without_overlap():
    rng = np.random.RandomState(0)
    a, b = rng.normal(0.8, 0.02, 10), rng.normal(0.79, 0.02, 10)
    _, p = corrected_ttest(a, b, n_train=1, n_test=0)
    assert p == pytest.approx(stats.ttest_rel(a, b).pvalue)
    # the correction widens the test: overlapping training sets
    assert corrected_ttest(a, b, 900, 100)[1] > p
    assert corrected_ttest([1, 1], [1, 1], 9, 1) == (0.0, 1.0)
    assert corrected_ttest([1, 1], [0, 0], 9, 1) == (np.inf, 0.0)


# ---------------------------------------------------------- compare, grid
def test_compare_grid_table_is_paired_and_complete(tiny_classification):
    X, y = tiny_classification
    table, details = compare_activations(
        LearnedActivationClassifier(**TINY),
        X,
        y,
        "relu,tanh,affine",
        cv=3,
        param_grid={"learning_rate_init": [1e-3, 1e-2]},
        random_state=0,
        return_details=True,
    )
    assert table["activation"].tolist() == sorted(
        table["activation"], key=dict(zip(table.activation, -table.mean_score)).get
    )
    for col in (
        "mean_score",
        "std_score",
        "p_value",
        "significant",
        "fit_time",
        "predict_time",
        "n_parameters",
        "learned_parameters",
        "params",
    ):
        assert col in table
    relu = table.set_index("activation").loc["relu"]
    assert np.isnan(relu["p_value"]) and not relu["significant"]
    assert relu["kind"] == "fixed" and relu["learned_parameters"] == ""
    affine = table.set_index("activation").loc["affine"]
    assert affine["kind"] == "learned" and "k0=" in affine["learned_parameters"]
    assert affine["n_activation_parameters"] == 2
    # every activation was scored on the same three folds
    assert details.fold_scores.groupby("activation").size().eq(3).all()
    assert len(details.splits) == 3 and set(details.estimators) == set(
        table["activation"]
    )


def test_compare_handles_pipelines_and_frozen_activations():
    X, y = load_titanic(return_X_y=True)
    est = make_pipeline(
        make_titanic_preprocessor(),
        LearnedActivationClassifier(learn_activation=False, **TINY),
    )
    table = compare_activations(
        est, X[:300], y[:300], "relu,mixture", cv=2, random_state=0
    )
    assert dict(zip(table.activation, table.kind)) == {
        "relu": "fixed",
        "mixture": "frozen",
    }


def test_robustness_mode_reports_clean_dirty_and_difference(tiny_regression):
    X, y = tiny_regression
    table, details = compare_activations(
        LearnedActivationRegressor(**TINY),
        X,
        y,
        "relu,tanh",
        cv=3,
        corruption=0.2,
        random_state=0,
        refit=False,
        return_details=True,
    )
    assert np.allclose(table["clean_score"], table["mean_score"])
    assert np.allclose(
        table["dirty_minus_clean"], table["dirty_score"] - table["clean_score"]
    )
    assert (table["dirty_minus_clean_ci_low"] <= table["dirty_minus_clean"]).all()
    assert set(details.fold_scores["condition"]) == {"clean", "dirty"}
    assert "n_parameters" not in table  # refit=False


def test_compare_rejects_bad_arguments(tiny_classification):
    X, y = tiny_classification
    est = LearnedActivationClassifier(**TINY)
    with pytest.raises(ValueError, match="Unknown activation"):
        compare_activations(est, X, y, "relu,nope")
    with pytest.raises(ValueError, match="search must be"):
        compare_activations(est, X, y, "relu", search="random")
    with pytest.raises(ValueError, match="corruption"):
        compare_activations(est, X, y, "relu", corruption=1.5)
    with pytest.raises(TypeError, match="Pipeline ending in one"):
        compare_activations(make_pipeline(None), X, y, "relu")
    with pytest.raises(ValueError, match="Cannot open the Optuna storage"):
        compare_activations(
            est, X, y, "relu", search="optuna", storage="nodb://host/db"
        )
    with pytest.raises(ValueError, match="does not exist"):
        compare_activations(
            est, X, y, "relu", search="optuna", storage="/no/such/folder/study.journal"
        )


@pytest.mark.slow
def test_titanic_five_fold_table_has_fixed_and_learned_with_significance():
    X, y = load_titanic(return_X_y=True)
    est = make_pipeline(
        make_titanic_preprocessor(),
        LearnedActivationClassifier(
            (16,), max_iter=30, learning_rate_init=1e-2, random_state=0
        ),
    )
    start = time.perf_counter()
    table = compare_activations(
        est,
        X,
        y,
        "relu,tanh,sigmoid,affine,mixture,rational,spline",
        cv=5,
        random_state=0,
    )
    assert time.perf_counter() - start < 60
    assert {"relu", "tanh", "sigmoid"} <= set(table.activation)
    assert (table["kind"] == "learned").sum() >= 3
    assert table[
        ["mean_score", "std_score", "p_value_holm"]
    ].notna().sum().tolist() == [7, 7, 6]
    assert table["significant"].dtype == bool
    assert (table["mean_score"] > 0.7).all()  # better than always "died" (0.62)


# ----------------------------------------------------------------- optuna
class _AlwaysPrune(optuna.pruners.BasePruner):
    def prune(self, study, trial):
        return True


def test_pruning_stops_training_at_the_first_epoch(tiny_classification):
    X, y = tiny_classification
    est = LearnedActivationClassifier(**TINY)
    assert est.fit(X, y, callbacks=[]).n_iter_ == 3  # the hook alone changes nothing
    study = optuna.create_study(direction="maximize", pruner=_AlwaysPrune())
    trial = study.ask()
    pruned = LearnedActivationClassifier(**TINY, early_stopping=True)
    with pytest.raises(optuna.TrialPruned):
        pruned.fit(X, y, callbacks=[("pruning", _OptunaPruning(trial, 0))])
    assert list(trial.storage.get_trial(trial._trial_id).intermediate_values) == [0]
    with pytest.raises(RuntimeError, match="no trial completed"):
        tune_activation(
            LearnedActivationClassifier(**TINY),
            X,
            y,
            "relu",
            splits=[(np.arange(60), np.arange(60, 120))],
            scorer=lambda est, X, y: est.score(X, y),
            n_trials=2,
            pruner=_AlwaysPrune(),
        )


def test_optuna_compare_gives_equal_budgets(tiny_classification, tmp_path):
    X, y = tiny_classification
    table = compare_activations(
        LearnedActivationClassifier(**TINY),
        X,
        y,
        "relu,affine",
        cv=2,
        search="optuna",
        n_trials=3,
        storage=tmp_path / "s.journal",
        random_state=0,
    )
    finished = table[["n_trials_complete", "n_trials_pruned", "n_trials_failed"]]
    assert finished.sum(axis=1).eq(3).all()
    assert all("learning_rate_init" in p for p in table["params"])


_RESUMED = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[2])
    from test_search import _resumable_run

    _resumable_run(sys.argv[1])
    """
)


def _resumable_run(path) -> None:
    X, y = make_classification(200, 6, random_state=0)
    est = LearnedActivationClassifier((8,), max_iter=100, random_state=0)
    compare_activations(
        est,
        X,
        y,
        "relu",
        cv=2,
        search="optuna",
        n_trials=6,
        storage=path,
        random_state=0,
        refit=False,
    )


def _trials(path):
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(path))
    )
    return optuna.load_study(study_name="learnact.relu", storage=storage).trials


def test_killed_optuna_comparison_resumes_and_keeps_finished_trials(tmp_path):
    path = tmp_path / "study.journal"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _RESUMED, str(path), str(Path(__file__).parent)],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 90
    done = []
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
        if path.exists():
            done = [t for t in _trials(path) if t.state.is_finished()]
            if len(done) >= 2:
                break
    proc.kill()  # SIGKILL: no cleanup, as a crash or a killed job
    proc.wait()
    assert 2 <= len(done) < 6, "the run was not killed midway"
    before = {t.number: t.value for t in _trials(path) if t.state.is_finished()}
    _resumable_run(path)  # the same call again
    after = _trials(path)
    finished = {t.number: t.value for t in after if t.state.is_finished()}
    assert {n: finished[n] for n in before} == before  # kept, not redone
    assert len(finished) == 6
    assert sum(t.state == optuna.trial.TrialState.RUNNING for t in after) <= 1


def _worker(path: str, n_trials: int) -> None:
    X, y = make_classification(120, 6, random_state=0)
    compare_activations(
        LearnedActivationClassifier(**TINY),
        X,
        y,
        "relu",
        cv=2,
        search="optuna",
        n_trials=n_trials,
        storage=path,
        random_state=0,
        refit=False,
    )


def test_two_workers_share_one_study_without_losing_or_repeating(tmp_path):
    path, n_trials = str(tmp_path / "shared.journal"), 8
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_worker, args=(path, n_trials)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    trials = _trials(path)
    numbers = [t.number for t in trials]
    assert sorted(numbers) == list(range(len(trials)))  # none lost, none twice
    assert all(t.state.is_finished() for t in trials)
    # each worker stops once the study has n_trials: at most one extra trial
    assert n_trials <= len(trials) <= n_trials + 1
    params = [tuple(sorted(t.params.items())) for t in trials]
    assert len(set(params)) == len(params)  # no configuration evaluated twice
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert all(len(t.user_attrs["fold_scores"]) == 2 for t in complete)
