"""Fitting one activation: uniform least-squares splines and exact kink forms.

:func:`fit_spline` is the public entry point (the compressor's one path).
"""

import copy
import numbers
import warnings

import numpy as np
import torch
from numpy.typing import ArrayLike
from scipy.interpolate import PPoly, make_lsq_spline
from torch import nn

from .._validation import (
    Boolean,
    Interval,
    InvalidParameterError,
    Options,
    validate_call,
)
from ..activations import (
    PReLU,
    Subnet,
    numpy_function,
)
from ._spline import SplineActivation

#: Recorded inputs on which the maximum error is measured (a random subset).
_MAX_CHECKED = 100_000


#: The spline parameters' declared constraints (shared with the compressor).
SPLINE_CONSTRAINTS = {
    "degree": [Options(1, 3)],
    "tol": [Interval(numbers.Real, 0.0, None, "neither")],
    "n_knots": [Options("auto"), Interval(numbers.Integral, 2, None)],
    "max_knots": [Interval(numbers.Integral, 2, None)],
    "exact": [Boolean()],
}


@validate_call(SPLINE_CONSTRAINTS)
def fit_spline(
    module: nn.Module,
    low: float | ArrayLike,
    high: float | ArrayLike,
    *,
    degree: int = 1,
    tol: float = 1e-3,
    n_knots: int | str = "auto",
    max_knots: int = 4096,
    exact: bool = True,
    values: ArrayLike | None = None,
) -> tuple[SplineActivation, dict]:
    """Fit a :class:`SplineActivation` to one activation over a range.

    The spline follows ``module`` on ``[low, high]`` and continues linearly
    beyond it with the activation's own slopes at the ends. It is what
    :class:`SplineActivationCompressor` does for each learned activation, on
    the range the recorded inputs reach.

    Parameters
    ----------
    module : torch.nn.Module
        The activation: any elementwise module (learned or fixed); one with
        ``num_parameters=C > 1`` gets one spline per channel (dim 1).
    low, high : float or array-like of shape (C,)
        The range to follow, per channel or for all channels;
        ``low < high``.
    degree : {1, 3}, default=1
        Degree of the uniform spline.
    tol : float, default=1e-3
        Target maximum absolute error on the range (``n_knots="auto"``), and
        the merge error budget of an exact compression (kinks closer than
        ``tol / 100`` in effect are merged).
    n_knots : "auto" or int, default="auto"
        Uniform knots on the range; ``"auto"``: the fewest whose maximum
        error is below ``tol``, up to ``max_knots`` (a warning says when even
        ``max_knots`` is not enough).
    max_knots : int, default=4096
        Most knots (or cells of an exact compression) ``"auto"`` may use.
    exact : bool, default=True
        With ``n_knots="auto"``, represent a piecewise-linear activation whose
        kinks are known (a ReLU ``mlp`` subnetwork, ``prelu``) exactly, up to
        float32 rounding: one kink per cell, at most ``max_knots`` cells (else
        the uniform spline is fitted). Kinks that no input reaches (outside
        ``values``, or outside the range without ``values``) fold into the
        linear tails.
    values : array-like of shape (n_values,) or (n_values, C), optional
        Inputs the activation actually receives: the error is also measured
        on those inside the range, and they decide which kinks are reached.

    Returns
    -------
    spline : SplineActivation
        The fitted spline (evaluated eagerly; set ``compiled=True`` to run
        it as a fused kernel, as the compressor does by default).
    info : dict
        ``n_knots`` (an exact compression: the kinks kept plus the two ends),
        ``n_cells`` (of the grid, the two tail cells included), ``degree``,
        ``exact`` (whether the exact kink form was used) and ``max_error``:
        the maximum absolute error, in float32, on a dense grid of the range
        (16 points per cell, at least 4001) and on the ``values`` inside it.

    See Also
    --------
    SplineActivationCompressor : Fits one per learned activation of a model.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.compression import fit_spline
    >>> spline, info = fit_spline(torch.nn.Tanh(), -3.0, 3.0, tol=1e-3)
    >>> info["n_knots"], info["exact"], bool(info["max_error"] < 1e-3)
    (49, False, True)
    >>> x = torch.tensor([-5.0, 0.5, 5.0])
    >>> bool((spline(x) - torch.tanh(x)).abs()[1] < 1e-3)
    True
    """
    check_knots(degree, n_knots, max_knots)
    n_channels = getattr(module, "num_parameters", 1)
    lo, hi = (
        _per_channel(v, name, n_channels) for v, name in ((low, "low"), (high, "high"))
    )
    if not np.all(lo < hi):
        raise ValueError(f"low must be below high, got low={low!r}, high={high!r}.")
    inside = None
    if values is not None:
        values = np.asarray(values, dtype=np.float64)
        values = values.reshape(-1, 1) if values.ndim == 1 else values
        if values.ndim != 2 or values.shape[1] != n_channels or not len(values):
            raise ValueError(
                f"values must have shape (n_values, {n_channels}) for this "
                f"{type(module).__name__}, got {values.shape}."
            )
        inside = values
        if len(inside) > _MAX_CHECKED:
            rng = np.random.default_rng(0)
            inside = inside[rng.choice(len(inside), _MAX_CHECKED, replace=False)]
        inside = np.clip(inside, lo, hi)
    forms = _kink_form(module) if exact and n_knots == "auto" else None
    reached = np.stack([lo, hi]) if values is None else values
    found = forms and _exact_spline(forms, reached, lo, hi, tol, max_knots)
    if found:
        spline, n_kinks, n_cells = found
        n_knots = n_kinks + 2
    else:
        if n_knots == "auto":
            n_knots, spline, _ = _search_knots(
                module, lo, hi, degree, tol, max_knots, inside
            )
        else:
            spline, _ = _spline_for(module, lo, hi, n_knots, degree, inside)
        n_cells = spline.n_cells
    fn = _as_function(module)
    max_error = _max_error(spline, fn, _check_points(lo, hi, n_cells + 1, inside))
    info = {
        "n_knots": int(n_knots),
        "n_cells": int(n_cells),
        "degree": spline.degree,
        "exact": bool(found),
        "max_error": max_error,
    }
    return spline, info


def check_knots(degree: int, n_knots, max_knots: int) -> None:
    """The knot counts a spline of ``degree`` needs: at least ``degree + 1``."""
    for name, value in (("n_knots", n_knots), ("max_knots", max_knots)):
        if value != "auto" and value < degree + 1:
            raise InvalidParameterError(
                f"{name} must be at least degree + 1 = {degree + 1} for a "
                f"degree-{degree} spline, got {value!r}."
            )


def _per_channel(value, name: str, n_channels: int) -> np.ndarray:
    """``low`` or ``high`` as a finite float64 array of shape (C,)."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        array = np.full(n_channels, float(array))
    if array.shape != (n_channels,) or not np.all(np.isfinite(array)):
        raise ValueError(
            f"{name} must be a finite number or {n_channels} finite numbers (one "
            f"per channel), got {value!r}."
        )
    return array


# ----------------------------------------------------------------- fitting
#: The activation as a float64 numpy function of a (G, C) array.
_as_function = numpy_function


def _slopes(module: nn.Module, x: np.ndarray) -> np.ndarray:
    """Derivative of the activation at the points ``x`` of shape (G, C)."""
    module = copy.deepcopy(module).to(device="cpu", dtype=torch.float64).eval()
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    module(xt).sum().backward()
    return xt.grad.numpy()


def _fit_cells(x, y, lo, hi, n_knots, degree, end_values_slopes):
    """Least-squares spline of one channel, as a table of cells with tails."""
    knots = np.linspace(lo, hi, n_knots)
    t = np.r_[[lo] * degree, knots, [hi] * degree]
    spline = make_lsq_spline(x, y, t, k=degree)
    pp = PPoly.from_spline(spline)
    keep = np.diff(pp.x) > 0
    breaks, c = pp.x[:-1][keep], pp.c[:, keep]  # c[m] multiplies (x - break)^(k-m)
    h = (hi - lo) / (n_knots - 1)
    slope_lo, slope_hi = end_values_slopes
    s_lo, s_hi = spline(lo), spline(hi)
    if degree == 1:
        slope = c[0]
        inner = np.stack([c[1] - c[0] * breaks, slope])
        left = [s_lo - slope_lo * lo, slope_lo]
        right = [s_hi - slope_hi * hi, slope_hi]
    else:
        powers = h ** np.arange(degree + 1)
        inner = c[::-1] * powers[:, None]  # coefficients of t^0 .. t^degree
        left = [s_lo - slope_lo * h, slope_lo * h] + [0.0] * (degree - 1)
        right = [s_hi, slope_hi * h] + [0.0] * (degree - 1)
    table = np.column_stack([left, inner, right])
    return table, spline, h


def _grid(lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray:
    """(n, C) grid: column c is ``linspace(lo[c], hi[c], n)``."""
    return np.clip(lo + (hi - lo) * np.linspace(0.0, 1.0, n)[:, None], lo, hi)


def _check_points(lo, hi, n_knots, inside=None) -> np.ndarray:
    """Where the error is measured: a dense grid (16 points per cell) and the
    recorded inputs within the range, ``inside``, shape (n, C)."""
    x = _grid(lo, hi, max(4001, 16 * (n_knots - 1) + 1))
    return x if inside is None else np.concatenate([x, inside])


def _spline_for(module, lo, hi, n_knots, degree, inside=None):
    """Fit one spline per channel with ``n_knots``; return module and max error."""
    fn = _as_function(module)
    n_fit = max(2001, 8 * (n_knots - 1) + 1)
    x = _grid(lo, hi, n_fit)
    y = fn(x)
    ends = _slopes(module, np.stack([lo, hi]))
    tables, steps = [], []
    for ch in range(lo.size):
        table, _, h = _fit_cells(
            x[:, ch], y[:, ch], lo[ch], hi[ch], n_knots, degree, ends[:, ch]
        )
        tables.append(table)
        steps.append(h)
    steps = np.asarray(steps)
    table = np.stack(tables, axis=1)  # (degree + 1, C, n_cells)
    if lo.size == 1:
        table = table[:, 0]
    spline = SplineActivation(
        torch.tensor(lo - steps, dtype=torch.float32),
        torch.tensor(steps, dtype=torch.float32),
        torch.tensor(table, dtype=torch.float32),
    )
    err = _max_error(spline, fn, _check_points(lo, hi, n_knots, inside))
    return spline, err


def _kink_form(module: nn.Module):
    """A piecewise-linear activation as ``c0 + c1 x + sum_k d_k relu(x - t_k)``.

    Returns one ``(c0, c1, t, d)`` (float64, ``t`` and ``d`` arrays) per
    channel for the activations whose kinks are known: a ReLU :class:`Subnet`
    and :class:`PReLU`; ``None`` for the others.
    """
    if isinstance(module, Subnet) and type(module.hidden) is nn.ReLU:
        w1, b1, w2 = (
            getattr(module, k).detach().double().cpu().numpy()
            for k in ("w1", "b1", "w2")
        )
        on = w1 != 0
        c0 = float(module.b2.detach()) + float(np.sum((w2 * np.maximum(b1, 0))[~on]))
        c1 = 0.0
        w1, b1, w2 = w1[on], b1[on], w2[on]
        t, d = -b1 / w1, w2 * np.abs(w1)
        # relu(w1 x + b1) = |w1| (relu(x - t) - (x - t)) when w1 < 0
        neg = w1 < 0
        c1 -= float(np.sum(d[neg]))
        c0 += float(np.sum(d[neg] * t[neg]))
        return [(c0, c1, t, d)]
    if isinstance(module, PReLU):
        a = module.weight.detach().double().cpu().numpy()
        return [(0.0, float(s), np.zeros(1), np.array([1.0 - s])) for s in a]
    return None


def _merge_kinks(t: np.ndarray, d: np.ndarray, tol: float):
    """Merge neighbouring kinks whose merge error is below ``tol / 100``.

    A pair of slope changes of the same sign becomes one kink at their
    weighted mean (exact outside the pair); otherwise the smaller one moves
    onto the larger (an offset of ``|d_small| * gap`` beyond the pair).
    """
    order = np.argsort(t)
    t, d = list(t[order]), list(d[order])
    k = 0
    while k < len(t) - 1:
        gap = t[k + 1] - t[k]
        if min(abs(d[k]), abs(d[k + 1])) * gap < tol / 100:
            total = d[k] + d[k + 1]
            if d[k] * d[k + 1] > 0:
                t[k] = (d[k] * t[k] + d[k + 1] * t[k + 1]) / total
            elif abs(d[k + 1]) > abs(d[k]):
                t[k] = t[k + 1]
            d[k] = total
            del t[k + 1], d[k + 1]
            k = max(k - 1, 0)
        else:
            k += 1
    t, d = np.asarray(t), np.asarray(d)
    keep = d != 0
    return t[keep], d[keep]


def _one_kink_per_cell(kinks, lo, hi, max_cells):
    """Fewest uniform cells on each ``[lo[c], hi[c]]`` holding one kink at most."""
    n = max([1] + [len(t) for t in kinks])
    while n <= max_cells:
        if all(
            len(np.unique(np.clip(((t - a) / (b - a) * n).astype(int), 0, n - 1)))
            == len(t)
            for t, a, b in zip(kinks, lo, hi)
        ):
            return n
        n += 1
    return None


def _exact_spline(forms, values, lo, hi, tol, max_cells):
    """Exact :class:`SplineActivation` of a piecewise-linear activation.

    The kinks that the recorded ``values`` reach are kept (neighbours merged
    when that costs less than ``tol / 100``), and the grid widened to cover
    them; kinks beyond the recorded inputs are folded into the tails, so the
    spline is the activation up to its first unreached kink and linear beyond.
    Returns ``(spline, number of kinks kept, n_cells)``, or ``None`` if more
    than ``max_cells`` cells would be needed.
    """
    vmin, vmax = values.min(axis=0), values.max(axis=0)
    kept, lines = [], []
    for c, (c0, c1, t, d) in enumerate(forms):
        left, right = t < vmin[c], t > vmax[c]
        c0 -= float(np.sum(d[left] * t[left]))  # relu(x - t) = x - t there
        c1 += float(np.sum(d[left]))
        inside = ~(left | right)
        kept.append(_merge_kinks(t[inside], d[inside], tol))
        lines.append((c0, c1))
    lo = np.minimum(lo, [t.min(initial=a) for (t, _), a in zip(kept, lo)])
    hi = np.maximum(hi, [t.max(initial=b) for (t, _), b in zip(kept, hi)])
    n = _one_kink_per_cell([t for t, _ in kept], lo, hi, max_cells)
    if n is None:
        return None
    step = (hi - lo) / n
    table = np.zeros((2, lo.size, n))
    kinks = np.zeros((2, lo.size, n))
    for c, ((t, d), (c0, c1)) in enumerate(zip(kept, lines)):
        cell = np.clip(((t - lo[c]) / step[c]).astype(int), 0, n - 1)
        # kinks left of each cell: the line there is c0 + c1 x + their sum
        before = np.searchsorted(cell, np.arange(n), side="left")
        cum_d, cum_dt = np.r_[0.0, np.cumsum(d)], np.r_[0.0, np.cumsum(d * t)]
        table[0, c] = c0 - cum_dt[before]
        table[1, c] = c1 + cum_d[before]
        kinks[0, c, cell], kinks[1, c, cell] = d, t
        table[0, c, cell] -= d * t  # d relu(x - t) = d max(x, t) - d t
    if lo.size == 1:
        table, kinks = table[:, 0], kinks[:, 0]
    spline = SplineActivation(
        *(torch.tensor(v, dtype=torch.float32) for v in (lo, step, table, kinks))
    )
    return spline, sum(len(t) for t, _ in kept), n


def _max_error(module: nn.Module, fn, x: np.ndarray) -> float:
    """Max |module(x) - fn(x)| over a (G, C) array, module run in float32."""
    with torch.inference_mode():  # as predict (one compiled graph)
        approx = module(torch.as_tensor(x, dtype=torch.float32)).double().numpy()
    return float(np.abs(approx - fn(x)).max())


def _search_knots(module, lo, hi, degree, tol, max_knots, inside=None):
    """Fewest uniform knots with max error < tol (doubling, then bisection)."""
    k_min = degree + 1
    fits = {}

    def fit(k):
        if k not in fits:
            fits[k] = _spline_for(module, lo, hi, k, degree, inside)
        return fits[k]

    k = k_min
    while fit(k)[1] >= tol and k < max_knots:
        k = min(2 * k, max_knots)
    if fit(k)[1] < tol:
        good, bad = k, k_min - 1
        while good - bad > 1:
            mid = (good + bad) // 2
            if mid >= k_min and fit(mid)[1] < tol:
                good = mid
            else:
                bad = mid
        k = good
    else:
        warnings.warn(
            f"The spline error {fit(k)[1]:.2g} is above tol={tol:g} even with "
            f"max_knots={max_knots} knots; raise max_knots or tol, or use degree=3.",
            UserWarning,
            stacklevel=3,
        )
    return k, *fit(k)
