"""The cost model: multiply-adds per element of an activation."""

from torch import nn

from ..activations import (
    available_activations,
    get_activation,
)

#: Multiply-add equivalents of one transcendental evaluation (exp, tanh, sin,
#: erf, log): a convention for the cost columns, not a measurement.
TRANSCENDENTAL_MADDS = 10.0
_T = TRANSCENDENTAL_MADDS
#: Multiply-adds per element of each fixed activation (keys: the registry's).
FIXED_MADDS = {
    "identity": 0.0,
    "relu": 1.0,
    "leaky_relu": 2.0,
    "elu": _T + 2.0,
    "selu": _T + 3.0,
    "gelu": _T + 3.0,
    "silu": _T + 2.0,
    "mish": 3 * _T + 1.0,
    "softplus": 2 * _T + 2.0,
    "softsign": 3.0,
    "sigmoid": _T + 2.0,
    "tanh": _T,
    "sin": _T,
    "hardswish": 4.0,
}


def _fixed_madds(name: str) -> float:
    if name not in FIXED_MADDS:
        raise KeyError(
            f"No cost for the fixed activation {name!r}; add it to FIXED_MADDS."
        )
    return FIXED_MADDS[name]


def activation_madds(module: nn.Module | str) -> float:
    """Multiply-adds per element of an activation module (a cost model).

    Learnable activations report their own cost (``madds_per_element``, given
    this function to cost the fixed activations they contain) in terms of
    :data:`FIXED_MADDS`, the one table of fixed-activation costs, in which a
    transcendental function counts as :data:`TRANSCENDENTAL_MADDS`.

    Parameters
    ----------
    module : torch.nn.Module or str
        A learnable or compressed activation, or a fixed registry activation
        (a module, or its registry name: expressions cost their operators by
        name).

    Returns
    -------
    madds : float

    Examples
    --------
    >>> from sklearn_learnact.activations import Subnet
    >>> from sklearn_learnact.compression import activation_madds
    >>> activation_madds(Subnet(hidden_size=16))  # 16 * (2 + relu) + 1
    49.0
    """
    if isinstance(module, str):
        return _fixed_madds(module)
    if hasattr(module, "madds_per_element"):
        return float(module.madds_per_element(activation_madds))
    for name in available_activations("fixed"):
        if type(get_activation(name)) is type(module):
            return _fixed_madds(name)
    raise TypeError(f"No cost model for {type(module).__name__}.")
