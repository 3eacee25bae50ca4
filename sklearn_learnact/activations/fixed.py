"""The fixed activation functions: torch's, and those :mod:`torch.nn` does not ship.

Each is registered here with its cost (multiply-adds per element, a
transcendental function counting as
:data:`~sklearn_learnact.activations.TRANSCENDENTAL_COST`) and its ONNX
converter.
"""

import torch
from torch import nn

from . import _onnx
from ._registry import TRANSCENDENTAL_COST as _T
from ._registry import register_activation

__all__ = ["Sin"]


class Sin(nn.Module):
    r"""Applies the sine function elementwise.

    .. math:: \text{Sin}(x) = \sin(x)

    The third basis function of the default mixture activation.

    Shape:
        - Input: :math:`(*)`, any shape.
        - Output: :math:`(*)`, same shape as the input.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.activations import Sin
    >>> Sin()(torch.tensor([0.0, torch.pi / 2]))
    tensor([0., 1.])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x)


def _identity() -> nn.Identity:
    return nn.Identity()


# name, module, summary, cost, ONNX converter
for _name, _factory, _summary, _cost, _converter in (
    ("identity", _identity, "x (no nonlinearity)", 0.0, _onnx.identity),
    ("relu", nn.ReLU, "max(0, x)", 1.0, _onnx.unary("Relu")),
    (
        "leaky_relu",
        nn.LeakyReLU,
        "max(0, x) + negative_slope * min(0, x)",
        2.0,
        _onnx.leaky_relu,
    ),
    ("elu", nn.ELU, "x if x > 0 else alpha * (exp(x) - 1)", _T + 2.0, _onnx.elu),
    ("selu", nn.SELU, "scaled ELU (self-normalising)", _T + 3.0, _onnx.selu),
    ("gelu", nn.GELU, "x * Phi(x)", _T + 3.0, _onnx.gelu),
    ("silu", nn.SiLU, "x * sigmoid(x)", _T + 2.0, _onnx.silu),
    ("mish", nn.Mish, "x * tanh(softplus(x))", 3 * _T + 1.0, _onnx.mish),
    (
        "softplus",
        nn.Softplus,
        "log(1 + exp(beta * x)) / beta",
        2 * _T + 2.0,
        _onnx.softplus,
    ),
    ("softsign", nn.Softsign, "x / (1 + |x|)", 3.0, _onnx.unary("Softsign")),
    ("sigmoid", nn.Sigmoid, "1 / (1 + exp(-x))", _T + 2.0, _onnx.unary("Sigmoid")),
    ("tanh", nn.Tanh, "tanh(x)", _T, _onnx.unary("Tanh")),
    ("sin", Sin, "sin(x)", _T, _onnx.unary("Sin")),
    ("hardswish", nn.Hardswish, "x * relu6(x + 3) / 6", 4.0, _onnx.hardswish),
):
    register_activation(
        _name,
        _factory,
        learnable=False,
        summary=_summary,
        cost=_cost,
        onnx=_converter,
        module_type=nn.Identity if _factory is _identity else None,
        _builtin=True,
    )
