"""Optuna studies: kept so that ``sklearn_learnact.search.optuna`` imports keep
working; the code lives in :mod:`sklearn_learnact.studies`."""

from .. import studies
from ..studies import *  # noqa: F403 - this module re-exports every public name

__all__ = studies.__all__
