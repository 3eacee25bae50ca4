"""Compress learned activations into fast splines.

:class:`SplineActivationCompressor` takes a fitted (or unfitted) learned-activation
estimator, records the inputs that every learned activation actually sees, fits
a spline to each activation over that range, and swaps the spline in: the result
is a normal fitted estimator that predicts faster. :func:`fit_spline` fits the
spline of one activation over a given range (what the compressor does per
layer). :class:`SplineActivation` is the inference module: a piecewise
polynomial on a uniform grid, evaluated with a handful of elementwise torch ops
(an affine index, a clamp, table look-ups, one fused multiply-add), whatever
the number of knots. Piecewise-linear activations whose kinks are known (a ReLU
``mlp`` subnetwork, ``prelu``) are compressed exactly: a grid with at most one
kink per cell, each cell a line plus ``d * max(x, t)``.
"""

from ._compressor import CompressedLayer, SplineActivationCompressor
from ._cost import activation_madds
from ._fit import fit_spline
from ._spline import SplineActivation
from ._symbolic import SymbolicActivation

__all__ = [
    "CompressedLayer",
    "SplineActivation",
    "SplineActivationCompressor",
    "SymbolicActivation",
    "activation_madds",
    "fit_spline",
]
