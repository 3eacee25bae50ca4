"""The skl2onnx glue: converters of the estimators and the compressor, and the
public functions :func:`to_onnx`, :func:`onnx_inputs` and :func:`verify_onnx`."""

import contextvars
from pathlib import Path

import numpy as np
import onnx
import skl2onnx
from onnx import TensorProto
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
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from ..compression import SplineActivationCompressor
from ..estimators import (
    LearnedActivationClassifier,
    LearnedActivationRegressor,
    learnact_step,
)
from ._activations import SPLINE_FORMS
from ._builder import GraphBuilder
from ._networks import network

__all__ = ["onnx_inputs", "to_onnx", "verify_onnx"]

EXTRA_HINT = 'pip install "sklearn-learnact[onnx]"'
#: ``spline_form`` of :func:`to_onnx`, the default of the skl2onnx option.
_SPLINE_FORM = contextvars.ContextVar("spline_form", default="auto")


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


def _features(b, operator) -> str:
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
    out = network(b, _features(b, operator), model.net_.module_)
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


def _gather_labels(b, classes, index: str, output: str) -> None:
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
        ``probabilities`` tensor instead of a list of dicts (the default for a
        classifier exported from float64 rows: ONNX's ZipMap takes float32).
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
        if _zipmap_takes_double(model):
            options = _without_zipmap(options)
            model = skl2onnx.to_onnx(
                estimator, X_sample, options=options, target_opset=target_opset
            )
    finally:
        _SPLINE_FORM.reset(token)
    onnx.checker.check_model(model)
    if path is not None:
        Path(path).write_bytes(model.SerializeToString())
    return model


def _zipmap_takes_double(model) -> bool:
    """Whether skl2onnx built a ``ZipMap`` over float64 probabilities (a
    classifier exported from float64 rows or columns), which ONNX's ZipMap does
    not take: the model would be invalid."""
    zipmaps = [n for n in model.graph.node if n.op_type == "ZipMap"]
    if not zipmaps:
        return False
    graph = onnx.shape_inference.infer_shapes(model).graph
    types = {
        v.name: v.type.tensor_type.elem_type
        for v in [*graph.value_info, *graph.input, *graph.output]
    }
    return any(types.get(n.input[0]) == onnx.TensorProto.DOUBLE for n in zipmaps)


def _without_zipmap(options):
    """``zipmap`` off (a ``probabilities`` tensor) where the user left it at
    skl2onnx's default, and a clear error where they asked for the ZipMap."""
    per_model = options is not None and not all(isinstance(k, str) for k in options)
    if per_model or "zipmap" in (options or {}):
        raise ValueError(
            "ONNX's ZipMap takes float32 probabilities, and a classifier exported "
            "from float64 rows computes float64 ones: set the option 'zipmap' to "
            "False (a probabilities tensor, the default here), or pass a float32 "
            "X_sample (X.astype('float32')) to keep the ZipMap."
        )
    return {**(options or {}), "zipmap": False}


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
            f"Running the exported model needs onnxruntime ({exc}): {EXTRA_HINT}."
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
