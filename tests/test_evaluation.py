"""The one fit-and-score path, the shared splits and the fit diagnostics."""

import numpy as np
import pytest

from sklearn_learnact import LearnedActivationClassifier
from sklearn_learnact.compare import compare_activations
from sklearn_learnact.evaluation import (
    InitialActivations,
    activation_input_ranges,
    activation_movement,
    cv_splits,
    fit_and_score,
)

TINY = {"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0}


class _SlowFirstFit(LearnedActivationClassifier):
    """The first fit of the process costs 1 s of a fake clock, later ones 0.1 s."""

    clock = [0.0]
    fits = [0]

    def fit(self, X, y, **kwargs):
        self.clock[0] += 1.0 if self.fits[0] == 0 else 0.1
        self.fits[0] += 1
        return super().fit(X, y, **kwargs)


def test_the_first_fit_of_a_process_is_not_charged_the_warm_up(
    tiny_classification, monkeypatch
):
    import sklearn_learnact.evaluation._fit as fit_module

    monkeypatch.setattr(fit_module, "perf_counter", lambda: _SlowFirstFit.clock[0])
    X, y = tiny_classification
    table = compare_activations(
        _SlowFirstFit(**TINY), X, y, "relu,tanh", cv=2, refit=False
    )
    assert table["fit_time"].tolist() == pytest.approx([0.1, 0.1])


def test_fit_and_score_reports_failures_as_error_score_nan(tiny_classification):
    X, y = tiny_classification
    est = LearnedActivationClassifier(**TINY)
    train, test = np.arange(80), np.arange(80, 120)

    def broken_scorer(estimator, X, y):
        raise ValueError("this scorer does not apply")

    result = fit_and_score(est, X, y, train, test, broken_scorer)
    assert np.isnan(result["score"])
    assert result["error"] == "ValueError: this scorer does not apply"
    result = fit_and_score(est, X, y, train, test, lambda *a: float("nan"))
    assert "not a finite number" in result["error"]
    with pytest.raises(KeyError):  # only what the caller lets through
        fit_and_score(est, X, y, train, test, lambda *a: {}["x"], reraise=(KeyError,))


def test_movement_is_the_documented_distance_from_the_initial_shape(
    tiny_classification,
):
    X, y = tiny_classification
    start = InitialActivations()
    clf = LearnedActivationClassifier(
        (8,), "affine", max_iter=20, activation_lr=0.05, random_state=0
    ).fit(X, y, callbacks=[("start", start)])
    ranges = activation_input_ranges(clf, X)
    (layer,) = activation_movement(clf, start.modules_, ranges)
    low, high = ranges[0]
    values = clf.learned_activations_.set_index("parameter")["value"]
    k0, k1 = values["k0"], values["k1"]
    # affine starts as 0.5 + x: f - f0 = (k0 - 0.5) + (k1 - 1) x, largest at an end
    change = max(abs(k0 - 0.5 + (k1 - 1) * x) for x in (low, high))
    assert layer["max_change"] == pytest.approx(change, rel=1e-4)
    assert layer["movement"] == pytest.approx(change / (high - low), rel=1e-4)
    # the recorded range is the range of the layer's inputs
    hidden = X @ clf.coefs_[0] + clf.intercepts_[0]
    assert (low, high) == pytest.approx((hidden.min(), hidden.max()), rel=1e-4)


def test_cv_splits_are_seeded_stratified_k_folds_or_the_given_splitter(
    tiny_classification,
):
    from sklearn.model_selection import KFold

    X, y = tiny_classification
    splits = cv_splits(3, X, y, classifier=True, random_state=0)
    again = cv_splits(3, X, y, classifier=True, random_state=0)
    assert len(splits) == 3
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, again))
    share = np.bincount(y) / len(y)
    for _, test in splits:  # stratified
        assert np.allclose(np.bincount(y[test]) / len(test), share, atol=0.05)
    given = cv_splits(KFold(4), X, y, classifier=True)
    assert [t.tolist() for _, t in given] == [
        t.tolist() for _, t in KFold(4).split(X, y)
    ]


class _FiltersSwapped(LearnedActivationClassifier):
    """A fit during which the warnings filters change under it, as another
    thread's ``warnings.catch_warnings`` does (e.g. a Dask worker's event loop
    unpickling data while a task fits)."""

    def fit(self, X, y, **kwargs):
        import warnings

        warnings.simplefilter("ignore")  # restored by fit_and_score's block
        return super().fit(X, y, **kwargs)


def test_under_trained_fits_are_told_by_the_estimator_not_its_warning(
    tiny_classification,
):
    X, y = tiny_classification
    train, test = np.arange(80), np.arange(80, 120)
    scorer = lambda est, X, y: est.score(X, y)  # noqa: E731
    plain = fit_and_score(
        LearnedActivationClassifier(**TINY), X, y, train, test, scorer
    )
    swapped = fit_and_score(_FiltersSwapped(**TINY), X, y, train, test, scorer)
    assert plain["under_trained"] and swapped["under_trained"]  # 3 epochs: all run
    stopped = LearnedActivationClassifier(
        (8,), max_iter=50, early_stopping=True, n_iter_no_change=1, random_state=0
    )
    assert not fit_and_score(stopped, X, y, train, test, scorer)["under_trained"]
