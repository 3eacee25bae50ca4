"""One validation style for the whole package: declared constraints, one error.

Every public callable with parameters declares, per parameter, the list of
constraints a valid value satisfies (any one of them), as scikit-learn's
estimators declare ``_parameter_constraints``:

- estimators and meta-estimators set the class attribute
  ``_parameter_constraints`` and check it in ``fit`` with
  :func:`validate_params` (their ``__init__`` stores parameters untouched);
- functions are decorated with :func:`validate_call`.

A constraint is ``None`` (the value ``None``), :class:`Interval`,
:class:`Options`, :class:`Boolean`, :class:`InstanceOf` or :class:`Satisfies`
(any other rule, with the words that describe it). Every bad argument raises
:class:`InvalidParameterError`, both a ``ValueError`` and a ``TypeError`` (as
scikit-learn's own parameter errors are), naming the parameter, what it must
be and what it got. A leaf module: it imports nothing of the package.
"""

import functools
import inspect
import math
import numbers
from collections.abc import Callable, Iterable, Mapping

import numpy as np

__all__ = [
    "CV",
    "N_JOBS",
    "RANDOM_STATE",
    "VERBOSE",
    "Boolean",
    "Interval",
    "InstanceOf",
    "InvalidParameterError",
    "Options",
    "Satisfies",
    "is_int",
    "validate_call",
    "validate_params",
]


class InvalidParameterError(ValueError, TypeError):
    """A parameter or argument of the wrong type or out of its bounds.

    A subclass of both ``ValueError`` and ``TypeError``, so that code catching
    either (scikit-learn's convention for parameter errors) catches it.
    """


def is_int(value) -> bool:
    """Whether ``value`` is an integer (``True``/``False`` are not)."""
    return isinstance(value, numbers.Integral) and not isinstance(
        value, (bool, np.bool_)
    )


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


class Interval:
    """Numbers of a kind between bounds.

    Parameters
    ----------
    kind : {numbers.Integral, numbers.Real}
        Integers (bools excluded), or any real number (NaN excluded).
    low, high : float or None
        The bounds; None for none.
    closed : {"both", "left", "right", "neither"}, default="both"
        Which bounds are included.
    """

    def __init__(self, kind, low, high, closed: str = "both") -> None:
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def is_satisfied_by(self, value) -> bool:
        ok = is_int(value) if self.kind is numbers.Integral else _is_real(value)
        if not ok or math.isnan(value):
            return False
        if self.low is not None:
            left = self.closed in ("both", "left")
            if value < self.low or (value == self.low and not left):
                return False
        if self.high is not None:
            right = self.closed in ("both", "right")
            if value > self.high or (value == self.high and not right):
                return False
        return True

    def __str__(self) -> str:
        kind = "an int" if self.kind is numbers.Integral else "a number"
        left = ">=" if self.closed in ("both", "left") else ">"
        right = "<=" if self.closed in ("both", "right") else "<"
        if self.low is not None and self.high is not None:
            lo, hi = ("[" if left == ">=" else "("), ("]" if right == "<=" else ")")
            return f"{kind} in {lo}{self.low}, {self.high}{hi}"
        if self.low is not None:
            return f"{kind} {left} {self.low}"
        if self.high is not None:
            return f"{kind} {right} {self.high}"
        return kind


class Options:
    """One of a few values (compared with ``==``; bools never match)."""

    def __init__(self, *values) -> None:
        self.values = values

    def is_satisfied_by(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        try:
            return any(value == v for v in self.values)
        except (TypeError, ValueError):  # an array compared with a string
            return False

    def __str__(self) -> str:
        if len(self.values) == 1:
            return repr(self.values[0])
        return "one of " + ", ".join(map(repr, self.values))


class Boolean:
    """``True`` or ``False``."""

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, (bool, np.bool_))

    def __str__(self) -> str:
        return "True or False"


class InstanceOf:
    """An instance of one of ``types``, described by ``description``."""

    def __init__(self, *types: type, description: str | None = None) -> None:
        self.types = types
        self.description = description

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, self.types)

    def __str__(self) -> str:
        if self.description:
            return self.description
        return "an instance of " + " or ".join(t.__name__ for t in self.types)


class Satisfies:
    """Any other rule: ``rule(value)`` is true, ``description`` says what it is."""

    def __init__(self, rule: Callable[[object], bool], description: str) -> None:
        self.rule, self.description = rule, description

    def is_satisfied_by(self, value) -> bool:
        try:
            return bool(self.rule(value))
        except (TypeError, ValueError, AttributeError):
            return False

    def __str__(self) -> str:
        return self.description


def _satisfied(constraint, value) -> bool:
    if constraint is None:
        return value is None
    return constraint.is_satisfied_by(value)


def _words(constraints) -> str:
    parts = ["None" if c is None else str(c) for c in constraints]
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validate_params(params: Mapping, constraints: Mapping[str, list]) -> None:
    """Check each of ``params`` against its declared constraints.

    Parameters
    ----------
    params : mapping of str to object
        Values by parameter name (e.g. ``estimator.get_params(deep=False)``);
        names without constraints are not checked.
    constraints : mapping of str to list
        Per parameter, the constraints a valid value satisfies (any one).

    Raises
    ------
    InvalidParameterError
        Naming the first parameter that satisfies none of its constraints,
        what it must be and what it got.

    Examples
    --------
    >>> import numbers
    >>> from sklearn_learnact._validation import Interval, validate_params
    >>> constraints = {"alpha": [Interval(numbers.Real, 0, None)]}
    >>> validate_params({"alpha": -1.0}, constraints)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sklearn_learnact._validation.InvalidParameterError: alpha must be a number >= 0, ...
    """
    for name, allowed in constraints.items():
        if name not in params:
            continue
        value = params[name]
        if not any(_satisfied(c, value) for c in allowed):
            raise InvalidParameterError(
                f"{name} must be {_words(allowed)}, got {_shown(value)}."
            )


def validate_call(constraints: Mapping[str, list]):
    """Decorator: check a function's arguments against ``constraints`` on each call.

    Parameters
    ----------
    constraints : mapping of str to list
        Per parameter name of the function, the constraints a valid value
        satisfies (any one); see :func:`validate_params`.
    """

    def decorator(fn):
        signature = inspect.signature(fn)
        unknown = set(constraints) - set(signature.parameters)
        if unknown:  # a typo in the declaration: fail at import, not silently
            raise TypeError(f"{fn.__qualname__} has no parameter(s) {sorted(unknown)}")

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = signature.bind_partial(*args, **kwargs)
            validate_params(bound.arguments, constraints)
            return fn(*args, **kwargs)

        wrapper.__signature__ = signature
        return wrapper

    return decorator


def _is_cv(value) -> bool:
    if hasattr(value, "split"):
        return True
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes))


# -- constraints shared by many callables ----------------------------------------
#: ``random_state``: None, a seed, or a :class:`numpy.random.RandomState`.
RANDOM_STATE = [
    None,
    Interval(numbers.Integral, 0, 2**32 - 1),
    InstanceOf(np.random.RandomState),
]
#: ``cv``: a number of folds, a splitter, or an iterable of (train, test) splits.
CV = [
    Interval(numbers.Integral, 2, None),
    Satisfies(_is_cv, "a cross-validation splitter or (train, test) splits"),
]
#: ``n_jobs``: joblib's (None, or -1 for every core, or a count).
N_JOBS = [None, Interval(numbers.Integral, None, None)]
#: ``verbose``: a level >= 0.
VERBOSE = [Interval(numbers.Integral, 0, None)]
