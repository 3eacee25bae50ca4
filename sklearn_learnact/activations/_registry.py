"""The activation registry: every activation, built-in or a user's, by name.

An :class:`ActivationSpec` is the single description of an activation: how to
build it, whether it learns, and, optionally, what makes it fast or portable
(its formula, its inference cost, its ONNX converter). Activations are added
with :func:`register_activation`; the built-in ones register themselves where
they are defined (``fixed.py``, ``expression.py``, ``learnable.py``).
Estimators, grids, the command line, the compressor's cost column, the ONNX
export, docs and tests all read their lists and facts from here.
:func:`get_activation` returns a fresh module on every call, so no two layers
ever share (and tie) learned parameters.
"""

import inspect
import math
import numbers
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType

import torch
from torch import nn

from .._validation import InvalidParameterError

__all__ = [
    "ACTIVATIONS",
    "TRANSCENDENTAL_COST",
    "ActivationSpec",
    "activation_cost",
    "activation_spec",
    "available_activations",
    "get_activation",
    "is_learnable",
    "learned_parameters",
    "register_activation",
    "unregister_activation",
]

#: Multiply-add equivalents of one transcendental evaluation (exp, tanh, sin,
#: erf, log) in the cost model: a convention for the cost columns, not a
#: measurement.
TRANSCENDENTAL_COST = 10.0

# Options that would make a module unsafe or meaningless inside our networks.
_RESERVED = frozenset({"inplace", "num_parameters", "device", "dtype"})
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class ActivationSpec:
    """The single description of a registered activation.

    Made by :func:`register_activation`; see there for the meaning of each
    field. Only ``name``, ``factory`` and ``learnable`` are needed: the other
    fields make an activation faster or more portable, and each missing one
    degrades gracefully (no formula: plain autograd; no cost: an empty cost
    column with a note; no converter: ONNX export refuses it by name).

    Attributes
    ----------
    name : str
        Registry name.
    factory : callable
        Builds the module; its keyword arguments are the activation's options.
    learnable : bool
        Whether the module has trainable parameters.
    per_neuron : bool
        Whether it can hold one set of parameters per feature/channel.
    summary : str
        One line for tables and ``--help``.
    formula : Formula or None
        The forward and hand-written backward its module trains with.
    cost : float, callable or None
        Multiply-adds per element at inference.
    onnx : callable or None
        Its ONNX converter, ``onnx(builder, x, module) -> output``.
    module_type : type or None
        The module class the factory builds (found on first use if None).
    builtin : bool
        Whether the library itself registered it.

    An activation with :attr:`required` options (``"expr"`` needs its
    expression) is not listed by :func:`available_activations` ``"all"``,
    ``"fixed"`` or ``"learnable"``: those name activations that build from
    their name alone.
    """

    name: str
    factory: Callable[..., nn.Module]
    learnable: bool
    per_neuron: bool = False
    summary: str = ""
    formula: object = None
    cost: float | Callable[[nn.Module], float] | None = None
    onnx: Callable | None = field(default=None, repr=False)
    module_type: type | None = None
    builtin: bool = False

    @property
    def options(self) -> tuple[str, ...]:
        """Keyword options the activation accepts (``activation_params``)."""
        params = inspect.signature(self.factory).parameters.values()
        return tuple(
            p.name
            for p in params
            if p.name not in _RESERVED
            and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        )

    @property
    def required(self) -> tuple[str, ...]:
        """Options without a default: the activation cannot be built without them."""
        params = inspect.signature(self.factory).parameters
        return tuple(n for n in self.options if params[n].default is params[n].empty)

    @property
    def native(self):
        """The native operator its formula trains float32 CPU inputs with, or None."""
        return getattr(self.formula, "native", None)

    def describe(self) -> dict:
        """What the activation provides, for tables: one dict of plain values."""
        return {
            "name": self.name,
            "kind": "learnable"
            if self.learnable
            else ("expression" if self.required else "fixed"),
            "per_neuron": self.per_neuron,
            "options": ", ".join(self.options),
            "summary": self.summary,
            "formula": self.formula is not None,
            "native": self.native is not None,
            "cost": self.cost is not None,
            "onnx": self.onnx is not None,
            "builtin": self.builtin,
        }


#: name -> spec, in registration order (built-in ones first).
_REGISTRY: dict[str, ActivationSpec] = {}
#: Read-only live mapping of every registered name to its :class:`ActivationSpec`.
ACTIVATIONS = MappingProxyType(_REGISTRY)
#: module type -> spec, built on first use, reset on every (un)registration.
_BY_TYPE: dict[type, ActivationSpec] = {}


def register_activation(
    name: str,
    factory: Callable[..., nn.Module],
    *,
    learnable: bool,
    per_neuron: bool = False,
    summary: str = "",
    formula=None,
    cost: float | Callable[[nn.Module], float] | None = None,
    onnx: Callable | None = None,
    module_type: type | None = None,
    replace: bool = False,
    _builtin: bool = False,
) -> ActivationSpec:
    """Register an activation under ``name``: the library's one extension point.

    Once registered, the name works everywhere a built-in one does: the
    estimators' ``activation``, ``GridSearchCV`` grids, ``compare_activations``,
    ``learned_activations_``, the compressor, pickling, plots and ONNX export.
    A fitted model that uses it unpickles in a process that imports the
    module defining (and registering) it.

    Parameters
    ----------
    name : str
        Lowercase letters, digits and ``_``, starting with a letter.
    factory : callable
        ``factory(**options) -> torch.nn.Module``, usually the module class.
        Its keyword arguments are the activation's options (what
        ``activation_params`` may set); those without a default are required.
        With ``per_neuron=True`` it also takes ``num_parameters`` (one set of
        parameters per feature or channel, broadcast along dim 1 of the
        input), as :class:`torch.nn.PReLU` does.
    learnable : bool
        Whether the module has trainable parameters (which the estimators
        then train, report in ``learned_activations_`` and keep out of
        weight decay).
    per_neuron : bool, default=False
        Whether ``activation_params={"per_neuron": True}`` is supported.
    summary : str, default=""
        One line for tables, errors and ``--help``, e.g. the formula.
    formula : Formula, optional
        The :class:`~sklearn_learnact.activations.Formula` (forward and
        hand-written backward) the module's ``forward`` calls: it then
        trains as one fused, compiled autograd node. Without it the module
        trains through plain autograd (correct, slower).
    cost : float or callable, optional
        Multiply-adds per element at inference (the compressor's cost
        column), a number or ``cost(module) -> float``; count a
        transcendental function (exp, tanh, ...) as
        :data:`TRANSCENDENTAL_COST`. Without it the cost is unknown (NaN) and
        the compressor's report says so.
    onnx : callable, optional
        ``onnx(builder, x, module) -> str``: adds the ONNX nodes computing
        ``module(x)`` with :class:`sklearn_learnact.export.GraphBuilder` and
        returns the output's name. Without it
        :func:`~sklearn_learnact.export.to_onnx` refuses the activation,
        naming it.
    module_type : type, optional
        The class ``factory`` builds, if ``factory`` is not a class itself
        (found by building it once otherwise).
    replace : bool, default=False
        Replace an activation of the same name registered with another
        factory (a built-in one is never replaced). Registering the same
        factory again (a module imported twice) always replaces it.

    Returns
    -------
    spec : ActivationSpec

    Raises
    ------
    InvalidParameterError
        If an argument is of the wrong kind, or ``name`` is taken.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_learnact.activations import (
    ...     get_activation, register_activation, unregister_activation)
    >>> class ScaledTanh(nn.Module):
    ...     def __init__(self, *, scale: float = 1.0):
    ...         super().__init__()
    ...         self.scale = nn.Parameter(torch.tensor(float(scale)))
    ...     def forward(self, x):
    ...         return self.scale * torch.tanh(x)
    >>> spec = register_activation(
    ...     "scaled_tanh", ScaledTanh, learnable=True, summary="a * tanh(x)")
    >>> get_activation("scaled_tanh", scale=2.0)
    ScaledTanh()
    >>> unregister_activation("scaled_tanh")
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidParameterError(
            f"name must be lowercase letters, digits and '_' starting with a "
            f"letter (it is used in grids and on the command line), got {name!r}."
        )
    if not callable(factory):
        raise InvalidParameterError(
            f"factory must be a callable that builds the activation module (e.g. "
            f"the nn.Module class), got {factory!r}."
        )
    for flag, value in (("learnable", learnable), ("per_neuron", per_neuron)):
        if not isinstance(value, bool):
            raise InvalidParameterError(f"{flag} must be True or False, got {value!r}.")
    if not isinstance(summary, str):
        raise InvalidParameterError(f"summary must be a str, got {summary!r}.")
    if formula is not None and not all(
        hasattr(formula, a) for a in ("forward", "backward", "bind")
    ):
        raise InvalidParameterError(
            "formula must be a sklearn_learnact.activations.Formula (forward and "
            f"hand-written backward), got {formula!r}."
        )
    if cost is not None and not callable(cost):
        if (
            not isinstance(cost, numbers.Real)
            or isinstance(cost, bool)
            or not cost >= 0
        ):
            raise InvalidParameterError(
                "cost must be multiply-adds per element (a number >= 0) or a "
                f"function of the module, got {cost!r}."
            )
    if onnx is not None and not callable(onnx):
        raise InvalidParameterError(
            f"onnx must be a converter onnx(builder, x, module) -> str, got {onnx!r}."
        )
    if module_type is not None and not (
        isinstance(module_type, type) and issubclass(module_type, nn.Module)
    ):
        raise InvalidParameterError(
            f"module_type must be an nn.Module subclass, got {module_type!r}."
        )
    if per_neuron and "num_parameters" not in _parameters(factory):
        raise InvalidParameterError(
            f"per_neuron=True, but the factory of {name!r} takes no num_parameters "
            "argument: per-neuron activations are built with num_parameters=C "
            "(one set of parameters per feature/channel)."
        )
    old = _REGISTRY.get(name)
    if old is not None and old.factory is not factory:
        if old.builtin:
            raise InvalidParameterError(
                f"{name!r} is a built-in activation; register yours under another name."
            )
        if not replace:
            raise InvalidParameterError(
                f"An activation named {name!r} is already registered (with "
                f"{old.factory!r}); choose another name or pass replace=True."
            )
    spec = ActivationSpec(
        name,
        factory,
        learnable,
        per_neuron,
        summary,
        formula=formula,
        cost=cost,
        onnx=onnx,
        module_type=module_type,
        builtin=_builtin,
    )
    _REGISTRY[name] = spec
    _BY_TYPE.clear()
    return spec


def unregister_activation(name: str) -> None:
    """Remove the activation ``name`` that :func:`register_activation` added.

    For tests and notebooks; built-in activations cannot be removed.
    """
    spec = _spec(name)
    if spec.builtin:
        raise InvalidParameterError(f"{name!r} is built in and cannot be removed.")
    del _REGISTRY[name]
    _BY_TYPE.clear()


def _parameters(factory) -> set[str]:
    try:
        return set(inspect.signature(factory).parameters)
    except (TypeError, ValueError):  # no signature: accept what it says
        return {"num_parameters"}


def _listed(kind: str) -> tuple[str, ...]:
    specs = _REGISTRY.values()
    if kind == "expression":
        return tuple(s.name for s in specs if s.required)
    return tuple(
        s.name
        for s in specs
        if not s.required and (kind == "all" or s.learnable == (kind == "learnable"))
    )


def available_activations(kind: str = "all") -> tuple[str, ...]:
    """Registered activation names, in registration order (built-in ones first).

    Parameters
    ----------
    kind : {"all", "fixed", "learnable", "expression"}, default="all"
        ``"all"``, ``"fixed"`` and ``"learnable"`` list the activations that
        build from their name alone (what grids and ``--activations`` use);
        ``"expression"`` lists those defined by a required option: ``"expr"``,
        which needs ``activation_params={"expr": "..."}``.

    Returns
    -------
    names : tuple of str

    Examples
    --------
    >>> from sklearn_learnact.activations import available_activations
    >>> available_activations("learnable")
    ('affine', 'prelu', 'swish', 'mixture', 'rational', 'spline', 'mlp')
    >>> available_activations("expression")
    ('expr',)
    """
    if kind not in ("all", "fixed", "learnable", "expression"):
        raise InvalidParameterError(
            "kind must be one of 'all', 'fixed', 'learnable', 'expression', "
            f"got {kind!r}."
        )
    # the fixed ones first, as before user registrations
    if kind == "all":
        return _listed("fixed") + _listed("learnable")
    return _listed(kind)


def _spec(name: str) -> ActivationSpec:
    if not isinstance(name, str) or name not in _REGISTRY:
        expression = "; ".join(
            f"{n} ({_REGISTRY[n].summary})" for n in available_activations("expression")
        )
        raise ValueError(
            f"Unknown activation {name!r}. Valid names are: fixed "
            f"{', '.join(available_activations('fixed'))}; learnable "
            f"{', '.join(available_activations('learnable'))}; defined by an "
            f"option {expression}. Register your own with "
            "sklearn_learnact.activations.register_activation."
        )
    return _REGISTRY[name]


def _module_type(spec: ActivationSpec) -> type | None:
    if spec.module_type is not None:
        return spec.module_type
    if isinstance(spec.factory, type):
        return spec.factory
    if spec.required:
        return None
    try:
        return type(spec.factory())
    except Exception:  # noqa: BLE001 - a factory that needs more: unknown type
        return None


def activation_spec(activation: str | nn.Module) -> ActivationSpec | None:
    """The spec of a registered activation, by name or by module.

    Parameters
    ----------
    activation : str or torch.nn.Module
        A registry name (unknown names raise), or a module: its spec is the
        one whose module type is exactly the module's class (None if none).

    Returns
    -------
    spec : ActivationSpec or None

    Examples
    --------
    >>> from torch import nn
    >>> from sklearn_learnact.activations import activation_spec
    >>> activation_spec(nn.Tanh()).name
    'tanh'
    >>> activation_spec("rational").formula
    Formula(rational)
    """
    if isinstance(activation, str):
        return _spec(activation)
    if not _BY_TYPE:
        for spec in _REGISTRY.values():
            kind = _module_type(spec)
            if kind is not None:
                _BY_TYPE.setdefault(kind, spec)
    return _BY_TYPE.get(type(activation))


def is_learnable(name: str) -> bool:
    """Whether the registered activation ``name`` has trainable parameters."""
    return _spec(name).learnable


def activation_cost(activation: str | nn.Module) -> float:
    """Multiply-adds per element of an activation at inference (a cost model).

    From the activation's registered ``cost``; a transcendental function
    counts as :data:`TRANSCENDENTAL_COST`. NaN when its registration gives no
    cost (or the module is not a registered activation).

    Parameters
    ----------
    activation : str or torch.nn.Module
        A registry name (fixed activations, and the operators of expressions,
        are costed by name), or an activation module.

    Returns
    -------
    madds : float

    Examples
    --------
    >>> from sklearn_learnact.activations import activation_cost, get_activation
    >>> activation_cost("relu"), activation_cost("tanh")
    (1.0, 10.0)
    >>> activation_cost(get_activation("mlp", hidden_size=16))  # 16 * (2 + 1) + 1
    49.0
    """
    spec = activation_spec(activation)
    if spec is None or spec.cost is None:
        return math.nan
    if not callable(spec.cost):
        return float(spec.cost)
    if isinstance(activation, str):
        activation = get_activation(activation)
    return float(spec.cost(activation))


def learned_parameters(module: nn.Module) -> dict[str, torch.Tensor]:
    """The interpretable learned values of an activation module, on the CPU.

    The module's own ``learned_parameters()`` where it has one (every
    learnable built-in activation does), else its parameters by name.

    Parameters
    ----------
    module : torch.nn.Module

    Returns
    -------
    params : dict of str to Tensor
        Detached; shape ``()`` for a layer-wide value, ``(C,)`` per channel.
    """
    own = getattr(module, "learned_parameters", None)
    if callable(own):
        return own()
    return {name: p.detach().cpu() for name, p in module.named_parameters()}


def get_activation(
    name: str, *, num_features: int = 1, per_neuron: bool = False, **params
) -> nn.Module:
    """Build a fresh activation module from its registry name.

    Parameters
    ----------
    name : str
        A name from :func:`available_activations`.
    num_features : int, default=1
        Width of the layer it follows (channels for a convolution); used
        only with ``per_neuron=True``.
    per_neuron : bool, default=False
        Learn one set of parameters per feature/channel instead of one per
        layer. Only for learnable activations that support it.
    **params
        The activation's options, e.g. ``basis`` for ``"mixture"``,
        ``negative_slope`` for ``"leaky_relu"`` or ``expr`` (required) for
        ``"expr"``.

    Returns
    -------
    module : torch.nn.Module

    Raises
    ------
    ValueError
        If the name is unknown (the message lists the valid names), an option
        is not one of the activation's, a required option is missing, or
        ``per_neuron`` is not supported.

    Examples
    --------
    >>> from sklearn_learnact.activations import get_activation
    >>> get_activation("mixture", basis=("relu", "tanh"))
    Mixture(
      num_parameters=1, basis=('relu', 'tanh')
      (basis): ModuleList(
        (0): ReLU()
        (1): Tanh()
      )
    )
    >>> get_activation("expr", expr="max(tanh(x), x * sigmoid(x))")
    Expression(expr='max(tanh(x), x * sigmoid(x))')
    """
    spec = _spec(name)
    unknown = sorted(set(params) - set(spec.options))
    if unknown:
        accepted = ", ".join(spec.options) or "none"
        raise ValueError(
            f"Activation {name!r} got unknown option(s) {unknown}; "
            f"its options are: {accepted}."
        )
    missing = [o for o in spec.required if o not in params]
    if missing:
        raise ValueError(
            f"Activation {name!r} needs the option(s) {missing}: {spec.summary}. "
            "Give them as keywords here, or in an estimator's activation_params."
        )
    if per_neuron:
        if not spec.per_neuron:
            raise ValueError(
                f"Activation {name!r} does not support per_neuron=True "
                "(one set of parameters per layer only)."
            )
        params["num_parameters"] = num_features
    module = spec.factory(**params)
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"The factory of activation {name!r} returned {type(module).__name__}, "
            "not a torch.nn.Module."
        )
    return module
