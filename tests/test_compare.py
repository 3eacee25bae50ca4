"""Grids, compare_activations, the paired test, Optuna-tuned comparisons."""

import multiprocessing
import os
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklearn_learnact import LearnedActivationClassifier, LearnedActivationRegressor
from sklearn_learnact.activations import ACTIVATIONS, available_activations
from sklearn_learnact.compare import (
    activation_grid,
    compare_activations,
    corrected_ttest,
    parse_activations,
    score_bounds,
)
from sklearn_learnact.datasets import load_titanic, make_titanic_preprocessor
from sklearn_learnact.evaluation import BARELY_MOVED


@pytest.fixture
def optuna():
    """Optuna, for the tests that need it (skipped, saying why, without it)."""
    return pytest.importorskip("optuna")


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
    # issue 24: no test from fewer than 3 differences or from identical ones
    for a, b in (([1, 1, 1], [0, 0, 0]), ([1, 1, 1], [1, 1, 1]), (a[:2], b[:2])):
        assert np.isnan(corrected_ttest(a, b, 9, 1)).all()


def test_no_significance_from_too_few_folds_or_no_variance(tiny_classification):
    # issue 24: 2 folds, or differences identical on every fold, were reported
    # as "significantly worse than relu: tanh -6.7 pp [-6.7, -6.7]", p = 0
    X, y = tiny_classification
    clf = LearnedActivationClassifier(**TINY)
    split = (np.arange(0, 120, 2), np.arange(1, 120, 2))
    for cv, why in (([split] * 3, "no variance"), (2, "too few folds")):
        table, details = compare_activations(
            clf, X, y, "relu,tanh,affine", cv=cv, refit=False, return_details=True
        )
        rows = table.set_index("activation")
        assert not rows["significant"].any()
        assert rows["p_value"].isna().all() and rows["diff_ci_low"].isna().all()
        assert rows.loc[["tanh", "affine"], "untested"].tolist() == [why, why]
        verdict = details.verdict()
        assert verdict.startswith("Cannot tell whether a learned activation beats")
        assert why in verdict and "significantly" not in verdict


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


def test_compare_rejects_bad_storages(tiny_classification, optuna):
    X, y = tiny_classification
    est = LearnedActivationClassifier(**TINY)
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
def test_optuna_compare_gives_equal_budgets(tiny_classification, tmp_path, optuna):
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
    from test_compare import _resumable_run

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
    import optuna

    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(path))
    )
    names = optuna.get_all_study_names(storage)  # learnact.relu.<fingerprint>
    if not names:  # the file exists before the worker has written its study
        return []
    (name,) = names
    return optuna.load_study(study_name=name, storage=storage).trials


def test_killed_optuna_comparison_resumes_and_keeps_finished_trials(tmp_path, optuna):
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


def test_two_workers_share_one_study_without_losing_or_repeating(tmp_path, optuna):
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


# ------------------------------------------- one fit-and-score path (issue 9.4)
#: At this learning rate the affine network (a linear model) diverges on this
#: data while the bounded tanh and sigmoid networks train.
DIVERGES = {"hidden_layer_sizes": (8,), "max_iter": 3, "learning_rate_init": 10.0}


def test_a_diverging_activation_is_recorded_and_the_grid_comparison_goes_on(
    tiny_classification,
):
    X, y = tiny_classification
    with pytest.warns(FitFailedWarning, match="affine: 3 of 3 folds failed"):
        table, details = compare_activations(
            LearnedActivationClassifier(random_state=0, **DIVERGES),
            X,
            y,
            "tanh,sigmoid,affine",
            cv=3,
            baseline="tanh",
            random_state=0,
            return_details=True,
        )
    rows = table.set_index("activation")
    affine = rows.loc["affine"]
    assert np.isnan(affine["mean_score"]) and affine["n_failed_folds"] == 3
    assert "TrainingDivergedError" in affine["failure"]
    assert np.isnan(affine["p_value"]) and not affine["significant"]
    assert table["activation"].iloc[-1] == "affine"  # ranked last
    assert rows.loc[["tanh", "sigmoid"], "mean_score"].notna().all()
    folds = details.fold_scores.query("activation == 'affine'")
    assert folds["score"].isna().all()
    assert folds["error"].str.startswith("TrainingDivergedError").all()
    assert any(c.startswith("Failed: affine") for c in details.caveats())
    assert "affine" not in details.estimators  # the refit diverged too


def test_optuna_records_a_failed_activation_the_same_way(tiny_classification, optuna):
    X, y = tiny_classification
    with pytest.warns(FitFailedWarning):
        table = compare_activations(
            LearnedActivationClassifier(random_state=0, **DIVERGES),
            X,
            y,
            "tanh,affine",
            cv=2,
            search="optuna",
            n_trials=2,
            search_space=lambda trial, est: {"learning_rate_init": 10.0},
            baseline="tanh",
            random_state=0,
            refit=False,
        )
    affine = table.set_index("activation").loc["affine"]
    assert affine["n_trials_failed"] == 2 and affine["n_trials_complete"] == 0
    assert np.isnan(affine["mean_score"]) and affine["n_failed_folds"] == 2
    assert "no trial completed" in affine["failure"]
    assert "TrainingDivergedError" in affine["failure"]  # the trial's reason


def test_grid_and_optuna_score_a_configuration_identically(tiny_classification, optuna):
    X, y = tiny_classification
    est = LearnedActivationClassifier(**TINY, early_stopping=True)
    grid = compare_activations(
        est,
        X,
        y,
        "mixture",
        cv=2,
        param_grid={"learning_rate_init": [0.02]},
        random_state=0,
        refit=False,
        return_details=True,
    )[1]
    tuned = compare_activations(
        est,
        X,
        y,
        "mixture",
        cv=2,
        search="optuna",
        n_trials=1,
        search_space=lambda trial, est: {"learning_rate_init": 0.02},
        random_state=0,
        refit=False,
        return_details=True,
    )[1]
    cols = ["score", "n_iter", "under_trained", "movement"]
    assert grid.fold_scores[cols].equals(tuned.fold_scores[cols])


# ------------------------------------------------ fair tuning (issue 9.5)
def test_same_folds_tuning_warns_and_says_so(tiny_classification):
    X, y = tiny_classification
    with pytest.warns(UserWarning, match="chosen and scored on the same folds"):
        table, details = compare_activations(
            LearnedActivationClassifier(**TINY),
            X,
            y,
            "relu",
            cv=2,
            param_grid={"learning_rate_init": [1e-3, 1e-2]},
            refit=False,
            return_details=True,
        )
    assert (table["selection"] == "same folds").all()
    assert any(c.startswith("Selection bias") for c in details.caveats())


def _recording_scorer(seen: list):
    def scorer(estimator, X, y):
        seen.append(set(X[:, 0].astype(int)))  # column 0 holds the row ids
        return estimator.score(X, y)

    return scorer


@pytest.mark.parametrize("search", ["grid", "optuna"])
def test_nested_cv_chooses_on_inner_folds_and_scores_on_unseen_outer_folds(
    tiny_classification, search
):
    if search == "optuna":
        pytest.importorskip("optuna")
    X, y = tiny_classification
    X = np.column_stack([np.arange(len(y)), X]).astype(np.float32)  # row ids
    seen: list = []
    options = (
        {"param_grid": {"learning_rate_init": [1e-3, 1e-2]}}
        if search == "grid"
        else {"search": "optuna", "n_trials": 2}
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table, details = compare_activations(
            LearnedActivationClassifier(**TINY),
            X,
            y,
            "relu",
            cv=3,
            inner_cv=2,
            scoring=_recording_scorer(seen),
            random_state=0,
            refit=False,
            return_details=True,
            **options,
        )
    assert not [w for w in caught if "same folds" in str(w.message)]
    assert (table["selection"] == "nested").all()
    assert details.n_inner_splits == 2
    outer_tests = [set(test) for _, test in details.splits]
    # the last three scorings are the outer folds, each exactly its test fold
    assert seen[-3:] == outer_tests
    # every earlier scoring (the inner search) stayed inside one outer
    # training fold: it never saw that fold's test rows
    inner = seen[:-3]
    assert inner and all(
        any(rows.isdisjoint(test) for test in outer_tests) for rows in inner
    )
    folds = details.fold_scores
    assert len(folds) == 3 and folds["score"].notna().all()
    assert details.selection_note().startswith("Nested cross-validation")


def test_inner_cv_is_checked(tiny_classification):
    X, y = tiny_classification
    with pytest.raises(ValueError, match="inner_cv must be None, an int >= 2"):
        compare_activations(
            LearnedActivationClassifier(**TINY), X, y, "relu", inner_cv=1
        )


# ------------------------------------ under-trained, movement (issue 10.2, 10.3)
def test_under_trained_fits_are_counted_and_said_first(tiny_classification):
    X, y = tiny_classification
    with pytest.warns(ConvergenceWarning, match="Most fits are under-trained: 4 of 4"):
        table, details = compare_activations(
            LearnedActivationClassifier((8,), max_iter=2, random_state=0),
            X,
            y,
            "relu,tanh",
            cv=2,
            refit=False,
            return_details=True,
        )
    assert table["n_under_trained"].tolist() == [2, 2]
    first = details.caveats()[0]
    assert "stopped at max_iter (2 epochs) while still improving" in first
    assert "relu 2/2" in first and "tanh 2/2" in first
    # fits that early stopping ended are not under-trained
    easy = LearnedActivationClassifier(
        (8,), max_iter=200, n_iter_no_change=2, early_stopping=True, random_state=0
    )
    table = compare_activations(easy, X, y, "relu", cv=2, refit=False)
    assert table["n_under_trained"].tolist() == [0]


def test_activations_that_barely_moved_are_flagged(tiny_classification):
    X, y = tiny_classification
    table, details = compare_activations(
        LearnedActivationClassifier((8,), max_iter=5, random_state=0),
        X,
        y,
        "relu,mixture",
        cv=2,
        refit=False,
        return_details=True,
    )
    rows = table.set_index("activation")
    assert np.isnan(rows.loc["relu", "movement"])
    assert not rows.loc["relu", "barely_moved"]
    assert rows.loc["mixture", "movement"] < BARELY_MOVED
    assert rows.loc["mixture", "barely_moved"]
    assert any(c.startswith("Barely learned: mixture") for c in details.caveats())
    moved = compare_activations(
        LearnedActivationClassifier(
            (8,), "mixture", max_iter=5, activation_lr=1.0, random_state=0
        ),
        X,
        y,
        "mixture",
        cv=2,
        refit=False,
    )
    assert moved["movement"].iloc[0] > BARELY_MOVED
    assert not moved["barely_moved"].iloc[0]


# ------------------------------------------ verdict, intervals (10.4, 10.6)
@pytest.fixture(scope="module")
def circles():
    from sklearn.datasets import make_circles

    X, y = make_circles(300, noise=0.1, factor=0.4, random_state=0)
    return X.astype(np.float32), y


def test_verdict_names_a_significant_winner(circles):
    X, y = circles
    table, details = compare_activations(
        LearnedActivationClassifier(
            (16,), max_iter=60, learning_rate_init=0.02, random_state=0
        ),
        X,
        y,
        "affine,mlp",
        cv=5,
        baseline="affine",  # a linear model cannot separate the circles
        random_state=0,
        refit=False,
        return_details=True,
    )
    mlp = table.set_index("activation").loc["mlp"]
    assert mlp["significant"] and mlp["diff_vs_baseline"] > 0.2
    verdict = details.verdict()
    assert verdict.startswith(
        "mlp beat affine significantly (5-fold CV, Holm-adjusted, alpha 0.05): mlp +"
    )
    assert f"{100 * mlp['diff_vs_baseline']:+.1f} pp" in verdict
    assert not any(c.startswith("Low power") for c in details.caveats())


def test_verdict_without_a_winner_warns_about_few_folds(circles):
    X, y = circles
    table, details = compare_activations(
        LearnedActivationClassifier(
            (16,), max_iter=60, learning_rate_init=0.02, random_state=0
        ),
        X,
        y,
        "relu,mixture",
        cv=3,
        random_state=0,
        refit=False,
        return_details=True,
    )
    mixture = table.set_index("activation").loc["mixture"]
    assert details.verdict().startswith(
        "No learned activation beat relu significantly (3-fold CV, Holm-adjusted, "
        f"alpha 0.05); best: mixture, {100 * mixture['diff_vs_baseline']:+.1f} pp ["
    )
    low_power = [c for c in details.caveats() if c.startswith("Low power")]
    assert (
        low_power and "with 3 folds the test has 2 degrees of freedom" in (low_power[0])
    )


def test_intervals_are_clipped_to_the_metric_range(circles):
    X, y = circles
    table, details = compare_activations(
        LearnedActivationClassifier(
            (16,), max_iter=60, learning_rate_init=0.02, random_state=0
        ),
        X,
        y,
        "relu,affine",
        cv=3,
        random_state=0,
        refit=False,
        return_details=True,
    )
    assert details.score_bounds == (0.0, 1.0)
    assert (table["ci_low"] >= 0).all() and (table["ci_high"] <= 1).all()
    relu = table.set_index("activation").loc["relu"]
    # near-perfect folds: the t interval reaches past 1 and is clipped there
    k = 3
    scores = details.fold_scores.query("activation == 'relu'")["score"]
    half = stats.t.ppf(0.975, k - 1) * np.sqrt((1 / k + 0.5) * scores.var(ddof=1))
    assert scores.mean() + half > 1 and relu["ci_high"] == 1.0
    assert relu["ci_low"] == pytest.approx(scores.mean() - half)
    assert (table["diff_ci_low"].dropna() >= -1).all()


def test_score_bounds_of_common_scorers():
    assert score_bounds(None, LearnedActivationClassifier()) == (0.0, 1.0)
    assert score_bounds(None, LearnedActivationRegressor()) == (-np.inf, 1.0)
    assert score_bounds("balanced_accuracy") == (0.0, 1.0)
    assert score_bounds("roc_auc_ovr") == (0.0, 1.0)
    assert score_bounds("neg_root_mean_squared_error") == (-np.inf, 0.0)
    assert score_bounds("matthews_corrcoef") == (-1.0, 1.0)
    assert score_bounds("custom") == (-np.inf, np.inf)
