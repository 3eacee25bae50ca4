"""scikit-learn estimators with learnable activations."""

from ._base import (
    LearnedActivationEstimator,
    learnact_step,
    resolve_device,
    wrapped_estimator_tags,
)
from ._skorch import TrainingDivergedError
from ._state import network_state, restore_network
from .classifier import LearnedActivationClassifier
from .regressor import LearnedActivationRegressor

__all__ = [
    "LearnedActivationClassifier",
    "LearnedActivationEstimator",
    "LearnedActivationRegressor",
    "TrainingDivergedError",
    "learnact_step",
    "network_state",
    "resolve_device",
    "restore_network",
    "wrapped_estimator_tags",
]
