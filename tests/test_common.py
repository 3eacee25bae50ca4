"""scikit-learn's estimator checks, run on both estimators.

Every expected failure is listed with its reason; nothing is skipped wholesale.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_learnact import LearnedActivationClassifier, LearnedActivationRegressor

# Small nets and a high learning rate: the checks fit ~50 times per estimator.
_FAST = {"hidden_layer_sizes": (32,), "learning_rate_init": 1e-2, "random_state": 0}

ESTIMATORS = [
    LearnedActivationClassifier(max_iter=200, **_FAST),
    LearnedActivationRegressor(max_iter=200, **_FAST),
]

_WEIGHTS_ARE_NOT_REPETITIONS = (
    "Minibatch training: repeating a sample changes the batches and the number "
    "of optimiser steps per epoch, so a weight of 2 is not the same fit as a "
    "repeated sample (sklearn's own MLP has the same property)."
)
_FLOAT32_ROWS = (
    "float32 matrix products can differ in the last bit with the number of rows "
    "(BLAS picks other kernels and thread splits): raw outputs (regression "
    "predictions, the classifier's logits in decision_function) on a subset then "
    "differ by about 1 ulp (2e-7), above the check's 1e-7 tolerance. Whether it "
    "shows varies from run to run (non-strict)."
)
EXPECTED_FAILED_CHECKS = {
    "LearnedActivationClassifier": {
        "check_sample_weight_equivalence_on_dense_data": _WEIGHTS_ARE_NOT_REPETITIONS,
        "check_methods_subset_invariance": _FLOAT32_ROWS,
    },
    "LearnedActivationRegressor": {
        "check_sample_weight_equivalence_on_dense_data": _WEIGHTS_ARE_NOT_REPETITIONS,
        "check_methods_subset_invariance": _FLOAT32_ROWS,
    },
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
