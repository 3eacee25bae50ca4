"""The graph builder the ONNX converters write with."""

import numpy as np
import onnx
import torch
from onnx import TensorProto, numpy_helper
from torch import nn

from ._activations import as_numpy, converter_for

__all__ = ["MIN_OPSET", "GraphBuilder"]

#: Lowest ``ai.onnx`` opset the converters support (``Clip`` takes its bounds as
#: inputs from 11); below 20, 18 and 14 ``Gelu``, ``Mish`` and ``HardSwish`` are
#: written as the formulas they stand for.
MIN_OPSET = 11

_ONNX_TYPES = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.float64): TensorProto.DOUBLE,
    np.dtype(np.int64): TensorProto.INT64,
}
#: ONNX element types of ``GraphBuilder.cast``, by name.
_CAST_TYPES = {
    "float": TensorProto.FLOAT,
    "double": TensorProto.DOUBLE,
    "int64": TensorProto.INT64,
}


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
        array = as_numpy(values).astype(dtype)
        if array.ndim == 1 and array.size > 1:
            array = array.reshape(-1, *[1] * (self.rank - 2))
        return self.const(array, dtype)

    def columns(self, values) -> list[str]:
        """Per-channel constants of each column of ``values`` (k,) or (C, k)."""
        array = as_numpy(values)
        return [self.per_channel(array[..., i]) for i in range(array.shape[-1])]

    def activation(self, module: nn.Module, x: str) -> str:
        """Convert ``module`` applied to ``x`` with its converter: the one its
        registration gives (``register_activation(..., onnx=...)``)."""
        return converter_for(module, self.layer)(self, x, module)

    def cast(self, x: str, to: str) -> str:
        """``x`` cast to ``to``: ``"float"``, ``"double"`` or ``"int64"``."""
        return self.op("Cast", x, to=_CAST_TYPES[to])

    def horner(self, coefs: list[str], x: str) -> str:
        """``sum_k coefs[k] * x**k`` by Horner's scheme (at least two coefs)."""
        out = self.op("Add", self.op("Mul", coefs[-1], x), coefs[-2])
        for c in reversed(coefs[:-2]):
            out = self.op("Add", self.op("Mul", out, x), c)
        return out
