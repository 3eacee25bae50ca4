"""Fixed activation functions that :mod:`torch.nn` does not ship."""

import torch
from torch import nn

__all__ = ["Sin"]


class Sin(nn.Module):
    r"""Applies the sine function elementwise.

    .. math:: \text{Sin}(x) = \sin(x)

    Seed 002 uses it as the third basis function of its mixture activation.

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
