"""A user's own activations, each one module and one ``register_activation`` call.

Imported by ``tests/test_plugins.py`` (which unregisters them afterwards) and,
when a model that uses them is unpickled in a fresh process, by pickle itself.
"""

import torch
from torch import nn

from sklearn_learnact.activations import (
    TRANSCENDENTAL_COST,
    Formula,
    channel_view,
    register_activation,
)


# -- a learnable activation with a formula: scale * tanh(slope * x) -------------
def _per_channel(p, x):
    return p if p.dim() == 0 else channel_view(p, x)


def _total(t, x):
    return t.sum() if x.dim() == 1 else t.sum(dim=(0, 2))


def _scaled_tanh_forward(x, scale, slope):
    return _per_channel(scale, x) * torch.tanh(_per_channel(slope, x) * x)


def _scaled_tanh_backward(x, grad, scale, slope, *, needs):
    a, b = _per_channel(scale, x), _per_channel(slope, x)
    t = torch.tanh(b * x)
    dt = grad * a * (1.0 - t * t)  # d out / d (slope * x)
    grad_x = dt * b if needs[0] else None
    grad_scale = _total(grad * t, x) if needs[1] else None
    grad_slope = _total(dt * x, x) if needs[2] else None
    return grad_x, grad_scale, grad_slope


SCALED_TANH = Formula(_scaled_tanh_forward, _scaled_tanh_backward)


class ScaledTanh(nn.Module):
    """``scale * tanh(slope * x)``, both learned (per layer or per channel)."""

    def __init__(
        self, num_parameters=1, *, scale=1.0, slope=1.0, device=None, dtype=None
    ):
        super().__init__()
        shape = () if num_parameters == 1 else (num_parameters,)
        kw = {"device": device, "dtype": dtype}
        self.scale = nn.Parameter(torch.full(shape, float(scale), **kw))
        self.slope = nn.Parameter(torch.full(shape, float(slope), **kw))

    def forward(self, x):
        return SCALED_TANH(x, self.scale, self.slope)


register_activation(
    "scaled_tanh",
    ScaledTanh,
    learnable=True,
    per_neuron=True,
    summary="scale * tanh(slope * x), scale and slope learned",
    formula=SCALED_TANH,
    cost=TRANSCENDENTAL_COST + 2.0,
)


# -- a fixed activation with no parameters, no formula and no cost --------------
class BentIdentity(nn.Module):
    """``x + (sqrt(x^2 + 1) - 1) / 2``."""

    def forward(self, x):
        return x + (torch.sqrt(x * x + 1.0) - 1.0) / 2.0


register_activation(
    "bent_identity", BentIdentity, learnable=False, summary="x + (sqrt(x^2+1)-1)/2"
)
