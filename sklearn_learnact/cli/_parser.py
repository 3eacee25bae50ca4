"""The ``learnact`` argument parser, assembled from subcommand modules.

Light on purpose: ``learnact --help`` and ``--version`` build the parser from
the table below and import neither torch nor scikit-learn; a subcommand's
module (and what it needs) is imported only when that subcommand is given.
"""

import argparse
import importlib
from typing import NoReturn

from .. import __version__

__all__ = ["SUBCOMMANDS", "UsageError", "build_parser"]

#: The subcommands, in the order ``--help`` lists them, with their one-line
#: help. Each lives in the module of its name, with ``add_parser(subparsers)``
#: (its options) and ``run(args)``.
SUBCOMMANDS = {
    "compare": "compare activations on one dataset and write a report",
    "demo": "the main job: Titanic and the synthetic regression, fixed vs learned, "
    "compression of the best learned model",
    "export": "convert a fitted model saved with sklearn_learnact.save_model to "
    "ONNX and verify it on a sample with onnxruntime (needs sklearn-learnact[onnx])",
    "report": "rewrite the report of a 'compare --search optuna' run from its "
    "storage (e.g. once all its workers are done)",
    "search": "find new activation functions for a dataset with a surrogate "
    "(Bingham & Miikkulainen) and write a report",
    "cache": "show or clear the cache of compiled activation kernels",
}


class UsageError(ValueError):
    """Bad command-line input; reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: what is wrong, where to look."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _WithHelp:
    """The subparsers action, as a module's ``add_parser`` sees it: the one
    subparser it adds gets its help from :data:`SUBCOMMANDS`."""

    def __init__(self, subparsers, help: str) -> None:
        self._subparsers, self._help = subparsers, help

    def add_parser(self, name: str, **kwargs) -> argparse.ArgumentParser:
        return self._subparsers.add_parser(name, help=self._help, **kwargs)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``learnact`` parser: every subcommand listed with its help, and the
    options of ``command`` (whose module is imported here); None: none."""
    parser = _Parser(
        prog="learnact",
        description="Which activation is best for my data, learned or fixed?",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in SUBCOMMANDS.items():
        if name == command:
            module = importlib.import_module(f"{__package__}.{name}")
            module.add_parser(_WithHelp(sub, text))
        else:
            sub.add_parser(name, help=text)
    return parser
