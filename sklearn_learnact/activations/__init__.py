"""Activation functions: the registry, fixed, learnable and expression modules."""

from ._fused import (
    FusedKernel,
    compiled_kernels,
    fused_kernels,
    fused_kernels_available,
    no_new_kernels,
)
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
from ._utils import channel_view, check_channels, numpy_function
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
    "FusedKernel",
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
    "channel_view",
    "check_channels",
    "compiled_kernels",
    "fused_kernels",
    "fused_kernels_available",
    "get_activation",
    "is_learnable",
    "no_new_kernels",
    "numpy_function",
]
