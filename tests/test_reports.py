"""Reports and figures: files written atomically, figures readable."""

import os

import pytest
from sklearn.datasets import make_classification

from sklearn_learnact import LearnedActivationClassifier
from sklearn_learnact.plotting import ActivationDisplay
from sklearn_learnact.reports import ReportSection, check_output_dir, write_report
from sklearn_learnact.search import compare_activations


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
    import pandas as pd

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
        "layer 1",
        "layer 2",
    ]
    # the curve is the module's output
    x, y = disp.inputs[0], disp.outputs[0][0][:, 0]
    import torch

    expected = est.activations_[0](torch.from_numpy(x)[:, None]).detach().numpy()
    assert abs(y - expected[:, 0]).max() < 1e-6
