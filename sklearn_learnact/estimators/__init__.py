"""scikit-learn estimators with learnable activations."""

from ._base import (
    LearnedActivationEstimator,
    learnact_step,
    resolve_device,
    wrapped_estimator_tags,
)
from ._skorch import TrainingDivergedError
from .classifier import LearnedActivationClassifier
from .regressor import LearnedActivationRegressor

__all__ = [
    "LearnedActivationClassifier",
    "LearnedActivationEstimator",
    "LearnedActivationRegressor",
    "TrainingDivergedError",
    "learnact_step",
    "resolve_device",
    "wrapped_estimator_tags",
]
