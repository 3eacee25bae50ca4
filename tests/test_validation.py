"""One validation style: loaders, generators, estimators and the compressor
raise the same error type for a bad argument."""

import numpy as np
import pytest

from sklearn_learnact import LearnedActivationClassifier
from sklearn_learnact._validation import InvalidParameterError
from sklearn_learnact.activations import get_activation
from sklearn_learnact.compare import compare_activations
from sklearn_learnact.compression import SplineActivationCompressor, fit_spline
from sklearn_learnact.datasets import corrupt_labels, make_infinite_regression
from sklearn_learnact.surrogate import SurrogateActivationSearch

X, Y = np.zeros((8, 2)), [0, 1] * 4


@pytest.mark.parametrize(
    "call",
    [
        lambda: corrupt_labels(np.array([0, 1]), fraction=True),
        lambda: make_infinite_regression(n_features=0),
        lambda: LearnedActivationClassifier(max_iter=True).fit(
            np.zeros((4, 2)), [0, 1, 0, 1]
        ),
        lambda: SplineActivationCompressor(
            LearnedActivationClassifier(), exact="yes"
        ).fit(np.zeros((4, 2)), [0, 1, 0, 1]),
        lambda: compare_activations(LearnedActivationClassifier(), X, Y, cv=1),
        lambda: compare_activations(
            LearnedActivationClassifier(), X, Y, search="random"
        ),
        lambda: SurrogateActivationSearch(LearnedActivationClassifier(), n_iter=0).fit(
            X, Y
        ),
        lambda: get_activation("rational", degrees=(0, 2)),
        lambda: fit_spline(get_activation("tanh"), -1.0, 1.0, degree=2),
    ],
    ids=[
        "corrupt_labels",
        "make_infinite_regression",
        "estimator",
        "compressor",
        "compare_activations",
        "compare_activations_search",
        "surrogate_search",
        "activation_module",
        "fit_spline",
    ],
)
def test_one_error_type_that_is_both_value_and_type_error(call):
    with pytest.raises(InvalidParameterError, match=r" must be .*, got ") as info:
        call()
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
