"""Learnable activation functions: one :class:`torch.nn.Module` per family.

Every module follows :class:`torch.nn.PReLU`'s conventions: parameters are
shared by the whole layer (``num_parameters=1``) or given per feature/channel
(``num_parameters=C``, broadcast along dim 1 of the input), and the
constructors take ``device`` and ``dtype``. A learnable activation can be
frozen with ``requires_grad_(False)``; it is then a fixed function of the same
form. Each module reports its interpretable values with
:meth:`LearnableActivation.learned_parameters`.

Keep these parameters out of weight decay: decaying them pulls every
activation towards the zero function (the estimators do this for you).
"""

import functools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from .._validation import Interval, Satisfies, validate_params
from . import _onnx
from ._kernels import formulas as F
from ._registry import activation_cost, get_activation, register_activation
from ._utils import check_channels, numpy_function
from .fixed import Sin

__all__ = [
    "Affine",
    "LearnableActivation",
    "Mixture",
    "PReLU",
    "Rational",
    "Spline",
    "Subnet",
    "Swish",
]


class LearnableActivation(nn.Module):
    """Base class of the learnable activations.

    Subclasses set ``num_parameters`` and implement :meth:`reset_parameters`,
    :meth:`forward` and :meth:`learned_parameters`.
    """

    num_parameters: int

    def learned_parameters(self) -> dict[str, torch.Tensor]:
        """Interpretable values of the activation, detached, on the CPU.

        Returns
        -------
        params : dict of str to Tensor
            Each value has shape ``()`` for a layer-wide activation, or
            ``(num_parameters,)`` for one activation per feature/channel.
        """
        raise NotImplementedError

    def _check_input(self, x: torch.Tensor) -> None:
        """A clear error for an input without ``num_parameters`` channels."""
        if self.num_parameters > 1:
            check_channels(
                x, self.num_parameters, f"{type(self).__name__} has "
                f"num_parameters={self.num_parameters} (one per channel on dim 1)"
            )  # fmt: skip

    def _shape(self) -> tuple[int, ...]:
        return () if self.num_parameters == 1 else (self.num_parameters,)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


_COUNT = [Interval(numbers.Integral, 1, None)]


def _check_num_parameters(num_parameters: int) -> int:
    validate_params({"num_parameters": num_parameters}, {"num_parameters": _COUNT})
    return int(num_parameters)


class Affine(LearnableActivation):
    r"""Learnable affine activation.

    .. math:: g(x) = k_0 + k_1 x

    **It is not a nonlinearity.** A composition of affine maps is affine, so a
    network whose hidden activations are all ``Affine`` computes an affine
    function of its input, however deep it is: a classifier built from it is
    a (multinomial) logistic regression, a regressor a linear regression. It
    is kept as an honest baseline: the high MNIST accuracy reported for it is
    what a linear model reaches, not evidence of a learned nonlinearity.

    Parameters
    ----------
    num_parameters : int, default=1
        1 for a layer-wide (k0, k1), else one pair per feature/channel.
    k0, k1 : float, default=0.5, 1.0
        Initial values.
    device, dtype : optional
        Where and how to allocate the parameters.

    Shape:
        - Input: :math:`(N, C, *)` or any shape when ``num_parameters=1``.
        - Output: same shape as the input.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.activations import Affine
    >>> Affine()(torch.tensor([0.0, 2.0])).detach()
    tensor([0.5000, 2.5000])
    """

    def __init__(
        self,
        num_parameters: int = 1,
        *,
        k0: float = 0.5,
        k1: float = 1.0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        self.num_parameters = _check_num_parameters(num_parameters)
        self.init = (float(k0), float(k1))
        kw = {"device": device, "dtype": dtype}
        self.k0 = nn.Parameter(torch.empty(self._shape(), **kw))
        self.k1 = nn.Parameter(torch.empty(self._shape(), **kw))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.constant_(self.k0, self.init[0])
        nn.init.constant_(self.k1, self.init[1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        return F.AFFINE(x, self.k0, self.k1)

    def learned_parameters(self) -> dict[str, torch.Tensor]:
        return {"k0": self.k0.detach().cpu(), "k1": self.k1.detach().cpu()}


class PReLU(nn.PReLU, LearnableActivation):
    r"""Parametric ReLU, :class:`torch.nn.PReLU` with :meth:`learned_parameters`.

    .. math:: \text{PReLU}(x) = \max(0, x) + a \min(0, x)

    Parameters
    ----------
    num_parameters : int, default=1
        1 for a layer-wide slope ``a``, else one per feature/channel.
    init : float, default=0.25
        Initial slope.
    device, dtype : optional
        Where and how to allocate the parameters.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.activations import PReLU
    >>> PReLU()(torch.tensor([-2.0, 3.0]))
    tensor([-0.5000,  3.0000], grad_fn=<PreluKernelBackward0>)
    """

    def __init__(
        self, num_parameters: int = 1, *, init: float = 0.25, device=None, dtype=None
    ) -> None:
        _check_num_parameters(num_parameters)
        super().__init__(num_parameters, init=init, device=device, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        return super().forward(x)

    def learned_parameters(self) -> dict[str, torch.Tensor]:
        w = self.weight.detach().cpu()
        return {"slope": w[0] if self.num_parameters == 1 else w}


class Swish(LearnableActivation):
    r"""Swish with a learnable temperature (Ramachandran et al., 2017).

    .. math:: \text{Swish}(x) = x \, \sigma(\beta x)

    ``beta = 1`` is SiLU; large ``beta`` approaches ReLU, ``beta = 0`` gives
    ``x / 2``.

    Parameters
    ----------
    num_parameters : int, default=1
        1 for a layer-wide ``beta``, else one per feature/channel.
    beta : float, default=1.0
        Initial ``beta``.
    device, dtype : optional
        Where and how to allocate the parameters.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.activations import Swish
    >>> Swish()(torch.tensor([0.0, 2.0])).detach()
    tensor([0.0000, 1.7616])
    """

    def __init__(
        self, num_parameters: int = 1, *, beta: float = 1.0, device=None, dtype=None
    ) -> None:
        super().__init__()
        self.num_parameters = _check_num_parameters(num_parameters)
        self.init = float(beta)
        self.beta = nn.Parameter(torch.empty(self._shape(), device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.constant_(self.beta, self.init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        return F.SWISH(x, self.beta)

    def learned_parameters(self) -> dict[str, torch.Tensor]:
        return {"beta": self.beta.detach().cpu()}


class Mixture(LearnableActivation):
    r"""Normalised mixture of basis activations.

    .. math::

        A(x) = \sum_i P_i f_i(x), \qquad
        P_i = \frac{w_i}{\sum_j w_j}, \quad w_i = \text{softplus}(v_i) \ge 0

    The raw parameters ``v`` are unconstrained; the softplus keeps each weight
    ``w_i`` non-negative, and the normalisation makes the
    ``P_i`` a convex combination. They start equal (``P_i = 1/n``).

    Parameters
    ----------
    num_parameters : int, default=1
        1 for one set of weights per layer, else one per
        feature/channel.
    basis : mapping of str to torch.nn.Module, optional
        The basis functions :math:`f_i`, by name (the names label
        :meth:`learned_parameters`); at least two. Default: ReLU, tanh and
        sin. To build it from registry names, use
        ``get_activation("mixture", basis=("relu", "tanh"))``.
    device, dtype : optional
        Where and how to allocate the parameters.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_learnact.activations import Mixture
    >>> act = Mixture(basis={"relu": nn.ReLU(), "tanh": nn.Tanh()})
    >>> act.learned_parameters()
    {'P_relu': tensor(0.5000), 'P_tanh': tensor(0.5000)}
    """

    def __init__(
        self,
        num_parameters: int = 1,
        *,
        basis: Mapping[str, nn.Module] | None = None,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        self.num_parameters = _check_num_parameters(num_parameters)
        if basis is None:
            basis = {"relu": nn.ReLU(), "tanh": nn.Tanh(), "sin": Sin()}
        if not isinstance(basis, Mapping) or not all(
            isinstance(f, nn.Module) for f in basis.values()
        ):
            raise TypeError(
                "basis must map names to activation modules, e.g. "
                "{'relu': nn.ReLU(), 'tanh': nn.Tanh()}; to build it from registry "
                "names use get_activation('mixture', basis=('relu', 'tanh')). Got "
                f"{basis!r}."
            )
        if len(basis) < 2:
            raise ValueError(
                f"basis must hold at least two distinct functions, got {basis!r}."
            )
        self.basis_names = tuple(basis)
        self.basis = nn.ModuleList(basis.values())
        self.weight = nn.Parameter(
            torch.empty(self._shape() + (len(basis),), device=device, dtype=dtype)
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # softplus(log(e - 1)) == 1: equal weights
        nn.init.constant_(self.weight, math.log(math.e - 1.0))

    def coefficients(self) -> torch.Tensor:
        """The normalised weights P, shape ``(..., n_basis)``."""
        w = nn.functional.softplus(self.weight)
        return w / w.sum(dim=-1, keepdim=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        return F.mixture(x, self.weight, self.basis)

    def learned_parameters(self) -> dict[str, torch.Tensor]:
        p = self.coefficients().detach().cpu()
        return {f"P_{name}": p[..., i] for i, name in enumerate(self.basis_names)}

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}, basis={self.basis_names}"


def _two_degrees(degrees) -> bool:
    unit = Interval(numbers.Integral, 1, None)
    return len(degrees) == 2 and all(unit.is_satisfied_by(d) for d in degrees)


def _init_function(init, default: Callable[[], nn.Module], what: str):
    """``init`` (or ``default()`` if None) as a float64 numpy function, and the
    label that ``extra_repr`` shows."""
    if init is None:
        init = default()
    if isinstance(init, str) or not callable(init):
        raise TypeError(
            f"{what} must be an activation module or a function of tensors, e.g. "
            f"nn.Tanh(), got {init!r}; to build it from a registry name, use "
            "get_activation(..., init='tanh')."
        )
    label = repr(init) if isinstance(init, nn.Module) else init.__name__
    return numpy_function(init), label


def _fit_rational(f, num_degree: int, den_degree: int, bound: float):
    """Coefficients of the safe rational closest to the numpy function ``f`` on
    [-bound, bound]."""
    x = np.linspace(-bound, bound, 2001)
    y = f(x)
    return _fit_rational_values(y.tobytes(), num_degree, den_degree, bound)


@functools.lru_cache(maxsize=64)
def _fit_rational_values(y: bytes, num_degree: int, den_degree: int, bound: float):
    """:func:`_fit_rational` from the function's values (bytes: cacheable)."""
    from scipy.optimize import least_squares

    x = np.linspace(-bound, bound, 2001)
    f = np.frombuffer(y, dtype=np.float64)
    powers = np.vander(x, max(num_degree, den_degree) + 1, increasing=True)
    # linearised problem P(x) - f(x) * x * Q'(x) = f(x), then the true residual
    design = np.hstack(
        [powers[:, : num_degree + 1], -f[:, None] * powers[:, 1 : den_degree + 1]]
    )
    start = np.linalg.lstsq(design, f, rcond=None)[0]

    def residual(c):
        a, b = c[: num_degree + 1], c[num_degree + 1 :]
        num = powers[:, : num_degree + 1] @ a
        den = 1.0 + np.abs(powers[:, 1 : den_degree + 1] @ b)
        return num / den - f

    sol = least_squares(residual, start, method="lm", max_nfev=2000)
    coef = sol.x if np.abs(sol.fun).max() <= np.abs(residual(start)).max() else start
    return tuple(coef[: num_degree + 1]), tuple(coef[num_degree + 1 :])


class Rational(LearnableActivation):
    r"""Learnable rational activation, Padé form with a safe denominator.

    .. math::

        R(x) = \frac{a_0 + a_1 x + \dots + a_m x^m}
                    {1 + \left| b_1 x + \dots + b_n x^n \right|}

    The denominator is at least 1, so it never vanishes (Molina et al.'s
    "safe" Padé activation unit). Both polynomials are evaluated with Horner's
    scheme. The coefficients start as the least-squares fit of the activation
    ``init`` on ``[-3, 3]``.

    Parameters
    ----------
    num_parameters : int, default=1
        1 for one rational per layer, else one per feature/channel.
    degrees : (int, int), default=(5, 4)
        Degrees ``(m, n)`` of numerator and denominator.
    init : torch.nn.Module or callable, optional
        Activation to approximate at initialisation (a function of tensors);
        default ``nn.LeakyReLU()``. From a registry name:
        ``get_activation("rational", init="tanh")``.
    device, dtype : optional
        Where and how to allocate the parameters.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_learnact.activations import Rational
    >>> act = Rational(init=nn.Tanh())
    >>> bool(torch.allclose(act(torch.tensor([1.0])), torch.tanh(torch.tensor([1.0])),
    ...                     atol=1e-2))
    True
    """

    def __init__(
        self,
        num_parameters: int = 1,
        *,
        degrees: tuple[int, int] = (5, 4),
        init: Callable[[torch.Tensor], torch.Tensor] | None = None,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        self.num_parameters = _check_num_parameters(num_parameters)
        validate_params(
            {"degrees": degrees},
            {"degrees": [Satisfies(_two_degrees, "two ints >= 1, e.g. (5, 4)")]},
        )
        m, n = degrees
        self.degrees = (int(m), int(n))
        f, self.init = _init_function(init, nn.LeakyReLU, "init")
        self._init_coefficients = _fit_rational(f, *self.degrees, 3.0)
        kw = {"device": device, "dtype": dtype}
        self.numerator = nn.Parameter(torch.empty(self._shape() + (m + 1,), **kw))
        self.denominator = nn.Parameter(torch.empty(self._shape() + (n,), **kw))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        a, b = self._init_coefficients
        with torch.no_grad():
            self.numerator.copy_(torch.tensor(a).expand_as(self.numerator))
            self.denominator.copy_(torch.tensor(b).expand_as(self.denominator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        return F.RATIONAL(x, self.numerator, self.denominator)

    def learned_parameters(self) -> dict[str, torch.Tensor]:
        a, b = self.numerator.detach().cpu(), self.denominator.detach().cpu()
        out = {f"a_{k}": a[..., k] for k in range(a.shape[-1])}
        out.update({f"b_{k + 1}": b[..., k] for k in range(b.shape[-1])})
        return out

    def extra_repr(self) -> str:
        return (
            f"num_parameters={self.num_parameters}, degrees={self.degrees}, "
            f"init={self.init}"
        )


class Spline(LearnableActivation):
    r"""Learnable cubic spline on a fixed uniform grid.

    The values :math:`y_k` of the activation at ``n_knots`` equally spaced
    knots :math:`t_k` on ``[-bound, bound]`` are the parameters; between knots
    the function is the cubic Hermite interpolant with Catmull-Rom tangents
    (a :math:`C^1` piecewise cubic), beyond the grid it continues linearly
    along its end tangents. The knots are a buffer (they follow ``.to()`` and
    are saved in the ``state_dict``); the values start as ``init``'s.

    Parameters
    ----------
    num_parameters : int, default=1
        1 for one spline per layer, else one per feature/channel.
    n_knots : int, default=16
        Number of grid points (at least 3).
    bound : float, default=3.0
        The grid spans ``[-bound, bound]``.
    init : torch.nn.Module or callable, optional
        Activation whose values start the spline (a function of tensors);
        default ``nn.ReLU()``. From a registry name:
        ``get_activation("spline", init="tanh")``.
    device, dtype : optional
        Where and how to allocate the parameters.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.activations import Spline
    >>> act = Spline()
    >>> [round(v, 4) for v in act(torch.tensor([-5.0, 5.0])).tolist()]  # linear tails
    [0.0, 5.0]
    """

    def __init__(
        self,
        num_parameters: int = 1,
        *,
        n_knots: int = 16,
        bound: float = 3.0,
        init: Callable[[torch.Tensor], torch.Tensor] | None = None,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        self.num_parameters = _check_num_parameters(num_parameters)
        validate_params(
            {"n_knots": n_knots, "bound": bound},
            {
                "n_knots": [Interval(numbers.Integral, 3, None)],
                "bound": [Interval(numbers.Real, 0.0, None, "neither")],
            },
        )
        self.n_knots, self.bound = int(n_knots), float(bound)
        f, self.init = _init_function(init, nn.ReLU, "init")
        self._init_values = f(np.linspace(-self.bound, self.bound, self.n_knots))
        kw = {"device": device, "dtype": dtype}
        self.register_buffer("knots", torch.linspace(-bound, bound, n_knots, **kw))
        self.values = nn.Parameter(torch.empty(self._shape() + (n_knots,), **kw))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with torch.no_grad():
            y = torch.tensor(self._init_values)
            self.values.copy_(y.expand_as(self.values))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        step = 2.0 * self.bound / (self.n_knots - 1)
        return F.SPLINE(x, self.values, lo=-self.bound, step=step)

    def learned_parameters(self) -> dict[str, torch.Tensor]:
        v = self.values.detach().cpu()
        return {f"y({t:+.2f})": v[..., k] for k, t in enumerate(self.knots.tolist())}

    def extra_repr(self) -> str:
        return (
            f"num_parameters={self.num_parameters}, n_knots={self.n_knots}, "
            f"bound={self.bound}, init={self.init}"
        )


@functools.lru_cache(maxsize=64)
def _least_squares(design: bytes, target: bytes) -> np.ndarray:
    """``lstsq(design, target)`` of float64 arrays given as bytes (cacheable:
    every layer of every fit starts from the same few fits)."""
    y = np.frombuffer(target, dtype=np.float64)
    a = np.frombuffer(design, dtype=np.float64).reshape(y.size, -1)
    return np.linalg.lstsq(a, y, rcond=None)[0]


class Subnet(LearnableActivation):
    r"""A tiny 1-input, 1-output network applied elementwise.

    .. math:: g(x) = \sum_{j=1}^{h} w^{(2)}_j\, \phi(w^{(1)}_j x + b^{(1)}_j) + b^{(2)}

    One such network is shared by every unit of the layer. With the default
    ReLU inside, :math:`g` is exactly piecewise linear with kinks at
    :math:`-b^{(1)}_j / w^{(1)}_j`, which is what lets
    :class:`~sklearn_learnact.SplineActivationCompressor` replace it without
    error. It starts as the least-squares fit of ``init`` on ``[-3, 3]``, its
    kinks spread evenly over that range.

    Parameters
    ----------
    hidden_size : int, default=16
        Width ``h`` of the hidden layer.
    hidden_activation : torch.nn.Module, optional
        The fixed activation :math:`\phi` inside; default ``nn.ReLU()``.
    init : torch.nn.Module or callable, optional
        Activation to approximate at initialisation (a function of tensors);
        default ``nn.ReLU()``. From registry names:
        ``get_activation("mlp", hidden_activation="tanh", init="sin")``.
    device, dtype : optional
        Where and how to allocate the parameters.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.activations import Subnet
    >>> act = Subnet(hidden_size=8)
    >>> act(torch.zeros(2, 3)).shape
    torch.Size([2, 3])
    """

    num_parameters = 1

    def __init__(
        self,
        hidden_size: int = 16,
        *,
        hidden_activation: nn.Module | None = None,
        init: Callable[[torch.Tensor], torch.Tensor] | None = None,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        validate_params({"hidden_size": hidden_size}, {"hidden_size": _COUNT})
        if hidden_activation is None:
            hidden_activation = nn.ReLU()
        if not isinstance(hidden_activation, nn.Module):
            raise TypeError(
                "hidden_activation must be an activation module, e.g. nn.Tanh(), "
                f"got {hidden_activation!r}; to build it from a registry name, use "
                "get_activation('mlp', hidden_activation='tanh')."
            )
        self.hidden_size = int(hidden_size)
        self.hidden = hidden_activation
        f, self.init = _init_function(init, nn.ReLU, "init")
        self._init_parameters = self._fit_init(f)
        kw = {"device": device, "dtype": dtype}
        self.w1 = nn.Parameter(torch.empty(hidden_size, **kw))
        self.b1 = nn.Parameter(torch.empty(hidden_size, **kw))
        self.w2 = nn.Parameter(torch.empty(hidden_size, **kw))
        self.b2 = nn.Parameter(torch.empty((), **kw))
        self.reset_parameters()

    def _fit_init(self, f) -> tuple[np.ndarray, ...]:
        """(w1, b1, w2, b2) of the least-squares fit of the numpy function ``f``."""
        h = self.hidden_size
        kinks = np.linspace(-3.0, 3.0, h) if h > 1 else np.zeros(1)
        zero = np.abs(kinks).argmin()
        kinks[zero] = 0.0  # where most activations bend
        # alternate the directions so both tails are representable; relu(x - 0)
        # itself is a hidden unit, so the ReLU-like inits are exact
        w1 = np.where((np.arange(h) - zero) % 2 == 0, 1.0, -1.0)
        b1 = -w1 * kinks
        x = np.linspace(-6.0, 6.0, 2001)
        phi = numpy_function(self.hidden)
        design = np.hstack([phi(np.outer(x, w1) + b1), np.ones((x.size, 1))])
        coef = _least_squares(design.tobytes(), f(x).tobytes())
        return w1, b1, coef[:h], coef[h]

    def reset_parameters(self) -> None:
        params = (self.w1, self.b1, self.w2, self.b2)
        with torch.no_grad():
            for p, v in zip(params, self._init_parameters):
                p.copy_(torch.as_tensor(v))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.subnet(x, self.w1, self.b1, self.w2, self.b2, self.hidden)

    def learned_parameters(self) -> dict[str, torch.Tensor]:
        out = {}
        for name in ("w1", "b1", "w2"):
            values = getattr(self, name).detach().cpu()
            out.update({f"{name}_{j}": values[j] for j in range(self.hidden_size)})
        out["b2"] = self.b2.detach().cpu()
        return out

    def extra_repr(self) -> str:
        return f"hidden_size={self.hidden_size}, init={self.init}"


# -- registration ---------------------------------------------------------------
# The factories of the activations that take other activations: their options
# are registry names, the modules get the resolved modules.
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


# Costs in multiply-adds per element (see activation_cost).
def _swish_cost(module: Swish) -> float:
    return activation_cost("sigmoid") + 2.0  # beta * x, a sigmoid, one product


def _mixture_cost(module: Mixture) -> float:
    return sum(activation_cost(f) + 1.0 for f in module.basis)


def _rational_cost(module: Rational) -> float:
    m, n = module.degrees
    return float(m + n + 3)  # two Horner loops, |.|, 1 +, divide


def _subnet_cost(module: Subnet) -> float:
    # h times (w1 x + b1, phi, w2), plus b2
    return module.hidden_size * (2.0 + activation_cost(module.hidden)) + 1.0


for _name, _factory, _type, _summary, _formula, _cost, _converter in (
    (
        "affine",
        Affine,
        None,
        "k0 + k1 * x (makes the whole net affine)",
        F.AFFINE,
        1.0,
        _onnx.affine,
    ),
    (
        "prelu",
        PReLU,
        None,
        "max(0, x) + a * min(0, x), a learned",
        None,  # torch's own one-pass kernels
        2.0,
        _onnx.prelu,
    ),
    (
        "swish",
        Swish,
        None,
        "x * sigmoid(beta * x), beta learned",
        F.SWISH,
        _swish_cost,
        _onnx.swish,
    ),
    (
        "mixture",
        _mixture,
        Mixture,
        "sum P_i f_i(x), P_i = w_i / sum w, w learned",
        F.MIXTURE,
        _mixture_cost,
        _onnx.mixture,
    ),
    (
        "rational",
        _rational,
        Rational,
        "P(x) / (1 + |Q(x)|), Pade, coefficients learned",
        F.RATIONAL,
        _rational_cost,
        _onnx.rational,
    ),
    (
        "spline",
        _spline,
        Spline,
        "cubic spline on a fixed grid, values learned",
        F.SPLINE,
        24.0,  # grid index, Hermite basis, four terms, tails
        _onnx.spline,
    ),
    (
        "mlp",
        _subnet,
        Subnet,
        "tiny 1-h-1 network applied elementwise",
        F.RELU_SUBNET,
        _subnet_cost,
        _onnx.subnet,
    ),
):
    register_activation(
        _name,
        _factory,
        learnable=True,
        per_neuron=_name != "mlp",
        summary=_summary,
        formula=_formula,
        cost=_cost,
        onnx=_converter,
        module_type=_type,
        _builtin=True,
    )
