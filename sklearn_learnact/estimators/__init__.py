"""scikit-learn estimators with learnable activations."""

from ._skorch import TrainingDivergedError
from .classifier import LearnedActivationClassifier
from .regressor import LearnedActivationRegressor

__all__ = [
    "LearnedActivationClassifier",
    "LearnedActivationRegressor",
    "TrainingDivergedError",
]
