"""Reports and figures: files written atomically, figures readable."""

import json
import os

import pandas as pd
import pytest
from sklearn.datasets import make_classification

from sklearn_learnact import LearnedActivationClassifier
from sklearn_learnact.compare import compare_activations
from sklearn_learnact.plotting import ActivationDisplay
from sklearn_learnact.reports import (
    ReportSection,
    check_output_dir,
    console_summary,
    markdown_table,
    tuned_parameters,
    write_report,
)


@pytest.fixture(scope="module")
def comparison():
    X, y = make_classification(120, 6, random_state=0)
    clf = LearnedActivationClassifier(
        (8, 8), max_iter=3, early_stopping=True, random_state=0
    )
    return compare_activations(
        clf,
        X,
        y,
        "relu,mixture",
        cv=2,
        corruption=0.2,
        random_state=0,
        return_details=True,
    )[1]


def test_report_has_every_file_and_figure(comparison, tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    paths = write_report(tmp_path, [ReportSection("toy", comparison, "Toy data.")])
    names = {p.name for p in paths}
    assert {
        "results.csv",
        "fold_scores.csv",
        "report.md",
        "toy_scores.png",
        "toy_curves.png",
        "toy_robustness.png",
        "toy_shapes_mixture.png",
    } <= names
    report = (tmp_path / "report.md").read_text()
    assert "Nadeau–Bengio" in report and "figures/toy_scores.png" in report
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_interrupted_write_keeps_the_previous_report(comparison, tmp_path, monkeypatch):
    write_report(tmp_path, [ReportSection("toy", comparison)])
    before = (tmp_path / "report.md").read_text()

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(KeyboardInterrupt):
        write_report(tmp_path, [ReportSection("other", comparison)])
    assert (tmp_path / "report.md").read_text() == before
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_check_output_dir_explains(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError, match="Cannot write to the output folder"):
        check_output_dir(tmp_path / "file" / "sub")


def test_report_starts_with_the_verdict_and_its_caveats(comparison, tmp_path):
    write_report(tmp_path, [ReportSection("toy", comparison, "Toy data.")])
    lines = (tmp_path / "report.md").read_text().splitlines()
    assert lines[:3] == ["# Learned vs fixed activations", "", "## Verdict"]
    assert lines[4] == comparison.verdict()
    # 2 folds cannot tell (issue 24)
    assert lines[4].startswith(
        "Cannot tell whether a learned activation beats relu: too few folds"
    )
    caveats = comparison.caveats()
    assert caveats and lines[6 : 6 + len(caveats)] == [f"- ⚠ {c}" for c in caveats]
    # under-training and low power are said before any ranking
    text = "\n".join(lines)
    table_at = text.index("| rank |")
    assert text.index("under-trained") < table_at
    assert text.index("Low power: with 2 folds") < table_at


def test_report_says_how_the_intervals_are_bounded(comparison, tmp_path):
    write_report(tmp_path, [ReportSection("toy", comparison)])
    report = (tmp_path / "report.md").read_text()
    assert "clipped to the metric's range [0, 1]" in report
    results = pd.read_csv(tmp_path / "results.csv")
    assert (results["ci_low"] >= 0).all() and (results["ci_high"] <= 1).all()
    for column in ("n_under_trained", "movement", "barely_moved", "selection"):
        assert column in results


def test_console_summary_puts_the_verdict_before_the_ranking(comparison):
    text = console_summary(ReportSection("toy", comparison, score_name="accuracy"))
    lines = text.splitlines()
    assert lines[0] == f"toy: {comparison.verdict()}"
    assert lines[1].startswith("  ! ")
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("rank"))
    assert all(line.startswith("  ! ") for line in lines[1 : header - 1])
    assert "accuracy mean ± std" in lines[header]


def test_optuna_report_shows_each_activations_tuned_hyperparameters(tmp_path):
    pytest.importorskip("optuna")
    X, y = make_classification(120, 6, random_state=0)
    clf = LearnedActivationClassifier((8,), max_iter=3, random_state=0)
    _, comp = compare_activations(
        clf,
        X,
        y,
        "relu,affine",
        cv=2,
        search="optuna",
        n_trials=2,
        random_state=0,
        refit=False,
        return_details=True,
    )
    tuned = tuned_parameters(comp)
    assert tuned["activation"].tolist() == comp.table["activation"].tolist()
    for row in tuned.itertuples():
        params = json.loads(
            comp.table.set_index("activation").loc[row.activation, "params"]
        )
        width = params["hidden_layer_sizes"][0]
        assert row.hidden_layer_sizes == f"({width})"
    write_report(tmp_path, [ReportSection("toy", comp)])
    report = (tmp_path / "report.md").read_text()
    assert "### Tuned hyperparameters" in report
    assert markdown_table(tuned) in report


def test_nested_report_shows_the_configuration_of_each_outer_fold(tmp_path):
    X, y = make_classification(120, 6, random_state=0)
    clf = LearnedActivationClassifier((8,), max_iter=3, random_state=0)
    _, comp = compare_activations(
        clf,
        X,
        y,
        "relu",
        cv=2,
        inner_cv=2,
        param_grid={"learning_rate_init": [1e-3, 1e-2]},
        random_state=0,
        refit=False,
        return_details=True,
    )
    tuned = tuned_parameters(comp)
    assert tuned.columns.tolist() == ["activation", "outer fold", "learning_rate_init"]
    assert tuned["outer fold"].tolist() == [0, 1]
    write_report(tmp_path, [ReportSection("toy", comp)])
    report = (tmp_path / "report.md").read_text()
    assert "**Tuning**: Nested cross-validation: in each of the 2 outer" in report
    assert "Selection bias" not in report


def test_activation_display_covers_seed_002_ranges(comparison):
    est = comparison.estimators["mixture"]
    disp = ActivationDisplay.from_estimator(est)
    assert [ax.get_title() for ax in disp.axes_] == [
        "x in [-3, 3]",
        "x in [-10, 10]",
        "x in [-100, 100]",
    ]
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in disp.axes_)
    assert [t.get_text() for t in disp.axes_[0].get_legend().get_texts()] == [
        "relu (ref.)",
        "layer 1",
        "layer 2",
    ]
    # the curve is the module's output
    x, y = disp.inputs[0], disp.outputs[0][0][:, 0]
    import torch

    expected = est.activations_[0](torch.from_numpy(x)[:, None].float())
    assert abs(y - expected.detach().numpy()[:, 0]).max() < 1e-6
