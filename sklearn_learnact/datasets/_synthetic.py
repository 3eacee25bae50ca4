"""The robustness study's "infinite multivariate" regression data, made learnable."""

import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_array, check_random_state

from .._validation import Interval, validate_params

_FUNCTION_FAMILIES = ("sin", "cos", "linear", "quadratic", "cubic")
_POLYNOMIAL_DEGREE = {"linear": 1, "quadratic": 2, "cubic": 3}
#: Points of [-1, 1] over which each hidden function is scaled to unit std.
_UNIT_GRID = np.linspace(-1.0, 1.0, 201)


@dataclass(frozen=True)
class HiddenFunction:
    """One hidden column function of :func:`make_infinite_regression`.

    It maps a value ``x`` of column ``column`` to ``f(t)``, where
    ``t = (2 * x - low - high) / (high - low)`` rescales the column's domain
    ``(low, high)`` to [-1, 1]:

    - ``"sin"``, ``"cos"``: ``coef = (amplitude, frequency, offset)`` and
      ``f(t) = amplitude * sin(frequency * t) + offset`` (or ``cos``);
    - ``"linear"``, ``"quadratic"``, ``"cubic"``: ``coef = (c0, c1, ...)`` and
      ``f(t) = c0 + c1 * t + c2 * t**2 + ...``.

    Parameters
    ----------
    column : int
        Index of the column of ``X`` it applies to.
    family : str
        One of ``"sin", "cos", "linear", "quadratic", "cubic"``.
    coef : tuple of float
        The coefficients, as above.
    domain : tuple of float
        ``(low, high)``: the range the column's values are drawn from.

    Examples
    --------
    >>> from sklearn_learnact.datasets import HiddenFunction
    >>> f = HiddenFunction(column=0, family="quadratic", coef=(0.0, 0.0, 1.0),
    ...                    domain=(2.0, 4.0))
    >>> f([2.0, 3.0, 4.0]).tolist()
    [1.0, 0.0, 1.0]
    """

    column: int
    family: str
    coef: tuple[float, ...]
    domain: tuple[float, float]

    def __call__(self, x: np.ndarray | Sequence[float]) -> np.ndarray:
        """Evaluate the function at the column values ``x`` (float64 result)."""
        low, high = self.domain
        t = (2.0 * np.asarray(x, dtype=np.float64) - low - high) / (high - low)
        if self.family in ("sin", "cos"):
            amplitude, frequency, offset = self.coef
            wave = np.sin if self.family == "sin" else np.cos
            return amplitude * wave(frequency * t) + offset
        return np.polynomial.polynomial.polyval(t, self.coef)


def _draw_function(
    rng: np.random.RandomState, column: int, family: str, domain: tuple[float, float]
) -> HiddenFunction:
    """Draw random coefficients, scaled so that ``f`` has unit std over the domain.

    Waves run over half a period to one and a half periods of the domain
    (frequency in [pi/2, 3*pi/2] on t in [-1, 1]); polynomials have a leading
    coefficient of magnitude at least 0.5 before scaling, so each family keeps its
    shape. Offsets are uniform in [-1, 1].
    """
    sign = rng.choice((-1.0, 1.0))
    if family in ("sin", "cos"):
        frequency = rng.uniform(np.pi / 2, 1.5 * np.pi)
        wave = np.sin if family == "sin" else np.cos
        amplitude = sign / wave(frequency * _UNIT_GRID).std()
        coef = (amplitude, frequency, rng.uniform(-1.0, 1.0))
    else:
        degree = _POLYNOMIAL_DEGREE[family]
        shape = np.append(rng.uniform(-1.0, 1.0, degree), sign * rng.uniform(0.5, 1.0))
        shape[0] = 0.0
        shape /= np.polynomial.polynomial.polyval(_UNIT_GRID, shape).std()
        shape[0] = rng.uniform(-1.0, 1.0)
        coef = tuple(shape)
    return HiddenFunction(
        column=column,
        family=family,
        coef=tuple(float(c) for c in coef),
        domain=domain,
    )


#: The stream's declared constraints (``n_informative`` depends on ``n_features``).
_STREAM_CONSTRAINTS = {
    "n_features": [Interval(numbers.Integral, 1, None)],
    "noise": [Interval(numbers.Real, 0.0, None)],
    "batch_size": [Interval(numbers.Integral, 1, None)],
}


class InfiniteRegressionStream:
    """Endless regression data from fixed hidden functions (made learnable).

    The robustness study's "infinite multivariate dataset": each column ``j`` has a
    domain and the first ``n_informative`` columns a hidden random function ``f_j``
    (sin, cos, linear, quadratic or cubic with random coefficients, see
    :class:`HiddenFunction`); the target is the row mean ``y = mean_j f_j(X[:, j])``
    over the informative columns, plus Gaussian noise of std ``noise``. The
    remaining ``n_features - n_informative`` columns are pure noise features that
    ``y`` does not use.

    Every :meth:`sample` draws a fresh batch: each column holds an evenly spaced
    grid over its domain, jittered and shuffled independently of the other
    columns (a Latin hypercube sample: the study's "fill each column with the
    domain, then shuffle each column independently"), so no row structure links
    the columns and a model has to learn each function.

    Made well-posed: the study applied sin and cos to raw values spanning hundreds
    of periods, which no model can learn from a few thousand rows. Here each
    function acts on its column rescaled to [-1, 1] over its domain, waves span
    half a period to one and a half periods of it, and each function is scaled to
    unit std over the domain, so every family is learnable and ``y`` has a scale of
    order one (std about ``1 / sqrt(n_informative)``). Domains are
    ``center +- width / 2`` with center uniform in [-2, 2] and width uniform in
    [1, 4]. With 5000 rows and the defaults, an MLP with hidden layers (128, 64)
    reaches a validation R^2 above 0.97.

    Parameters
    ----------
    n_features : int, default=10
        Number of columns of ``X``.
    n_informative : int, default=5
        Number of leading columns that carry a hidden function; between 1 and
        ``n_features``.
    function_families : sequence of str, default=("sin", "cos", "linear", \
"quadratic", "cubic")
        Families to draw each hidden function's family from, uniformly.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to ``y``.
    batch_size : int, default=256
        Rows per batch when iterating.
    random_state : int, RandomState instance or None, default=None
        Seeds the hidden functions and the batches. The same int gives the same
        functions and the same sequence of batches.

    Attributes
    ----------
    functions : list of HiddenFunction
        The hidden functions, one per informative column.
    domains : list of tuple of float
        ``(low, high)`` of every column, noise features included.

    See Also
    --------
    make_infinite_regression : One finite draw from this stream.

    Examples
    --------
    >>> from sklearn_learnact.datasets import InfiniteRegressionStream
    >>> stream = InfiniteRegressionStream(n_features=4, n_informative=2,
    ...                                   batch_size=32, random_state=0)
    >>> [f.family for f in stream.functions]
    ['sin', 'cubic']
    >>> X, y = next(iter(stream))
    >>> X.shape, y.shape, X.dtype
    ((32, 4), (32,), dtype('float32'))
    """

    def __init__(
        self,
        n_features: int = 10,
        *,
        n_informative: int = 5,
        function_families: Sequence[str] = _FUNCTION_FAMILIES,
        noise: float = 0.0,
        batch_size: int = 256,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        validate_params(
            {"n_features": n_features, "noise": noise, "batch_size": batch_size},
            _STREAM_CONSTRAINTS,
        )
        validate_params(
            {"n_informative": n_informative},
            {"n_informative": [Interval(numbers.Integral, 1, n_features)]},
        )
        if isinstance(function_families, str):
            function_families = (function_families,)
        unknown = sorted(set(function_families) - set(_FUNCTION_FAMILIES))
        if unknown or not function_families:
            raise ValueError(
                f"function_families must be a non-empty sequence of names from "
                f"{list(_FUNCTION_FAMILIES)}; got {function_families!r}"
            )
        self.n_features = n_features
        self.n_informative = n_informative
        self.function_families = tuple(function_families)
        self.noise = noise
        self.batch_size = batch_size
        self._rng = check_random_state(random_state)
        centers = self._rng.uniform(-2.0, 2.0, n_features)
        widths = self._rng.uniform(1.0, 4.0, n_features)
        self.domains = [
            (float(c - w / 2), float(c + w / 2)) for c, w in zip(centers, widths)
        ]
        families = self._rng.choice(self.function_families, n_informative)
        self.functions = [
            _draw_function(self._rng, j, str(family), self.domains[j])
            for j, family in enumerate(families)
        ]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_features={self.n_features}, "
            f"n_informative={self.n_informative}, noise={self.noise}, "
            f"batch_size={self.batch_size})"
        )

    def true_target(self, X: np.ndarray) -> np.ndarray:
        """Noise-free target of ``X``: the row mean of the hidden functions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, e.g. from :meth:`sample`.

        Returns
        -------
        ndarray of shape (n_samples,), float64
        """
        X = check_array(X, dtype=np.float64)
        if X.shape[1] != self.n_features:
            raise ValueError(f"X has {X.shape[1]} columns; expected {self.n_features}")
        return np.mean([f(X[:, f.column]) for f in self.functions], axis=0)

    def sample(self, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
        """Draw a fresh batch.

        Parameters
        ----------
        n_samples : int
            Number of rows.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features), float32
        y : ndarray of shape (n_samples,), float32
        """
        validate_params(
            {"n_samples": n_samples},
            {"n_samples": [Interval(numbers.Integral, 1, None)]},
        )
        X = np.empty((n_samples, self.n_features), dtype=np.float32)
        for j, (low, high) in enumerate(self.domains):
            cells = self._rng.permutation(n_samples) + self._rng.uniform(size=n_samples)
            X[:, j] = low + (high - low) * cells / n_samples
        y = self.true_target(X)
        if self.noise > 0:
            y += self._rng.normal(0.0, self.noise, n_samples)
        return X, y.astype(np.float32)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(X, y)`` batches of ``batch_size`` rows, forever."""
        while True:
            yield self.sample(self.batch_size)


def make_infinite_regression(
    n_samples: int = 1000,
    n_features: int = 10,
    *,
    n_informative: int = 5,
    function_families: Sequence[str] = _FUNCTION_FAMILIES,
    noise: float = 0.0,
    random_state: int | np.random.RandomState | None = None,
    return_functions: bool = False,
) -> (
    tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, list[HiddenFunction]]
):
    """Generate the "infinite multivariate" regression data.

    Per informative column a domain and a hidden random function (sin, cos,
    linear, quadratic or cubic with random coefficients); the columns are filled
    independently (each column shuffled on its own), and ``y`` is the row mean of
    the transformed informative columns. Columns past ``n_informative`` are noise
    features that ``y`` ignores. Unlike the seed, every function acts on its column
    rescaled to [-1, 1] over its domain and is scaled to unit std, so every family
    is learnable (see :class:`InfiniteRegressionStream` for the details). For more
    data from the same hidden functions, use the stream.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows.
    n_features : int, default=10
        Number of columns.
    n_informative : int, default=5
        Number of leading columns that carry a hidden function.
    function_families : sequence of str, default=("sin", "cos", "linear", \
"quadratic", "cubic")
        Families to draw each hidden function's family from.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to ``y``.
    random_state : int, RandomState instance or None, default=None
        Seed; the same int gives identical data and functions.
    return_functions : bool, default=False
        Also return the hidden functions.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32
    y : ndarray of shape (n_samples,), float32
    functions : list of HiddenFunction
        Only when ``return_functions=True``.

    Notes
    -----
    ``make_infinite_regression(n, random_state=s)`` equals the first
    ``InfiniteRegressionStream(random_state=s).sample(n)`` (same other
    parameters), whose later samples continue from the same hidden functions.

    Examples
    --------
    >>> from sklearn_learnact.datasets import make_infinite_regression
    >>> X, y, functions = make_infinite_regression(
    ...     200, random_state=0, return_functions=True)
    >>> X.shape, y.shape, y.dtype, len(functions)
    ((200, 10), (200,), dtype('float32'), 5)
    >>> functions[0].family
    'linear'
    """
    stream = InfiniteRegressionStream(
        n_features,
        n_informative=n_informative,
        function_families=function_families,
        noise=noise,
        random_state=random_state,
    )
    X, y = stream.sample(n_samples)
    if return_functions:
        return X, y, stream.functions
    return X, y
