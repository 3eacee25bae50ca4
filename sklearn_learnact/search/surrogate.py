"""The surrogate activation search: kept so that
``sklearn_learnact.search.surrogate`` imports keep working; the code lives in
:mod:`sklearn_learnact.surrogate`, its figures in :mod:`sklearn_learnact.plotting`
(:class:`~sklearn_learnact.plotting.ActivationShapesDisplay`,
:class:`~sklearn_learnact.plotting.SearchEmbeddingDisplay`)."""

from .. import surrogate
from ..surrogate import *  # noqa: F403 - this module re-exports every public name

__all__ = surrogate.__all__
