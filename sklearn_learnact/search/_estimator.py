"""Find the learned-activation estimator inside a pipeline."""

from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from ..estimators._base import LearnedActivationMixin

__all__ = ["learnact_step"]


def learnact_step(estimator: BaseEstimator) -> tuple[str, LearnedActivationMixin]:
    """The learned-activation estimator in ``estimator`` and its parameter prefix.

    ``estimator`` is a :class:`~sklearn_learnact.LearnedActivationClassifier`
    or regressor, or a (nested) :class:`~sklearn.pipeline.Pipeline` ending in
    one. The prefix is ``""`` or e.g. ``"learnedactivationclassifier__"``.
    """
    if isinstance(estimator, LearnedActivationMixin):
        return "", estimator
    if isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        prefix, inner = learnact_step(last)
        return f"{name}__{prefix}", inner
    raise TypeError(
        "estimator must be a LearnedActivationClassifier, a "
        "LearnedActivationRegressor or a Pipeline ending in one, got "
        f"{type(estimator).__name__}."
    )
