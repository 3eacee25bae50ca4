"""Activation functions: the registry, fixed, learnable and expression modules."""

from ._registry import (
    ACTIVATIONS,
    EXPRESSION_ACTIVATIONS,
    FIXED_ACTIVATIONS,
    LEARNABLE_ACTIVATIONS,
    ActivationSpec,
    available_activations,
    get_activation,
    is_learnable,
)
from .expression import Expression
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
    "EXPRESSION_ACTIVATIONS",
    "Expression",
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
