"""ONNX export of fitted learned-activation models, alone or in a Pipeline.

Importing this module registers converters with `skl2onnx
<https://onnx.ai/sklearn-onnx/>`_ for
:class:`~sklearn_learnact.LearnedActivationClassifier`,
:class:`~sklearn_learnact.LearnedActivationRegressor` and a fitted
:class:`~sklearn_learnact.SplineActivationCompressor`, so that
``skl2onnx.to_onnx(pipeline, X[:1])`` converts a Pipeline that ends in one of them,
behind any preprocessing skl2onnx converts itself (``StandardScaler``,
``ColumnTransformer`` with ``OneHotEncoder`` and ``SimpleImputer``, ...).
:func:`to_onnx` is the one-call convenience and :func:`verify_onnx` runs the
exported model in onnxruntime and measures its agreement with the estimator.

The networks become standard ONNX operators (``ai.onnx`` domain, the opset skl2onnx
targets by default, at least 11): ``Gemm``, ``Conv``, ``MaxPool`` and one small
subgraph per hidden activation, every fixed and learnable activation of the
registry, per layer and per neuron, expression activations (``"expr"``,
operator by operator), and the compressed ones
(:class:`~sklearn_learnact.compression.SplineActivation` in its truncated-power
or its table form, :class:`~sklearn_learnact.compression.SymbolicActivation`).
Outputs follow skl2onnx's conventions: ``label`` and ``probabilities`` for a
classifier (its own class labels, strings kept; a ZipMap unless
``options={"zipmap": False}``), ``variable`` of shape ``(n_samples, n_outputs)``
for a regressor, its inverse target scaling included. An activation without a
converter fails at export time with an error naming it; add one with
:func:`register_activation_converter`.

Needs the ``onnx`` extra: ``pip install "sklearn-learnact[onnx]"`` (onnx,
onnxruntime, skl2onnx).
"""

import contextvars
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .activations import (
    Affine,
    Expression,
    Mixture,
    PReLU,
    Rational,
    Sin,
    Spline,
    Subnet,
    Swish,
)
from .activations.expression import DIV_EPS, POW_EPS, POW_MAX_LOG
from .compression import (
    SplineActivation,
    SplineActivationCompressor,
    SymbolicActivation,
)
from .estimators import (
    LearnedActivationClassifier,
    LearnedActivationRegressor,
    learnact_step,
)
from .nets import CNN, MLP

_EXTRA_HINT = (
    'pip install "sklearn-learnact[onnx]" (installs onnx, onnxruntime and skl2onnx)'
)
try:
    import onnx
    import skl2onnx
    from onnx import TensorProto, numpy_helper
    from skl2onnx import update_registered_converter

    # skl2onnx has no public function that parses a sub-model from inside a
    # parser; its own GridSearchCV parser calls this one
    from skl2onnx._parse import parse_sklearn
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
        guess_tensor_type,
    )
    from skl2onnx.common.utils import check_input_and_output_numbers
    from skl2onnx.common.utils_classifier import get_label_classes
except ImportError as exc:
    raise ImportError(
        f"sklearn_learnact.export needs onnx and skl2onnx ({exc}): {_EXTRA_HINT}."
    ) from exc

__all__ = [
    "ACTIVATION_CONVERTERS",
    "GraphBuilder",
    "MIN_OPSET",
    "SPLINE_FORMS",
    "onnx_inputs",
    "register_activation_converter",
    "to_onnx",
    "verify_onnx",
]

#: Lowest ``ai.onnx`` opset the converters support (``Clip`` takes its bounds as
#: inputs from 11); below 20, 18 and 14 ``Gelu``, ``Mish`` and ``HardSwish`` are
#: written as the formulas they stand for.
MIN_OPSET = 11
#: Forms of a compressed :class:`SplineActivation` in ONNX (option
#: ``spline_form``). onnxruntime runs every node as one pass over the tensor (no
#: elementwise fusion on the CPU), so the cost is the number of nodes:
#:
#: - ``"power"``: the truncated-power form ``c0 + c1*x + sum_k d_k*max(x, t_k)``,
#:   three nodes per slope change (Max, Mul, Add);
#: - ``"nested"``: the same piecewise-linear function as a chain of leaky ReLUs,
#:   ``S * phi_K(... phi_1(x)) + B - M*x`` with ``phi_k(z) = leaky_relu(z - c_k,
#:   a_k)``, two single-input nodes per slope change (layer-wide splines only:
#:   the slopes ``a_k`` are node attributes);
#: - ``"table"``: the cell table, about a dozen nodes whatever the number of
#:   cells, but two to four of them look-ups (``Gather``, each about as slow as
#:   15 elementwise nodes);
#: - ``"auto"``: per spline, the fastest of those it has (the table for a spline
#:   without power form: degree 3, discontinuous or more than 64 kinks).
SPLINE_FORMS = ("auto", "power", "nested", "table")
#: With ``spline_form="auto"``, layer-wide splines with at most this many slope
#: changes use the nested form, per-channel ones with at most
#: ``AUTO_POWER_MAX_KINKS`` the power form; the others the table: in
#: ``benchmarks/bench_onnx.py`` (784-128-64-10 net, batch 4096, 2 threads) the
#: table is as fast as the nested form at 24 slope changes and faster from 32.
AUTO_NESTED_MAX_KINKS = 24
AUTO_POWER_MAX_KINKS = 16

#: ``spline_form`` of :func:`to_onnx`, the default of the skl2onnx option.
_SPLINE_FORM = contextvars.ContextVar("spline_form", default="auto")

_ONNX_TYPES = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.float64): TensorProto.DOUBLE,
    np.dtype(np.int64): TensorProto.INT64,
}


# ------------------------------------------------------------------ builder
class GraphBuilder:
    """Adds ONNX nodes and constants for one skl2onnx conversion.

    The activation converters (see :func:`register_activation_converter`) receive
    one and build their subgraph with :meth:`op` and :meth:`const`; every tensor
    they see is float32, named by a string.

    Parameters
    ----------
    scope : skl2onnx Scope
        Gives unique names.
    container : skl2onnx ModelComponentContainer
        Receives the nodes and initialisers.
    spline_form : {"auto", "power", "table"}, default="auto"
        How compressed splines are written, see :data:`SPLINE_FORMS`.

    Attributes
    ----------
    opset : int
        The target ``ai.onnx`` opset.
    rank : int
        Rank of the activation input being converted: 2 after a dense layer
        ``(N, C)``, 4 after a convolution ``(N, C, H, W)``. Per-channel values
        broadcast along dim 1 (:meth:`per_channel`).
    layer : int
        0-based index of the hidden activation being converted (for errors).
    """

    def __init__(self, scope, container, spline_form: str = "auto") -> None:
        self._scope, self._container = scope, container
        self.opset = int(container.target_opset)
        if self.opset < MIN_OPSET:
            raise ValueError(
                f"target_opset={self.opset} is too old: the learned-activation "
                f"converters need ai.onnx opset >= {MIN_OPSET}."
            )
        self.spline_form = spline_form
        self.rank, self.layer = 2, 0

    def const(self, value, dtype=np.float32) -> str:
        """An initialiser holding ``value`` cast to ``dtype`` (float32, float64,
        int64, or str for strings); its name."""
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        name = self._scope.get_unique_variable_name("c")
        if dtype is str:
            array = np.asarray(value, dtype=str)
            content = [s.encode() for s in array.ravel()]
            self._container.add_initializer(
                name, TensorProto.STRING, list(array.shape), content
            )
            return name
        array = np.ascontiguousarray(np.asarray(value, dtype=dtype))
        tensor = numpy_helper.from_array(array, name)
        self._container.add_initializer(name, _ONNX_TYPES[array.dtype], None, tensor)
        return name

    def op(self, op_type: str, *inputs: str, output: str | None = None, **attrs) -> str:
        """Add one ``op_type`` node (ai.onnx domain); the name of its output."""
        out = output or self._scope.get_unique_variable_name(op_type.lower())
        self._container.add_node(
            op_type,
            list(inputs),
            [out],
            name=self._scope.get_unique_operator_name(op_type),
            **attrs,
        )
        return out

    def has_op(self, op_type: str) -> bool:
        """Whether ``op_type`` exists at the target opset."""
        try:
            onnx.defs.get_schema(op_type, max_inclusive_version=self.opset)
        except onnx.defs.SchemaError:
            return False
        return True

    def per_channel(self, values, dtype=np.float32) -> str:
        """Constant of per-channel ``values``, shape ``()`` or ``(C,)``, shaped to
        broadcast along dim 1 of the current input (``(C, 1, 1)`` at rank 4)."""
        array = _numpy(values).astype(dtype)
        if array.ndim == 1 and array.size > 1:
            array = array.reshape(-1, *[1] * (self.rank - 2))
        return self.const(array, dtype)

    def columns(self, values) -> list[str]:
        """Per-channel constants of each column of ``values`` (k,) or (C, k)."""
        array = _numpy(values)
        return [self.per_channel(array[..., i]) for i in range(array.shape[-1])]

    def activation(self, module: nn.Module, x: str) -> str:
        """Convert ``module`` applied to ``x`` with its registered converter."""
        converter = ACTIVATION_CONVERTERS.get(type(module))
        if converter is None:
            known = ", ".join(sorted(t.__name__ for t in ACTIVATION_CONVERTERS))
            raise NotImplementedError(
                f"Cannot export the activation of hidden layer {self.layer + 1}, "
                f"{type(module).__name__} ({module!r}), to ONNX: no converter is "
                f"registered for it (converted: {known}). Register one with "
                "sklearn_learnact.export.register_activation_converter."
            )
        return converter(self, x, module)

    def horner(self, coefs: list[str], x: str) -> str:
        """``sum_k coefs[k] * x**k`` by Horner's scheme (at least two coefs)."""
        out = self.op("Add", self.op("Mul", coefs[-1], x), coefs[-2])
        for c in reversed(coefs[:-2]):
            out = self.op("Add", self.op("Mul", out, x), c)
        return out


def _numpy(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().double().numpy()
    return np.asarray(values, dtype=np.float64)


# ---------------------------------------------------------------- registry
#: Converter of each activation module type: ``fn(builder, x, module) -> y``.
ACTIVATION_CONVERTERS: dict[type, Callable[[GraphBuilder, str, nn.Module], str]] = {}


def register_activation_converter(*module_types: type):
    """Decorator registering ``fn(builder, x, module) -> y`` for ``module_types``.

    ``fn`` adds the ONNX nodes that compute ``module(x)`` from the float32
    tensor named ``x`` with :class:`GraphBuilder`'s ``op``/``const``/
    ``per_channel`` and returns the name of the result. Types are matched
    exactly (a subclass may compute something else), so each new activation
    module is one entry.

    Parameters
    ----------
    *module_types : type
        :class:`torch.nn.Module` subclasses the converter handles.

    Returns
    -------
    decorator : callable

    Examples
    --------
    >>> from torch import nn
    >>> from sklearn_learnact.export import register_activation_converter
    >>> class Cube(nn.Module):
    ...     def forward(self, x):
    ...         return x * x * x
    >>> @register_activation_converter(Cube)
    ... def _cube(builder, x, module):
    ...     return builder.op("Mul", builder.op("Mul", x, x), x)
    """

    def decorator(fn):
        for module_type in module_types:
            ACTIVATION_CONVERTERS[module_type] = fn
        return fn

    return decorator


def _unary(op_type: str):
    """Converter of a module that is one ONNX operator without attributes."""

    def convert(b: GraphBuilder, x: str, module: nn.Module) -> str:
        return b.op(op_type, x)

    return convert


for _type, _op in (
    (nn.ReLU, "Relu"),
    (nn.Sigmoid, "Sigmoid"),
    (nn.Tanh, "Tanh"),
    (nn.Softsign, "Softsign"),
    (Sin, "Sin"),
):
    register_activation_converter(_type)(_unary(_op))


@register_activation_converter(nn.Identity)
def _identity(b: GraphBuilder, x: str, module) -> str:
    return x


@register_activation_converter(nn.LeakyReLU)
def _leaky_relu(b: GraphBuilder, x: str, module: nn.LeakyReLU) -> str:
    return b.op("LeakyRelu", x, alpha=float(module.negative_slope))


@register_activation_converter(nn.ELU)
def _elu(b: GraphBuilder, x: str, module: nn.ELU) -> str:
    return b.op("Elu", x, alpha=float(module.alpha))


@register_activation_converter(nn.SELU)
def _selu(b: GraphBuilder, x: str, module) -> str:
    # torch's constants (torch/nn/modules/activation.py, SELU)
    return b.op("Selu", x, alpha=1.6732632423543772, gamma=1.0507009873554805)


@register_activation_converter(nn.GELU)
def _gelu(b: GraphBuilder, x: str, module: nn.GELU) -> str:
    if module.approximate not in ("none", "tanh"):
        raise NotImplementedError(f"GELU(approximate={module.approximate!r})")
    if b.has_op("Gelu"):
        return b.op("Gelu", x, approximate=module.approximate)
    half_x = b.op("Mul", x, b.const(0.5))
    if module.approximate == "none":  # x * Phi(x) = x/2 * (1 + erf(x / sqrt(2)))
        inner = b.op("Erf", b.op("Mul", x, b.const(1.0 / math.sqrt(2.0))))
    else:  # x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
        cube = b.op("Mul", b.op("Mul", x, x), x)
        poly = b.op("Add", x, b.op("Mul", cube, b.const(0.044715)))
        inner = b.op("Tanh", b.op("Mul", poly, b.const(math.sqrt(2.0 / math.pi))))
    return b.op("Mul", half_x, b.op("Add", inner, b.const(1.0)))


@register_activation_converter(nn.SiLU)
def _silu(b: GraphBuilder, x: str, module) -> str:
    return b.op("Mul", x, b.op("Sigmoid", x))


@register_activation_converter(nn.Mish)
def _mish(b: GraphBuilder, x: str, module) -> str:
    if b.has_op("Mish"):
        return b.op("Mish", x)
    return b.op("Mul", x, b.op("Tanh", b.op("Softplus", x)))


@register_activation_converter(nn.Hardswish)
def _hardswish(b: GraphBuilder, x: str, module) -> str:
    if b.has_op("HardSwish"):
        return b.op("HardSwish", x)
    return b.op("Mul", x, b.op("HardSigmoid", x, alpha=1.0 / 6.0, beta=0.5))


@register_activation_converter(nn.Softplus)
def _softplus(b: GraphBuilder, x: str, module: nn.Softplus) -> str:
    beta, threshold = float(module.beta), float(module.threshold)
    z = x if beta == 1.0 else b.op("Mul", x, b.const(beta))
    y = b.op("Softplus", z)
    if beta != 1.0:
        y = b.op("Div", y, b.const(beta))
    # torch returns x itself where beta * x > threshold
    return b.op("Where", b.op("Greater", z, b.const(threshold)), x, y)


# -- expression activations (seed 003) ---------------------------------------
def _expr_log_sigmoid(b: GraphBuilder, a: str) -> str:
    # torch's stable form: min(a, 0) - log(1 + exp(-|a|))
    tail = b.op(
        "Log", b.op("Add", b.op("Exp", b.op("Neg", b.op("Abs", a))), b.const(1.0))
    )
    return b.op("Sub", b.op("Min", a, b.const(0.0)), tail)


def _expr_softplus(b: GraphBuilder, a: str) -> str:
    return _softplus(b, a, nn.Softplus())


def _expr_safe_div(b: GraphBuilder, a: str, d: str) -> str:
    # expression.py's _safe_div: a / d, and a * d / eps^2 where |d| < eps
    small = b.op("Less", b.op("Abs", d), b.const(DIV_EPS))
    safe_d = b.op("Where", small, b.const(1.0), d)
    line = b.op("Mul", b.op("Mul", a, d), b.const(1.0 / DIV_EPS**2))
    return b.op("Where", small, line, b.op("Div", a, safe_d))


def _expr_safe_pow(b: GraphBuilder, a: str, e: str) -> str:
    # expression.py's _safe_pow: exp(min(e * log(max(|a|, eps)), cap))
    log_a = b.op("Log", b.op("Max", b.op("Abs", a), b.const(POW_EPS)))
    return b.op("Exp", b.op("Min", b.op("Mul", e, log_a), b.const(POW_MAX_LOG)))


#: ONNX subgraph of each expression operator, ``fn(builder, *inputs) -> output``.
_EXPR_OPS: dict[str, Callable[..., str]] = {
    "negative": lambda b, a: b.op("Neg", a),
    "abs": lambda b, a: b.op("Abs", a),
    "square": lambda b, a: b.op("Mul", a, a),
    "exp": lambda b, a: b.op("Exp", a),
    "reciprocal": lambda b, a: _expr_safe_div(b, b.const(1.0), a),
    "erf": lambda b, a: b.op("Erf", a),
    "arcsinh": lambda b, a: b.op("Asinh", a),
    "arctan": lambda b, a: b.op("Atan", a),
    "tanh": lambda b, a: b.op("Tanh", a),
    "sigmoid": lambda b, a: b.op("Sigmoid", a),
    "log_sigmoid": _expr_log_sigmoid,
    "relu": lambda b, a: b.op("Relu", a),
    "elu": lambda b, a: _elu(b, a, nn.ELU()),
    "selu": lambda b, a: _selu(b, a, nn.SELU()),
    "swish": lambda b, a: _silu(b, a, nn.SiLU()),
    "softplus": _expr_softplus,
    "softsign": lambda b, a: b.op("Softsign", a),
    # torch's hardsigmoid: clamp(a / 6 + 1/2, 0, 1)
    "hard_sigmoid": lambda b, a: b.op("HardSigmoid", a, alpha=1.0 / 6.0, beta=0.5),
    "gelu": lambda b, a: _gelu(b, a, nn.GELU()),
    "sin": lambda b, a: b.op("Sin", a),
    "cos": lambda b, a: b.op("Cos", a),
    "add": lambda b, a, c: b.op("Add", a, c),
    "sub": lambda b, a, c: b.op("Sub", a, c),
    "mul": lambda b, a, c: b.op("Mul", a, c),
    "div": _expr_safe_div,
    "max": lambda b, a, c: b.op("Max", a, c),
    "min": lambda b, a, c: b.op("Min", a, c),
    "pow": _expr_safe_pow,
}


@register_activation_converter(Expression)
def _expression(b: GraphBuilder, x: str, module: Expression) -> str:
    def build(tree) -> str:
        kind = tree[0]
        if kind == "x":
            return x
        if kind == "num":
            return b.const(tree[1])
        return _EXPR_OPS[kind](b, *(build(child) for child in tree[1:]))

    out = build(module.tree)
    if not _uses_x(module.tree):  # a constant: broadcast to the input's shape
        out = b.op("Expand", out, b.op("Shape", x))
    return out


def _uses_x(tree) -> bool:
    return tree[0] == "x" or any(_uses_x(c) for c in tree[1:] if isinstance(c, tuple))


# -- learnable --------------------------------------------------------------
@register_activation_converter(Affine)
def _affine(b: GraphBuilder, x: str, module: Affine) -> str:
    scaled = b.op("Mul", x, b.per_channel(module.k1))
    return b.op("Add", scaled, b.per_channel(module.k0))


@register_activation_converter(PReLU, nn.PReLU)
def _prelu(b: GraphBuilder, x: str, module: nn.PReLU) -> str:
    slope = _numpy(module.weight)
    return b.op("PRelu", x, b.per_channel(slope if slope.size > 1 else slope[0]))


@register_activation_converter(Swish)
def _swish(b: GraphBuilder, x: str, module: Swish) -> str:
    gate = b.op("Sigmoid", b.op("Mul", x, b.per_channel(module.beta)))
    return b.op("Mul", x, gate)


@register_activation_converter(Mixture)
def _mixture(b: GraphBuilder, x: str, module: Mixture) -> str:
    with torch.no_grad():
        coefficients = b.columns(module.coefficients())  # P_i, per channel
    out = None
    for p_i, basis in zip(coefficients, module.basis):
        term = b.op("Mul", b.activation(basis, x), p_i)
        out = term if out is None else b.op("Add", out, term)
    return out


@register_activation_converter(Rational)
def _rational(b: GraphBuilder, x: str, module: Rational) -> str:
    numerator = b.horner(b.columns(module.numerator), x)
    b_cols = b.columns(module.denominator)  # b_1 .. b_n
    q = b.horner(b_cols, x) if len(b_cols) > 1 else b_cols[0]
    q = b.op("Mul", q, x)  # x * Q'(x)
    return b.op("Div", numerator, b.op("Add", b.op("Abs", q), b.const(1.0)))


def _hermite_table(values: np.ndarray) -> np.ndarray:
    """Cubic coefficients (c0, c1, c2, c3) in ``t`` of each interval of the
    Catmull-Rom Hermite spline through ``values`` (K,) or (C, K): (4, C, K - 1)."""
    values = values.reshape(-1, values.shape[-1])
    d = np.concatenate(
        [
            values[:, 1:2] - values[:, :1],
            (values[:, 2:] - values[:, :-2]) * 0.5,
            values[:, -1:] - values[:, -2:-1],
        ],
        axis=1,
    )
    y0, y1, d0, d1 = values[:, :-1], values[:, 1:], d[:, :-1], d[:, 1:]
    c2 = 3.0 * (y1 - y0) - 2.0 * d0 - d1
    c3 = 2.0 * (y0 - y1) + d0 + d1
    return np.stack([y0, d0, c2, c3])


@register_activation_converter(Spline)
def _spline(b: GraphBuilder, x: str, module: Spline) -> str:
    # Spline.forward: u = (x - lo) / step, clamped to the grid; the interval's
    # cubic in t = u - index, continued linearly (end slope) beyond the grid
    n_knots, lo = module.n_knots, -module.bound
    step = 2.0 * module.bound / (n_knots - 1)
    table = _hermite_table(_numpy(module.values))  # (4, C, K - 1)
    n_ch = table.shape[1]
    u = b.op("Div", b.op("Sub", x, b.const(lo)), b.const(step))
    uc = b.op("Clip", u, b.const(0.0), b.const(n_knots - 1.0))
    index = b.op("Min", b.op("Floor", uc), b.const(n_knots - 2.0))
    t = b.op("Sub", uc, index)
    beyond = b.op("Sub", u, uc)
    j = b.op("Cast", index, to=TensorProto.INT64)
    if n_ch > 1:
        j = b.op("Add", j, b.per_channel(np.arange(n_ch) * (n_knots - 1), np.int64))
    c0, c1, c2, c3 = (b.op("Gather", b.const(row.reshape(-1)), j) for row in table)
    cubic = b.op("Add", b.op("Mul", c3, t), c2)
    value = b.op("Add", b.op("Mul", b.op("Add", b.op("Mul", cubic, t), c1), t), c0)
    # slope in grid units: c1 + 2 c2 t + 3 c3 t^2
    slope = b.op("Add", b.op("Mul", c3, b.op("Mul", t, b.const(1.5))), c2)
    slope = b.op("Add", b.op("Mul", b.op("Mul", slope, t), b.const(2.0)), c1)
    return b.op("Add", value, b.op("Mul", beyond, slope))


@register_activation_converter(Subnet)
def _subnet(b: GraphBuilder, x: str, module: Subnet) -> str:
    # g(x) = hidden(x * w1 + b1) @ w2 + b2 on every element: (M, 1) -> (M, h) -> (M,)
    h = module.hidden_size
    flat = b.op("Reshape", x, b.const([-1, 1], np.int64))
    z = b.op("Gemm", flat, b.const(_numpy(module.w1).reshape(1, h)), b.const(module.b1))
    phi = b.activation(module.hidden, z)  # a layer-wide activation: any rank
    w2, b2 = b.const(_numpy(module.w2).reshape(h, 1)), b.const(_numpy(module.b2)[None])
    out = b.op("Gemm", phi, w2, b2)
    return b.op("Reshape", out, b.op("Shape", x))


@register_activation_converter(SymbolicActivation)
def _symbolic(b: GraphBuilder, x: str, module: SymbolicActivation) -> str:
    a, slope, c, d = (b.const(_numpy(getattr(module, k))) for k in "abcd")
    inner = b.activation(module.f, b.op("Add", b.op("Mul", x, slope), c))
    return b.op("Add", b.op("Mul", inner, a), d)


@register_activation_converter(SplineActivation)
def _spline_activation(b: GraphBuilder, x: str, module: SplineActivation) -> str:
    power = None if module.power_d is None else _power_terms(module)
    nested = None if power is None or module.num_channels > 1 else _nested_terms(*power)
    form = b.spline_form
    if form == "auto":
        n_kinks = 0 if power is None else len(power[1])
        if nested is not None and n_kinks <= AUTO_NESTED_MAX_KINKS:
            form = "nested"
        elif power is not None and n_kinks <= AUTO_POWER_MAX_KINKS:
            form = "power"
        else:
            form = "table"
    if form == "power" and power is not None:
        return _spline_power(b, x, *power)
    if form == "nested" and nested is not None:
        return _spline_nested(b, x, *nested)
    if form == "table":
        return _spline_table(b, x, module)
    raise ValueError(
        f"spline_form={form!r}, but the SplineActivation of hidden layer "
        f"{b.layer + 1} has no such form: only continuous degree-1 splines with at "
        "most 64 slope changes have a truncated-power form, and only layer-wide "
        "ones a nested form; use spline_form='auto' or 'table'."
    )


def _power_terms(module: SplineActivation):
    """``(c, d, t)`` of the truncated-power form without the zero padding."""
    c, d, t = (_numpy(v) for v in (module.power_c, module.power_d, module.power_t))
    used = (d != 0).reshape(len(d), -1).any(axis=1)  # kinks of some channel
    return c, d[used], t[used]


def _spline_power(b: GraphBuilder, x: str, c, d, t) -> str:
    # c0 + c1 * x + sum_k d_k * max(x, t_k), in SplineActivation's order
    y = b.op("Add", b.op("Mul", x, b.per_channel(c[1])), b.per_channel(c[0]))
    for d_k, t_k in zip(d, t):
        kink = b.op("Max", x, b.per_channel(t_k))
        y = b.op("Add", y, b.op("Mul", kink, b.per_channel(d_k)))
    return y


def _nested_terms(c, d, t):
    """The nested form of a layer-wide ``c0 + c1 x + sum_k d_k max(x, t_k)``:
    shifts ``c_k``, leaky slopes ``a_k``, scale ``S``, offset ``B`` and ``M``.

    With the kinks sorted, ``f`` has slope ``s_j`` between kinks j and j + 1;
    ``g = f + M x`` is strictly monotone (``M = 0`` if ``f`` already is), its
    slopes ``g_j = s_j + M`` of one sign. The chain ``z_0 = x``, ``z_k =
    leaky_relu(z_(k-1) - c_k, a_k)`` with ``a_k = g_(k-1) / g_k > 0`` and ``c_k =
    z_(k-1)(t_k)`` stays increasing, bends at ``t_k`` only, and has slope
    ``a_(j+1) ... a_K`` on interval j: so ``g = g_K z_K + g(t_K)``. Computed in
    float64.
    """
    t, merged = np.unique(t, return_inverse=True)
    d = np.bincount(merged, weights=d, minlength=len(t))  # equal kinks merged
    t, d = t[d != 0], d[d != 0]
    if len(t) == 0:
        return np.zeros(0), np.zeros(0), c[1], c[0], 0.0
    slopes = c[1] + np.concatenate([[0.0], np.cumsum(d)])
    monotone = np.all(slopes > 0) or np.all(slopes < 0)
    m = 0.0 if monotone else np.abs(slopes).max() - slopes.min()  # g_j >= max|s_j|
    g = slopes + m
    a = g[:-1] / g[1:]
    shifts, z = np.empty(len(t)), t.copy()  # z: z_(k-1) at every kink
    for k in range(len(t)):
        shifts[k] = z[k]
        z = z - shifts[k]
        z = np.where(z > 0, z, a[k] * z)
    f_last = c[0] + c[1] * t[-1] + np.sum(d * np.maximum(t[-1], t))
    return shifts, a, g[-1], f_last + m * t[-1], m


def _spline_nested(b: GraphBuilder, x: str, shifts, a, scale, offset, m) -> str:
    z = x
    for c_k, a_k in zip(shifts, a):
        z = b.op("LeakyRelu", b.op("Sub", z, b.const(c_k)), alpha=float(a_k))
    y = b.op("Add", b.op("Mul", z, b.const(scale)), b.const(offset))
    return y if m == 0 else b.op("Sub", y, b.op("Mul", x, b.const(m)))


def _spline_table(b: GraphBuilder, x: str, module: SplineActivation) -> str:
    # SplineActivation's table kernel: u = x * scale + shift, cell j of the
    # clamped u, then a line in x (degree 1, plus d * max(x, t) with kinks) or a
    # polynomial in t = u - j (Horner)
    n_cells, degree = module.n_cells, module.degree
    scaled = b.op("Mul", x, b.per_channel(module.scale))
    u = b.op("Add", scaled, b.per_channel(module.shift))
    clamped = b.op("Clip", u, b.const(0.0), b.const(n_cells - 1.0))
    if degree > 1:
        clamped = b.op("Floor", clamped)
    j = b.op("Cast", clamped, to=TensorProto.INT64)
    if module.offset is not None:
        j = b.op("Add", j, b.per_channel(module.offset, np.int64))

    def coef(rows: torch.Tensor, k: int) -> str:
        return b.op("Gather", b.const(_numpy(rows[k])), j)

    if degree == 1:
        y = b.op("Add", coef(module.table, 0), b.op("Mul", coef(module.table, 1), x))
        if module.kinks is not None:
            kink = b.op("Max", x, coef(module.kinks, 1))
            y = b.op("Add", y, b.op("Mul", coef(module.kinks, 0), kink))
        return y
    t = b.op("Sub", u, clamped)
    y = coef(module.table, degree)
    for k in range(degree - 1, -1, -1):
        y = b.op("Add", coef(module.table, k), b.op("Mul", y, t))
    return y


# ---------------------------------------------------------------- networks
def _linear(b: GraphBuilder, x: str, layer: nn.Linear) -> str:
    weight = b.const(_numpy(layer.weight))
    inputs = [x, weight] + ([] if layer.bias is None else [b.const(layer.bias)])
    return b.op("Gemm", *inputs, transB=1)


def _conv2d(b: GraphBuilder, x: str, conv: nn.Conv2d) -> str:
    if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
        raise NotImplementedError(
            f"Cannot export {conv!r} to ONNX: only numeric zero padding is converted."
        )
    ph, pw = conv.padding
    inputs = [x, b.const(conv.weight)]
    if conv.bias is not None:
        inputs.append(b.const(conv.bias))
    return b.op(
        "Conv",
        *inputs,
        kernel_shape=list(conv.kernel_size),
        strides=list(conv.stride),
        dilations=list(conv.dilation),
        pads=[ph, pw, ph, pw],
        group=conv.groups,
    )


def _max_pool(b: GraphBuilder, x: str, pool: nn.MaxPool2d) -> str:
    def pair(v):
        return [v, v] if isinstance(v, int) else list(v)

    if pool.dilation not in (1, (1, 1)) or pool.return_indices:
        raise NotImplementedError(f"Cannot export {pool!r} to ONNX.")
    ph, pw = pair(pool.padding)
    return b.op(
        "MaxPool",
        x,
        kernel_shape=pair(pool.kernel_size),
        strides=pair(pool.stride),
        pads=[ph, pw, ph, pw],
        ceil_mode=int(pool.ceil_mode),
    )


def _hidden(b: GraphBuilder, x: str, act: nn.Module, layer: int, rank: int) -> str:
    b.layer, b.rank = layer, rank
    return b.activation(act, x)


def _mlp(b: GraphBuilder, x: str, net: MLP) -> str:
    for i, (linear, act) in enumerate(zip(net.hidden, net.activations)):
        x = _hidden(b, _linear(b, x, linear), act, i, rank=2)
    return _linear(b, x, net.output)


def _cnn(b: GraphBuilder, x: str, net: CNN) -> str:
    x = b.op("Reshape", x, b.const([-1, *net.image_shape], np.int64))
    acts = iter(enumerate(net.activations))
    for conv in net.convs:
        i, act = next(acts)
        x = _max_pool(b, _hidden(b, _conv2d(b, x, conv), act, i, rank=4), net.pool)
    x = b.op("Flatten", x, axis=1)
    for linear in net.hidden:
        i, act = next(acts)
        x = _hidden(b, _linear(b, x, linear), act, i, rank=2)
    return _linear(b, x, net.output)


#: Converter of each network type: ``fn(builder, x, module) -> outputs``.
_NETWORKS = {MLP: _mlp, CNN: _cnn}


def _network(b: GraphBuilder, x: str, module: nn.Module) -> str:
    convert = _NETWORKS.get(type(module))
    if convert is None:
        raise NotImplementedError(
            f"Cannot export a {type(module).__name__} network to ONNX: the "
            f"converters handle {', '.join(t.__name__ for t in _NETWORKS)}."
        )
    return convert(b, x, module)


# ------------------------------------------------------- skl2onnx glue
def _float_type(operator):
    """skl2onnx's rule: double outputs for a double input, float otherwise."""
    return guess_tensor_type(operator.inputs[0].type)


def _class_labels(classes: np.ndarray):
    """Class labels as ONNX sees them: (int64 or string array, tensor type)."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "iub":
        return classes.astype(np.int64), Int64TensorType
    if classes.dtype.kind == "f":
        as_int = classes.astype(np.int64)
        if not np.array_equal(as_int, classes):
            raise ValueError(
                "ONNX class labels must be integers or strings; this classifier "
                f"has non-integral float labels {classes.tolist()[:5]}."
            )
        return as_int, Int64TensorType
    if all(isinstance(c, str) for c in classes):
        return classes.astype(str), StringTensorType
    if all(isinstance(c, (int, np.integer)) for c in classes):
        return classes.astype(np.int64), Int64TensorType
    raise ValueError(
        "ONNX class labels must be all integers or all strings, got "
        f"{sorted({type(c).__name__ for c in classes})}."
    )


def _shapes(operator) -> None:
    """skl2onnx shape calculator of the learned-activation estimators."""
    model = operator.raw_operator
    check_is_fitted(model)
    classifier = is_classifier(model)
    check_input_and_output_numbers(
        operator, input_count_range=[1, None], output_count_range=2 if classifier else 1
    )
    n = operator.inputs[0].get_first_dimension()
    float_type = _float_type(operator).__class__
    if classifier:
        labels = get_label_classes(operator.scope_inst, model)
        operator.outputs[0].type = _class_labels(labels)[1](shape=[n])
        operator.outputs[1].type = float_type(shape=[n, len(model.classes_)])
    else:
        operator.outputs[0].type = float_type(shape=[n, model.n_outputs_])


def _features(b: GraphBuilder, operator) -> str:
    """The float32 feature matrix: the inputs cast and side by side."""
    names = []
    for var in operator.inputs:
        name = var.full_name
        if not isinstance(var.type, FloatTensorType):
            name = b.op("Cast", name, to=TensorProto.FLOAT)
        names.append(name)
    return names[0] if len(names) == 1 else b.op("Concat", *names, axis=1)


def _convert(scope, operator, container) -> None:
    """skl2onnx converter of the learned-activation estimators."""
    model = operator.raw_operator
    options = container.get_options(model, {"spline_form": _SPLINE_FORM.get()})
    b = GraphBuilder(scope, container, options["spline_form"])
    out = _network(b, _features(b, operator), model.net_.module_)
    double = isinstance(_float_type(operator), DoubleTensorType)
    if is_classifier(model):
        label, proba = operator.outputs
        index = b.op("ArgMax", out, axis=1, keepdims=0)
        if container.get_options(model, {"nocl": False})["nocl"]:
            b.op("Identity", index, output=label.full_name)
        else:
            _gather_labels(b, model.classes_, index, label.full_name)
        proba_name = proba.full_name
        if double:
            proba_name = scope.get_unique_variable_name("probabilities")
        b.op("Softmax", out, axis=1, output=proba_name)
        if double:
            b.op("Cast", proba_name, to=TensorProto.DOUBLE, output=proba.full_name)
        return
    dtype = np.float64 if double else np.float32
    if double:
        out = b.op("Cast", out, to=TensorProto.DOUBLE)
    scale = getattr(model, "target_scale_", None)
    mean = getattr(model, "target_mean_", None)
    if scale is not None and mean is not None:  # predict = out * scale + mean
        out = b.op("Add", b.op("Mul", out, b.const(scale, dtype)), b.const(mean, dtype))
    b.op("Identity", out, output=operator.outputs[0].full_name)


def _gather_labels(b: GraphBuilder, classes, index: str, output: str) -> None:
    labels, kind = _class_labels(classes)
    names = b.const(labels, str if kind is StringTensorType else np.int64)
    b.op("Gather", names, index, output=output)


def _parse_compressor(scope, model, inputs, custom_parsers=None):
    """Parse a fitted compressor as its compressed estimator or pipeline, its
    options passed on to the learned-activation estimator at the end, as
    skl2onnx parses a GridSearchCV as its best estimator."""
    check_is_fitted(model, "compressed_estimator_")
    compressed = model.compressed_estimator_
    options = scope.get_options(model)
    if options:
        scope.add_options(id(learnact_step(compressed)[1]), options)
    return parse_sklearn(scope, compressed, inputs, custom_parsers=custom_parsers)


_CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [True, False],
    "output_class_labels": [False, True],
    "spline_form": list(SPLINE_FORMS),
}
update_registered_converter(
    LearnedActivationClassifier,
    "SklearnLearnactClassifier",
    _shapes,
    _convert,
    options=_CLASSIFIER_OPTIONS,
)
update_registered_converter(
    LearnedActivationRegressor,
    "SklearnLearnactRegressor",
    _shapes,
    _convert,
    options={"spline_form": list(SPLINE_FORMS)},
)
update_registered_converter(
    SplineActivationCompressor,
    "SklearnLearnactSplineActivationCompressor",
    _shapes,
    _convert,
    parser=_parse_compressor,
    options=_CLASSIFIER_OPTIONS,
)


# ---------------------------------------------------------------- public API
def to_onnx(
    estimator,
    X_sample,
    path: str | Path | None = None,
    *,
    spline_form: str = "auto",
    options: dict | None = None,
    target_opset: int | None = None,
):
    """Convert a fitted estimator or Pipeline to an ONNX model.

    ``skl2onnx.to_onnx`` with this module's converters registered: the
    estimator may be a :class:`~sklearn_learnact.LearnedActivationClassifier`,
    a :class:`~sklearn_learnact.LearnedActivationRegressor`, a fitted
    :class:`~sklearn_learnact.SplineActivationCompressor`, or a Pipeline ending
    in one behind transformers that skl2onnx converts.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Fitted.
    X_sample : array-like or pandas.DataFrame
        A few rows of the input: their types define the model's inputs (one
        input ``X`` for an array; one per column for a DataFrame, as
        skl2onnx does). Float32 arrays give float32 inputs and outputs, float64
        arrays float64 ones (the network computes in float32 either way).
    path : str or Path, optional
        Where to write the model (``.onnx``).
    spline_form : {"auto", "power", "table"}, default="auto"
        How compressed splines are written, see :data:`SPLINE_FORMS`.
    options : dict, optional
        skl2onnx conversion options, e.g. ``{"zipmap": False}`` for a
        ``probabilities`` tensor instead of a list of dicts.
    target_opset : int, optional
        ``ai.onnx`` opset; skl2onnx's default if None (at least
        :data:`MIN_OPSET`).

    Returns
    -------
    model : onnx.ModelProto
        Checked with :func:`onnx.checker.check_model`.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.export import to_onnx, verify_onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> X = X.astype("float32")
    >>> pipe = make_pipeline(
    ...     StandardScaler(),
    ...     LearnedActivationClassifier((8,), "mixture", max_iter=20, random_state=0),
    ... ).fit(X, y)
    >>> model = to_onnx(pipe, X[:1], options={"zipmap": False})
    >>> [output.name for output in model.graph.output]
    ['label', 'probabilities']
    >>> verify_onnx(pipe, model, X)["label_agreement"]
    1.0
    """
    if spline_form not in SPLINE_FORMS:
        raise ValueError(
            f"spline_form must be one of {SPLINE_FORMS}, got {spline_form!r}."
        )
    check_is_fitted(estimator)
    _check_frame_columns(estimator, X_sample)
    token = _SPLINE_FORM.set(spline_form)
    try:
        model = skl2onnx.to_onnx(
            estimator, X_sample, options=options, target_opset=target_opset
        )
    finally:
        _SPLINE_FORM.reset(token)
    onnx.checker.check_model(model)
    if path is not None:
        Path(path).write_bytes(model.SerializeToString())
    return model


def _onnx_kind(dtype) -> str:
    """The ONNX tensor type skl2onnx gives a DataFrame column of ``dtype``."""
    dtype = np.dtype(dtype) if not hasattr(dtype, "kind") else dtype
    if dtype.kind in "iu":
        return "int64"
    if dtype.kind == "b":
        return "bool"
    if dtype.kind == "f":
        return "double" if dtype.itemsize == 8 else "float"
    return "string"


def _column_transformers(estimator):
    """The fitted ColumnTransformers in ``estimator`` (Pipelines walked)."""
    if hasattr(estimator, "transformers_"):
        yield estimator
        for _, transformer, _ in estimator.transformers_:
            yield from _column_transformers(transformer)
    for _, step in getattr(estimator, "steps", []):
        yield from _column_transformers(step)


def _imputes_nan(transformer) -> bool:
    """Whether ``transformer`` is (or holds) an imputer of NaN-marked values."""
    steps = [s for _, s in getattr(transformer, "steps", [(None, transformer)])]
    for step in steps:
        missing = getattr(step, "missing_values", "")
        if hasattr(step, "statistics_") and not isinstance(missing, str):
            return True
    return False


def _check_frame_columns(estimator, X_sample) -> None:
    """Say clearly what skl2onnx cannot convert in a DataFrame's ColumnTransformer:
    columns of several ONNX types in one branch, and text columns whose missing
    values are NaN (ONNX string tensors hold none); skl2onnx's own errors about
    these do not name the columns."""
    if not hasattr(X_sample, "dtypes"):
        return
    dtypes = X_sample.dtypes
    for ct in _column_transformers(estimator):
        for name, transformer, columns in ct.transformers_:
            if isinstance(columns, str):
                columns = [columns]
            if transformer == "drop" or not (
                isinstance(columns, list)
                and all(isinstance(c, str) and c in dtypes for c in columns)
            ):
                continue  # only branches that select columns by name are checked
            kinds = {c: _onnx_kind(dtypes[c]) for c in columns}
            if len(set(kinds.values())) > 1:
                raise ValueError(
                    f"The ColumnTransformer branch {name!r} takes columns of "
                    f"several ONNX types ({kinds}), but skl2onnx converts one type "
                    "per branch: give them one dtype, float32 for numbers (cast "
                    "X_sample and the rows you predict: "
                    f"X.astype(dict.fromkeys({columns}, 'float32'))) or str for "
                    "categories (fit on them as text too), or split the branch."
                )
            if "string" in kinds.values() and _imputes_nan(transformer):
                raise ValueError(
                    f"The ColumnTransformer branch {name!r} imputes NaN in text "
                    f"columns {columns}, but ONNX string tensors hold no NaN: fill "
                    "missing text with '' before fitting and impute it with "
                    "SimpleImputer(missing_values='', ...)."
                )


def _session(model):
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError(
            f"Running the exported model needs onnxruntime ({exc}): {_EXTRA_HINT}."
        ) from exc
    if isinstance(model, onnxruntime.InferenceSession):
        return model
    if isinstance(model, onnx.ModelProto):
        model = model.SerializeToString()
    elif isinstance(model, (str, Path)):
        model = str(model)
    return onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])


_NUMPY_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(bool)": np.bool_,
}


def onnx_inputs(model, X) -> dict[str, np.ndarray]:
    """The input feeds of an exported model for the rows ``X``.

    One array for a single input; for a model exported from a DataFrame, one
    column per input (by name), each cast to the type the model declares.

    Parameters
    ----------
    model : onnx.ModelProto, onnxruntime.InferenceSession or path
        The exported model.
    X : array-like or pandas.DataFrame
        Rows in the layout of the sample the model was exported with.

    Returns
    -------
    feeds : dict of str to ndarray
        For ``onnxruntime.InferenceSession.run(None, feeds)``.

    Raises
    ------
    ValueError
        If a column is missing, or a text column holds missing values (ONNX
        string tensors have none: fill them as the model was trained).

    Examples
    --------
    >>> import pandas as pd
    >>> import onnxruntime
    >>> from sklearn_learnact import LearnedActivationRegressor
    >>> from sklearn_learnact.export import onnx_inputs, to_onnx
    >>> X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    >>> reg = LearnedActivationRegressor((4,), "tanh", max_iter=2).fit(X, X["a"])
    >>> session = onnxruntime.InferenceSession(to_onnx(reg, X[:1]).SerializeToString())
    >>> feeds = onnx_inputs(session, X)
    >>> {name: column.shape for name, column in feeds.items()}
    {'a': (4, 1), 'b': (4, 1)}
    >>> session.run(None, feeds)[0].shape
    (4, 1)
    """
    inputs = _session(model).get_inputs()
    if len(inputs) == 1 and not hasattr(X, "columns"):
        spec = inputs[0]
        return {spec.name: np.asarray(X, dtype=_NUMPY_TYPES.get(spec.type))}
    if not hasattr(X, "columns"):
        names = [spec.name for spec in inputs]
        raise ValueError(
            f"The model has {len(inputs)} inputs (one per column: {names}); "
            "pass a pandas DataFrame with these columns."
        )
    missing = [spec.name for spec in inputs if spec.name not in X.columns]
    if missing:
        raise ValueError(f"X lacks the model's input column(s) {missing}.")
    feeds = {}
    for spec in inputs:
        column = X[[spec.name]]
        if spec.type == "tensor(string)":
            if column.isna().any().any():
                raise ValueError(
                    f"Column {spec.name!r} has missing values, which ONNX string "
                    "tensors cannot hold: fill them as for training (e.g. "
                    "X.fillna({%r: ''}) with SimpleImputer(missing_values=''))."
                    % spec.name
                )
            feeds[spec.name] = column.to_numpy().astype(str).astype(object)
        else:
            feeds[spec.name] = column.to_numpy(dtype=_NUMPY_TYPES.get(spec.type))
    return feeds


def _relative_error(new, reference, per_column: bool) -> float:
    """Largest ``|new - reference|`` over the largest ``|reference|`` (the
    max-norm relative error), of the whole array or of its worst column."""
    reference = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
    new = np.asarray(new, dtype=np.float64).reshape(reference.shape)
    axis = 0 if per_column else None
    diff = np.abs(new - reference).max(axis=axis)
    scale = np.maximum(np.abs(reference).max(axis=axis), np.finfo(np.float64).tiny)
    return float(np.max(diff / scale))


def verify_onnx(estimator, model, X) -> dict:
    """Run an exported model in onnxruntime on ``X`` and compare with ``estimator``.

    Parameters
    ----------
    estimator : estimator or Pipeline
        The fitted model that was exported.
    model : onnx.ModelProto, onnxruntime.InferenceSession or path
        The exported model.
    X : array-like or pandas.DataFrame
        Rows to predict (as for :func:`onnx_inputs`).

    Returns
    -------
    agreement : dict
        ``n_samples``; for a classifier ``label_agreement`` (share of identical
        labels), ``proba_max_abs_error`` and ``proba_max_rel_error``; for a
        regressor ``max_abs_error`` and ``max_rel_error``. A relative error is
        the largest ``|onnx - estimator|`` divided by the largest
        ``|estimator|``: of all probabilities (they share one scale), of each
        target (the worst one is reported). Float32 rounding is relative to the
        outputs' scale, not to each value: a value near zero (a regression
        value, the probability of an unlikely class) is a difference of larger
        terms, such as logits.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_learnact import LearnedActivationRegressor
    >>> from sklearn_learnact.export import to_onnx, verify_onnx
    >>> X = np.linspace(-1, 1, 40, dtype=np.float32).reshape(20, 2)
    >>> reg = LearnedActivationRegressor((4,), "rational", max_iter=2)
    >>> reg = reg.fit(X, X[:, 0])
    >>> agreement = verify_onnx(reg, to_onnx(reg, X[:1]), X)
    >>> agreement["n_samples"], bool(agreement["max_rel_error"] < 1e-5)
    (20, True)
    """
    session = _session(model)
    names = [o.name for o in session.get_outputs()]
    outputs = dict(zip(names, session.run(None, onnx_inputs(session, X))))
    first = outputs[names[0]]
    n = len(first)
    if is_classifier(estimator):
        labels = first
        if "probabilities" in outputs:
            proba = outputs["probabilities"]
        elif "output_probability" in outputs:  # ZipMap: one dict per row
            keys = _class_labels(estimator.classes_)[0].tolist()
            proba = [[row[k] for k in keys] for row in outputs["output_probability"]]
        else:  # ZipMap(columns): one output per class, after the label
            columns = [
                v for k, v in outputs.items() if k not in (names[0], "class_labels")
            ]
            proba = np.column_stack(columns)
        proba = np.asarray(proba)
        expected = estimator.predict_proba(X)
        same = np.asarray(labels).ravel() == np.asarray(estimator.predict(X)).ravel()
        return {
            "n_samples": n,
            "label_agreement": float(np.mean(same)),
            "proba_max_abs_error": float(np.abs(proba - expected).max()),
            "proba_max_rel_error": _relative_error(proba, expected, per_column=False),
        }
    values = np.asarray(first, dtype=np.float64)
    expected = np.asarray(estimator.predict(X), dtype=np.float64).reshape(values.shape)
    return {
        "n_samples": n,
        "max_abs_error": float(np.abs(values - expected).max()),
        "max_rel_error": _relative_error(values, expected, per_column=True),
    }
