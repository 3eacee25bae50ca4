"""Surrogate activation search (seed 003): space, features, surrogate, loop,
resumable studies (a real killed process), bad input. Small configuration: a
few dozen candidates, tiny networks; one UMAP embedding is computed per
session and stored in a journal that the other tests copy."""

import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_learnact import (
    LearnedActivationClassifier,
    LearnedActivationRegressor,
    SplineActivationCompressor,
)
from sklearn_learnact.activations import Expression
from sklearn_learnact.activations.expression import BINARY, canonical_expression
from sklearn_learnact.surrogate import (
    BASELINES,
    FISHER_BINS,
    CandidateDistance,
    SurrogateActivationSearch,
    build_space,
    fisher_features,
    sample_points,
)

optuna = pytest.importorskip("optuna")
pytest.importorskip("umap")

ROOT = Path(__file__).resolve().parents[1]
UNARY = ("negative", "abs", "tanh", "relu", "sin", "square", "exp")
SPACE = {"schemas": ("unary(unary(x))",), "unary": UNARY, "binary": ()}
TINY = {"hidden_layer_sizes": (8,), "max_iter": 4, "learning_rate_init": 0.02}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _data():
    return make_classification(
        160, 6, n_informative=4, n_classes=3, random_state=0, class_sep=0.7
    )


def _search(storage, n_iter, **kwargs) -> SurrogateActivationSearch:
    params = {
        "n_iter": n_iter,
        "cv": 2,
        "space": build_space(**SPACE),
        "storage": str(storage),
        "random_state": 0,
        **kwargs,
    }
    return SurrogateActivationSearch(
        LearnedActivationClassifier(random_state=0, **TINY), **params
    )


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """A finished search of 12 evaluations, and a copy of its journal."""
    X, y = _data()
    folder = tmp_path_factory.mktemp("surrogate")
    journal = folder / "search.journal"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = _search(journal, 12).fit(X, y)
    pristine = folder / "pristine.journal"
    shutil.copy(journal, pristine)
    return search, pristine


def _copy(pristine: Path, tmp_path: Path) -> Path:
    path = tmp_path / "copy.journal"
    shutil.copy(pristine, path)
    return path


def _trials(path: Path, name: str):
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(path))
    )
    return optuna.load_study(study_name=name, storage=storage).trials


# --------------------------------------------------------------------- space
def test_default_space_counts_and_invariants():
    space = build_space()
    c = space.counts
    assert c["enumerated"] == 24 * 24 + 7 * 24 * 24 == 4608
    assert c["distinct"] == len(space) == len(space.expressions)
    assert (
        c["distinct_text"] - c["non_finite"] - c["constant"] - c["duplicate"]
        == c["distinct"]
    )
    assert 2000 <= len(space) <= 3500  # the paper's space has 2,913
    assert set(BASELINES) <= set(space.expressions)
    out = space.outputs
    assert out.shape == (len(space), 1000) and out.dtype == np.float32
    assert np.isfinite(out).all() and (out.max(axis=1) > out.min(axis=1)).all()
    assert len({row.tobytes() for row in out}) == len(space)  # no duplicate
    assert space.index("identity(relu(x))") == space.index("relu(x)")
    with pytest.raises(KeyError, match="not in the candidate space"):
        space.index("pow(x, 3.5)")
    assert "2" in space.summary() and "distinct functions" in space.summary()


def test_space_dedups_to_the_shortest_text_and_keeps_baselines():
    space = build_space(unary=("relu", "zero", "negative"), binary=("max",))
    assert "relu(x)" in space.expressions  # not max(x, 0) nor relu(relu(x))
    assert "max(x, 0)" not in space.expressions
    assert set(BASELINES) <= set(space.expressions)


def test_canonical_form_round_trips_and_keeps_the_function():
    """Every function of a small space: canonical text parses back to itself
    and computes exactly what the enumerated tree computed."""
    space = build_space(
        unary=("negative", "abs", "tanh", "exp", "reciprocal", "zero", "one"),
        binary=tuple(BINARY),
        include=(),
    )
    x = torch.from_numpy(space.points)
    for expr, outputs in zip(space.expressions, space.outputs):
        assert canonical_expression(expr) == expr
        np.testing.assert_array_equal(Expression(expr)(x).numpy(), outputs)


def test_sample_points_are_fixed_clipped_float32():
    p = sample_points()
    assert p.dtype == np.float32 and p.shape == (1000,)
    assert np.array_equal(p, sample_points()) and -5 <= p.min() < p.max() <= 5


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"unary": ("tanh", "tan")}, r"Unknown unary operator\(s\) \['tan'\]"),
        ({"binary": ("plus",)}, r"Unknown binary operator\(s\) \['plus'\]"),
        ({"schemas": ("unary(x, x)",)}, "Invalid schema"),
        ({"schemas": ("ternary(x)",)}, "Invalid schema"),
        (
            {"schemas": ("unary(x)",), "unary": ("zero", "one"), "include": ()},
            "The candidate space is empty",
        ),
        (
            {"schemas": (), "candidates": ("exp(exp(exp(x)))",)},
            "'exp\\(exp\\(exp\\(x\\)\\)\\)' is non-finite",
        ),
        ({"schemas": (), "candidates": ("x - x",)}, "is constant"),
        ({"schemas": (), "include": ("tan(x)",)}, "unknown operator 'tan'"),
        ({"schemas": ("binary(binary(unary(x), unary(x)), unary(x))",)}, "at most"),
    ],
)
def test_space_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_space(**kwargs)


# ------------------------------------------------------------------ features
def test_fisher_features_are_layerwise_cdfs():
    X, y = _data()
    exprs = ["relu(x)", "tanh(x)", "relu(x)", "pow(exp(x), exp(x))", "x"]
    clf = LearnedActivationClassifier((16, 8))
    F = fisher_features(clf, X, y, exprs)
    n_bins = len(FISHER_BINS) - 1
    assert F.shape == (5, 3 * n_bins)
    layers = F.reshape(5, 3, n_bins)
    assert (np.diff(layers, axis=2) >= 0).all() and np.allclose(layers[:, :, -1], 1)
    np.testing.assert_array_equal(F[0], F[2])  # deterministic
    assert not np.array_equal(F[0], F[1])
    # pow(exp(x), exp(x)) gets non-finite gradients (inf * 0 behind its cap):
    # the first layer's G is not finite, so all its mass is in the last bin
    assert layers[3, 0, -2] == 0 and layers[:3, 0, -2].min() > 0
    again, finite = fisher_features(clf, X, y, exprs, return_finite=True)
    np.testing.assert_array_equal(F, again)
    assert finite.tolist() == [True, True, True, False, True]
    # the bins span the candidates' own spectra; fixed edges on request
    assert fisher_features(clf, X, y, exprs, bins=FISHER_BINS).shape == F.shape
    assert fisher_features(clf, X, y, exprs[:2], bins=10).shape == (2, 30)


def test_fisher_features_for_pipelines_cnns_and_regressors():
    X, y = _data()
    pipe = make_pipeline(StandardScaler(), LearnedActivationClassifier((8,)))
    assert fisher_features(pipe, X * 100, y, ["tanh(x)"]).shape == (1, 120)
    images = np.random.default_rng(0).random((40, 64), dtype=np.float32)
    cnn = LearnedActivationClassifier((8,), architecture="cnn", image_shape=(1, 8, 8))
    F = fisher_features(cnn, images, np.arange(40) % 2, ["relu(x)", "sin(x)"])
    assert F.shape == (2, 4 * 60) and np.isfinite(F).all()  # 2 convs, 2 dense
    Xr, yr = make_regression(50, 4, random_state=0)
    F = fisher_features(LearnedActivationRegressor((8,)), Xr, yr, ["swish(x)"])
    assert F.shape == (1, 120)


# ------------------------------------------------------------- the search
def test_search_evaluates_baselines_first_then_surrogate_picks(searched):
    search, _ = searched
    res = search.results_
    assert len(res) == 12 and res["expression"].is_unique
    assert list(res.columns[:4]) == ["expression", "rank", "cv_score", "std_score"]
    first = res.sort_values("order")["expression"].tolist()
    assert first[:8] == list(BASELINES)
    picked = res[~res["baseline"]]
    assert res.loc[res["baseline"], "predicted_score"].isna().all()
    assert picked["predicted_score"].between(0, 1).all()
    assert (res["rank"] == np.arange(1, 13)).all()
    assert res["cv_score"].is_monotonic_decreasing
    assert res.loc[res["expression"] == "relu(x)", "diff_vs_relu"].item() == 0
    assert search.best_activation_ == res["expression"].iloc[0]
    assert search.fold_scores_.shape == (12, 2)
    assert search.embedding_.shape == (len(search.space_), 2)
    assert set(search.feature_times_) == {"space", "outputs", "fisher", "embedding"}
    # the failure filter: exp(square(x)) reaches e^25 on [-5, 5]; never trained
    removed = set(search.removed_)
    assert "exp(square(x))" in removed and not removed & set(res["expression"])
    assert search.filter_counts_["removed"] == len(removed)
    shown = np.isfinite(search.embedding_).all(axis=1)
    assert {search.space_.expressions[i] for i in np.flatnonzero(~shown)} == removed


def test_best_estimator_is_a_normal_estimator(searched):
    search, _ = searched
    X, y = _data()
    best = search.best_estimator_
    assert best.activation == "expr"
    assert best.activation_params == {"expr": search.best_activation_}
    np.testing.assert_array_equal(search.predict(X), best.predict(X))
    assert 0 <= search.score(X, y) <= 1 and list(search.classes_) == [0, 1, 2]
    again = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(again.predict_proba(X), search.predict_proba(X))
    comp = SplineActivationCompressor(best, degree=3, tol=1e-2).fit(X)
    assert comp.max_abs_error_ < 1e-2
    user = LearnedActivationClassifier(
        activation="expr", activation_params={"expr": search.best_activation_}, **TINY
    )
    assert user.fit(X, y).score(X, y) > 0


def test_confirm_retests_on_new_folds(searched):
    search, _ = searched
    X, y = _data()
    table = search.confirm(X, y, top=2)
    assert table["expression"].iloc[-1] == "relu(x)"
    assert len(table) in (2, 3)
    # 2 folds: 2 paired differences are not tested (issue 24)
    assert table["p_value"].isna().all()
    assert (table["fold_scores"].map(len) == 2).all()


def test_resume_keeps_evaluations_and_extends_the_budget(searched, tmp_path):
    search, pristine = searched
    path = _copy(pristine, tmp_path)
    X, y = _data()
    before = {
        t.params["candidate"]: t.value
        for t in _trials(path, search.study_name_)
        if t.state == optuna.trial.TrialState.COMPLETE
    }
    start = time.perf_counter()
    again = _search(path, 12).fit(X, y)  # nothing left to do: no training
    assert again.results_.equals(search.results_)
    longer = _search(path, 15).fit(X, y)
    after = {
        t.params["candidate"]: t.value
        for t in _trials(path, search.study_name_)
        if t.state == optuna.trial.TrialState.COMPLETE
    }
    assert len(after) == 15 and {k: after[k] for k in before} == before
    assert len(longer.results_) == 15
    assert again.feature_times_["fisher"] == again.feature_times_["embedding"] == 0
    assert time.perf_counter() - start > 0


_KILLED = """
import sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[2])
from test_surrogate import _data, _search
X, y = _data()
_search(sys.argv[1], 30).fit(X, y)
"""


def test_killed_search_resumes_without_losing_finished_evaluations(searched, tmp_path):
    search, pristine = searched
    path = _copy(pristine, tmp_path)
    name = search.study_name_
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED, str(path), str(Path(__file__).parent)],
        cwd=ROOT,
        env=env,
    )
    complete = optuna.trial.TrialState.COMPLETE
    deadline = time.monotonic() + 120
    done = []
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        done = [t for t in _trials(path, name) if t.state == complete]
        if len(done) >= 15:
            break
    os.kill(proc.pid, signal.SIGKILL)  # no cleanup, as a crash or a killed job
    proc.wait()
    assert 15 <= len(done) < 30, "the search was not killed midway"
    before = {t.number: t.value for t in _trials(path, name) if t.state == complete}
    X, y = _data()
    resumed = _search(path, 30).fit(X, y)
    trials = _trials(path, name)
    after = {t.number: t.value for t in trials if t.state == complete}
    assert {n: after[n] for n in before} == before  # every finished one kept
    assert len(after) == 30 and len(resumed.results_) == 30
    candidates = [t.params["candidate"] for t in trials if t.state == complete]
    assert len(set(candidates)) == 30  # none evaluated twice
    states = [t.state for t in trials]
    assert optuna.trial.TrialState.RUNNING not in states  # the killed one: failed
    assert states.count(optuna.trial.TrialState.FAIL) <= 1


def test_two_workers_share_one_search(searched, tmp_path):
    search, pristine = searched
    path = _copy(pristine, tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    script = _KILLED.replace("30).fit", "24).fit")
    args = [sys.executable, "-c", script, str(path), str(Path(__file__).parent)]
    workers = [subprocess.Popen(args, cwd=ROOT, env=env) for _ in range(2)]
    assert [w.wait(timeout=180) for w in workers] == [0, 0]
    trials = _trials(path, search.study_name_)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    workers_seen = {t.user_attrs["worker"] for t in complete[12:]}
    assert len(workers_seen) == 2  # both took part
    candidates = [t.params["candidate"] for t in complete]
    # each stops at 24 distinct evaluations; a race may repeat or add one
    assert len(set(candidates)) >= 24 and len(complete) <= 26
    assert all(t.state.is_finished() for t in trials)


def test_another_search_never_resumes_the_study(searched, tmp_path):
    search, pristine = searched
    path = _copy(pristine, tmp_path)
    X, y = _data()
    named = {"study_name": search.study_name_}
    with pytest.raises(ValueError, match="different search; it differs in: data"):
        _search(path, 12, **named).fit(X[:-10], y[:-10])
    other = LearnedActivationClassifier((9,), max_iter=4)
    with pytest.raises(ValueError, match="differs in: estimator$|differs in: estim"):
        _search(path, 12, **named).set_params(estimator=other).fit(X, y)
    with pytest.raises(ValueError, match="differs in: splits"):
        _search(path, 12, cv=3, **named).fit(X, y)
    with pytest.raises(ValueError, match="differs in: space"):
        _search(path, 9, **named, space=["sin(x)", "cos(x)", "x"]).fit(X, y)
    # the default name binds the study to the search: another gets its own
    with pytest.warns(UserWarning, match="Starting a new study"):
        other_search = _search(path, 9, cv=3).fit(X, y)
    assert other_search.study_name_ != search.study_name_
    assert len(_trials(path, search.study_name_)) == 12


def test_bad_input(searched, tmp_path, monkeypatch):
    search, pristine = searched
    X, y = _data()
    with pytest.raises(ValueError, match="larger than the candidate space"):
        _search(tmp_path / "a.journal", 10_000).fit(X, y)
    with pytest.raises(ValueError, match="Cannot open the Optuna storage"):
        _search(tmp_path / "missing" / "a.journal", 5).fit(X, y)
    with pytest.raises(ValueError, match="n_iter must be an int >= 1"):
        _search(tmp_path / "a.journal", 0).fit(X, y)
    with pytest.raises(ValueError, match="features must be one of"):
        _search(tmp_path / "a.journal", 5, features="shape").fit(X, y)
    with pytest.raises(ValueError, match="needs at least 4: add candidates"):
        _search(tmp_path / "a.journal", 2, space=["x"], baselines=("tanh(x)",)).fit(
            X, y
        )
    with pytest.raises(ValueError, match="space must be None"):
        _search(tmp_path / "a.journal", 5, space="relu(x)").fit(X, y)
    with pytest.raises(TypeError, match="Pipeline ending in one"):
        _search(tmp_path / "a.journal", 5).set_params(estimator=StandardScaler()).fit(
            X, y
        )

    def failing(estimator, X_, y_):  # fails for the networks only
        if isinstance(estimator, DummyClassifier):
            return 0.5
        raise ArithmeticError("boom")

    with pytest.raises(RuntimeError, match="activation failed: ArithmeticError: boom"):
        _search(tmp_path / "f.journal", 9, scoring=failing).fit(X, y)
    n = len(search.space_)  # more than the failure filter keeps
    with pytest.raises(ValueError, match=f"larger than the {n - len(search.removed_)}"):
        _search(tmp_path / "k.journal", n).fit(X, y)
    monkeypatch.setitem(sys.modules, "umap", None)
    with pytest.raises(ImportError, match=r"sklearn-learnact\[search\]"):
        _search(tmp_path / "b.journal", 9).fit(X, y)
    # a stored embedding needs no umap: the search resumes without it
    resumed = _search(_copy(pristine, tmp_path), 12).fit(X, y)
    assert resumed.best_activation_ == search.best_activation_


def test_the_papers_union_embedding_is_an_option(searched, tmp_path):
    search, _ = searched
    X, y = _data()
    union = _search(tmp_path / "u.journal", 9, embedding="union").fit(X, y)
    assert len(union.results_) == 9 and union.removed_ == search.removed_
    assert not np.allclose(union.embedding_, search.embedding_, equal_nan=True)


def test_a_budget_within_the_baselines_warns_baselines_only(tmp_path):
    X, y = _data()
    space = ["tanh(x)", "relu(x)", "sin(x)", "abs(x)"]
    baselines = ("tanh(x)", "relu(x)")
    with pytest.warns(UserWarning, match=r"n_iter=2 is at or below the 2 baselines"):
        search = _search(
            tmp_path / "b.journal", 2, space=space, baselines=baselines,
            features="outputs",
        ).fit(X, y)  # fmt: skip
    assert search.results_["baseline"].all()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="n_iter=")
        _search(
            tmp_path / "c.journal", 3, space=space, baselines=baselines,
            features="outputs",
        ).fit(X, y)  # fmt: skip


def test_diverged_candidates_score_as_a_constant_predictor(tmp_path, capsys):
    X, y = _data()
    search = _search(
        tmp_path / "d.journal",
        3,
        space=["exp(exp(x))", "tanh(x)", "relu(x)", "sin(x)"],
        baselines=("exp(exp(x))",),
        features="outputs",
        verbose=1,
    ).fit(X * 10, y)  # large inputs: exp(exp(x)) overflows in the network
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("[1/3] exp(exp(x)): ")
    assert lines[0].endswith(" (baseline)") and "(predicted 0." in lines[2]
    row = search.results_.set_index("expression").loc["exp(exp(x))"]
    assert row["n_diverged"] == 2
    majority = np.mean([np.bincount(y[te]).max() / len(te) for _, te in search.splits_])
    assert row["cv_score"] == pytest.approx(majority)
    assert search.results_["n_diverged"].sum() == 2  # the others trained


def test_surrogate_moves_towards_high_predicted_scores():
    from sklearn_learnact.surrogate import propose_candidate
    from sklearn_learnact.surrogate._study import SearchExhausted

    rng = np.random.default_rng(0)
    embedding = rng.random((200, 2))
    distance = CandidateDistance(coordinates=embedding)
    score = -np.linalg.norm(embedding - [0.9, 0.9], axis=1)  # best at (0.9, 0.9)
    scores = {int(i): float(score[i]) for i in rng.choice(200, 20, replace=False)}
    index, predicted = propose_candidate(distance, scores, set(), [], rng)
    assert index not in scores
    top = max(scores, key=scores.get)  # its neighbourhood is predicted best
    assert np.linalg.norm(embedding[index] - embedding[top]) < 0.25
    assert propose_candidate(distance, scores, set(), [5, 7], rng)[0] in (5, 7)
    assert np.isnan(propose_candidate(distance, {}, set(), [], rng)[1])
    kept = [i for i in range(200) if i not in scores][:2]
    allowed = np.isin(np.arange(200), kept)  # what the failure filter kept
    pick = propose_candidate(distance, scores, set(), [], rng, allowed=allowed)
    assert pick[0] in kept
    with pytest.raises(SearchExhausted):
        propose_candidate(distance, dict.fromkeys(range(199), 0.0), {199}, [], rng)


# ----------------------------------------------------------------------- CLI
CLI_SPACE = [
    "--cv",
    "2",
    "--hidden",
    "8",
    "--max-iter",
    "3",
    "--unary",
    ",".join(UNARY),
    "--binary",
    "add",
    "--schemas",
    "unary(unary(x))",
    "--no-progress",
]
CLI_FAST = ["--dataset", "fashion_mnist", "--n-samples", "200", *CLI_SPACE]


def _cli_error(capsys, argv) -> str:
    from sklearn_learnact.cli import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


def test_cli_search_report_says_baselines_only():
    from types import SimpleNamespace

    from sklearn_learnact.cli.search import _report

    class Space(list):
        def summary(self):
            return "2 distinct functions"

    def report(baseline):
        results = pd.DataFrame(
            {
                "rank": [1], "expression": ["elu(x)"], "cv_score": [0.8],
                "std_score": [0.01], "predicted_score": [np.nan],
                "baseline": [baseline],
            }
        )  # fmt: skip
        retest = pd.DataFrame(
            {
                "expression": ["elu(x)", "relu(x)"], "mean_score": [0.8, 0.79],
                "fold_scores": [[0.8] * 3, [0.79] * 3],
                "diff_vs_reference": [0.01, 0.0], "p_value": [0.4, 1.0],
            }
        )  # fmt: skip
        times = {"outputs": 0.1, "fisher": 1.0, "embedding": 2.0}
        search = SimpleNamespace(
            results_=results, feature_times_=times, space_=Space(["a", "b"]),
            features="both", embedding="umap", study_name_="s",
            baselines=BASELINES,
            filter_counts_={
                "removed": 0, "non-finite Fisher spectrum": 0,
                "output above 100": 0,
            },
        )  # fmt: skip
        args = SimpleNamespace(
            scoring=None, argv=["search"], dataset="titanic", hidden=(8,),
            max_iter=3, lr=1e-3, budget=1, cv=3,
        )  # fmt: skip
        data = SimpleNamespace(task="classification", description="d")
        return _report(args, data, search, retest, 1.0)

    text = report(baseline=True)
    assert "**Baselines only**: a budget of 1 does not go beyond the 8" in text
    assert "**Best baseline: `elu(x)`**" in text
    assert "Baselines only" not in report(baseline=False)


def test_cli_search_writes_the_report_and_resumes(searched, shared_data, tmp_path):
    from sklearn_learnact.cli import main

    out = tmp_path / "out"
    argv = ["search", *CLI_FAST, "--budget", "10", "--top", "2", "--out", str(out)]
    argv += ["--data-home", str(shared_data)]
    assert main(argv) == 0
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "figures/embedding.png",
        "figures/top_shapes.png",
        "report.md",
        "results.csv",
        "retest.csv",
        "surrogate.journal",
        "surrogate.journal.flock",  # the journal's lock (studies.open_storage)
    ]
    report = (out / "report.md").read_text()
    assert report.startswith("# Surrogate activation search: fashion_mnist")
    assert "**Best found: `" in report
    # 2 folds: no paired test (issue 24), never "p = nan: not significant"
    assert "no test: too few folds or no variance, so it cannot tell" in report
    assert "distinct functions" in report and "ms per candidate" in report
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 10 and results["expression"].head(8).isin(BASELINES).any()
    retest = pd.read_csv(out / "retest.csv")
    assert retest["expression"].iloc[-1] == "relu(x)" and len(retest) in (2, 3)
    journal = (out / "surrogate.journal").read_bytes()
    assert main(argv) == 0  # the same command: resumed, nothing new trained
    assert pd.read_csv(out / "results.csv").equals(results)
    assert (out / "surrogate.journal").read_bytes()[: len(journal)] == journal


_CLI = "import sys; from sklearn_learnact.cli import main; sys.exit(main(sys.argv[1:]))"


def _csv(path: Path) -> Path:
    """A CSV with a text column: the CLI's pipeline selects columns by dtype."""
    X, y = make_classification(150, 4, n_informative=2, n_redundant=0, random_state=0)
    frame = pd.DataFrame(X, columns=list("abcd"))
    frame["colour"] = np.where(X[:, 0] > 0, "red", "blue")
    frame.assign(y=y).to_csv(path, index=False)
    return path


def test_cli_search_on_a_csv_resumes_after_a_kill(tmp_path):
    """A real process killed mid-search; the same command resumes its study
    (its definition is made of values: no object repr with a memory address)
    with nothing lost or repeated."""
    from sklearn_learnact.cli import main

    out = tmp_path / "out"
    argv = ["search", "--dataset", str(_csv(tmp_path / "data.csv")), "--target"]
    argv += ["y", *CLI_SPACE, "--budget", "30", "--top", "1", "--out", str(out)]
    journal = out / "surrogate.journal"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _CLI, *argv], cwd=ROOT, env=env)
    complete = optuna.trial.TrialState.COMPLETE

    def finished():
        storage = optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(journal))
        )
        studies = optuna.get_all_study_summaries(storage)
        trials = optuna.load_study(study_name=studies[0].study_name, storage=storage)
        return studies, [t for t in trials.trials if t.state == complete]

    deadline, done = time.monotonic() + 180, []
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        if journal.exists() and journal.stat().st_size:
            try:
                done = finished()[1]
            except (IndexError, KeyError, ValueError):  # a study being created
                continue
            if len(done) >= 10:
                break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 10 <= len(done) < 30, "the search was not killed midway"
    before = {t.number: (t.params["candidate"], t.value) for t in finished()[1]}
    assert main(argv) == 0
    studies, trials = finished()
    assert len(studies) == 1  # resumed, not a new study
    after = {t.number: (t.params["candidate"], t.value) for t in trials}
    assert {n: after[n] for n in before} == before  # nothing lost
    assert len(after) == 30 == len({c for c, _ in after.values()})  # none repeated
    assert len(pd.read_csv(out / "results.csv")) == 30


def test_cli_search_never_overwrites_a_comparison_report(capsys, tmp_path):
    out = tmp_path / "compared"
    out.mkdir()
    (out / "report.md").write_text("# Activation comparison\n")
    (out / "results.csv").write_text("dataset,activation\n")
    argv = ["search", "--dataset", str(_csv(tmp_path / "data.csv")), "--target"]
    err = _cli_error(capsys, [*argv, "y", *CLI_SPACE, "--out", str(out)])
    assert "holds another command's report (report.md, results.csv)" in err
    assert (out / "report.md").read_text() == "# Activation comparison\n"
    assert sorted(p.name for p in out.iterdir()) == ["report.md", "results.csv"]


def test_cli_search_clear_errors(capsys, monkeypatch, tmp_path, shared_data):
    base = ["search", *CLI_FAST, "--data-home", str(shared_data)]
    err = _cli_error(capsys, [*base, "--budget", "500", "--out", str(tmp_path / "a")])
    assert "larger than the candidate space" in err
    err = _cli_error(capsys, [*base, "--unary", "tan", "--out", str(tmp_path / "b")])
    assert "argument --unary: unknown unary operator 'tan'" in err  # at once
    argv = [*base, "--storage", "nodb://x", "--out", str(tmp_path / "c")]
    assert "Cannot open the Optuna storage" in _cli_error(capsys, argv)
    err = _cli_error(capsys, [*base, "--budget", "0", "--out", str(tmp_path / "d")])
    assert "must be an integer >= 1" in err
    monkeypatch.setitem(sys.modules, "umap", None)
    err = _cli_error(capsys, [*base, "--out", str(tmp_path / "e")])
    assert 'pip install "sklearn-learnact[search]"' in err


def test_cli_compare_refuses_expr_without_an_expression(capsys, tmp_path):
    argv = ["compare", "--dataset", "titanic", "--activations", "relu,expr"]
    err = _cli_error(capsys, [*argv, "--out", str(tmp_path)])
    assert "'expr' needs an expression" in err and "learnact search" in err


def test_a_trial_is_queued_with_its_worker_and_a_dead_workers_queue_taken_over():
    from sklearn_learnact.surrogate import _study as lib

    study = optuna.create_study(direction="maximize")
    embedding = np.random.default_rng(0).random((6, 2))
    distance = CandidateDistance(coordinates=embedding)
    sampler = lib.CandidateSampler(distance, [2, 0], seed=0)
    study.sampler = sampler
    exprs = [f"f{i}" for i in range(6)]
    trial = lib.next_trial(study, sampler, exprs, "host:1")
    assert trial.params == {"candidate": 2}  # the first baseline
    assert trial.user_attrs["worker"] == "host:1"
    assert trial.user_attrs["expression"] == "f2"
    assert np.isnan(trial.user_attrs["predicted_score"])
    # the queued trial held its worker from the record that created it
    study.tell(trial, 0.5)
    # a worker killed between queueing and starting its trial leaves it queued:
    # busy for the others, and the next worker starts it as its own
    study.enqueue_trial({"candidate": 4}, user_attrs={"candidate": 4, "worker": "x:9"})
    assert lib.evaluated(study) == ({2: 0.5}, {4})
    taken = lib.next_trial(study, sampler, exprs, "host:2")
    assert taken.params == {"candidate": 4} and taken.user_attrs["worker"] == "host:2"
    study.tell(taken, 0.7)
    following = lib.next_trial(study, sampler, exprs, "host:2")
    assert following.params == {"candidate": 0}  # the second baseline
    assert not study.get_trials(states=(optuna.trial.TrialState.WAITING,))


def test_of_two_trials_of_one_candidate_the_later_yields():
    from sklearn_learnact.surrogate import _study as lib

    study = optuna.create_study(direction="maximize")
    dist = {"candidate": lib.candidate_distribution(5)}
    for index in (3, 3, 1):  # two workers picked 3 at the same moment
        study.enqueue_trial({"candidate": index}, user_attrs={"candidate": index})
    first, second, third = (study.ask(dist) for _ in range(3))
    assert lib.taken_by(study, first) is None and lib.taken_by(study, third) is None
    assert lib.taken_by(study, second) == first.number
