"""How the loaders' messages name an option.

Messages that tell the user what to pass name the option through
:class:`OptionNames`, so the same loader speaks of ``encoding='cp1252'`` in
Python and of ``--encoding cp1252`` under the ``learnact`` command. Arguments
are checked by the package's one validation module,
:mod:`sklearn_learnact._validation`.
"""

import shlex
from collections.abc import Mapping


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
