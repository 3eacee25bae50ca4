"""Activation functions: the registry, its built-in fixed, expression and
learnable activations, and what makes them fast.

One extension point, :func:`register_activation`: an activation is a
:class:`torch.nn.Module` and one call, after which its name works everywhere
a built-in one does. See the "Adding an activation" page of the docs.
"""

# importing the modules registers the built-in activations
from . import expression as _expression
from . import fixed as _fixed
from . import learnable as _learnable
from ._kernels import (
    Formula,
    FusedKernel,
    compiled_kernels,
    fused_kernels,
    fused_kernels_available,
    no_new_kernels,
)
from ._kernels import cache_info as kernel_cache_info
from ._kernels import clear_cache as clear_kernel_cache
from ._registry import (
    ACTIVATIONS,
    TRANSCENDENTAL_COST,
    ActivationSpec,
    activation_cost,
    activation_spec,
    available_activations,
    get_activation,
    is_learnable,
    learned_parameters,
    register_activation,
    unregister_activation,
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

del _fixed, _expression, _learnable

#: Names of the built-in fixed activations, in registry order.
FIXED_ACTIVATIONS = available_activations("fixed")
#: Names of the built-in learnable activations, in registry order.
LEARNABLE_ACTIVATIONS = available_activations("learnable")
#: Names of the built-in activations defined by a required option (``"expr"``).
EXPRESSION_ACTIVATIONS = available_activations("expression")

__all__ = [
    "ACTIVATIONS",
    "EXPRESSION_ACTIVATIONS",
    "FIXED_ACTIVATIONS",
    "LEARNABLE_ACTIVATIONS",
    "TRANSCENDENTAL_COST",
    "ActivationSpec",
    "Affine",
    "Expression",
    "Formula",
    "FusedKernel",
    "LearnableActivation",
    "Mixture",
    "PReLU",
    "Rational",
    "Sin",
    "Spline",
    "Subnet",
    "Swish",
    "activation_cost",
    "activation_spec",
    "available_activations",
    "channel_view",
    "check_channels",
    "clear_kernel_cache",
    "compiled_kernels",
    "fused_kernels",
    "fused_kernels_available",
    "get_activation",
    "is_learnable",
    "kernel_cache_info",
    "learned_parameters",
    "no_new_kernels",
    "numpy_function",
    "register_activation",
    "unregister_activation",
]
