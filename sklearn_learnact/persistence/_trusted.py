"""The types a model file may name, and how a name is resolved.

A model file names the classes of its objects (``"sklearn.pipeline.Pipeline"``);
loading finds each in the trusted set *before* anything is imported, and
refuses any other. The default set is the library's estimators, its
compressor and the scikit-learn types a preprocessing Pipeline is made of
(each a plain data class whose ``__setstate__`` only stores values); the
user adds more with ``load_model(..., trusted=[...])``.
"""

import functools
import importlib

import numpy as np

from ..compression import CompressedLayer, SplineActivationCompressor
from ..estimators import LearnedActivationClassifier, LearnedActivationRegressor


def _add(table: dict, module, *names: str) -> None:
    for name in names:
        cls = getattr(module, name, None)
        if cls is not None:  # absent from an older scikit-learn
            table[f"{module.__name__}.{name}"] = cls


@functools.cache
def _defaults() -> dict[str, type]:
    """Public name -> class, for every class a file may name by default (built
    on first use: ``import sklearn_learnact`` does not import these modules)."""
    from sklearn import compose, decomposition, feature_selection, impute, pipeline
    from sklearn import preprocessing as pre

    table = {
        "sklearn_learnact.LearnedActivationClassifier": LearnedActivationClassifier,
        "sklearn_learnact.LearnedActivationRegressor": LearnedActivationRegressor,
        "sklearn_learnact.SplineActivationCompressor": SplineActivationCompressor,
        "sklearn_learnact.compression.CompressedLayer": CompressedLayer,
    }
    _add(table, pipeline, "Pipeline", "FeatureUnion")
    _add(table, compose, "ColumnTransformer", "TransformedTargetRegressor")
    _add(table, compose, "make_column_selector")
    _add(
        table,
        pre,
        "Binarizer",
        "FunctionTransformer",
        "KBinsDiscretizer",
        "LabelBinarizer",
        "LabelEncoder",
        "MaxAbsScaler",
        "MinMaxScaler",
        "Normalizer",
        "OneHotEncoder",
        "OrdinalEncoder",
        "PolynomialFeatures",
        "PowerTransformer",
        "QuantileTransformer",
        "RobustScaler",
        "SplineTransformer",
        "StandardScaler",
        "TargetEncoder",
    )
    _add(table, impute, "SimpleImputer", "MissingIndicator", "KNNImputer")
    _add(table, decomposition, "PCA", "TruncatedSVD")
    _add(table, feature_selection, "VarianceThreshold")
    # a fitted ColumnTransformer keeps its remainder's columns in this list type
    remainder = getattr(compose._column_transformer, "_RemainderColsList", None)
    if remainder is not None:
        table["sklearn.compose._column_transformer._RemainderColsList"] = remainder
    return table


@functools.cache
def _names() -> dict[type, str]:
    """Class -> the name a file gives it."""
    return {cls: name for name, cls in reversed(_defaults().items())}


#: The learned-activation estimators, whose network is saved as tensors.
ESTIMATORS = (LearnedActivationClassifier, LearnedActivationRegressor)

#: Scalar types a file may name (``OneHotEncoder(dtype=np.float64)``,
#: ``make_column_selector(dtype_include=np.number)``).
SCALAR_TYPES = {
    **{t.__name__: t for t in (bool, int, float, complex, str, bytes, object)},
    **{
        f"numpy.{name}": getattr(np, name)
        for name in dir(np)
        if isinstance(getattr(np, name, None), type)
        and issubclass(getattr(np, name), np.generic)
    },
}
_SCALAR_NAMES = {t: name for name, t in reversed(SCALAR_TYPES.items())}


def default_trusted() -> list[str]:
    """The names of the classes a model file may hold by default, sorted."""
    return sorted(_defaults())


def type_name(cls: type) -> str:
    """The name a file gives ``cls``: its public name when trusted by default."""
    return _names().get(cls) or f"{cls.__module__}.{cls.__qualname__}"


def scalar_type_name(cls: type) -> str | None:
    """The name of a trusted scalar type (``numpy.float64``), or None."""
    return _SCALAR_NAMES.get(cls)


def resolve(name: str, trusted: frozenset[str], untrusted) -> object:
    """The class (or function) a file names, if trusted; else ``untrusted(name)``
    is raised. Only a trusted name is ever imported."""
    if name in _defaults():
        return _defaults()[name]
    if name not in trusted:
        raise untrusted(name)
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            found = getattr(found, attr, None)
        if found is not None:
            return found
    raise untrusted(name, missing=True)
