"""Which converter writes an activation, and the compressed activations' converters.

A registered activation's converter is the one its registration gives
(``register_activation(..., onnx=...)``, see
:mod:`sklearn_learnact.activations`). Modules that are not registered
activations, such as the compressor's :class:`SplineActivation` and
:class:`SymbolicActivation`, have theirs in :data:`ACTIVATION_CONVERTERS`
(:func:`register_activation_converter`).
"""

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from ..activations import activation_spec
from ..compression import SplineActivation, SymbolicActivation

__all__ = [
    "ACTIVATION_CONVERTERS",
    "AUTO_NESTED_MAX_KINKS",
    "AUTO_POWER_MAX_KINKS",
    "SPLINE_FORMS",
    "converter_for",
    "register_activation_converter",
]

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

#: Converters of modules that are not registered activations, by exact type:
#: ``fn(builder, x, module) -> y``.
ACTIVATION_CONVERTERS: dict[type, Callable] = {}


def register_activation_converter(*module_types: type):
    """Decorator registering ``fn(builder, x, module) -> y`` for ``module_types``.

    For modules that are not registered activations (a registered one
    gives its converter to :func:`~sklearn_learnact.activations.register_activation`
    instead). ``fn`` adds the ONNX nodes that compute ``module(x)`` from the
    float32 tensor named ``x`` with
    :class:`~sklearn_learnact.export.GraphBuilder`'s ``op``/``const``/
    ``per_channel`` and returns the name of the result. Types are matched
    exactly (a subclass may compute something else).

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


def as_numpy(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().double().numpy()
    return np.asarray(values, dtype=np.float64)


def asas_numpy(values) -> np.ndarray:
    """A tensor or array as float64 numpy values (detached, on the CPU)."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().double().numpy()
    return np.asarray(values, dtype=np.float64)


def converter_for(module: nn.Module, layer: int = 0) -> Callable:
    """The ONNX converter of an activation module, or a clear error.

    Parameters
    ----------
    module : torch.nn.Module
        A registered activation, or a module with a converter in
        :data:`ACTIVATION_CONVERTERS`.
    layer : int, default=0
        0-based index of the hidden layer it belongs to (for the error).

    Raises
    ------
    NotImplementedError
        If no converter is known: the message names the activation and how
        to give one.
    """
    spec = activation_spec(module)
    converter = ACTIVATION_CONVERTERS.get(type(module))
    if converter is None and spec is not None:
        converter = spec.onnx
    if converter is not None:
        return converter
    where = f"hidden layer {layer + 1}, {type(module).__name__} ({module!r})"
    if spec is not None:
        raise NotImplementedError(
            f"Cannot export the activation of {where}, to ONNX: the activation "
            f"{spec.name!r} was registered without a converter. Give one with "
            f"register_activation({spec.name!r}, ..., onnx=fn), fn(builder, x, "
            "module) returning the name of the output, built with "
            "sklearn_learnact.export.GraphBuilder."
        )
    raise NotImplementedError(
        f"Cannot export the activation of {where}, to ONNX: it is not a "
        "registered activation and no converter is registered for its type. "
        "Register it with sklearn_learnact.activations.register_activation(name, "
        "..., onnx=fn), or its type with register_activation_converter."
    )


@register_activation_converter(SymbolicActivation)
def _symbolic(b, x: str, module: SymbolicActivation) -> str:
    a, slope, c, d = (b.const(as_numpy(getattr(module, k))) for k in "abcd")
    inner = b.activation(module.f, b.op("Add", b.op("Mul", x, slope), c))
    return b.op("Add", b.op("Mul", inner, a), d)


@register_activation_converter(SplineActivation)
def _spline_activation(b, x: str, module: SplineActivation) -> str:
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
    c, d, t = (as_numpy(v) for v in (module.power_c, module.power_d, module.power_t))
    used = (d != 0).reshape(len(d), -1).any(axis=1)  # kinks of some channel
    return c, d[used], t[used]


def _spline_power(b, x: str, c, d, t) -> str:
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


def _spline_nested(b, x: str, shifts, a, scale, offset, m) -> str:
    z = x
    for c_k, a_k in zip(shifts, a):
        z = b.op("LeakyRelu", b.op("Sub", z, b.const(c_k)), alpha=float(a_k))
    y = b.op("Add", b.op("Mul", z, b.const(scale)), b.const(offset))
    return y if m == 0 else b.op("Sub", y, b.op("Mul", x, b.const(m)))


def _spline_table(b, x: str, module: SplineActivation) -> str:
    # SplineActivation's table kernel: u = x * scale + shift, cell j of the
    # clamped u, then a line in x (degree 1, plus d * max(x, t) with kinks) or a
    # polynomial in t = u - j (Horner)
    n_cells, degree = module.n_cells, module.degree
    scaled = b.op("Mul", x, b.per_channel(module.scale))
    u = b.op("Add", scaled, b.per_channel(module.shift))
    clamped = b.op("Clip", u, b.const(0.0), b.const(n_cells - 1.0))
    if degree > 1:
        clamped = b.op("Floor", clamped)
    j = b.cast(clamped, "int64")
    if module.offset is not None:
        j = b.op("Add", j, b.per_channel(module.offset, np.int64))

    def coef(rows: torch.Tensor, k: int) -> str:
        return b.op("Gather", b.const(as_numpy(rows[k])), j)

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
