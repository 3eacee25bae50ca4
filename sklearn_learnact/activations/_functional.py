"""Elementwise kernels behind the learnable activations.

Each function takes the input and the activation's parameters and returns the
activation's output. The costly ones (mixture of known basis functions,
rational, spline, ReLU subnetwork) are :class:`torch.autograd.Function` s with
a hand-written backward: one graph node per call instead of a dozen, only the
state the backward needs is saved, and the parameter gradients are reduced in
one matrix product or one scatter instead of one reduction per coefficient.
They use plain torch ops only (any device, float32 or float64) and return no
gradient for a parameter that does not require one.

Per-feature/channel parameters have a leading channel axis ``C`` that lines up
with dim 1 of the input ``x`` of shape ``(N, C, *)``; layer-wide parameters
have none.
"""

import functools
from collections.abc import Callable, Sequence

import torch
from torch import nn

from ._utils import channel_view
from .fixed import Sin

__all__ = ["affine", "mixture", "rational", "spline_hermite", "subnet", "swish"]


def affine(x: torch.Tensor, k0: torch.Tensor, k1: torch.Tensor) -> torch.Tensor:
    """``k0 + k1 * x``."""
    return torch.addcmul(k0, k1, x)


def swish(x: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """``x * sigmoid(beta * x)``."""
    return x * torch.sigmoid(beta * x)


# -- helpers ---------------------------------------------------------------
def _columns(p: torch.Tensor, x: torch.Tensor) -> list[torch.Tensor]:
    """Split coefficients ``p`` (k,) or (C, k) into k tensors broadcasting on x.

    Layer-wide: k 0-d tensors; per channel: k tensors (C, 1, ..., 1).
    """
    if p.dim() == 1:
        return list(p.unbind(0))
    return list(channel_view(p.t(), x).unbind(0))


def _weighted_sums(
    rows: torch.Tensor, weights: torch.Tensor, per_channel: bool
) -> torch.Tensor:
    """``sum(rows[j] * weights[i])`` over the elements, for all j and i.

    ``rows`` (k, *x.shape) and ``weights`` (m, *x.shape) give (k, m), or
    (C, k, m) per channel, in one matrix product.
    """
    k, m = rows.shape[0], weights.shape[0]
    if not per_channel:
        return rows.reshape(k, -1) @ weights.reshape(m, -1).t()
    n, c = rows.shape[1], rows.shape[2]
    # (C, k, N * S) @ (C, N * S, m)
    r = rows.reshape(k, n, c, -1).permute(2, 0, 1, 3).reshape(c, k, -1)
    w = weights.reshape(m, n, c, -1).permute(2, 1, 3, 0).reshape(c, -1, m)
    return torch.bmm(r, w)


# -- mixture -----------------------------------------------------------------
def _tanh(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``tanh(x) = 2 sigmoid(2 x) - 1`` into ``out``.

    On the CPU, torch's float32 tanh is several times slower than its sigmoid;
    this form costs about a third of it.
    """
    return torch.mul(x, 2.0, out=out).sigmoid_().mul_(2.0).sub_(1.0)


# the basis functions with a fused backward: each maps (x, out) to f(x) written
# into out, and (x, f(x)) to f'(x)
_VALUES: dict[type, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    nn.ReLU: lambda x, out: torch.clamp(x, min=0.0, out=out),
    nn.Tanh: _tanh,
    nn.Sigmoid: lambda x, out: torch.sigmoid(x, out=out),
    nn.Identity: lambda x, out: out.copy_(x),
    Sin: lambda x, out: torch.sin(x, out=out),
}
_DERIVATIVES: dict[type, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    nn.ReLU: lambda x, f: f.sign(),
    nn.Tanh: lambda x, f: 1.0 - f * f,
    nn.Sigmoid: lambda x, f: f - f * f,
    nn.Identity: lambda x, f: torch.ones_like(x),
    Sin: lambda x, f: torch.cos(x),
}


def _normalised(weight: torch.Tensor) -> torch.Tensor:
    """Mixture coefficients ``P = w / sum(w)``, ``w = softplus(weight)``."""
    w = nn.functional.softplus(weight)
    return w / w.sum(dim=-1, keepdim=True)


class _Mixture(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, basis, derivatives):
        # weight: (k,) or (C, k) raw weights; values: (k, *x.shape)
        w = nn.functional.softplus(weight)
        total = w.sum(dim=-1, keepdim=True)
        p = w / total
        values = torch.empty((len(basis), *x.shape), dtype=x.dtype, device=x.device)
        for f, row in zip(basis, values):
            _VALUES[type(f)](x, row)
        cols = _columns(p, x)
        out = torch.mul(values[0], cols[0])
        for p_i, f_i in zip(cols[1:], values[1:]):
            out.addcmul_(p_i, f_i)
        ctx.derivatives = derivatives
        ctx.cols = cols
        ctx.save_for_backward(x, values, p, total, torch.sigmoid(weight))
        return out

    @staticmethod
    def backward(ctx, grad):
        x, values, p, total, dw = ctx.saved_tensors
        grad_x = grad_weight = None
        if ctx.needs_input_grad[0]:
            slope = None
            for p_i, f_i, df in zip(ctx.cols, values, ctx.derivatives):
                term = df(x, f_i)
                if slope is None:
                    slope = term.mul_(p_i)
                else:
                    slope.addcmul_(p_i, term)
            grad_x = slope.mul_(grad)
        if ctx.needs_input_grad[1]:
            # d out / d P, then through P = w / sum(w) and w = softplus(weight)
            grad_p = _weighted_sums(values, grad.unsqueeze(0), p.dim() == 2)
            grad_p = grad_p.squeeze(-1)
            grad_w = grad_p - (grad_p * p).sum(dim=-1, keepdim=True)
            grad_weight = grad_w.div_(total).mul_(dw)
        return grad_x, grad_weight, None, None


def mixture(
    x: torch.Tensor, weight: torch.Tensor, basis: Sequence[nn.Module]
) -> torch.Tensor:
    """``sum_i P[..., i] * basis[i](x)``, ``P`` the normalised softplus of ``weight``.

    ``weight`` holds the raw mixture weights, shape (k,) (layer-wide) or (C, k)
    (per channel); ``P = w / sum(w)`` with ``w = softplus(weight)``. Basis
    functions of known derivative (ReLU, tanh, sigmoid, sin, identity) share one
    fused node, the normalisation included; any other basis goes through
    autograd.
    """
    derivatives = [_DERIVATIVES.get(type(f)) for f in basis]
    if all(d is not None for d in derivatives):
        return _Mixture.apply(x, weight, basis, derivatives)
    cols = _columns(_normalised(weight), x)
    out = cols[0] * basis[0](x)
    for p_i, f_i in zip(cols[1:], basis[1:]):
        out = torch.addcmul(out, p_i, f_i(x))
    return out


# -- rational ----------------------------------------------------------------
def _horner(coefs: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``sum_k coefs[k] * x**k`` by Horner's scheme, as a new tensor.

    One fused ``c + out * x`` per degree, written over ``out``.
    """
    if len(coefs) == 1:
        return torch.zeros_like(x).add_(coefs[0])
    out = torch.addcmul(coefs[-2], coefs[-1], x)
    for c in reversed(coefs[:-2]):
        torch.addcmul(c, out, x, out=out)
    return out


@functools.lru_cache(maxsize=32)
def _ramp(n: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``[1, 2, ..., n]``, the factors that differentiate polynomial coefficients."""
    return torch.arange(1, n + 1, dtype=dtype, device=device)


def _powers(x: torch.Tensor, n: int) -> torch.Tensor:
    """``x**0 .. x**(n - 1)`` stacked, shape (n, *x.shape)."""
    out = torch.empty((n, *x.shape), dtype=x.dtype, device=x.device)
    out[0].fill_(1.0)
    for k in range(1, n):
        torch.mul(out[k - 1], x, out=out[k])
    return out


class _Rational(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, a, b):
        # a: (m + 1,) or (C, m + 1); b: (n,) or (C, n)
        num = _horner(_columns(a, x), x)
        q = _horner(_columns(b, x), x).mul_(x)  # x * Q'(x), Q' = b_1 + ... x^(n-1)
        den = q.abs().add_(1.0)
        out = num.div_(den)
        ctx.save_for_backward(x, a, b, out, den, q.sign_())
        return out

    @staticmethod
    def backward(ctx, grad):
        x, a, b, out, den, sign = ctx.saved_tensors
        m, n = a.shape[-1] - 1, b.shape[-1]
        grad_num = grad / den
        grad_q = grad_num * out
        grad_q.mul_(sign).neg_()  # d out / d q = -num / den**2 * sign(q)
        grad_x = grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            # P'(x) and (x Q'(x))' from the differentiated coefficients
            da = a[..., 1:] * _ramp(m, a.dtype, a.device)
            db = b * _ramp(n, b.dtype, b.device)
            grad_x = _horner(_columns(da, x), x).mul_(grad_num)
            grad_x.addcmul_(_horner(_columns(db, x), x), grad_q)
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            # (K, 2) or (C, K, 2): sum x**k * grad_num and sum x**k * grad_q
            sums = _weighted_sums(
                _powers(x, max(m + 1, n + 1)),
                torch.stack([grad_num, grad_q]),
                a.dim() == 2,
            )
            if ctx.needs_input_grad[1]:
                grad_a = sums[..., : m + 1, 0]
            if ctx.needs_input_grad[2]:
                grad_b = sums[..., 1 : n + 1, 1]
        return grad_x, grad_a, grad_b


def rational(x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Safe Padé form ``P(x) / (1 + |x * Q'(x)|)``, both evaluated with Horner.

    ``a`` are the numerator coefficients a_0..a_m, ``b`` the denominator
    coefficients b_1..b_n, each with a leading channel axis when per channel.
    The denominator is at least 1, so it never vanishes.
    """
    return _Rational.apply(x, a, b)


# -- spline ------------------------------------------------------------------
def _hermite_table(values: torch.Tensor) -> torch.Tensor:
    """Cubic coefficients in ``t`` of each interval, shape (C * (K - 1), 4).

    Interval k runs from knot k (t = 0) to knot k + 1 (t = 1); the cubic
    Hermite interpolant with Catmull-Rom tangents ``d`` (central differences,
    one-sided at the ends, in grid units) is ``c0 + c1 t + c2 t**2 + c3 t**3``.
    """
    # tangents in grid units, shape of values
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
    return torch.stack([y0, d0, c2, c3], dim=-1).reshape(-1, 4)


@functools.lru_cache(maxsize=32)
def _hermite_matrix(
    n_knots: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """The linear map from knot values to cubic coefficients, (K, 4 * (K - 1)).

    ``values @ H`` holds coefficient ``j`` of interval ``r`` at ``j * (K - 1) + r``
    (the table of :func:`_hermite_table`, transposed and flattened). Built once
    per grid size, dtype and device.
    """
    eye = torch.eye(n_knots, dtype=torch.float64)
    table = _hermite_table(eye).view(n_knots, n_knots - 1, 4)
    return table.transpose(1, 2).reshape(n_knots, -1).to(dtype=dtype, device=device)


class _Spline(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, values, lo, step):
        # values: (K,) or (C, K); table: (4, C * (K - 1)), coefficient j on row j
        n_knots = values.shape[-1]
        hermite = _hermite_matrix(n_knots, values.dtype, values.device)
        n_ch = values.shape[0] if values.dim() == 2 else 1
        table = (values @ hermite).view(n_ch, 4, n_knots - 1)
        table = table.transpose(0, 1).reshape(4, -1)
        u = (x - lo).div_(step)
        uc = u.clamp(0.0, n_knots - 1.0)
        idx = uc.floor().clamp_(max=n_knots - 2)
        t = uc - idx
        beyond = u.sub_(uc)  # < 0 left of the grid, > 0 right of it, 0 inside
        idx = idx.long()
        if n_ch > 1:  # per channel: offset into the flat table
            shape = [1, n_ch] + [1] * (x.dim() - 2)
            offset = torch.arange(n_ch, device=x.device).view(shape) * (n_knots - 1)
            idx = idx.add_(offset)
        idx = idx.view(-1)
        c0, c1, c2, c3 = table.index_select(1, idx).view(4, *x.shape)
        slope = torch.addcmul(c2, c3, t, value=1.5).mul_(t).mul_(2.0).add_(c1)
        out = torch.addcmul(c2, c3, t).mul_(t).add_(c1).mul_(t).add_(c0)
        # linear continuation: at the clamped end, slope is the end tangent
        out.addcmul_(beyond, slope)
        ctx.step = step
        ctx.shape = (n_ch, 4, n_knots - 1)
        ctx.values_shape = values.shape
        ctx.save_for_backward(idx, t, beyond, slope, hermite)
        return out

    @staticmethod
    def backward(ctx, grad):
        idx, t, beyond, slope, hermite = ctx.saved_tensors
        grad_x = grad_values = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.mul(grad, slope).div_(ctx.step)
        if ctx.needs_input_grad[1]:
            # d out / d (c0, c1, c2, c3) = t**k + beyond * k t**(k - 1), (4, *x.shape)
            basis = torch.empty((4, *grad.shape), dtype=grad.dtype, device=grad.device)
            basis[0].copy_(grad)
            torch.add(t, beyond, out=basis[1]).mul_(grad)
            torch.add(t, beyond, alpha=2.0, out=basis[2]).mul_(t).mul_(grad)
            torch.add(t, beyond, alpha=3.0, out=basis[3]).mul_(t).mul_(t).mul_(grad)
            # one scatter into the (4, C * (K - 1)) table, then back to the knots
            n_ch, _, n_int = ctx.shape
            grad_table = torch.zeros(
                (4, n_ch * n_int), dtype=grad.dtype, device=grad.device
            ).index_add_(1, idx, basis.view(4, -1))
            grad_table = grad_table.view(4, n_ch, n_int).transpose(0, 1)
            grad_values = (grad_table.reshape(n_ch, -1) @ hermite.t()).view(
                ctx.values_shape
            )
        return grad_x, grad_values, None, None


def spline_hermite(
    x: torch.Tensor, values: torch.Tensor, lo: float, step: float
) -> torch.Tensor:
    """Cubic Hermite spline through ``values`` on a uniform grid, linear outside.

    ``values`` has shape (K,) (one spline) or (C, K) (one spline per channel,
    channels on dim 1 of ``x``). Tangents are Catmull-Rom (central differences,
    one-sided at the ends); outside ``[lo, lo + (K - 1) * step]`` the spline
    continues along its end tangents. The interval is found by arithmetic
    (``floor((x - lo) / step)``), its cubic coefficients by one gather.
    """
    return _Spline.apply(x, values, lo, step)


# -- subnetwork --------------------------------------------------------------
def _relu_subnet_lines(flat, w1, b1, w2):
    """Active units (h, M) of a ReLU subnetwork and its local lines (2, M).

    ``active`` is 1.0 where the unit is on (``w1 x + b1 > 0``), else 0.0; the
    net is linear where the active set is fixed, so its slope and intercept are
    ``sum_j active_j w2_j (w1_j, b1_j)``, both in one matrix product.
    """
    active = torch.outer(w1, flat).add_(b1.unsqueeze(1)).gt_(0.0)
    return active, torch.stack([w1 * w2, b1 * w2]) @ active


#: Elements per block of the no-grad ReLU subnetwork: its (h, block) temporary
#: stays in cache (at batch 4096 x 128, 6x faster than one (h, M) block).
_SUBNET_BLOCK = 16384


def _relu_subnet_no_grad(x, w1, b1, w2, b2):
    """The ReLU subnetwork's forward without autograd, block by block."""
    flat = x.reshape(-1)
    out = torch.empty_like(flat)
    for start in range(0, flat.numel(), _SUBNET_BLOCK):
        part = flat[start : start + _SUBNET_BLOCK]
        _, line = _relu_subnet_lines(part, w1, b1, w2)
        torch.addcmul(line[1], line[0], part, out=out[start : start + len(part)])
    return out.add_(b2).view(x.shape)


class _ReluSubnet(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w1, b1, w2, b2):
        flat = x.reshape(-1)
        active, line = _relu_subnet_lines(flat, w1, b1, w2)
        slope = line[0]
        out = torch.addcmul(line[1], slope, flat).add_(b2)
        ctx.save_for_backward(flat, active, slope, w1, b1, w2)
        return out.view(x.shape)

    @staticmethod
    def backward(ctx, grad):
        flat, active, slope, w1, b1, w2 = ctx.saved_tensors
        g = grad.reshape(-1)
        need = ctx.needs_input_grad
        grad_x = grad_w1 = grad_b1 = grad_w2 = grad_b2 = None
        if need[0]:
            grad_x = (g * slope).view(grad.shape)
        if need[1] or need[2] or need[3]:
            # (2, h): sums over the active elements of grad and of grad * x
            s0, s1 = torch.stack([g, g * flat]) @ active.t()
            grad_w1 = w2 * s1 if need[1] else None
            grad_b1 = w2 * s0 if need[2] else None
            # sum grad * relu(w1 x + b1) = w1 * s1 + b1 * s0
            grad_w2 = torch.addcmul(b1 * s0, w1, s1) if need[3] else None
        if need[4]:
            grad_b2 = g.sum()
        return grad_x, grad_w1, grad_b1, grad_w2, grad_b2


def subnet(
    x: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor,
    w2: torch.Tensor,
    b2: torch.Tensor,
    hidden: nn.Module,
) -> torch.Tensor:
    """A 1-h-1 network applied elementwise: ``hidden(x * w1 + b1) @ w2 + b2``.

    With a ReLU inside, one fused node: the net is linear wherever its set of
    active units is fixed, so one pass computes the active mask (M, h), one
    matrix product the slope and intercept of every element, and the backward
    reduces the parameter gradients over the saved mask in one more matrix
    product; without autograd (inference), block by block, so that the mask
    stays in cache. Other hidden activations go through autograd.
    """
    if type(hidden) is nn.ReLU:
        params = (x, w1, b1, w2, b2)
        if torch.is_grad_enabled() and any(p.requires_grad for p in params):
            return _ReluSubnet.apply(*params)
        return _relu_subnet_no_grad(*params)
    z = torch.addcmul(b1, x.unsqueeze(-1), w1)
    return torch.matmul(hidden(z), w2) + b2
