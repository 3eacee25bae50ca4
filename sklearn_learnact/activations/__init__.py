"""Activation functions: the registry, fixed and learnable modules."""

from ._registry import (
    ACTIVATIONS,
    FIXED_ACTIVATIONS,
    LEARNABLE_ACTIVATIONS,
    ActivationSpec,
    available_activations,
    get_activation,
    is_learnable,
)
from .fixed import Sin
from .learnable import (
    Affine,
    LearnableActivation,
    Mixture,
    PReLU,
    Rational,
    Spline,
    Subnet,
    Swish,
)

__all__ = [
    "ACTIVATIONS",
    "FIXED_ACTIVATIONS",
    "LEARNABLE_ACTIVATIONS",
    "ActivationSpec",
    "Affine",
    "LearnableActivation",
    "Mixture",
    "PReLU",
    "Rational",
    "Sin",
    "Spline",
    "Subnet",
    "Swish",
    "available_activations",
    "get_activation",
    "is_learnable",
]
