"""The gallery: its shared run log, and every example's quick mode.

The quick modes are run for real, as a user runs them (a subprocess), with one
seed: the first run downloads its data into an empty data folder from a local
HTTP mirror of the reference data; a second run must resume: no new fit, the
same rows, the same summary. Without data and without network, each example
says what is missing in one line.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def reproduce():
    spec = importlib.util.spec_from_file_location(
        "_reproduce", EXAMPLES / "_reproduce.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: The example reproducing each research document, and the datasets it downloads.
REPRODUCES = {
    "000": ("plot_compress_learned_activation.py", "Aaron Davis"),
    "001": ("plot_affine_is_linear.py", "Learning Activations in Neural Networks"),
    "002": ("plot_mixture_per_layer.py", "Vipul Bansal"),
    "003": ("plot_surrogate_search.py", "Garrett Bingham and Risto Miikkulainen"),
    "004": ("plot_robustness_dirty_data.py", "Zachary Harrison"),
}


def test_every_research_document_has_its_example():
    for number, (script, author) in REPRODUCES.items():
        docstring = (EXAMPLES / script).read_text().split('"""')[1]
        assert f"research document {number}" in docstring, script
        assert author in " ".join(docstring.split()), script
    names = {p.name for p in EXAMPLES.glob("plot_*.py")}
    assert names == {script for script, _ in REPRODUCES.values()}


def test_run_log_resumes_and_checks_its_header(reproduce, tmp_path):
    path = tmp_path / "runs.csv"
    log = reproduce.RunLog(path, ["task", "seed", "score"], key=["task", "seed"])
    assert log.frame().empty and not log.done(task="a", seed=0)
    log.add({"task": "a", "seed": 0, "score": 0.5})
    log.add([{"task": "a", "seed": 1, "score": 0.25}, {"task": "b", "seed": 0}])
    again = reproduce.RunLog(path, ["task", "seed", "score"], key=["task", "seed"])
    assert again.done(task="a", seed=1) and again.done(task="b", seed=0)
    assert not again.done(task="b", seed=1)
    frame = again.frame()
    assert frame["score"].tolist()[:2] == [0.5, 0.25] and np.isnan(frame["score"][2])
    with pytest.raises(ValueError, match="unknown columns"):
        again.add({"task": "c", "seed": 0, "oops": 1})
    with pytest.raises(ValueError, match="has columns"):
        reproduce.RunLog(path, ["task", "seed"], key=["task", "seed"])
    with pytest.raises(ValueError, match="not in columns"):
        reproduce.RunLog(tmp_path / "x.csv", ["task"], key=["seed"])


def test_run_log_drops_the_line_a_killed_run_left(reproduce, tmp_path):
    path = tmp_path / "runs.csv"
    log = reproduce.RunLog(path, ["task", "seed", "score"], key=["task", "seed"])
    log.add({"task": "a", "seed": 0, "score": 0.5})
    with open(path, "a") as f:  # a write cut short by a kill
        f.write("a,1,0.2")
    with pytest.warns(UserWarning, match="incomplete last line.*1 finished rows kept"):
        log = reproduce.RunLog(path, ["task", "seed", "score"], key=["task", "seed"])
    assert not log.done(task="a", seed=1)
    log.add({"task": "a", "seed": 1, "score": 0.25})
    assert log.frame()["score"].tolist() == [0.5, 0.25]


def test_mean_ci_and_paired_test(reproduce):
    values = [0.91, 0.93, 0.92, 0.95, 0.90]
    ci = reproduce.mean_ci(values)
    low, high = stats.t.interval(0.95, 4, loc=np.mean(values), scale=stats.sem(values))
    assert (
        ci["n"] == 5
        and np.isclose(ci["ci_low"], low)
        and np.isclose(ci["ci_high"], high)
    )
    one = reproduce.mean_ci([0.5, np.nan])
    assert one["n"] == 1 and one["mean"] == 0.5 and np.isnan(one["ci_low"])
    a, b = [1.0, 2.0, 3.5], [0.5, 1.0, 2.0]
    assert np.isclose(reproduce.paired_test(a, b), stats.ttest_rel(a, b).pvalue)
    assert reproduce.paired_test([1.0, 2.0], [1.0, 2.0]) == 1.0
    assert np.isnan(reproduce.paired_test([1.0], [0.0]))


def _run(
    script: str, out: Path, data: Path, *options: str, mirror: str = "", **env
) -> subprocess.CompletedProcess:
    """Run ``script`` with one seed, its data folder ``data`` and ``mirror``."""
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "SKLEARN_LEARNACT_DATA": str(data),
        "SKLEARN_LEARNACT_MIRROR": mirror,
        "PYTHONPATH": str(EXAMPLES.parent),
        "PYTHONWARNINGS": "ignore",
        **env,
    }
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--seeds", "1", "--out", str(out)]
        + list(options),
        capture_output=True,
        text=True,
        env=env,
        cwd=EXAMPLES.parent,
        timeout=1800,
    )


@pytest.mark.parametrize("script", sorted(s for s, _ in REPRODUCES.values()))
def test_without_data_and_network_one_line(script, tmp_path):
    # No network: every request goes to a proxy on a closed local port.
    proxy = "http://127.0.0.1:9"
    offline = {"http_proxy": proxy, "https_proxy": proxy, "no_proxy": ""}
    result = _run(script, tmp_path / "out", tmp_path / "empty", **offline)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{script}: ")
    assert f"data not found in {tmp_path / 'empty'}/" in result.stderr
    assert "could not be downloaded" in result.stderr
    assert "SKLEARN_LEARNACT_MIRROR" in result.stderr
    assert not list((tmp_path / "empty").rglob("*.gz"))


# Quick modes with one seed, measured on 2 idle cores: 000 about 15 s, 001 about
# 15 s, 002 about 20 s, 004 about 20 s, plus the resumed reruns (seconds). Each
# test as a whole, measured niced at a load average of 5-7 on the 2 cores: 000
# 56 s, 001 52 s, 004 121 s (with its --summaries-only run); slow-marked.
QUICK = {
    "plot_compress_learned_activation.py": (
        "seed000_runs.csv",
        ["seed000_summary.csv", "seed000_provenance.csv", "seed000_compression.png"],
        12,  # 3 datasets x 4 models
    ),
    "plot_affine_is_linear.py": (
        "seed001_runs.csv",
        ["seed001_accuracy.csv", "seed001_affine_k.csv", "seed001_curves.png"],
        4,  # 3 nets + LogisticRegression
    ),
    "plot_mixture_per_layer.py": (
        "seed002_runs.csv",
        [
            "seed002_table1.csv",
            "seed002_accuracy.csv",
            "seed002_activations_KMNIST.png",
        ],
        6,  # 3 datasets x (mixture, relu)
    ),
    "plot_robustness_dirty_data.py": (
        "seed004_runs.csv",
        ["seed004_regression.csv", "seed004_mnist.csv", "seed004_mnist.png"],
        32,  # 2 tasks x 8 activations x (clean, dirty)
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(QUICK))
def test_quick_mode_runs_and_resumes(script, shared_data, http_mirror, tmp_path):
    runs_name, outputs, n_rows = QUICK[script]
    data = tmp_path / "data"  # empty: the first run downloads into it
    mirror = http_mirror(shared_data)
    first = _run(script, tmp_path, data, mirror=mirror)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "fitted" in first.stdout and list(data.rglob("*"))
    runs = pd.read_csv(tmp_path / runs_name)
    assert len(runs) == n_rows
    for name in outputs:
        assert (tmp_path / name).stat().st_size > 0, name
    summaries = {
        name: pd.read_csv(tmp_path / name) for name in outputs if name.endswith(".csv")
    }
    # resumes: nothing left to fit, and nothing to download (no mirror now)
    again = _run(script, tmp_path, data)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "fitted" not in again.stdout
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / runs_name), runs)
    for name, frame in summaries.items():
        if "provenance" not in name:
            pd.testing.assert_frame_equal(pd.read_csv(tmp_path / name), frame)
    provenance = pd.read_csv(tmp_path / f"{runs_name[:7]}_provenance.csv")
    assert provenance["new_runs"].tolist() == [provenance["total_runs"][0], 0]
    assert "--seeds 1" in provenance["command"][0]
    if script.startswith("plot_robustness"):
        # a second seed is missing, but --summaries-only fits nothing
        table = pd.read_csv(tmp_path / "seed004_regression.csv")
        (tmp_path / "seed004_regression.csv").unlink()
        only = _run(script, tmp_path, data, "--seeds", "2", "--summaries-only")
        assert only.returncode == 0, only.stderr[-3000:]
        assert "fitted" not in only.stdout
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / runs_name), runs)
        pd.testing.assert_frame_equal(
            pd.read_csv(tmp_path / "seed004_regression.csv"), table
        )


def test_summaries_only_option(reproduce, monkeypatch, tmp_path):
    argv = ["example.py", "--out", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", argv)
    assert reproduce.parse_args("x", (1, 3)).fit
    monkeypatch.setattr(sys, "argv", [*argv, "--summaries-only", "--full"])
    args = reproduce.parse_args("x", (1, 3))
    assert not args.fit and args.seeds == 3 and args.out == tmp_path


def test_seed002_table1_has_the_issue_columns():
    """The committed full results: one row per dataset and layer, P_relu/tanh/sin."""
    path = EXAMPLES.parent / "docs" / "results" / "seed002_table1.csv"
    table = pd.read_csv(path)
    assert {"dataset", "layer", "P_relu", "P_tanh", "P_sin"} <= set(table.columns)
    assert not table.duplicated(["dataset", "layer"]).any()
    p = table[["P_relu", "P_tanh", "P_sin"]].to_numpy()
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-3) and (p >= 0).all()
