"""What the subcommands share: the usage error, argument types, a report section."""

import argparse

from ..reports import ReportSection
from ..search import compare_activations, parse_activations


class UsageError(ValueError):
    """Bad command-line input; reported as one line, exit status 2."""


def _activations(text: str) -> tuple[str, ...]:
    try:
        return parse_activations(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected widths like 32 or 64,32, got {text!r}"
        )
    return sizes


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {text}")
    return value


def run_section(name: str, data, estimator, **kwargs) -> ReportSection:
    """Compare activations on ``data`` (a ``_data.Data``); its report section."""
    _, comparison = compare_activations(
        estimator, data.X, data.y, return_details=True, **kwargs
    )
    score = "accuracy" if data.task == "classification" else "R²"
    return ReportSection(name, comparison, data.description, score)
