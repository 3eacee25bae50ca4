"""Displays: scikit-learn's from_estimator/from_comparison pattern, pipelines,
the table's intervals, the data's range, the metric's name."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.datasets import make_classification, make_regression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_learnact import LearnedActivationClassifier, LearnedActivationRegressor
from sklearn_learnact.compare import compare_activations
from sklearn_learnact.evaluation import activation_input_ranges
from sklearn_learnact.plotting import (
    ActivationDisplay,
    ActivationShapesDisplay,
    RobustnessDisplay,
    ScoreDisplay,
    SearchEmbeddingDisplay,
    TrainingCurveDisplay,
)


@pytest.fixture(scope="module")
def comparison():
    X, y = make_classification(150, 6, random_state=0)
    pipe = make_pipeline(
        StandardScaler(),
        LearnedActivationClassifier(
            (8, 8), max_iter=4, early_stopping=True, random_state=0
        ),
    )
    return compare_activations(
        pipe,
        X,
        y,
        "relu,mixture",
        cv=2,
        corruption=0.2,
        random_state=0,
        return_details=True,
    )[1]


@pytest.fixture(scope="module")
def pipeline():
    X, y = make_regression(100, 4, noise=1.0, random_state=0)
    pipe = make_pipeline(
        StandardScaler(),
        LearnedActivationRegressor(
            (8,), "spline", max_iter=4, early_stopping=True, random_state=0
        ),
    )
    return pipe.fit(X, 100 * y), X


def test_score_display_draws_the_tables_intervals(comparison):
    disp = ScoreDisplay.from_comparison(comparison)
    assert isinstance(disp.figure_, Figure)
    assert disp.ax_.get_xlabel() == "mean CV accuracy, 95% CI (as in the table)"
    table = comparison.table.iloc[::-1].reset_index(drop=True)  # drawn bottom-up
    drawn = {}
    for container in disp.ax_.containers:  # one errorbar per kind
        (points, _, (bars,)) = container.lines[0], None, container.lines[2]
        for (x, y), segment in zip(points.get_xydata(), bars.get_segments()):
            drawn[table["activation"].iloc[int(y)]] = (x, *segment[:, 0])
    for row in comparison.table.itertuples():
        mean, low, high = drawn[row.activation]
        assert (mean, low, high) == pytest.approx(
            (row.mean_score, row.ci_low, row.ci_high)
        )


def test_displays_draw_into_given_axes(comparison):
    fig = Figure()
    ax = fig.subplots()
    disp = ScoreDisplay.from_comparison(comparison, ax=ax)
    assert disp.ax_ is ax and disp.figure_ is fig
    left, right = Figure().subplots(1, 2)
    disp = RobustnessDisplay.from_comparison(comparison, ax=[left, right])
    assert list(disp.ax_) == [left, right]
    with pytest.raises(ValueError, match="draws 2 axes; got ax with 1"):
        RobustnessDisplay.from_comparison(comparison, ax=left)


def test_training_curves_from_a_pipeline_name_the_metric_and_loss(pipeline):
    pipe, _ = pipeline
    disp = TrainingCurveDisplay.from_estimator(pipe)
    loss_ax, score_ax = disp.ax_
    assert score_ax.get_ylabel() == "validation R²"
    assert loss_ax.get_ylabel() == "MSE on the standardised target"
    history = pipe[-1].history_
    (line,) = [ln for ln in score_ax.get_lines() if ln.get_label() == "spline"]
    assert np.allclose(line.get_ydata(), history["valid_score"])


def test_training_curves_of_a_comparison(comparison):
    disp = TrainingCurveDisplay.from_comparison(comparison)
    assert disp.ax_[1].get_ylabel() == "validation accuracy"
    assert set(disp.histories) == {"relu", "mixture"}


def test_activation_display_marks_the_inputs_seen_and_shows_relu(pipeline):
    pipe, X = pipeline
    disp = ActivationDisplay.from_estimator(pipe, X)
    ranges = activation_input_ranges(pipe, X)
    assert disp.input_ranges == ranges
    (low, high) = ranges[0]
    first = disp.ax_[0]
    lo, hi = first.get_xlim()
    assert lo < low and high < hi  # the first panel shows the whole data range
    assert hi - lo < 1.3 * (high - low) + 2.0
    spans = [p for p in first.patches if p.get_alpha() == pytest.approx(0.08)]
    assert len(spans) == 1
    band = spans[0]  # a Rectangle from axvspan
    assert (band.get_x(), band.get_x() + band.get_width()) == pytest.approx((low, high))
    relu = [ln for ln in first.get_lines() if ln.get_label() == "relu (ref.)"]
    assert relu and np.allclose(relu[0].get_ydata(), np.maximum(disp.inputs[0], 0))
    # the seed's wider ranges follow, the band marking where the data ended
    assert first.get_title().startswith("x in [")
    assert disp.ax_[-1].get_title() == "x in [-100, 100]"


def test_activation_display_of_a_comparison_shows_the_initial_shape(comparison):
    disp = ActivationDisplay.from_comparison(comparison, "mixture")
    assert disp.input_ranges == comparison.input_ranges["mixture"]
    assert disp.initial is not None
    # mixture starts at (relu + tanh + sin) / 3 on every layer
    x = disp.inputs[0]
    start = (np.maximum(x, 0) + np.tanh(x) + np.sin(x)) / 3
    assert np.allclose(disp.initial[0][0][:, 0], start, atol=1e-5)
    with pytest.raises(ValueError, match="No refitted model of 'tanh'"):
        ActivationDisplay.from_comparison(comparison, "tanh")


def test_activation_shapes_display_draws_expressions_and_the_reference():
    disp = ActivationShapesDisplay.from_expressions(
        ["tanh(x)", "abs(x)"], labels=["a", "b"], x_range=(-2.0, 2.0)
    )
    lines = {ln.get_label(): ln for ln in disp.ax_.get_lines()}
    assert list(lines)[:3] == ["a", "b", "relu(x)"]
    x = lines["b"].get_xdata()
    assert (x[0], x[-1]) == (-2.0, 2.0)
    assert np.allclose(lines["b"].get_ydata(), np.abs(x), atol=1e-6)
    assert lines["relu(x)"].get_linestyle() == "--"
    fig = Figure()
    ax = fig.add_subplot()
    disp = ActivationShapesDisplay.from_expressions(["sin(x)"], reference=None, ax=ax)
    assert disp.figure_ is fig and disp.ax_ is ax
    assert [ln.get_label() for ln in ax.get_lines()][0] == "sin(x)"


def test_search_embedding_display_marks_evaluated_baselines_and_the_best():
    emb = np.random.default_rng(0).random((10, 2))
    disp = SearchEmbeddingDisplay(
        emb,
        np.array([1, 4]),
        np.array([0.6, 0.9]),
        labels={1: "relu"},
        best=4,
        best_label="tanh(x)",
        features="outputs",
    ).plot()
    grey, evaluated, best = disp.ax_.collections
    assert len(grey.get_offsets()) == 10 and len(evaluated.get_offsets()) == 2
    assert np.allclose(best.get_offsets(), emb[[4]])
    assert [t.get_text() for t in disp.ax_.texts] == ["relu"]
    assert disp.colorbar_.ax.get_ylabel() == "CV score"
    assert disp.ax_.get_title() == "2 of 10 candidates evaluated (outputs features)"
