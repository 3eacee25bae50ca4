"""Find the learned-activation estimator inside a pipeline, and hook into its fit."""

from functools import cache

from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline

from ..estimators._base import LearnedActivationMixin

__all__ = ["learnact_step", "with_callbacks"]


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


@cache
def _hooked(cls: type) -> type:
    """``cls`` whose skorch net also gets the callbacks in ``_extra_callbacks``."""

    def _callbacks(self, total_epochs: int, validate: bool) -> list:
        return [*cls._callbacks(self, total_epochs, validate), *self._extra_callbacks]

    return type(cls.__name__, (cls,), {"_callbacks": _callbacks})


def with_callbacks(estimator: BaseEstimator, callbacks: list) -> BaseEstimator:
    """An unfitted clone of ``estimator`` whose net also runs ``callbacks``.

    ``callbacks`` are ``(name, skorch.callbacks.Callback)`` pairs, added after
    the estimator's own. The estimators take no callbacks parameter, so the
    learned-activation step is replaced by an instance of a private subclass
    that appends them; the clone is meant to be fitted in this process only
    (it does not pickle).
    """
    prefix, inner = learnact_step(estimator)
    hooked = _hooked(type(inner))(**inner.get_params(deep=False))
    hooked._extra_callbacks = list(callbacks)
    if not prefix:
        return hooked
    return clone(estimator).set_params(**{prefix[:-2]: hooked})
