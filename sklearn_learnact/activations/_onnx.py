"""The ONNX converters of the built-in activations (their specs' ``onnx``).

A converter ``fn(builder, x, module) -> y`` adds the ONNX nodes that compute
``module(x)`` from the float32 tensor named ``x`` and returns the name of the
result. ``builder`` is :class:`sklearn_learnact.export.GraphBuilder` (its
``op``, ``const``, ``per_channel``, ``columns``, ``horner``, ``cast``,
``has_op`` and ``activation``, the converter of a module inside this one):
nothing here imports onnx, which stays an optional extra.
"""

import math

import numpy as np
import torch
from torch import nn

from ._kernels.formulas import hermite_table


def numpy_values(values) -> np.ndarray:
    """A tensor or array as float64 numpy values (detached, on the CPU)."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().double().numpy()
    return np.asarray(values, dtype=np.float64)


def unary(op_type: str):
    """Converter of a module that is one ONNX operator without attributes."""

    def convert(b, x: str, module: nn.Module) -> str:
        return b.op(op_type, x)

    convert.__name__ = f"onnx_{op_type.lower()}"
    return convert


# -- fixed -------------------------------------------------------------------
def identity(b, x: str, module) -> str:
    return x


def leaky_relu(b, x: str, module: nn.LeakyReLU) -> str:
    return b.op("LeakyRelu", x, alpha=float(module.negative_slope))


def elu(b, x: str, module: nn.ELU) -> str:
    return b.op("Elu", x, alpha=float(module.alpha))


def selu(b, x: str, module) -> str:
    # torch's constants (torch/nn/modules/activation.py, SELU)
    return b.op("Selu", x, alpha=1.6732632423543772, gamma=1.0507009873554805)


def gelu(b, x: str, module: nn.GELU) -> str:
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


def silu(b, x: str, module) -> str:
    return b.op("Mul", x, b.op("Sigmoid", x))


def mish(b, x: str, module) -> str:
    if b.has_op("Mish"):
        return b.op("Mish", x)
    return b.op("Mul", x, b.op("Tanh", b.op("Softplus", x)))


def hardswish(b, x: str, module) -> str:
    if b.has_op("HardSwish"):
        return b.op("HardSwish", x)
    return b.op("Mul", x, b.op("HardSigmoid", x, alpha=1.0 / 6.0, beta=0.5))


def softplus(b, x: str, module: nn.Softplus) -> str:
    beta, threshold = float(module.beta), float(module.threshold)
    z = x if beta == 1.0 else b.op("Mul", x, b.const(beta))
    y = b.op("Softplus", z)
    if beta != 1.0:
        y = b.op("Div", y, b.const(beta))
    # torch returns x itself where beta * x > threshold
    return b.op("Where", b.op("Greater", z, b.const(threshold)), x, y)


# -- learnable ---------------------------------------------------------------
def affine(b, x: str, module) -> str:
    scaled = b.op("Mul", x, b.per_channel(module.k1))
    return b.op("Add", scaled, b.per_channel(module.k0))


def prelu(b, x: str, module: nn.PReLU) -> str:
    slope = numpy_values(module.weight)
    return b.op("PRelu", x, b.per_channel(slope if slope.size > 1 else slope[0]))


def swish(b, x: str, module) -> str:
    gate = b.op("Sigmoid", b.op("Mul", x, b.per_channel(module.beta)))
    return b.op("Mul", x, gate)


def mixture(b, x: str, module) -> str:
    with torch.no_grad():
        coefficients = b.columns(module.coefficients())  # P_i, per channel
    out = None
    for p_i, basis in zip(coefficients, module.basis):
        term = b.op("Mul", b.activation(basis, x), p_i)
        out = term if out is None else b.op("Add", out, term)
    return out


def rational(b, x: str, module) -> str:
    numerator = b.horner(b.columns(module.numerator), x)
    b_cols = b.columns(module.denominator)  # b_1 .. b_n
    q = b.horner(b_cols, x) if len(b_cols) > 1 else b_cols[0]
    q = b.op("Mul", q, x)  # x * Q'(x)
    return b.op("Div", numerator, b.op("Add", b.op("Abs", q), b.const(1.0)))


def spline(b, x: str, module) -> str:
    # the spline formula: u = (x - lo) / step, clamped to the grid; the
    # interval's cubic in t = u - index, continued linearly (end slope) beyond
    n_knots, lo = module.n_knots, -module.bound
    step = 2.0 * module.bound / (n_knots - 1)
    values = module.values.detach().cpu().double().reshape(-1, n_knots)
    table = hermite_table(values).transpose(0, 1).numpy()  # (4, C, K - 1)
    n_ch = table.shape[1]
    u = b.op("Div", b.op("Sub", x, b.const(lo)), b.const(step))
    uc = b.op("Clip", u, b.const(0.0), b.const(n_knots - 1.0))
    index = b.op("Min", b.op("Floor", uc), b.const(n_knots - 2.0))
    t = b.op("Sub", uc, index)
    beyond = b.op("Sub", u, uc)
    j = b.cast(index, "int64")
    if n_ch > 1:
        j = b.op("Add", j, b.per_channel(np.arange(n_ch) * (n_knots - 1), np.int64))
    c0, c1, c2, c3 = (b.op("Gather", b.const(row.reshape(-1)), j) for row in table)
    cubic = b.op("Add", b.op("Mul", c3, t), c2)
    value = b.op("Add", b.op("Mul", b.op("Add", b.op("Mul", cubic, t), c1), t), c0)
    # slope in grid units: c1 + 2 c2 t + 3 c3 t^2
    slope = b.op("Add", b.op("Mul", c3, b.op("Mul", t, b.const(1.5))), c2)
    slope = b.op("Add", b.op("Mul", b.op("Mul", slope, t), b.const(2.0)), c1)
    return b.op("Add", value, b.op("Mul", beyond, slope))


def subnet(b, x: str, module) -> str:
    # g(x) = hidden(x * w1 + b1) @ w2 + b2 on every element: (M, 1) -> (M, h) -> (M,)
    h = module.hidden_size
    flat = b.op("Reshape", x, b.const([-1, 1], np.int64))
    w1 = b.const(numpy_values(module.w1).reshape(1, h))
    z = b.op("Gemm", flat, w1, b.const(module.b1))
    phi = b.activation(module.hidden, z)  # a layer-wide activation: any rank
    w2 = b.const(numpy_values(module.w2).reshape(h, 1))
    out = b.op("Gemm", phi, w2, b.const(numpy_values(module.b2)[None]))
    return b.op("Reshape", out, b.op("Shape", x))
