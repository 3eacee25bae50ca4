"""Argument checks shared by the loaders and generators."""

import numbers


def _check_int(name: str, value: object, low: int, high: int | None = None) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be an integer {bounds}; got {value!r}")


def _check_real(
    name: str, value: object, low: float, high: float | None = None
) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not value >= low
        or (high is not None and value > high)
    ):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be a number {bounds}; got {value!r}")
