"""One validation style: parameters checked against declared constraints.

Each estimator declares its constraints as tables (numeric parameters with
their type and bounds, parameters that take one of a few values, flags) and
checks them in ``fit`` with these helpers; numbers go through
:func:`sklearn.utils.check_scalar`. Every bad parameter raises ``ValueError``
naming the parameter, what it must be and what it got.
"""

import numbers
from collections.abc import Collection

import numpy as np
from sklearn.utils import check_scalar

#: A numeric constraint: (type, lower bound, upper bound, included boundaries),
#: the arguments of :func:`sklearn.utils.check_scalar`; a bound may be ``None``.
NumericSpec = tuple[type, float | None, float | None, str]


def check_numeric(name: str, value, spec: NumericSpec) -> None:
    """Check a numeric parameter against its declared ``spec``."""
    kind, low, high, closed = spec
    if isinstance(value, (bool, np.bool_)):  # check_scalar takes True for 1
        raise ValueError(f"{name} must be a number, got {value!r}.")
    try:
        check_scalar(
            value, name, kind, min_val=low, max_val=high, include_boundaries=closed
        )
    except TypeError as exc:  # one exception type for every bad parameter
        raise ValueError(str(exc)) from exc
    if value != value:  # NaN: check_scalar's bound comparisons all pass
        raise ValueError(f"{name} must be a number, got nan.")


def check_choice(name: str, value, choices: Collection) -> None:
    """Check that a parameter is one of ``choices``."""
    if isinstance(value, (bool, np.bool_)) or value not in choices:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}."
        )


def check_flag(name: str, value) -> None:
    """Check that a parameter is ``True`` or ``False``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}.")


def is_int(value) -> bool:
    """Whether ``value`` is an integer (``True``/``False`` are not)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
