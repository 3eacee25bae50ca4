"""The activation registry: the one place where activation names live.

Estimators, grids, the command line, docs and tests all derive their list of
activations from here. :func:`get_activation` returns a fresh module on every
call, so no two layers ever share (and tie) learned parameters. It is also the
only place that turns names into modules: the learnable modules take modules
(a mixture's basis, a subnetwork's hidden activation, the function to start
from), and their registry factories below resolve the names.
"""

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from torch import nn

from .expression import Expression
from .fixed import Sin
from .learnable import Affine, Mixture, PReLU, Rational, Spline, Subnet, Swish

__all__ = [
    "ACTIVATIONS",
    "EXPRESSION_ACTIVATIONS",
    "FIXED_ACTIVATIONS",
    "LEARNABLE_ACTIVATIONS",
    "ActivationSpec",
    "available_activations",
    "get_activation",
    "is_learnable",
]

# Options that would make a module unsafe or meaningless inside our networks.
_RESERVED = frozenset({"inplace", "num_parameters", "device", "dtype"})


@dataclass(frozen=True)
class ActivationSpec:
    """How to build one registered activation.

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

    An activation with :attr:`required` options (``"expr"`` needs its
    expression) is not listed by :func:`available_activations` ``"all"``,
    ``"fixed"`` or ``"learnable"``: those name activations that build from
    their name alone.
    """

    name: str
    factory: Callable[..., nn.Module]
    learnable: bool
    per_neuron: bool
    summary: str

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


# -- factories of the learnable activations that take other activations -------
# Their options are registry names; the modules get the resolved modules.
def _mixture(
    num_parameters: int = 1,
    *,
    basis: Sequence[str] = ("relu", "tanh", "sin"),
    device=None,
    dtype=None,
) -> Mixture:
    if isinstance(basis, str) or len(basis) < 2 or len(set(basis)) != len(basis):
        raise ValueError(
            "basis must be a sequence of at least two distinct activation "
            f"names, got {basis!r}."
        )
    modules = {name: get_activation(name) for name in basis}
    return Mixture(num_parameters, basis=modules, device=device, dtype=dtype)


def _rational(
    num_parameters: int = 1,
    *,
    degrees: tuple[int, int] = (5, 4),
    init: str = "leaky_relu",
    device=None,
    dtype=None,
) -> Rational:
    return Rational(
        num_parameters,
        degrees=degrees,
        init=get_activation(init),
        device=device,
        dtype=dtype,
    )


def _spline(
    num_parameters: int = 1,
    *,
    n_knots: int = 16,
    bound: float = 3.0,
    init: str = "relu",
    device=None,
    dtype=None,
) -> Spline:
    return Spline(
        num_parameters,
        n_knots=n_knots,
        bound=bound,
        init=get_activation(init),
        device=device,
        dtype=dtype,
    )


def _subnet(
    hidden_size: int = 16,
    *,
    hidden_activation: str = "relu",
    init: str = "relu",
    device=None,
    dtype=None,
) -> Subnet:
    return Subnet(
        hidden_size,
        hidden_activation=get_activation(hidden_activation),
        init=get_activation(init),
        device=device,
        dtype=dtype,
    )


def _fixed(name: str, factory, summary: str) -> ActivationSpec:
    return ActivationSpec(name, factory, False, False, summary)


def _learnable(name: str, factory, summary: str, per_neuron=True) -> ActivationSpec:
    return ActivationSpec(name, factory, True, per_neuron, summary)


_SPECS = (
    _fixed("identity", lambda: nn.Identity(), "x (no nonlinearity)"),
    _fixed("relu", nn.ReLU, "max(0, x)"),
    _fixed("leaky_relu", nn.LeakyReLU, "max(0, x) + negative_slope * min(0, x)"),
    _fixed("elu", nn.ELU, "x if x > 0 else alpha * (exp(x) - 1)"),
    _fixed("selu", nn.SELU, "scaled ELU (self-normalising)"),
    _fixed("gelu", nn.GELU, "x * Phi(x)"),
    _fixed("silu", nn.SiLU, "x * sigmoid(x)"),
    _fixed("mish", nn.Mish, "x * tanh(softplus(x))"),
    _fixed("softplus", nn.Softplus, "log(1 + exp(beta * x)) / beta"),
    _fixed("softsign", nn.Softsign, "x / (1 + |x|)"),
    _fixed("sigmoid", nn.Sigmoid, "1 / (1 + exp(-x))"),
    _fixed("tanh", nn.Tanh, "tanh(x)"),
    _fixed("sin", Sin, "sin(x)"),
    _fixed("hardswish", nn.Hardswish, "x * relu6(x + 3) / 6"),
    _fixed(
        "expr",
        Expression,
        "an expression of x over a small grammar, e.g. "
        "expr='max(tanh(x), x * sigmoid(x))' (seed 003)",
    ),
    _learnable("affine", Affine, "k0 + k1 * x (makes the whole net affine)"),
    _learnable("prelu", PReLU, "max(0, x) + a * min(0, x), a learned"),
    _learnable("swish", Swish, "x * sigmoid(beta * x), beta learned"),
    _learnable("mixture", _mixture, "sum P_i f_i(x), P_i = w_i / sum w, w learned"),
    _learnable(
        "rational", _rational, "P(x) / (1 + |Q(x)|), Pade, coefficients learned"
    ),
    _learnable("spline", _spline, "cubic spline on a fixed grid, values learned"),
    _learnable(
        "mlp", _subnet, "tiny 1-h-1 network applied elementwise", per_neuron=False
    ),
)

#: Read-only mapping of every registered name to its :class:`ActivationSpec`.
ACTIVATIONS = MappingProxyType({spec.name: spec for spec in _SPECS})
#: Names of the fixed activations that build from their name, in registry order.
FIXED_ACTIVATIONS = tuple(s.name for s in _SPECS if not s.learnable and not s.required)
#: Names of the learnable activations, in registry order.
LEARNABLE_ACTIVATIONS = tuple(s.name for s in _SPECS if s.learnable and not s.required)
#: Names of the activations defined by a required option (``"expr"``).
EXPRESSION_ACTIVATIONS = tuple(s.name for s in _SPECS if s.required)


def available_activations(kind: str = "all") -> tuple[str, ...]:
    """Registered activation names.

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
    choices = {
        "all": FIXED_ACTIVATIONS + LEARNABLE_ACTIVATIONS,
        "fixed": FIXED_ACTIVATIONS,
        "learnable": LEARNABLE_ACTIVATIONS,
        "expression": EXPRESSION_ACTIVATIONS,
    }
    if kind not in choices:
        raise ValueError(f"kind must be one of {sorted(choices)}, got {kind!r}.")
    return choices[kind]


def _spec(name: str) -> ActivationSpec:
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(
            f"Unknown activation {name!r}. Valid names are: fixed "
            f"{', '.join(FIXED_ACTIVATIONS)}; learnable "
            f"{', '.join(LEARNABLE_ACTIVATIONS)}; defined by an option "
            + "; ".join(
                f"{n} ({ACTIVATIONS[n].summary})" for n in EXPRESSION_ACTIVATIONS
            )
            + "."
        )
    return ACTIVATIONS[name]


def is_learnable(name: str) -> bool:
    """Whether the registered activation ``name`` has trainable parameters."""
    return _spec(name).learnable


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
    return spec.factory(**params)
