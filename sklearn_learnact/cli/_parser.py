"""The ``learnact`` argument parser, assembled from subcommand modules."""

import argparse
from collections.abc import Iterable
from types import ModuleType
from typing import NoReturn

from .. import __version__

__all__ = ["build_parser"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: what is wrong, where to look."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(subcommands: Iterable[ModuleType]) -> argparse.ArgumentParser:
    """The ``learnact`` parser with the subcommands of these modules (each has
    ``add_parser(subparsers)``), in this order."""
    parser = _Parser(
        prog="learnact",
        description="Which activation is best for my data, learned or fixed?",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for module in subcommands:
        module.add_parser(sub)
    return parser
