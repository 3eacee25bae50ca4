"""Small helpers shared by the activations, their kernels and the compressor.

- :func:`channel_view`: the one way per-channel values broadcast against an
  input whose channels are on dim 1.
- :func:`check_channels`: the error for an input with the wrong channel count.
- :func:`numpy_function`: an activation module as a float64 numpy function.
"""

import copy
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from ._kernels.fused import no_new_kernels

__all__ = ["channel_view", "check_channels", "numpy_function"]


def channel_view(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """View per-channel values ``v`` of shape ``(..., C)`` to broadcast along
    dim 1 of ``x``, of shape ``(N, C, *)``.

    Trailing singleton dims are appended, one per dim of ``x`` after the
    channels: ``(C,)`` against ``(N, C, H, W)`` becomes ``(C, 1, 1)``, and
    ``(k, C)`` becomes ``(k, C, 1, 1)``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.activations import channel_view
    >>> channel_view(torch.ones(3), torch.zeros(2, 3, 4, 5)).shape
    torch.Size([3, 1, 1])
    """
    return v.view(*v.shape, *[1] * (x.dim() - 2))


def check_channels(x: torch.Tensor, n_channels: int, owner: str) -> None:
    """Raise a clear error unless ``x`` has ``n_channels`` channels on dim 1.

    ``owner`` starts the message, e.g. ``"PReLU has num_parameters=8"``.
    """
    if x.dim() < 2 or x.shape[1] != n_channels:
        raise ValueError(f"{owner}, but got input of shape {tuple(x.shape)}.")


def numpy_function(
    activation: Callable[[torch.Tensor], torch.Tensor],
) -> Callable[[np.ndarray], np.ndarray]:
    """An activation (a module or a function of tensors) as a float64 numpy
    function, evaluated without autograd.

    A module is copied to the CPU in float64 (the original is untouched) and
    put in evaluation mode. Fused kernels already compiled are used, none is
    compiled for these few evaluations.

    Examples
    --------
    >>> import numpy as np
    >>> from torch import nn
    >>> from sklearn_learnact.activations import numpy_function
    >>> numpy_function(nn.ReLU())(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    if isinstance(activation, nn.Module):
        activation = copy.deepcopy(activation).to(device="cpu", dtype=torch.float64)
        activation.eval()

    def fn(x: np.ndarray) -> np.ndarray:
        with torch.no_grad(), no_new_kernels():
            return activation(torch.as_tensor(x, dtype=torch.float64)).numpy()

    return fn
