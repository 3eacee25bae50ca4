"""One validation style: loaders, generators, estimators and the compressor
raise the same error type for a bad argument."""

import numpy as np
import pytest

from sklearn_learnact import LearnedActivationClassifier
from sklearn_learnact._validation import InvalidParameterError
from sklearn_learnact.compression import SplineActivationCompressor
from sklearn_learnact.datasets import corrupt_labels, make_infinite_regression


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
    ],
    ids=["corrupt_labels", "make_infinite_regression", "estimator", "compressor"],
)
def test_one_error_type_that_is_both_value_and_type_error(call):
    with pytest.raises(InvalidParameterError) as info:
        call()
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
