"""Argument checks of the loaders and generators: one style for the package.

Numbers go through scikit-learn's public :func:`sklearn.utils.check_scalar`
(``TypeError`` for a wrong type, ``ValueError`` for a value out of bounds),
which lets a bool pass as an int and NaN pass as in bounds: both are refused
here too. Named choices go through :func:`check_option`.
"""

import numbers
from collections.abc import Collection

from sklearn.utils import check_scalar


def check_number(
    value: object,
    name: str,
    kind: type = numbers.Real,
    *,
    low: float | None = None,
    high: float | None = None,
) -> None:
    """Check that ``value`` is a ``kind`` (not a bool, not NaN) in [low, high].

    ``kind`` is :class:`numbers.Integral` or :class:`numbers.Real`.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an instance of {kind.__name__}, not bool.")
    check_scalar(value, name, kind, min_val=low, max_val=high)
    if value != value:  # NaN: every comparison with it is False
        raise ValueError(f"{name} must be a number, got nan.")


def check_option(value: object, name: str, options: Collection[str]) -> None:
    """Check that ``value`` is one of ``options``."""
    if not isinstance(value, str) or value not in options:
        choices = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {choices}; got {value!r}.")
