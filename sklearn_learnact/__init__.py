"""sklearn-learnact: learned activation functions as scikit-learn estimators."""

from .estimators import (
    LearnedActivationClassifier,
    LearnedActivationRegressor,
    TrainingDivergedError,
)

__version__ = "0.1.0"

__all__ = [
    "LearnedActivationClassifier",
    "LearnedActivationRegressor",
    "TrainingDivergedError",
    "__version__",
]
