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
converter fails at export time with an error naming it; give one with
``register_activation(..., onnx=...)``.

Needs the ``onnx`` extra: ``pip install "sklearn-learnact[onnx]"`` (onnx,
onnxruntime, skl2onnx).
"""

_EXTRA_HINT = (
    'pip install "sklearn-learnact[onnx]" (installs onnx, onnxruntime and skl2onnx)'
)
try:
    import onnx  # noqa: F401
    import skl2onnx  # noqa: F401
except ImportError as _exc:
    raise ImportError(
        f"sklearn_learnact.export needs onnx and skl2onnx ({_exc}): {_EXTRA_HINT}."
    ) from _exc

from ._activations import (  # noqa: E402
    ACTIVATION_CONVERTERS,
    AUTO_NESTED_MAX_KINKS,
    AUTO_POWER_MAX_KINKS,
    SPLINE_FORMS,
    register_activation_converter,
)
from ._builder import MIN_OPSET, GraphBuilder  # noqa: E402
from ._skl2onnx import onnx_inputs, to_onnx, verify_onnx  # noqa: E402

__all__ = [
    "ACTIVATION_CONVERTERS",
    "AUTO_NESTED_MAX_KINKS",
    "AUTO_POWER_MAX_KINKS",
    "GraphBuilder",
    "MIN_OPSET",
    "SPLINE_FORMS",
    "onnx_inputs",
    "register_activation_converter",
    "to_onnx",
    "verify_onnx",
]
