"""Compress learned activations into fast splines (seed 000).

:class:`SplineActivationCompressor` takes a fitted (or unfitted) learned-activation
estimator, records the inputs that every learned activation actually sees, fits
a spline to each activation over that range, and swaps the spline in: the result
is a normal fitted estimator that predicts faster. :class:`SplineActivation` is
the inference module: a piecewise polynomial on a uniform grid, evaluated with a
handful of elementwise torch ops (an affine index, a clamp, table look-ups, one
fused multiply-add), whatever the number of knots. Piecewise-linear activations
whose kinks are known (a ReLU ``mlp`` subnetwork, ``prelu``) are compressed
exactly: a grid with at most one kink per cell, each cell a line plus
``d * max(x, t)``.
"""

import copy
import functools
import numbers
import types
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from scipy.interpolate import PPoly, make_lsq_spline
from scipy.optimize import least_squares
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _num_samples, check_is_fitted
from torch import nn

from .activations import (
    LearnableActivation,
    PReLU,
    Subnet,
    available_activations,
    get_activation,
)
from .activations.learnable import channel_view
from .estimators._base import LearnedActivationMixin

__all__ = [
    "SplineActivation",
    "SplineActivationCompressor",
    "SymbolicActivation",
    "activation_madds",
    "plot_compression",
]

#: Multiply-add equivalents of one transcendental evaluation (exp, tanh, sin,
#: erf, log): a convention for the cost columns, not a measurement.
TRANSCENDENTAL_MADDS = 10.0
_T = TRANSCENDENTAL_MADDS
#: Multiply-adds per element of each fixed activation (keys: the registry's).
FIXED_MADDS = {
    "identity": 0.0,
    "relu": 1.0,
    "leaky_relu": 2.0,
    "elu": _T + 2.0,
    "selu": _T + 3.0,
    "gelu": _T + 3.0,
    "silu": _T + 2.0,
    "mish": 3 * _T + 1.0,
    "softplus": 2 * _T + 2.0,
    "softsign": 3.0,
    "sigmoid": _T + 2.0,
    "tanh": _T,
    "sin": _T,
    "hardswish": 4.0,
}
_MAX_RECORDED = 2_000_000  # recorded inputs kept per activation (a random subset)
_MAX_CHECKED = 100_000  # recorded inputs on which the max error is measured


def _fixed_madds(name: str) -> float:
    if name not in FIXED_MADDS:
        raise KeyError(
            f"No cost for the fixed activation {name!r}; add it to FIXED_MADDS."
        )
    return FIXED_MADDS[name]


def activation_madds(module: nn.Module) -> float:
    """Multiply-adds per element of an activation module (a cost model).

    Learnable activations report their own cost (``madds_per_element``) in
    terms of :data:`FIXED_MADDS`, the one table of fixed-activation costs, in
    which a transcendental function counts as :data:`TRANSCENDENTAL_MADDS`.

    Parameters
    ----------
    module : torch.nn.Module
        A learnable or compressed activation, or a fixed registry activation.

    Returns
    -------
    madds : float

    Examples
    --------
    >>> from sklearn_learnact.activations import Subnet
    >>> from sklearn_learnact.compression import activation_madds
    >>> activation_madds(Subnet(hidden_size=16))  # 16 * (2 + relu) + 1
    49.0
    """
    if hasattr(module, "madds_per_element"):
        return float(module.madds_per_element(_fixed_madds))
    for name in available_activations("fixed"):
        if type(get_activation(name)) is type(module):
            return _fixed_madds(name)
    raise TypeError(f"No cost model for {type(module).__name__}.")


class SplineActivation(nn.Module):
    r"""A fixed piecewise polynomial on a uniform grid, with linear tails.

    Between ``lo`` and ``lo + n_cells * step`` the function is a polynomial of
    degree ``degree`` in each cell; the first and last cells hold the tails,
    straight lines that continue the function with its end slopes, so outside
    the grid it extrapolates linearly (with ``kinks``, the first and last cells
    continue as they are, kink included). Evaluation costs the same few
    elementwise ops whatever the number of cells:

    .. math::

        u = (x - lo) / step, \quad j = \text{clamp}(\lfloor u \rfloor, 0,
        n_{cells} - 1), \quad y = c_0[j] + c_1[j]\, x \;\;(\text{degree } 1)

    and, for degree > 1, Horner's scheme in the local coordinate ``u - j``.
    With one spline per channel (``lo`` of shape ``(C,)``), each channel (dim 1
    of the input) has its own grid and table. It has no parameters, only
    buffers: it follows ``.to()``, is saved in the ``state_dict`` and pickles.

    Parameters
    ----------
    lo : Tensor of shape () or (C,)
        Left edge of the grid (of the left tail cell).
    step : Tensor of shape () or (C,)
        Cell width.
    table : Tensor of shape (degree + 1, n_cells) or (degree + 1, C, n_cells)
        Per cell: for degree 1 the intercept and slope in ``x``
        (``y = table[0] + table[1] * x``); for higher degrees the coefficients
        of ``t^0 .. t^degree`` in ``t = u - j`` in ``[0, 1)``.
    kinks : Tensor of the shape of ``table``, optional
        Degree 1 only: per cell a slope change ``d`` and its position ``t``
        (rows), adding ``d * max(x, t)``: one kink per cell, so a piecewise
        linear function with kinks anywhere is represented exactly (``d = 0``
        in cells without a kink).
    compiled : bool, default=False
        Evaluate with ``torch.compile`` (an attribute: it can be switched on
        and off, and it pickles as a flag; the compiled kernels live in the
        process, shared by all splines). A continuous degree-1 spline with at
        most 64 slope changes per channel compiles in its truncated-power form
        :math:`c_0 + c_1 x + \sum_k d_k \max(x, t_k)` (buffers ``power_c``,
        ``power_d``, ``power_t``, derived from the table, also after
        ``load_state_dict``, and not saved in it): one loop of
        multiply-adds, no look-ups; any other spline compiles its table form.
        The first call for a new kernel compiles it (seconds); if compiling
        fails, a warning says why and evaluation stays eager in this process.
        Eagerly, a spline with at most two slope changes (e.g. an exact PReLU)
        also uses the truncated-power form, which is then fewer ops.

    Shape:
        - Input: :math:`(N, C, *)`, or any shape for a single spline.
        - Output: same shape as the input.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.compression import SplineActivation
    >>> # |x| on [-1, 1]: tails of slope -1 and 1, two cells inside
    >>> table = torch.tensor([[0.0, 0.0, 0.0, 0.0], [-1.0, -1.0, 1.0, 1.0]])
    >>> act = SplineActivation(torch.tensor(-2.0), torch.tensor(1.0), table)
    >>> act(torch.tensor([-5.0, -0.5, 0.25, 3.0]))
    tensor([5.0000, 0.5000, 0.2500, 3.0000])
    >>> # the same |x| = -x + 2 max(x, 0) exactly, as one cell with a kink at 0
    >>> kinks = torch.tensor([[2.0], [0.0]])
    >>> table = torch.tensor([[0.0], [-1.0]])
    >>> act = SplineActivation(torch.tensor(-1.0), torch.tensor(2.0), table, kinks)
    >>> act(torch.tensor([-5.0, -0.5, 0.25, 3.0]))
    tensor([5.0000, 0.5000, 0.2500, 3.0000])
    """

    def __init__(
        self,
        lo: torch.Tensor,
        step: torch.Tensor,
        table: torch.Tensor,
        kinks: torch.Tensor | None = None,
        compiled: bool = False,
    ) -> None:
        super().__init__()
        self.compiled = bool(compiled)
        if table.dim() not in (2, 3) or table.shape[0] < 2:
            raise ValueError(
                "table must have shape (degree + 1, n_cells) or "
                f"(degree + 1, C, n_cells), got {tuple(table.shape)}."
            )
        self.degree = table.shape[0] - 1
        self.n_cells = table.shape[-1]
        self.num_channels = table.shape[1] if table.dim() == 3 else 1
        if lo.shape != step.shape or lo.numel() != self.num_channels:
            raise ValueError("lo and step need one value per channel of table.")
        lo, step = lo.reshape(-1), step.reshape(-1)
        if self.num_channels == 1:
            lo, step = lo[0], step[0]
        # u = x * scale + shift is one fused op
        self.register_buffer("scale", 1.0 / step)
        self.register_buffer("shift", -lo / step)
        # flat (degree + 1, C * n_cells) rows, one gather each
        self.register_buffer("table", table.reshape(self.degree + 1, -1).contiguous())
        offset = torch.arange(self.num_channels) * self.n_cells
        self.register_buffer("offset", offset if self.num_channels > 1 else None)
        if kinks is not None and (self.degree != 1 or kinks.shape != table.shape):
            raise ValueError("kinks needs degree 1 and the shape of table.")
        if kinks is not None:
            kinks = kinks.reshape(2, -1).contiguous()
        self.register_buffer("kinks", kinks)
        for key in ("power_c", "power_d", "power_t"):  # derived: not in state_dict
            self.register_buffer(key, None, persistent=False)
        self._derive_power_form()

    def _derive_power_form(self) -> None:
        power = _power_form(self) if self.degree == 1 else None
        for key, value in zip(("power_c", "power_d", "power_t"), power or [None] * 3):
            setattr(self, key, value)

    def _load_from_state_dict(self, *args, **kwargs):
        super()._load_from_state_dict(*args, **kwargs)
        self._derive_power_form()  # from the loaded table

    def _per_channel(self, p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        owner = f"SplineActivation has {self.num_channels} channels (dim 1)"
        return channel_view(p, x, self.num_channels, owner)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.num_channels > 1:
            self._per_channel(self.scale, x)  # the input has the right channels
        if self._compiling():
            return self._forward_compiled(x)
        if self._uses_power_form():
            return _power_kernel(x, self.power_c, self.power_d, self.power_t)
        return self._forward_table(x)

    def _compiling(self) -> bool:
        return self.compiled and _COMPILE_FAILURE is None

    def _uses_power_form(self) -> bool:
        """Whether ``forward`` evaluates the truncated-power form (compiled, or
        eagerly when it has few kinks)."""
        return self.power_d is not None and (
            self._compiling() or len(self.power_d) <= _EAGER_POWER_KINKS
        )

    def _kernel(self):
        """The kernel that ``compiled`` evaluation compiles, its variant (what
        its code specialises on) and its arguments."""
        per_channel = self.num_channels > 1
        if self.power_d is not None:
            args = (self.power_c, self.power_d, self.power_t)
            return _power_kernel, (len(self.power_d), per_channel), args
        args = (self.scale, self.shift, self.table, self.kinks, self.offset)
        variant = (self.degree, self.kinks is not None, per_channel)
        return _table_kernel, variant, (*args, self.n_cells, self.degree)

    def _forward_compiled(self, x: torch.Tensor) -> torch.Tensor:
        global _COMPILE_FAILURE
        kernel, variant, args = self._kernel()
        try:
            return _compiled(kernel, variant)(x, *args)
        except Exception as exc:  # no C++ compiler, no triton, ...
            y = self._forward_table(x)  # an error of the input itself raises here
            _COMPILE_FAILURE = f"{type(exc).__name__}: {exc}".split("\n")[0]
            warnings.warn(
                f"torch.compile failed ({_COMPILE_FAILURE}); SplineActivation "
                "evaluates eagerly in this process from now on (same results, "
                "slower). Set compiled=False to silence this.",
                RuntimeWarning,
                stacklevel=2,
            )
            return y

    def _forward_table(self, x: torch.Tensor) -> torch.Tensor:
        """Eager evaluation from the cell table: a few in-place elementwise ops."""
        if self.num_channels == 1:
            # shift + x * scale with a Python scale: about 4x fewer ns than
            # addcmul with 0-dim tensors at batch 4096
            u = torch.add(self.shift, x, alpha=float(self.scale))
        else:
            u = torch.addcmul(
                self._per_channel(self.shift, x), x, self._per_channel(self.scale, x)
            )
        if self.degree == 1:
            j = u.clamp_(0, self.n_cells - 1).long()
        else:
            jf = u.clamp(0, self.n_cells - 1).floor_()
            t = u.sub_(jf)  # local coordinate in the cell (unbounded in the tails)
            j = jf.long()
        if self.offset is not None:
            j = j + self._per_channel(self.offset, x)
        # index_select on the flat index is the fastest gather on CPU (about
        # 1.3x fewer ns than advanced indexing or take at batch 4096; an int32
        # index or one gather from an interleaved table is no faster)
        j = j.reshape(-1)

        def coef(table: torch.Tensor, k: int) -> torch.Tensor:
            return table[k].index_select(0, j).view(x.shape)

        # in place on the gathered temporaries: fewer fresh allocations
        if self.degree == 1:
            y = coef(self.table, 0).addcmul_(coef(self.table, 1), x)
            if self.kinks is not None:  # + d * max(x, t), in place
                t = coef(self.kinks, 1)
                y.addcmul_(coef(self.kinks, 0), torch.maximum(x, t, out=t))
            return y
        y = coef(self.table, self.degree)
        for k in range(self.degree - 1, -1, -1):
            y = coef(self.table, k).addcmul_(y, t)
        return y

    def n_stored(self) -> int:
        """Numbers stored: the coefficient table, plus grid origin and step."""
        kinks = 0 if self.kinks is None else self.kinks.numel()
        return self.table.numel() + kinks + 2 * self.num_channels

    def madds_per_element(self, cost_of=None) -> float:
        """Multiply-adds per element of the form evaluated: from the table, the
        index, a clamp, Horner (plus look-ups) and a max and a multiply-add for
        the kinks; in the truncated-power form, a multiply-add plus a max and a
        multiply-add per kink."""
        if self._uses_power_form():
            return float(1 + 2 * len(self.power_d))
        return float(self.degree + 2 + 2 * (self.kinks is not None))

    def extra_repr(self) -> str:
        power = None if self.power_d is None else self.power_d.shape[0]
        return (
            f"degree={self.degree}, n_cells={self.n_cells}, "
            f"num_channels={self.num_channels}, kinks={self.kinks is not None}, "
            f"power_kinks={power}, compiled={self.compiled}"
        )


#: Most slope changes of the truncated-power form (per channel), beyond which a
#: spline is evaluated from its table only.
_POWER_MAX_KINKS = 64
#: Up to this many kinks the eager truncated-power form (1 + 3 * K elementwise
#: passes) beats the table's look-ups (about 10 passes with kinks).
_EAGER_POWER_KINKS = 2
#: Why torch.compile failed in this process (then evaluation is eager), if it did.
_COMPILE_FAILURE: str | None = None


@functools.cache
def _compiled(kernel, variant):
    """``kernel`` compiled once per process and ``variant``, for any batch size.

    Each variant compiles its own copy of the kernel's code: torch's dynamo
    keeps its compiled graphs on the code object and stops compiling a code
    object after a few recompilations (``recompile_limit``), so variants that
    shared one would fall back to (slow) eager execution.
    """
    code = kernel.__code__.replace(co_name=f"{kernel.__name__}_{variant}")
    return torch.compile(types.FunctionType(code, kernel.__globals__), dynamic=True)


def _channels_last_dims(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """View (..., C) per-channel values to broadcast along dim 1 of ``x``."""
    return v.view(*v.shape, *[1] * (x.dim() - 2))


def _table_kernel(
    x: torch.Tensor,
    scale: torch.Tensor,
    shift: torch.Tensor,
    table: torch.Tensor,
    kinks: torch.Tensor | None,
    offset: torch.Tensor | None,
    n_cells: int,
    degree: int,
) -> torch.Tensor:
    """The table form of :class:`SplineActivation` in pure (out-of-place) tensor
    ops: what ``torch.compile`` fuses into one loop, and the float64 reference."""
    if offset is not None:
        scale, shift, offset = (
            _channels_last_dims(v, x) for v in (scale, shift, offset)
        )
    u = x * scale + shift
    jf = u.clamp(0, n_cells - 1).floor()
    j = jf.long() if offset is None else jf.long() + offset
    if degree == 1:
        y = table[0][j] + table[1][j] * x
        if kinks is not None:
            y = y + kinks[0][j] * torch.maximum(x, kinks[1][j])
        return y
    t = u - jf
    y = table[degree][j]
    for k in range(degree - 1, -1, -1):
        y = table[k][j] + y * t
    return y


def _power_kernel(
    x: torch.Tensor, c: torch.Tensor, d: torch.Tensor, t: torch.Tensor
) -> torch.Tensor:
    """Truncated-power form ``c0 + c1 x + sum_k d_k max(x, t_k)`` of a
    continuous piecewise-linear function; ``c`` of shape (2,) or (2, C), ``d``
    and ``t`` of shape (K,) or (K, C). Compiled, one fused loop with no look-ups.
    """
    if c.dim() == 2:
        c, d, t = (_channels_last_dims(v, x) for v in (c, d, t))
    y = c[0] + c[1] * x
    for k in range(d.shape[0]):
        y = y + d[k] * torch.maximum(x, t[k])
    return y


def _power_form(spline: SplineActivation):
    """``(c, d, t)`` of :func:`_power_kernel` for a continuous degree-1 spline
    with at most ``_POWER_MAX_KINKS`` slope changes per channel, else ``None``.

    The slope changes are the kinks and the cell edges where the line changes;
    the number per channel is padded (``d = 0``) to a power of two, so that few
    distinct kernels get compiled. Verified against the table in float64 at the
    cell edges, between them and far out in both tails.
    """
    C, n = spline.num_channels, spline.n_cells
    table = spline.table.double().cpu().reshape(2, C, n).numpy()
    if spline.kinks is None:
        kinks = np.zeros_like(table)
    else:
        kinks = spline.kinks.double().cpu().reshape(2, C, n).numpy()
    step = (1.0 / spline.scale.double().cpu()).reshape(C).numpy()
    lo = (-spline.shift.double().cpu()).reshape(C).numpy() * step
    left = table[:, :, 0] + np.stack([kinks[0, :, 0] * kinks[1, :, 0], np.zeros(C)])
    points = []
    for ch in range(C):
        # slope right of each cell's kink, and the change at the next cell's edge
        edge_change = table[1, ch, 1:] - (table[1, ch, :-1] + kinks[0, ch, :-1])
        edges = lo[ch] + step[ch] * np.arange(1, n)
        scale = max(1.0, np.abs(table[1, ch]).max())
        at_edges = np.abs(edge_change) > 1e-6 * scale  # not float32 rounding
        has_kink = kinks[0, ch] != 0
        t = np.r_[kinks[1, ch, has_kink], edges[at_edges]]
        d = np.r_[kinks[0, ch, has_kink], edge_change[at_edges]]
        points.append((t, d))
    k_max = max(len(t) for t, _ in points)
    if k_max > _POWER_MAX_KINKS:
        return None
    K = 1 << max(0, k_max - 1).bit_length()  # 1, 2, 4, 8, ...
    c = np.zeros((2, C))
    d_all, t_all = np.zeros((K, C)), np.zeros((K, C))
    for ch, (t, d) in enumerate(points):
        c[0, ch] = left[0, ch] - np.sum(d * t)  # d relu(x - t) = d max(x, t) - d t
        c[1, ch] = left[1, ch]
        d_all[: len(d), ch], t_all[: len(t), ch] = d, t
    # verify against the table (a discontinuous table has no such form)
    probe = np.concatenate(
        [lo + step * np.arange(-10.0, n + 10.5, 0.5)[:, None], t_all[: max(1, k_max)]]
    )
    x64 = torch.tensor(probe)  # (G, C)
    f64 = {k: v.detach().double().cpu() for k, v in spline.named_buffers()}
    offset = None if C == 1 else torch.arange(C) * n
    table64 = (f64["scale"], f64["shift"], f64["table"], f64.get("kinks"), offset)
    ref = _table_kernel(x64, *table64, n, 1)
    power = [torch.tensor(v[:, 0] if C == 1 else v) for v in (c, d_all, t_all)]
    atol = 1e-5 * max(1.0, float(ref.abs().max()))
    if not torch.allclose(_power_kernel(x64, *power), ref, rtol=1e-5, atol=atol):
        return None
    device = spline.table.device
    return [v.to(device=device, dtype=torch.float32) for v in power]


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

    def madds_per_element(self, cost_of=_fixed_madds) -> float:
        """Multiply-adds per element: f, plus the two affine maps."""
        return cost_of(self.name) + 2.0

    def extra_repr(self) -> str:
        a, b, c, d = (float(getattr(self, k)) for k in "abcd")
        return f"{a:.4g} * {self.name}({b:.4g} * x + {c:.4g}) + {d:.4g}"


# ----------------------------------------------------------------- fitting
def _as_function(module: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """The activation as a float64 numpy function of a (G, C) array."""
    module = copy.deepcopy(module).to(device="cpu", dtype=torch.float64).eval()

    def fn(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return module(torch.as_tensor(x, dtype=torch.float64)).numpy()

    return fn


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
            stacklevel=4,
        )
    return k, *fit(k)


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
    r2, name, abcd = min(ties, key=lambda fit: (_fixed_madds(fit[1]), -fit[0]))
    return name, abcd, r2


# --------------------------------------------------------------- compressor
def _has(attr: str):
    """``available_if`` check: the wrapped estimator has ``attr``."""

    def check(self):
        return hasattr(self.estimator, attr)

    return check


class SplineActivationCompressor(MetaEstimatorMixin, BaseEstimator):
    """Replace every learned activation of an estimator by a fast spline.

    ``fit`` runs ``X`` through the network, records the inputs of every
    learned activation, and fits a spline to each activation over the range
    those inputs reach (between two quantiles, per channel for per-neuron
    activations): scipy's least-squares B-spline on uniform knots, converted
    to a table of cells that :class:`SplineActivation` evaluates with a few
    elementwise ops, whatever the number of knots. Outside the range the
    spline continues linearly with the activation's own slopes at the ends.
    Fixed activations are left alone. ``predict``, ``predict_proba`` and
    ``score`` use the compressed network, ``compressed_estimator_``, a normal
    fitted estimator (it pickles, predicts and plots like any other).

    Parameters
    ----------
    estimator : LearnedActivationClassifier or LearnedActivationRegressor
        The model to compress. A fitted one is never modified; an unfitted one
        is cloned and fitted on ``(X, y)`` first.
    n_knots : "auto" or int, default="auto"
        Knots per spline (uniform on the recorded range). ``"auto"`` picks, per
        activation, the fewest whose maximum error on the recorded range is
        below ``tol`` (up to ``max_knots``). The evaluation cost does not grow
        with the number of knots, only the (small) table does.
    degree : {1, 3}, default=1
        Degree of the spline. Degree 1 is the fastest to evaluate and fits the
        kinks of a ReLU subnetwork best; degree 3 needs fewer knots on smooth
        activations.
    tol : float, default=1e-3
        Target maximum absolute error of each activation on its recorded range.
    quantiles : (float, float), default=(0.001, 0.999)
        The recorded range of each activation: these quantiles of its inputs.
    max_knots : int, default=4096
        Most knots ``"auto"`` may use.
    symbolic : bool, default=False
        Also fit ``a * f(b * x + c) + d`` for every fixed registry activation
        ``f`` and report the best; use it instead of the spline when its max
        error is below ``tol`` ("layer 1 is almost a leaky ReLU"). Layer-wide
        activations only (per-neuron ones keep their splines).
    exact : bool, default=True
        With ``n_knots="auto"``, compress the piecewise-linear activations
        whose kinks are known (a ReLU ``mlp`` subnetwork, ``prelu``) exactly,
        up to float32 rounding, whatever ``degree``: a uniform grid with at
        most one kink per cell, each cell a line plus ``d * max(x, t)`` (see
        :class:`SplineActivation`). Every kink that a recorded input reaches
        is kept (neighbours closer than a merge error of ``tol / 100`` are
        merged, so near-duplicates cannot blow up the grid); beyond the
        outermost kept kinks the function continues linearly, as the
        activation does up to its first kink no recorded input reached. If
        more than ``max_knots`` cells would be needed, the uniform spline is
        used. About 1.7x the activation time of the uniform degree-1 spline
        (two more look-ups), still one fixed sequence of elementwise ops.
    compile : bool, default=False
        Evaluate the splines with ``torch.compile`` (``compiled=True`` on each
        :class:`SplineActivation`): one fused loop per activation instead of a
        sequence of elementwise ops. Piecewise-linear splines with at most 64
        slope changes (every exact compression of a small subnetwork) compile
        in their truncated-power form, without table look-ups. ``fit``
        compiles the kernels when it measures the errors, and runs the
        compressed net once on a few rows of ``X`` so that the first
        ``predict`` does not compile: the first time in a process costs
        seconds (torch's inductor, cached on disk), later models with the same
        number of kinks reuse the kernel. It needs a C++ compiler (CPU) or
        triton (GPU); without one, a warning says so and the evaluation stays
        eager. Worth it for large batches (inference at batch 4096: see
        ``benchmarks/bench_inference.py``).

    Attributes
    ----------
    estimator_ : estimator
        The uncompressed, fitted estimator (``estimator`` itself if it was
        fitted).
    compressed_estimator_ : estimator
        A copy of ``estimator_`` whose learned activations are replaced.
    report_ : pandas.DataFrame
        One row per compressed activation: ``layer`` (1-based), ``kind``,
        ``channels``, ``range_low``/``range_high`` (over channels), ``n_knots``
        (for an exact compression: the kinks kept, summed over channels, plus
        the two ends),
        ``n_cells`` (of the grid, tails included), ``degree``, ``exact``,
        ``max_error`` (on a dense grid of the recorded range and
        up to 100,000 recorded inputs clipped to it), ``rms_error`` (all
        recorded inputs, tails included), ``params_before``/``params_after``,
        ``madds_before``/``madds_after`` (per element, see
        :func:`activation_madds`), ``symbolic``, ``symbolic_r2`` and
        ``replaced_by``.
    max_abs_error_ : float
        Largest ``max_error`` over the activations.
    evaluation_ : dict
        Set by :meth:`evaluate`: the score before and after compression and
        the agreement of the predictions, on the data given there.
    classes_ : ndarray
        The classifier's classes (classifiers only).
    n_features_in_ : int
        Number of features of the estimator.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_learnact import (LearnedActivationClassifier,
    ...                               SplineActivationCompressor)
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LearnedActivationClassifier((16,), "mlp", max_iter=100,
    ...                                   learning_rate_init=1e-2, random_state=0)
    >>> comp = SplineActivationCompressor(clf).fit(X, y)
    >>> bool(comp.max_abs_error_ < comp.tol)
    True
    >>> float(comp.evaluate(X, y)["agreement"])
    1.0
    """

    def __init__(
        self,
        estimator,
        *,
        n_knots="auto",
        degree=1,
        tol=1e-3,
        quantiles=(0.001, 0.999),
        max_knots=4096,
        symbolic=False,
        exact=True,
        compile=False,
    ):
        self.estimator = estimator
        self.n_knots = n_knots
        self.degree = degree
        self.tol = tol
        self.quantiles = quantiles
        self.max_knots = max_knots
        self.symbolic = symbolic
        self.exact = exact
        self.compile = compile

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        return tags

    def _check_params(self) -> None:
        if self.degree not in (1, 3):
            raise ValueError(f"degree must be 1 or 3, got {self.degree!r}.")
        for key in ("exact", "compile"):
            value = getattr(self, key)
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{key} must be True or False, got {value!r}.")
        if not (isinstance(self.tol, numbers.Real) and self.tol > 0):
            raise ValueError(f"tol must be a number > 0, got {self.tol!r}.")
        if not (
            isinstance(self.max_knots, numbers.Integral)
            and self.max_knots > self.degree
        ):
            raise ValueError(
                f"max_knots must be an int > degree, got {self.max_knots!r}."
            )
        if not (
            self.n_knots == "auto"
            or (
                isinstance(self.n_knots, numbers.Integral)
                and not isinstance(self.n_knots, bool)
                and self.n_knots > self.degree
            )
        ):
            raise ValueError(
                f"n_knots must be 'auto' or an int > degree, got {self.n_knots!r}."
            )
        q = self.quantiles
        if not (isinstance(q, (tuple, list)) and len(q) == 2 and 0 <= q[0] < q[1] <= 1):
            raise ValueError(
                "quantiles must be two numbers 0 <= low < high <= 1, got "
                f"{self.quantiles!r}."
            )

    def fit(self, X, y=None):
        """Record the activations' inputs on ``X`` and compress them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data whose activation inputs define the range of each spline
            (typically the training data).
        y : array-like of shape (n_samples,), optional
            Targets: needed only to fit an unfitted ``estimator``.

        Returns
        -------
        self : object
        """
        self._check_params()
        if not isinstance(self.estimator, LearnedActivationMixin):
            raise TypeError(
                "SplineActivationCompressor compresses LearnedActivationClassifier "
                f"or LearnedActivationRegressor models, got "
                f"{type(self.estimator).__name__}."
            )
        try:
            check_is_fitted(self.estimator)
            estimator = self.estimator
        except NotFittedError as exc:
            if y is None:
                raise NotFittedError(
                    f"The {type(self.estimator).__name__} to compress is not fitted "
                    "and y is None: pass y so that it can be fitted, or fit it "
                    "first."
                ) from exc
            estimator = clone(self.estimator).fit(X, y)
        acts = estimator.activations_
        learned = [i for i, m in enumerate(acts) if isinstance(m, LearnableActivation)]
        if not learned:
            raise ValueError(
                f"Nothing to compress: the estimator's activation "
                f"{estimator.activation!r} is fixed (not learnable). Compress a "
                "model with a learnable activation, one of "
                f"{', '.join(available_activations('learnable'))}."
            )
        recorded = _record_inputs(estimator, X, learned)
        compressed = copy.deepcopy(estimator)
        module = compressed.net_.module_
        device = next(module.parameters()).device
        rows, self._curves = [], {}
        for i in learned:
            original = acts[i]
            new, row, curve = self._compress_one(original, recorded[i])
            module.activations[i] = new.to(device)
            rows.append({"layer": i + 1, "kind": estimator.activation, **row})
            self._curves[i + 1] = curve
        if self.compile:  # compile now what predict runs (its shapes and mode)
            compressed._forward(_safe_indexing(X, np.arange(min(64, _num_samples(X)))))
        self.estimator_ = estimator
        self.compressed_estimator_ = compressed
        self.report_ = pd.DataFrame(rows)
        self.max_abs_error_ = float(self.report_["max_error"].max())
        self.n_features_in_ = estimator.n_features_in_
        if hasattr(estimator, "feature_names_in_"):
            self.feature_names_in_ = estimator.feature_names_in_
        return self

    def _compress_one(self, original: nn.Module, values: np.ndarray):
        """Spline (or symbolic) replacement of one activation, and its report row."""
        lo, hi = np.quantile(values, self.quantiles, axis=0)  # (C,) each
        lo, hi = np.atleast_1d(lo), np.atleast_1d(hi)
        pad = np.maximum(1e-3, 1e-3 * np.abs(lo))
        hi = np.where(hi - lo < 1e-6, hi + pad, hi)
        lo = np.where(hi - lo < 1e-6, lo - pad, lo)
        inside = values
        if len(inside) > _MAX_CHECKED:
            rng = np.random.default_rng(0)
            inside = inside[rng.choice(len(inside), _MAX_CHECKED, replace=False)]
        inside = np.clip(inside, lo, hi)
        forms = _kink_form(original) if self.exact and self.n_knots == "auto" else None
        exact = forms and _exact_spline(forms, values, lo, hi, self.tol, self.max_knots)
        if exact:
            spline, n_kinks, n_cells = exact
            n_knots = n_kinks + 2
        elif self.n_knots == "auto":
            n_knots, spline, _ = _search_knots(
                original, lo, hi, self.degree, self.tol, self.max_knots, inside
            )
        else:
            n_knots = self.n_knots
            spline, _ = _spline_for(original, lo, hi, n_knots, self.degree, inside)
        if not exact:
            n_cells = spline.n_cells
        spline.compiled = bool(self.compile)
        fn = _as_function(original)
        new, replaced_by = spline, "spline"
        sym_name, sym_r2 = None, np.nan
        if self.symbolic and lo.size == 1:
            x = np.linspace(lo[0], hi[0], 2001)
            sym_name, abcd, sym_r2 = _fit_symbolic(x, fn(x[:, None])[:, 0])
            if sym_name is not None:
                sym = SymbolicActivation(sym_name, *abcd)
                if _max_error(sym, fn, _check_points(lo, hi, 2, inside)) < self.tol:
                    new, replaced_by = sym, f"symbolic:{sym_name}"
        # errors of what is actually used, in float32
        max_error = _max_error(new, fn, _check_points(lo, hi, n_cells + 1, inside))
        with torch.inference_mode():
            approx = new(torch.as_tensor(values, dtype=torch.float32)).double()
        rms = float(np.sqrt(np.mean((approx.numpy() - fn(values)) ** 2)))
        row = {
            "channels": lo.size,
            "range_low": float(lo.min()),
            "range_high": float(hi.max()),
            "n_knots": int(n_knots),
            "n_cells": int(n_cells),
            "degree": spline.degree,
            "exact": bool(exact),
            "max_error": max_error,
            "rms_error": rms,
            "params_before": sum(p.numel() for p in original.parameters()),
            "params_after": new.n_stored(),
            "madds_before": activation_madds(original),
            "madds_after": activation_madds(new),
            "symbolic": sym_name,
            "symbolic_r2": sym_r2,
            "replaced_by": replaced_by,
        }
        curve = {"original": original, "compressed": new, "values": values}
        return new, row, curve

    # ------------------------------------------------------------ delegation
    def predict(self, X):
        """Predict with the compressed network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.compressed_estimator_.predict(X)

    @available_if(_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the compressed network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.compressed_estimator_.predict_proba(X)

    def score(self, X, y, sample_weight=None):
        """Accuracy (classifier) or R^2 (regressor) of the compressed network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        return self.compressed_estimator_.score(X, y, sample_weight=sample_weight)

    @property
    def classes_(self) -> np.ndarray:
        """Class labels of the compressed classifier."""
        check_is_fitted(self)
        return self.compressed_estimator_.classes_

    def evaluate(self, X, y) -> dict:
        """Model-level effect of the compression on held-out data.

        Pass data not used for ``fit`` (e.g. the test set) for an honest
        figure. The result is also stored in ``evaluation_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        evaluation : dict
            ``metric`` ("accuracy" or "r2"), ``score_before``,
            ``score_after`` and ``agreement``: for a classifier the share of
            samples with the same predicted class, for a regressor the R^2 of
            the compressed predictions against the uncompressed ones.
        """
        check_is_fitted(self)
        before = self.estimator_.predict(X)
        after = self.compressed_estimator_.predict(X)
        if get_tags(self.estimator_).estimator_type == "classifier":
            metric, score = "accuracy", accuracy_score
            agreement = float(np.mean(before == after))
        else:
            metric, score = "r2", r2_score
            agreement = float(r2_score(before, after))
        self.evaluation_ = {
            "metric": metric,
            "score_before": float(score(y, before)),
            "score_after": float(score(y, after)),
            "agreement": agreement,
        }
        return self.evaluation_


def _record_inputs(estimator, X, layers) -> dict[int, np.ndarray]:
    """Inputs of the activations ``layers`` on ``X``: (n_values, C) per layer.

    Per-neuron activations keep their channel axis (C channels); layer-wide
    ones are flattened (C = 1). At most ``_MAX_RECORDED`` values per
    activation are kept, a random subset of each batch.
    """
    acts = estimator.activations_
    n_samples = len(X)
    rng = np.random.default_rng(0)
    chunks = {i: [] for i in layers}

    def hook(i):
        channels = getattr(acts[i], "num_parameters", 1)

        def record(module, args):
            (x,) = args
            x = x.detach()
            if channels > 1:
                x = x.movedim(1, -1).reshape(-1, channels)
            else:
                x = x.reshape(-1, 1)
            per_sample = x.shape[0] / len(args[0])
            keep = min(1.0, _MAX_RECORDED / (per_sample * n_samples))
            x = x.float().cpu().numpy()
            if keep < 1.0:
                x = x[rng.random(x.shape[0]) < keep]
            chunks[i].append(x)

        return record

    handles = [acts[i].register_forward_pre_hook(hook(i)) for i in layers]
    try:
        estimator._forward(X)
    finally:
        for handle in handles:
            handle.remove()
    return {i: np.concatenate(chunks[i]).astype(np.float64) for i in layers}


def plot_compression(compressor, *, channel: int = 0, margin: float = 0.1):
    """Each learned activation beside its compressed version.

    One panel per compressed activation: the learned function and its
    replacement over the recorded range (widened by ``margin``), the range
    marked, and a histogram of the recorded inputs on a twin axis.

    Parameters
    ----------
    compressor : SplineActivationCompressor
        A fitted compressor.
    channel : int, default=0
        Channel drawn for per-neuron activations.
    margin : float, default=0.1
        Share of the recorded range added on each side.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_learnact import (LearnedActivationRegressor,
    ...                               SplineActivationCompressor)
    >>> from sklearn_learnact.compression import plot_compression
    >>> X = np.linspace(-2, 2, 64)[:, None]
    >>> reg = LearnedActivationRegressor((8,), "swish", max_iter=5, random_state=0)
    >>> comp = SplineActivationCompressor(reg).fit(X, X[:, 0] ** 2)
    >>> len(plot_compression(comp).axes)  # one panel and its twin
    2
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "plot_compression needs matplotlib: pip install matplotlib (or "
            "sklearn-learnact[plot])."
        ) from exc
    check_is_fitted(compressor, "report_")
    rows = compressor.report_.to_dict("records")
    fig, axes = plt.subplots(
        1, len(rows), figsize=(4.5 * len(rows), 3.6), squeeze=False
    )
    for ax, row in zip(axes[0], rows):
        curve = compressor._curves[row["layer"]]
        values = curve["values"]
        ch = channel if values.shape[1] > 1 else 0
        lo, hi = np.quantile(values[:, ch], compressor.quantiles)
        width = max(hi - lo, 1e-3)
        x = np.linspace(lo - margin * width, hi + margin * width, 1001)
        xs = np.repeat(x[:, None], values.shape[1], axis=1)
        y_true = _as_function(curve["original"])(xs)[:, ch]
        with torch.inference_mode():
            y_new = curve["compressed"].cpu()(torch.as_tensor(xs, dtype=torch.float32))
        twin = ax.twinx()
        twin.hist(values[:, ch], bins=60, range=(x[0], x[-1]), color="0.85")
        twin.set_ylabel("recorded inputs")
        ax.set_zorder(twin.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.plot(x, y_true, color="C0", lw=2.5, label="learned")
        ax.plot(
            x, y_new[:, ch].numpy(), "--", color="C3", lw=1.5, label=row["replaced_by"]
        )
        ax.axvspan(lo, hi, color="C2", alpha=0.06, label="recorded range")
        suffix = f", channel {ch}" if values.shape[1] > 1 else ""
        ax.set_title(
            f"layer {row['layer']} ({row['kind']}{suffix}): {row['n_knots']} knots, "
            f"max err {row['max_error']:.1e}",
            fontsize=9,
        )
        ax.set_xlabel("pre-activation x")
        ax.set_ylabel("activation(x)")
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig
