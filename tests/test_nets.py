"""The torch networks."""

import pytest
import torch

from sklearn_learnact.activations import LEARNABLE_ACTIVATIONS, Mixture
from sklearn_learnact.nets import CNN, MLP


@pytest.mark.parametrize("activation", ["relu", *LEARNABLE_ACTIVATIONS])
def test_mlp_shapes_and_untied_activations(activation):
    net = MLP(12, 3, (8, 6, 4), activation=activation)
    assert net(torch.randn(5, 12)).shape == (5, 3)
    assert len(net.activations) == 3
    ids = [set(map(id, a.parameters())) for a in net.activations]
    assert all(not (ids[i] & ids[j]) for i in range(3) for j in range(i + 1, 3))


def test_mlp_per_neuron_params():
    net = MLP(4, 2, (8, 6), "mixture", {"per_neuron": True, "basis": ("relu", "tanh")})
    assert [a.num_parameters for a in net.activations] == [8, 6]
    assert isinstance(net.activations[0], Mixture)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (1, 8, 9)])
def test_cnn_shapes(shape):
    c, h, w = shape
    net = CNN(shape, 10, (32,), "mixture", channels=(4, 8))
    assert net(torch.randn(2, c * h * w)).shape == (2, 10)
    assert len(net.activations) == 3


def test_cnn_per_channel_activation():
    net = CNN((1, 12, 12), 3, (16,), "prelu", {"per_neuron": True}, channels=(4, 8))
    assert [a.num_parameters for a in net.activations] == [4, 8, 16]
    assert net(torch.randn(2, 144)).shape == (2, 3)
