"""Elementwise kernels behind the learnable activations.

Each function takes the input and the (already broadcastable) parameters and
returns the activation's output; autograd provides the gradients. The modules
in :mod:`sklearn_learnact.activations.learnable` own the parameters and call
these, so a faster kernel can replace one function without touching a module.
"""

from collections.abc import Sequence

import torch

__all__ = ["affine", "mixture", "rational", "spline_hermite", "subnet", "swish"]


def affine(x: torch.Tensor, k0: torch.Tensor, k1: torch.Tensor) -> torch.Tensor:
    """``k0 + k1 * x``."""
    return torch.addcmul(k0, k1, x)


def swish(x: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """``x * sigmoid(beta * x)``."""
    return x * torch.sigmoid(beta * x)


def mixture(
    x: torch.Tensor,
    p: Sequence[torch.Tensor],
    basis: Sequence[torch.nn.Module],
) -> torch.Tensor:
    """``sum_i p[i] * basis[i](x)``, the mixture weights already normalised."""
    out = p[0] * basis[0](x)
    for p_i, f_i in zip(p[1:], basis[1:]):
        out = torch.addcmul(out, p_i, f_i(x))
    return out


def rational(
    x: torch.Tensor, a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]
) -> torch.Tensor:
    """Safe Padé form ``P(x) / (1 + |x * Q'(x)|)``, both evaluated with Horner.

    ``a`` are the numerator coefficients a_0..a_m, ``b`` the denominator
    coefficients b_1..b_n. The denominator is at least 1, so it never vanishes.
    """
    num = a[-1].expand_as(x)
    for a_k in reversed(a[:-1]):
        num = torch.addcmul(a_k, num, x)
    den = b[-1].expand_as(x)
    for b_k in reversed(b[:-1]):
        den = torch.addcmul(b_k, den, x)
    return num / (1.0 + (den * x).abs())


def spline_hermite(
    x: torch.Tensor, values: torch.Tensor, lo: float, step: float
) -> torch.Tensor:
    """Cubic Hermite spline through ``values`` on a uniform grid, linear outside.

    ``values`` has shape (K,) (one spline) or (C, K) (one spline per channel,
    channels on dim 1 of ``x``). Tangents are Catmull-Rom (central differences,
    one-sided at the ends); outside ``[lo, lo + (K - 1) * step]`` the spline
    continues along its end tangents.
    """
    n_knots = values.shape[-1]
    # tangents in grid units, shape of values
    d = torch.cat(
        [
            values[..., 1:2] - values[..., 0:1],
            (values[..., 2:] - values[..., :-2]) * 0.5,
            values[..., -1:] - values[..., -2:-1],
        ],
        dim=-1,
    )
    u = (x - lo) / step
    uc = u.clamp(0.0, n_knots - 1.0)
    idx = uc.floor().clamp_(max=n_knots - 2).long()
    t = uc - idx
    if values.dim() == 2:  # per channel: offset each channel into the flat table
        n_ch = values.shape[0]
        shape = [1, n_ch] + [1] * (x.dim() - 2)
        offset = torch.arange(n_ch, device=x.device).view(shape) * n_knots
        idx = idx + offset
        values, d = values.reshape(-1), d.reshape(-1)
        left, right = offset, offset + n_knots - 1
    else:
        left, right = 0, n_knots - 1
    y0, y1 = values[idx], values[idx + 1]
    d0, d1 = d[idx], d[idx + 1]
    t2 = t * t
    t3 = t2 * t
    h00 = 2 * t3 - 3 * t2 + 1
    h10 = t3 - 2 * t2 + t
    h01 = 3 * t2 - 2 * t3
    h11 = t3 - t2
    inside = h00 * y0 + h10 * d0 + h01 * y1 + h11 * d1
    beyond = u - uc  # < 0 left of the grid, > 0 right of it, 0 inside
    tail = beyond.clamp(max=0.0) * d[left] + beyond.clamp(min=0.0) * d[right]
    return inside + tail


def subnet(
    x: torch.Tensor,
    w1: torch.Tensor,
    b1: torch.Tensor,
    w2: torch.Tensor,
    b2: torch.Tensor,
    hidden: torch.nn.Module,
) -> torch.Tensor:
    """A 1-h-1 network applied elementwise: ``hidden(x * w1 + b1) @ w2 + b2``."""
    z = torch.addcmul(b1, x.unsqueeze(-1), w1)
    return torch.matmul(hidden(z), w2) + b2
