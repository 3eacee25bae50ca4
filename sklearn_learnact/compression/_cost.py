"""The cost model: multiply-adds per element of an activation at inference."""

import math

from torch import nn

from ..activations import activation_cost


def activation_madds(module: nn.Module | str) -> float:
    """Multiply-adds per element of an activation module (a cost model).

    A compressed activation (:class:`SplineActivation`,
    :class:`SymbolicActivation`) reports its own cost; a registered activation
    has the cost its registration gives
    (:func:`~sklearn_learnact.activations.activation_cost`, in which a
    transcendental function counts as
    :data:`~sklearn_learnact.activations.TRANSCENDENTAL_COST`). NaN when no
    cost is known: an activation registered without ``cost``.

    Parameters
    ----------
    module : torch.nn.Module or str
        A compressed or registered activation (a module, or its registry
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
    own = getattr(module, "madds_per_element", None)
    if callable(own):
        return float(own())
    return activation_cost(module)


def cost_note(modules) -> str:
    """A sentence naming the activations among ``modules`` of unknown cost
    (empty if every cost is known)."""
    unknown = sorted(
        {type(m).__name__ for m in modules if math.isnan(activation_madds(m))}
    )
    if not unknown:
        return ""
    return (
        f"The cost of {', '.join(unknown)} is unknown (NaN in the madds columns): "
        "register it with register_activation(..., cost=multiply-adds per "
        "element)."
    )
