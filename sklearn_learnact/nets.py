"""Torch networks whose hidden activations come from the registry.

Plain :class:`torch.nn.Module` classes: no scikit-learn or skorch here. Every
hidden layer gets its own activation module (learned parameters are never
tied across layers), listed in order in ``module.activations``.
"""

import math
import numbers
from collections.abc import Mapping, Sequence
from itertools import pairwise

import numpy as np
import torch
from torch import nn

from .activations import get_activation

__all__ = ["CNN", "MLP", "check_hidden_layer_sizes", "reset_parameters"]


def check_hidden_layer_sizes(sizes) -> tuple[int, ...]:
    """``hidden_layer_sizes`` as a tuple of positive ints (an int is one layer).

    The one place where the estimators, the networks and the searches read
    ``hidden_layer_sizes``.

    Raises
    ------
    ValueError
        If ``sizes`` is not a positive int or a non-empty sequence of them.

    Examples
    --------
    >>> from sklearn_learnact.nets import check_hidden_layer_sizes
    >>> check_hidden_layer_sizes(32), check_hidden_layer_sizes([64, 32])
    ((32,), (64, 32))
    """

    def positive_int(s) -> bool:
        return isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0

    if positive_int(sizes):
        return (int(sizes),)
    if (
        isinstance(sizes, (Sequence, np.ndarray))
        and not isinstance(sizes, str)
        and len(sizes) > 0
        and all(positive_int(s) for s in sizes)
    ):
        return tuple(int(s) for s in sizes)
    raise ValueError(
        "hidden_layer_sizes must be a positive int or a non-empty tuple of "
        f"positive ints, got {sizes!r}."
    )


def reset_parameters(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Draw the weights of every ``Linear`` and ``Conv2d`` in ``module`` anew.

    The same distribution as PyTorch's default initialisation (weights and
    biases uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``, see
    :class:`torch.nn.Linear`), but drawn from ``generator`` instead of torch's
    global random state: a fit seeded with its own generator is reproducible
    even when other threads draw random numbers at the same time. Activation
    modules initialise deterministically and are left alone.

    Parameters
    ----------
    module : torch.nn.Module
    generator : torch.Generator
        On the device of ``module``'s parameters.

    Returns
    -------
    module : torch.nn.Module
    """
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                fan_in = layer.weight[0].numel()  # in_features (x kernel size)
                bound = 1.0 / math.sqrt(fan_in)
                layer.weight.uniform_(-bound, bound, generator=generator)
                if layer.bias is not None:
                    layer.bias.uniform_(-bound, bound, generator=generator)
    return module


def _activation(name, params, width):
    params = dict(params or {})
    per_neuron = params.pop("per_neuron", False)
    return get_activation(name, num_features=width, per_neuron=per_neuron, **params)


class MLP(nn.Module):
    """Fully connected network: ``Linear -> activation`` per hidden layer.

    Parameters
    ----------
    n_features : int
        Input width.
    n_outputs : int
        Output width (logits for a classifier).
    hidden_layer_sizes : sequence of int, default=(100,)
        Width of each hidden layer.
    activation : str, default="relu"
        Registry name of the hidden activation.
    activation_params : mapping, optional
        Options of the activation, plus ``per_neuron`` (bool).

    Shape:
        - Input: :math:`(N, n\\_features)`.
        - Output: :math:`(N, n\\_outputs)`.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.nets import MLP
    >>> net = MLP(784, 10, (128, 64), activation="mixture")
    >>> net(torch.zeros(2, 784)).shape
    torch.Size([2, 10])
    >>> len(net.activations)
    2
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str = "relu",
        activation_params: Mapping | None = None,
    ) -> None:
        super().__init__()
        sizes = (n_features, *hidden_layer_sizes)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(sizes))
        self.activations = nn.ModuleList(
            _activation(activation, activation_params, width)
            for width in hidden_layer_sizes
        )
        self.output = nn.Linear(sizes[-1], n_outputs)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        for linear, act in zip(self.hidden, self.activations):
            X = act(linear(X))
        return self.output(X)


class CNN(nn.Module):
    """Small convolutional network: two convolutions, two dense layers.

    ``conv(5x5) -> activation -> max-pool(2)`` twice, then the dense hidden
    layers (``Linear -> activation``) and the output layer. The input stays
    flat, ``(N, C * H * W)``, so images flow through scikit-learn tools; the
    network reshapes it to ``(N, C, H, W)``.

    Parameters
    ----------
    image_shape : (int, int, int)
        ``(C, H, W)`` of one image.
    n_outputs : int
        Output width.
    hidden_layer_sizes : sequence of int, default=(128,)
        Widths of the dense hidden layers after the convolutions.
    activation : str, default="relu"
        Registry name of every hidden activation (convolutional and dense).
    activation_params : mapping, optional
        Options of the activation, plus ``per_neuron`` (per channel after a
        convolution).
    channels : (int, int), default=(32, 64)
        Output channels of the two convolutions.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.nets import CNN
    >>> net = CNN((1, 28, 28), 10)
    >>> net(torch.zeros(2, 784)).shape
    torch.Size([2, 10])
    >>> len(net.activations)  # two convolutional, one dense
    3
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        n_outputs: int,
        hidden_layer_sizes: Sequence[int] = (128,),
        activation: str = "relu",
        activation_params: Mapping | None = None,
        channels: Sequence[int] = (32, 64),
    ) -> None:
        super().__init__()
        self.image_shape = tuple(int(s) for s in image_shape)
        c, h, w = self.image_shape
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, kernel_size=5, padding=2)
            for a, b in pairwise((c, *channels))
        )
        self.pool = nn.MaxPool2d(2)
        n_flat = channels[-1] * (h // 4) * (w // 4)
        sizes = (n_flat, *hidden_layer_sizes)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(sizes))
        self.activations = nn.ModuleList(
            _activation(activation, activation_params, width)
            for width in (*channels, *hidden_layer_sizes)
        )
        self.output = nn.Linear(sizes[-1], n_outputs)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        X = X.view(-1, *self.image_shape)
        acts = iter(self.activations)
        for conv in self.convs:
            X = self.pool(next(acts)(conv(X)))
        X = X.flatten(1)
        for linear in self.hidden:
            X = next(acts)(linear(X))
        return self.output(X)
