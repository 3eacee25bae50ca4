"""Symbolic replacement of a learned activation: a * f(b * x + c) + d."""

import math

import numpy as np
import torch
from scipy.optimize import least_squares
from torch import nn

from ..activations import (
    activation_cost,
    available_activations,
    get_activation,
)
from ._fit import _as_function


class SymbolicActivation(nn.Module):
    r"""A fixed registry activation, rescaled: :math:`a f(b x + c) + d`.

    Parameters
    ----------
    name : str
        Fixed registry activation :math:`f`.
    a, b, c, d : float
        The constants.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.compression import SymbolicActivation
    >>> SymbolicActivation("relu", 2.0, 1.0, 0.0, 0.5)(torch.tensor([-1.0, 1.0]))
    tensor([0.5000, 2.5000])
    """

    def __init__(self, name: str, a: float, b: float, c: float, d: float) -> None:
        super().__init__()
        self.name = name
        self.f = get_activation(name)
        for key, value in zip("abcd", (a, b, c, d)):
            self.register_buffer(key, torch.tensor(float(value)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(self.d, self.f(torch.addcmul(self.c, x, self.b)), self.a)

    def n_stored(self) -> int:
        """Numbers stored: a, b, c, d."""
        return 4

    def madds_per_element(self) -> float:
        """Multiply-adds per element: f, plus the two affine maps."""
        return activation_cost(self.f) + 2.0

    def extra_repr(self) -> str:
        a, b, c, d = (float(getattr(self, k)) for k in "abcd")
        return f"{a:.4g} * {self.name}({b:.4g} * x + {c:.4g}) + {d:.4g}"


def _cost_key(name: str) -> float:
    cost = activation_cost(name)
    return math.inf if math.isnan(cost) else cost


def _fit_symbolic(x: np.ndarray, y: np.ndarray):
    """Best ``a * f(b * x + c) + d`` over the fixed registry: (name, abcd, r2).

    Fits within 1e-9 of the best R^2 count as ties (``tanh`` is a rescaled
    ``sigmoid``); the cheapest of them wins.
    """
    found = []
    total = np.sum((y - y.mean()) ** 2) or 1.0
    for name in available_activations("fixed"):
        f = _as_function(get_activation(name))

        def resid(p, f=f):
            return p[0] * f(p[1] * x + p[2]) + p[3] - y

        for b0, c0 in ((1.0, 0.0), (0.5, 0.0), (2.0, 0.0), (1.0, -0.5), (1.0, 0.5)):
            fx = f(b0 * x + c0)
            design = np.column_stack([fx, np.ones_like(fx)])
            (a0, d0), *_ = np.linalg.lstsq(design, y, rcond=None)
            try:
                sol = least_squares(resid, [a0, b0, c0, d0], max_nfev=200)
            except ValueError:  # non-finite values along the way
                continue
            r2 = 1.0 - np.sum(sol.fun**2) / total
            if np.isfinite(r2):
                found.append((float(r2), name, tuple(float(v) for v in sol.x)))
    if not found:
        return None, None, np.nan
    best = max(r2 for r2, _, _ in found)
    ties = [fit for fit in found if fit[0] >= best - 1e-9]
    # the cheapest of the ties (an unknown cost last)
    r2, name, abcd = min(ties, key=lambda fit: (_cost_key(fit[1]), -fit[0]))
    return name, abcd, r2
