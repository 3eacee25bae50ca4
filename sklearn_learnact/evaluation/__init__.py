"""Fitting and scoring one fold, and what a fit says about itself.

:func:`fit_and_score` is the one fit-and-score path of every comparison and
search (failures recorded as NaN with their reason, an untimed warm-up before
the first timed fit); :func:`cv_splits` draws the cross-validation splits
they share; :func:`run_parallel` runs their fits with joblib (on a Dask
cluster too, where a lost worker fails no task); the diagnostics say whether
a fit is under-trained and how far a learned activation moved from its
initial shape.
"""

from ._diagnostics import (
    BARELY_MOVED,
    InitialActivations,
    activation_input_ranges,
    activation_movement,
    activation_outputs,
    is_under_trained,
)
from ._fit import fit_and_score
from ._parallel import run_parallel
from ._splits import cv_splits

__all__ = [
    "BARELY_MOVED",
    "InitialActivations",
    "activation_input_ranges",
    "activation_movement",
    "activation_outputs",
    "cv_splits",
    "fit_and_score",
    "is_under_trained",
    "run_parallel",
]
