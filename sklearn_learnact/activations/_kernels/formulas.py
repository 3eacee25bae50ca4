"""The formulas of the built-in learnable activations.

One :class:`~.formula.Formula` per family (forward and hand-written backward):
:data:`AFFINE`, :data:`SWISH`, :data:`MIXTURE`, :data:`RATIONAL`,
:data:`SPLINE`, :data:`RELU_SUBNET`; the activation modules call them and
their registry specs name them. They are checked against autograd and
:func:`torch.autograd.gradcheck` in ``tests/test_functional.py``, and the
native C++ operators (:mod:`.native`) against them in ``tests/test_fused.py``.

Where the best eager form of a step is not the best fused one (a sum of
products is one matrix product eagerly, a fused reduction when compiled), a
helper picks the form with :func:`torch.compiler.is_compiling`; the maths is
the same. Piecewise formulas (spline, ReLU subnetwork) sum their parameter
gradients per piece with the operator ``sklearn_learnact::bin_sums``
(:func:`_bin_sums`): compiled formulas call torch's serial ``index_add``
through it, as inductor's own scatter uses atomic adds.
"""

import functools
from collections.abc import Sequence

import torch
from torch import nn

from .._registry import activation_spec
from .._utils import channel_view
from .formula import LIBRARY, Formula

__all__ = [
    "AFFINE",
    "MIXTURE",
    "RATIONAL",
    "RELU_SUBNET",
    "SPLINE",
    "SWISH",
    "hermite_table",
    "mixture",
    "subnet",
]


# -- layout helpers -------------------------------------------------------------
def _ch(p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Parameter ``p``, () or (C,), broadcastable against ``x`` in kernel layout."""
    return p if p.dim() == 0 else channel_view(p, x)


def _cols(p: torch.Tensor, x: torch.Tensor) -> list[torch.Tensor]:
    """Coefficients ``p``, (k,) or (C, k), as k tensors broadcasting on ``x``."""
    return [_ch(c, x) for c in p.unbind(-1)]


def _total(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Sum of ``t`` over the elements: () layer-wide, (C,) per channel."""
    return t.sum() if x.dim() == 1 else t.sum(dim=(0, 2))


def _sums(terms: Sequence[torch.Tensor], weight: torch.Tensor, x) -> torch.Tensor:
    """``[total(term * weight) for term in terms]`` on a last axis: (k,) or (C, k).

    Fused: k reductions in the same loop. Eagerly: one matrix product.
    """
    if torch.compiler.is_compiling():  # k reductions fused in one loop
        return torch.stack([_total(t * weight, x) for t in terms], dim=-1)
    rows = torch.stack([t.expand_as(x) for t in terms])
    k = rows.shape[0]
    if x.dim() == 1:
        return rows @ weight
    c = x.shape[1]
    # (C, k, N * S) @ (C, N * S, 1)
    rows = rows.permute(2, 0, 1, 3).reshape(c, k, -1)
    weight = weight.transpose(0, 1).reshape(c, -1, 1)
    return torch.bmm(rows, weight)[..., 0]


def _bin_sums_impl(index: torch.Tensor, weights: torch.Tensor, n_bins: int):
    out = weights.new_zeros((weights.shape[0], n_bins))
    return out.index_add_(1, index, weights)


# ``sklearn_learnact::bin_sums``: an operator that compiled formulas call for
# their per-bin sums, so that they run torch's serial ``index_add`` (18 us for
# 4 x 16384 weights in 15 bins, measured) instead of inductor's scatter,
# whose atomic adds cost about 10x that on the CPU. Registered per device
# type with ``torch.library.Library`` (1.5 us per call; ``custom_op``'s
# wrapper costs 7 us); no autograd (the compiled formulas run without it).
if LIBRARY is not None:
    LIBRARY.define("bin_sums(Tensor index, Tensor weights, int n_bins) -> Tensor")
    for _key in ("CPU", "CUDA"):
        LIBRARY.impl("bin_sums", _bin_sums_impl, _key)

    @torch.library.register_fake("sklearn_learnact::bin_sums", lib=LIBRARY)
    def _(index, weights, n_bins):
        return weights.new_empty((weights.shape[0], n_bins))


def _bin_sums(index: torch.Tensor, weights: torch.Tensor, n_bins: int) -> torch.Tensor:
    """Per-bin sums of the rows of ``weights`` (R, M), ``index`` (M,) the bin of
    each column: (R, n_bins). Eagerly a plain ``index_add`` (autograd records
    it); compiled, the operator ``sklearn_learnact::bin_sums`` above."""
    if torch.compiler.is_compiling():
        return torch.ops.sklearn_learnact.bin_sums(index, weights, n_bins)
    return _bin_sums_impl(index, weights, n_bins)


# -- affine, swish ----------------------------------------------------------------
def _affine_forward(x, k0, k1):
    return torch.addcmul(_ch(k0, x), _ch(k1, x), x)


def _affine_backward(x, grad, k0, k1, *, needs):
    grad_x = grad * _ch(k1, x) if needs[0] else None
    grad_k0 = _total(grad, x) if needs[1] else None
    grad_k1 = _total(grad * x, x) if needs[2] else None
    return grad_x, grad_k0, grad_k1


#: Inputs of at most this many elements train the formulas of a few
#: elementwise ops (affine, swish) through autograd rather than through a
#: fused node: in a training step the Python of an autograd Function and of
#: two compiled-kernel calls costs more than a few recorded ops, up to a size
#: where the ops' passes over memory dominate (measured with
#: ``benchmarks/bench_training.py --sections floor``). CPU only: on a GPU each
#: eager op is a kernel launch, so there the fused kernels stay.
_AUTOGRAD_BELOW = 1 << 18
#: Above this many elements, the formulas of a few passes (swish, rational,
#: mixture) train faster through the compiled kernels (their threads and
#: vector code beat the native loops there); affine, spline and the ReLU
#: subnetwork stay native at every size (``bench_training.py --sections
#: compile`` compares both).
_NATIVE_BELOW = 1 << 17

#: ``k0 + k1 * x``. Evaluated eagerly: one multiply-add forward, a product and
#: two sums backward cost less than two calls of compiled kernels.
AFFINE = Formula(
    _affine_forward,
    _affine_backward,
    fuse=False,
    autograd_below=_AUTOGRAD_BELOW,
    native="affine",
)


def _swish_forward(x, beta):
    return x * torch.sigmoid(_ch(beta, x) * x)


def _swish_backward(x, grad, beta, *, needs):
    b = _ch(beta, x)
    s = torch.sigmoid(b * x)
    ds = s * (1.0 - s)  # sigmoid'
    grad_x = grad * (s + b * x * ds) if needs[0] else None
    grad_beta = _total(grad * x * x * ds, x) if needs[1] else None
    return grad_x, grad_beta


#: ``x * sigmoid(beta * x)``.
SWISH = Formula(
    _swish_forward,
    _swish_backward,
    autograd_below=_AUTOGRAD_BELOW,
    native="swish",
    native_below=_NATIVE_BELOW,
)


# -- mixture --------------------------------------------------------------------
def _basis_value(kind: str, x: torch.Tensor) -> torch.Tensor:
    if kind == "relu":
        return torch.relu(x)
    if kind == "tanh":
        # 2 sigmoid(2 x) - 1: eagerly, torch's float32 tanh costs several
        # times its sigmoid on the CPU
        return 2.0 * torch.sigmoid(2.0 * x) - 1.0
    if kind == "sigmoid":
        return torch.sigmoid(x)
    if kind == "sin":
        return torch.sin(x)
    return x  # identity


def _basis_slope(kind: str, x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Derivative of basis ``kind`` at ``x``, given its value ``f``."""
    if kind == "relu":
        return (x > 0).to(x.dtype)
    if kind == "tanh":
        return 1.0 - f * f
    if kind == "sigmoid":
        return f - f * f
    if kind == "sin":
        return torch.cos(x)
    return torch.ones_like(x)  # identity


#: The basis functions with a fused formula, by registry name.
_BASIS_NAMES = frozenset({"relu", "tanh", "sigmoid", "sin", "identity"})
#: Module type -> its basis name, or None: no fused formula (cache).
_BASIS_KINDS: dict[type, str | None] = {}


def _basis_kind(module: nn.Module) -> str | None:
    kind = _BASIS_KINDS.get(type(module), False)
    if kind is False:
        spec = activation_spec(module)
        kind = spec.name if spec is not None and spec.name in _BASIS_NAMES else None
        _BASIS_KINDS[type(module)] = kind
    return kind


def _normalised(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixture coefficients ``P = w / sum(w)``, ``w = softplus(weight)``, and
    ``sum(w)``."""
    w = nn.functional.softplus(weight)
    total = w.sum(dim=-1, keepdim=True)
    return w / total, total


def _mixture_forward(x, weight, *, basis):
    p, _ = _normalised(weight)
    out = None
    for p_i, kind in zip(_cols(p, x), basis):
        f = _basis_value(kind, x)
        out = p_i * f if out is None else torch.addcmul(out, p_i, f)
    return out


def _mixture_backward(x, grad, weight, *, basis, needs):
    p, total = _normalised(weight)
    values = [_basis_value(kind, x) for kind in basis]
    grad_x = grad_weight = None
    if needs[0]:
        slope = None
        for p_i, kind, f in zip(_cols(p, x), basis, values):
            term = _basis_slope(kind, x, f)
            slope = p_i * term if slope is None else torch.addcmul(slope, p_i, term)
        grad_x = grad * slope
    if needs[1]:
        # d out / d P, then through P = w / sum(w) and w = softplus(weight)
        grad_p = _sums(values, grad, x)
        grad_w = grad_p - (grad_p * p).sum(dim=-1, keepdim=True)
        grad_weight = grad_w / total * torch.sigmoid(weight)
    return grad_x, grad_weight


#: The basis codes of the native operator (``native.cpp``'s ``Basis``).
_BASIS_CODES = {"relu": 0, "tanh": 1, "sigmoid": 2, "sin": 3, "identity": 4}
#: ``sum_i P[..., i] * f_i(x)`` over basis functions of known derivative
#: (static ``basis``: their names), ``P = softplus(w) / sum(softplus(w))``.
MIXTURE = Formula(
    _mixture_forward,
    _mixture_backward,
    layer_dims=1,
    native="mixture",
    native_args=lambda basis: ([_BASIS_CODES[kind] for kind in basis],),
    native_below=_NATIVE_BELOW,
)


def mixture(
    x: torch.Tensor, weight: torch.Tensor, basis: Sequence[nn.Module]
) -> torch.Tensor:
    """``sum_i P[..., i] * basis[i](x)``, ``P`` the normalised softplus of ``weight``.

    ``weight`` holds the raw mixture weights, shape (k,) (layer-wide) or (C, k)
    (per channel); ``P = w / sum(w)`` with ``w = softplus(weight)``. Basis
    functions of known derivative (ReLU, tanh, sigmoid, sin, identity) share one
    fused formula, the normalisation included; any other basis goes through
    autograd.
    """
    kinds = tuple(map(_basis_kind, basis))
    if None not in kinds:
        return MIXTURE(x, weight, basis=kinds)
    p, _ = _normalised(weight)
    cols = [channel_view(c, x) if p.dim() == 2 else c for c in p.unbind(-1)]
    out = cols[0] * basis[0](x)
    for p_i, f_i in zip(cols[1:], basis[1:]):
        out = torch.addcmul(out, p_i, f_i(x))
    return out


# -- rational ----------------------------------------------------------------
def _horner(coefs: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``sum_k coefs[k] * x**k`` by Horner's scheme, one multiply-add per degree."""
    if len(coefs) == 1:
        return torch.zeros_like(x) + coefs[0]
    out = torch.addcmul(coefs[-2], coefs[-1], x)
    for c in reversed(coefs[:-2]):
        out = torch.addcmul(c, out, x)
    return out


def _rational_parts(x, a, b):
    """Numerator P(x), ``q = x Q'(x)`` and the denominator ``1 + |q|``."""
    num = _horner(_cols(a, x), x)
    q = _horner(_cols(b, x), x) * x  # Q' = b_1 + b_2 x + ... b_n x^(n-1)
    return num, q, q.abs() + 1.0


def _rational_forward(x, a, b):
    num, _, den = _rational_parts(x, a, b)
    return num / den


def _rational_backward(x, grad, a, b, *, needs):
    num, q, den = _rational_parts(x, a, b)
    m, n = a.shape[-1] - 1, b.shape[-1]
    grad_num = grad / den
    grad_q = -(grad_num * (num / den)) * torch.sign(q)  # -num / den**2 * sign(q)
    grad_x = grad_a = grad_b = None
    if needs[0]:
        # P'(x) and (x Q'(x))' from the differentiated coefficients
        a_cols, b_cols = _cols(a, x), _cols(b, x)
        dp = _horner([k * a_cols[k] for k in range(1, m + 1)], x)
        dq = _horner([(k + 1) * b_cols[k] for k in range(n)], x)
        grad_x = dp * grad_num + dq * grad_q
    if needs[1] or needs[2]:
        powers = [torch.ones_like(x), x]
        for _ in range(2, max(m, n) + 1):
            powers.append(powers[-1] * x)
        if needs[1]:
            grad_a = _sums(powers[: m + 1], grad_num, x)
        if needs[2]:
            grad_b = _sums(powers[1 : n + 1], grad_q, x)
    return grad_x, grad_a, grad_b


#: Safe Padé form ``P(x) / (1 + |x * Q'(x)|)``, both by Horner's scheme: the
#: numerator coefficients a_0..a_m, the denominator's b_1..b_n.
RATIONAL = Formula(
    _rational_forward,
    _rational_backward,
    layer_dims=1,
    native="rational",
    native_below=_NATIVE_BELOW,
)


# -- spline ------------------------------------------------------------------
def hermite_table(values: torch.Tensor) -> torch.Tensor:
    """Cubic coefficients in ``t`` of each interval, shape ``(..., 4, K - 1)``.

    Interval r runs from knot r (t = 0) to knot r + 1 (t = 1); the cubic
    Hermite interpolant with Catmull-Rom tangents ``d`` (central differences,
    one-sided at the ends, in grid units) is ``c0 + c1 t + c2 t**2 + c3 t**3``.
    """
    d = torch.cat(
        [
            values[..., 1:2] - values[..., 0:1],
            (values[..., 2:] - values[..., :-2]) * 0.5,
            values[..., -1:] - values[..., -2:-1],
        ],
        dim=-1,
    )
    y0, y1, d0, d1 = values[..., :-1], values[..., 1:], d[..., :-1], d[..., 1:]
    c2 = 3.0 * (y1 - y0) - 2.0 * d0 - d1
    c3 = 2.0 * (y0 - y1) + d0 + d1
    return torch.stack([y0, d0, c2, c3], dim=-2)


def _hermite_table_vjp(grad_table: torch.Tensor) -> torch.Tensor:
    """Gradient of the knot values from that of :func:`hermite_table`'s output.

    ``grad_table`` has shape ``(..., 4, K - 1)``; returns ``(..., K)``: the
    transposed linear map, written elementwise (compiled, one small loop
    instead of building the (K, 4 (K - 1)) matrix and a matrix product).
    """
    g0, g1, g2, g3 = grad_table.unbind(-2)
    g_y0 = g0 - 3.0 * g2 + 2.0 * g3  # intervals' left knots
    g_y1 = 3.0 * g2 - 2.0 * g3  # right knots
    g_d0 = g1 - 2.0 * g2 + g3  # tangents at the left knots
    g_d1 = g3 - g2  # at the right knots
    pad = torch.nn.functional.pad
    g_y = pad(g_y0, (0, 1)) + pad(g_y1, (1, 0))  # (..., K)
    g_d = pad(g_d0, (0, 1)) + pad(g_d1, (1, 0))
    # the tangents: one-sided differences at the ends, central ones inside
    n_knots = g_y.shape[-1]
    first, last, mid = g_d[..., :1], g_d[..., -1:], 0.5 * g_d[..., 1:-1]
    g_y = g_y + pad(torch.cat([-first, first], -1), (0, n_knots - 2))
    g_y = g_y + pad(torch.cat([-last, last], -1), (n_knots - 2, 0))
    return g_y + pad(mid, (2, 0)) - pad(mid, (0, 2))


def _hermite_basis(n_knots: int, dtype, device) -> torch.Tensor:
    """The linear map from knot values to the flattened table, (K, 4 * (K - 1))."""
    eye = torch.eye(n_knots, dtype=dtype, device=device)
    return hermite_table(eye).reshape(n_knots, -1)


_hermite_matrix = functools.lru_cache(maxsize=32)(_hermite_basis)


def _spline_cells(x, values, lo: float, step: float):
    """Per element: local coordinate ``t``, distance ``beyond`` the grid (0
    inside), the flat cell index and the four cubic coefficients of its cell."""
    n_knots = values.shape[-1]
    u = (x - lo) / step
    uc = u.clamp(0.0, n_knots - 1.0)
    cell = uc.floor().clamp(max=n_knots - 2)
    t = uc - cell
    beyond = u - uc  # < 0 left of the grid, > 0 right of it
    index = cell.long()
    table = hermite_table(values)  # (4, K - 1) or (C, 4, K - 1)
    if values.dim() == 2:  # per channel: one flat table, offset per channel
        n_ch = values.shape[0]
        offset = torch.arange(n_ch, device=x.device) * (n_knots - 1)
        index = index + channel_view(offset, x)
        table = table.transpose(0, 1).reshape(4, -1)
    flat = index.reshape(-1)
    coefs = [row.index_select(0, flat).view(x.shape) for row in table.unbind(0)]
    return t, beyond, flat, coefs


def _spline_forward(x, values, *, lo, step):
    t, beyond, _, (c0, c1, c2, c3) = _spline_cells(x, values, lo, step)
    slope = c1 + t * (2.0 * c2 + 3.0 * c3 * t)
    # linear continuation: at the clamped end, slope is the end tangent
    return c0 + t * (c1 + t * (c2 + t * c3)) + beyond * slope


def _spline_backward(x, grad, values, *, lo, step, needs):
    t, beyond, flat, (c0, c1, c2, c3) = _spline_cells(x, values, lo, step)
    grad_x = grad_values = None
    if needs[0]:
        grad_x = grad * (c1 + t * (2.0 * c2 + 3.0 * c3 * t)) / step
    if needs[1]:
        n_knots = values.shape[-1]
        # d out / d (c0, c1, c2, c3) = t**j + beyond * j t**(j - 1)
        basis = torch.stack(
            [
                grad,
                grad * (t + beyond),
                grad * t * (t + 2.0 * beyond),
                grad * t * t * (t + 3.0 * beyond),
            ]
        ).reshape(4, -1)
        n_ch = values.shape[0] if values.dim() == 2 else 1
        # per-cell sums into the (4, C * (K - 1)) table, then back to the knots
        table = _bin_sums(flat, basis, n_ch * (n_knots - 1))
        table = table.view(4, n_ch, n_knots - 1).transpose(0, 1)
        if torch.compiler.is_compiling():  # one small fused loop
            grad_values = _hermite_table_vjp(table)
        else:  # one matrix product with the cached matrix
            hermite = _hermite_matrix(n_knots, x.dtype, x.device)
            grad_values = table.reshape(n_ch, -1) @ hermite.t()
        grad_values = grad_values.view(values.shape)
    return grad_x, grad_values


#: Cubic Hermite spline through ``values`` (K,) or (C, K) on the uniform grid
#: ``lo + k * step``, Catmull-Rom tangents (central differences, one-sided at
#: the ends), continued linearly along its end tangents outside the grid. The
#: interval is found by arithmetic (``floor((x - lo) / step)``), its cubic
#: coefficients by one gather. Statics: ``lo``, ``step``.
SPLINE = Formula(
    _spline_forward,
    _spline_backward,
    layer_dims=1,
    native="spline",
    native_statics=("lo", "step"),
)


# -- subnetwork --------------------------------------------------------------
def _relu_subnet_pieces(w1, b1, w2):
    """The 1-h-1 ReLU network as the piecewise linear function it is.

    Unit j bends at ``-b1[j] / w1[j]`` (never if ``w1[j] == 0``: its
    breakpoint is +inf). Interval i (0..h) holds the x with exactly i
    breakpoints below them; on it, the set of active units is fixed, so the
    net is linear there. Returns the breakpoints (h,), the active units
    (h, h + 1) as 0/1 of the parameters' dtype and the slopes (h + 1,).
    """
    h = w1.shape[0]
    flat = w1 == 0
    brk = torch.where(flat, torch.inf, -b1 / torch.where(flat, 1.0, w1))
    # rank of each breakpoint in ascending order (ties broken by unit index):
    # breakpoint j is below x exactly on the intervals i > rank[j]
    units = torch.arange(h, device=w1.device)
    below = (brk[None, :] < brk[:, None]) | (
        (brk[None, :] == brk[:, None]) & (units[None, :] < units[:, None])
    )
    rank = below.sum(dim=1)
    crossed = rank[:, None] < torch.arange(h + 1, device=w1.device)[None, :]
    # w1 > 0: active right of the breakpoint, w1 < 0: left, w1 == 0: if b1 > 0
    active = torch.where(flat[:, None], (b1 > 0)[:, None], crossed == (w1 > 0)[:, None])
    active = active.to(w1.dtype)
    slope = (active * (w1 * w2)[:, None]).sum(dim=0)
    return brk, active, slope


def _interval(x: torch.Tensor, brk: torch.Tensor) -> torch.Tensor:
    """Per element, the number of breakpoints below it (int64, 0..h)."""
    if torch.compiler.is_compiling():  # h compares, summed in the fused loop
        count = (x > brk[0]).to(x.dtype)
        for b in brk[1:]:
            count = count + (x > b).to(x.dtype)
        return count.long()
    # a binary search per element; on the sorted breakpoints, searchsorted
    # counts exactly those strictly below x
    return torch.searchsorted(brk.sort().values, x)


#: Elements per block of the eager forward: its (h, block) temporary stays
#: in cache (at batch 4096 x 128, 6x faster than one block).
_SUBNET_BLOCK = 16384


def _relu_subnet_forward(x, w1, b1, w2, b2):
    """The defining sum of ReLUs (fused, cheaper than finding the interval: a
    multiply-add, max and multiply-add per unit against a compare per unit
    and two gathers, 16 vs 30 us for 16384 elements, h = 16)."""
    if torch.compiler.is_compiling():
        out = torch.zeros_like(x) + b2
        for w1_j, b1_j, w2_j in zip(w1.unbind(), b1.unbind(), w2.unbind()):
            out = torch.addcmul(out, torch.relu(torch.addcmul(b1_j, w1_j, x)), w2_j)
        return out
    if x.shape[0] > _SUBNET_BLOCK:  # eagerly: an (h, block) matrix per block
        parts = x.split(_SUBNET_BLOCK)
        return torch.cat([_relu_subnet_forward(p, w1, b1, w2, b2) for p in parts])
    hidden = torch.outer(w1, x).add_(b1[:, None]).relu_()
    return (w2[None] @ hidden)[0] + b2


def _relu_subnet_backward(x, grad, w1, b1, w2, b2, *, needs):
    brk, active, slope = _relu_subnet_pieces(w1, b1, w2)
    i = _interval(x, brk)
    grad_x = grad_w1 = grad_b1 = grad_w2 = None
    if needs[0]:  # the slope of the element's interval
        grad_x = grad * slope[i]
    if needs[1] or needs[2] or needs[3]:
        # per interval, the sums of grad and of grad * x; then per unit, over
        # the intervals where it is active: (2, h)
        per_interval = _bin_sums(i, torch.stack([grad, grad * x]), brk.shape[0] + 1)
        s0, s1 = (per_interval[:, None, :] * active[None]).sum(dim=-1)
        grad_w1 = w2 * s1 if needs[1] else None
        grad_b1 = w2 * s0 if needs[2] else None
        # sum grad * relu(w1 x + b1) = w1 * s1 + b1 * s0
        grad_w2 = w1 * s1 + b1 * s0 if needs[3] else None
    grad_b2 = grad.sum() if needs[4] else None
    return grad_x, grad_w1, grad_b1, grad_w2, grad_b2


#: The 1-h-1 ReLU network ``relu(x * w1 + b1) @ w2 + b2``: see :func:`subnet`.
RELU_SUBNET = Formula(
    _relu_subnet_forward, _relu_subnet_backward, layer_dims=1, native="relu_subnet"
)


def subnet(
    x: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor,
    w2: torch.Tensor,
    b2: torch.Tensor,
    hidden: nn.Module,
) -> torch.Tensor:
    """A 1-h-1 network applied elementwise: ``hidden(x * w1 + b1) @ w2 + b2``.

    With a ReLU inside, one fused formula: the forward is the sum of ReLUs;
    the net is linear between the breakpoints of its units, so the backward
    finds each element's interval, takes that interval's slope, sums the
    gradient per interval (``grad`` and ``grad * x``) and maps the sums to
    the parameters through the units active on each. Other hidden
    activations go through autograd.
    """
    if type(hidden) is nn.ReLU:
        return RELU_SUBNET(x, w1, b1, w2, b2)
    z = torch.addcmul(b1, x.unsqueeze(-1), w1)
    return torch.matmul(hidden(z), w2) + b2
