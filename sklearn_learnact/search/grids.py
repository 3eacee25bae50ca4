"""Grids over activations: kept so that ``sklearn_learnact.search.grids``
imports keep working; the code lives in :mod:`sklearn_learnact.compare`."""

from ..compare import activation_grid, parse_activations

__all__ = ["activation_grid", "parse_activations"]
