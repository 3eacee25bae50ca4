"""sklearn-learnact: learned activation functions as scikit-learn estimators."""

from .compression import SplineActivationCompressor
from .estimators import (
    LearnedActivationClassifier,
    LearnedActivationRegressor,
    TrainingDivergedError,
)
from .persistence import load_model, save_model

__version__ = "0.1.0"

__all__ = [
    "LearnedActivationClassifier",
    "LearnedActivationRegressor",
    "SplineActivationCompressor",
    "TrainingDivergedError",
    "__version__",
    "load_model",
    "save_model",
]
