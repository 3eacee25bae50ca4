"""Parameter grids over activations, derived from the registry.

Nothing here lists activation names: they all come from
:func:`~sklearn_learnact.activations.available_activations`, so a new
activation in the registry shows up in every grid and in the command line.
"""

from collections.abc import Iterable

from ..activations import ACTIVATIONS, available_activations

__all__ = ["activation_grid", "parse_activations"]

#: Shorthands accepted by :func:`parse_activations` for whole groups.
_GROUPS = ("all", "fixed", "learnable")


def activation_grid(
    kind: str = "all", include_params: bool = False, *, prefix: str = ""
) -> dict[str, list] | list[dict[str, list]]:
    """A :class:`~sklearn.model_selection.GridSearchCV` grid over activations.

    Parameters
    ----------
    kind : {"all", "fixed", "learnable"}, default="all"
        Which registered activations to include (``"identity"`` is left out:
        it makes the network linear).
    include_params : bool, default=False
        Also search ``activation_params``: each learnable activation that can
        learn one set of parameters per neuron is tried with the default (one
        set per layer) and with ``{"per_neuron": True}``.
    prefix : str, default=""
        Prepended to the parameter names, e.g. ``"learnedactivationclassifier__"``
        when the estimator is the last step of a pipeline.

    Returns
    -------
    grid : dict or list of dict
        A dict ``{"activation": [...]}``, or with ``include_params=True`` a
        list of dicts that also set ``activation_params``.

    Examples
    --------
    >>> from sklearn_learnact.compare import activation_grid
    >>> activation_grid("fixed")["activation"][:3]
    ['relu', 'leaky_relu', 'elu']
    >>> activation_grid("learnable", include_params=True)[0]
    {'activation': ['affine'], 'activation_params': [None, {'per_neuron': True}]}
    """
    names = [n for n in available_activations(kind) if n != "identity"]
    if not include_params:
        return {f"{prefix}activation": names}
    grid = []
    for name in names:
        params = (
            [None, {"per_neuron": True}] if ACTIVATIONS[name].per_neuron else [None]
        )
        grid.append(
            {f"{prefix}activation": [name], f"{prefix}activation_params": params}
        )
    return grid


def parse_activations(spec: str | Iterable[str]) -> tuple[str, ...]:
    """Validate activation names; ``"fixed"``, ``"learnable"``, ``"all"`` expand.

    Parameters
    ----------
    spec : str or iterable of str
        Comma-separated names (``"relu,tanh,mixture"``) or a sequence of them.

    Returns
    -------
    names : tuple of str
        Registry names in the given order, without duplicates.

    Raises
    ------
    ValueError
        If a name is not registered; the message lists the valid names.

    Examples
    --------
    >>> from sklearn_learnact.compare import parse_activations
    >>> parse_activations("relu, tanh,mixture")
    ('relu', 'tanh', 'mixture')
    >>> parse_activations(["fixed"])[:2]
    ('identity', 'relu')
    """
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    names: list[str] = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        if item in _GROUPS:
            expanded = available_activations(item)
        elif item in ACTIVATIONS:
            expanded = (item,)
        else:
            raise ValueError(
                f"Unknown activation {item!r}. Valid names: "
                f"{', '.join(available_activations('all'))} (or a group: "
                f"{', '.join(_GROUPS)})."
            )
        names += [n for n in expanded if n not in names]
    if not names:
        raise ValueError("No activation given.")
    return tuple(names)
