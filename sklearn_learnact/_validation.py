"""One validation style for the whole package: declared constraints, one error.

Estimators declare their constraints as tables (numeric parameters with their
type and bounds, parameters that take one of a few values, flags) and check
them in ``fit``; loaders and generators check their arguments on the call.
Both go through these helpers, and numbers through scikit-learn's public
:func:`sklearn.utils.check_scalar`. Every bad argument raises
:class:`InvalidParameterError`, which is both a ``ValueError`` and a
``TypeError`` (as scikit-learn's own parameter errors are), naming the
argument, what it must be and what it got.
"""

import numbers
from collections.abc import Collection

import numpy as np
from sklearn.utils import check_scalar

#: A numeric constraint: (type, lower bound, upper bound, included boundaries),
#: the arguments of :func:`sklearn.utils.check_scalar`; a bound may be ``None``.
NumericSpec = tuple[type, float | None, float | None, str]


class InvalidParameterError(ValueError, TypeError):
    """A parameter or argument of the wrong type or out of its bounds.

    A subclass of both ``ValueError`` and ``TypeError``, so that code catching
    either (scikit-learn's convention for parameter errors) catches it.
    """


def check_numeric(name: str, value, spec: NumericSpec) -> None:
    """Check a numeric parameter against its declared ``spec``.

    A bool is not a number here (``check_scalar`` takes ``True`` for 1), and
    NaN is out of every bound (``check_scalar``'s comparisons all pass).
    """
    kind, low, high, closed = spec
    if isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(
            f"{name} must be an instance of {kind.__name__}, not bool."
        )
    try:
        check_scalar(
            value, name, kind, min_val=low, max_val=high, include_boundaries=closed
        )
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(str(exc)) from exc
    if value != value:
        raise InvalidParameterError(f"{name} must be a number, got nan.")


def check_choice(name: str, value, choices: Collection) -> None:
    """Check that a parameter is one of ``choices``."""
    if isinstance(value, (bool, np.bool_)) or value not in choices:
        raise InvalidParameterError(
            f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}."
        )


def check_flag(name: str, value) -> None:
    """Check that a parameter is ``True`` or ``False``."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be True or False, got {value!r}.")


def is_int(value) -> bool:
    """Whether ``value`` is an integer (``True``/``False`` are not)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
