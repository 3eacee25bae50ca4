"""Argument checks of the loaders and generators: one style for the package.

Numbers go through scikit-learn's public :func:`sklearn.utils.check_scalar`
(``TypeError`` for a wrong type, ``ValueError`` for a value out of bounds),
which lets a bool pass as an int and NaN pass as in bounds: both are refused
here too. Named choices go through :func:`check_option`. Messages that tell
the user what to pass name the option through :class:`OptionNames`, so the
same loader speaks of ``encoding='cp1252'`` in Python and of
``--encoding cp1252`` under the ``learnact`` command.
"""

import numbers
import shlex
from collections.abc import Collection, Mapping

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


class OptionNames:
    """How messages name an option: a Python argument, or a command-line flag.

    Parameters
    ----------
    flags : mapping of str to str, optional
        Argument name -> flag (``{"encoding": "--encoding"}``). Arguments with a
        flag are named by it; the others as Python arguments.
    """

    def __init__(self, flags: Mapping[str, str] | None = None) -> None:
        self.flags = dict(flags or {})

    def use(self, name: str, value: object = ...) -> str:
        """How to pass ``value`` (``...``: any value) as option ``name``.

        ``encoding='cp1252'`` or ``--encoding cp1252``.
        """
        flag = self.flags.get(name)
        if flag is not None:
            if value is True:
                return flag
            shown = name.upper() if value is ... else shlex.quote(str(value))
            return f"{flag} {shown}"
        return f"{name}=..." if value is ... else f"{name}={value!r}"

    def rerun(self, function: str, name: str, value: object) -> str:
        """How to call again with ``name=value``: ``run f(name=value)`` or
        ``run again with --name value``."""
        if name in self.flags:
            return f"run again with {self.use(name, value)}"
        return f"run {function}({self.use(name, value)})"

    def source(self, name: str) -> str:
        """Where a value came from: ``the data_home argument`` or ``--data-home``."""
        return self.flags.get(name, f"the {name} argument")
