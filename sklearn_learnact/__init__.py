"""sklearn-learnact: learned activation functions as scikit-learn estimators."""

__version__ = "0.1.0"
