"""The surrogate: which candidates fail before training, how far apart the
rest are, and which one to evaluate next.

- :func:`failing_candidates`: the failure filter. A candidate whose Fisher
  spectrum is not finite (the network or a Kronecker factor overflows at
  initialisation), or whose output exceeds :data:`MAX_OUTPUT` in magnitude
  anywhere on the sample points' domain [-5, 5] (the sample points
  themselves, N(0, 1) draws, reach only about [-3.9, 3.1]), is removed before
  any training (on the first benchmark's pool: 148 of 520, 126 of them with a
  run at chance, none in the top 10%).
- :class:`CandidateDistance`: a distance between candidates. With both
  features: the Euclidean distance between output features divided by its
  median over pairs of candidates, plus the Manhattan distance between
  Fisher features divided by its median (each feature weighs the same); with
  one feature, that one's distance; or the Euclidean distance between
  coordinates (the search's: its 2-D UMAP embedding of the former).
- :func:`propose_candidate`: the baselines first, then the candidate whose
  score a k-nearest-neighbour regression on the evaluated ones predicts
  highest. The search and its benchmark (``benchmarks/bench_surrogate.py``)
  both call it.
"""

from collections.abc import Sequence

import numpy as np
import torch
from scipy.spatial.distance import cdist
from sklearn.metrics.pairwise import euclidean_distances

from ..activations import Expression
from ._space import one_thread

__all__ = [
    "MAX_OUTPUT",
    "CandidateDistance",
    "SearchExhausted",
    "failing_candidates",
    "output_peaks",
    "propose_candidate",
]

#: Outputs larger than this in magnitude on [-5, 5] fail the filter.
MAX_OUTPUT = 100.0
#: Where the filter looks at the outputs: a grid of the sample points' domain.
_GRID = np.linspace(-5.0, 5.0, 1001, dtype=np.float32)
#: The medians that scale the two distances are taken over the pairs of at
#: most this many candidates (drawn with a fixed seed beyond it).
_MEDIAN_CANDIDATES = 1000
#: Up to this many candidates, the whole distance matrix is computed once and
#: kept (2,600 candidates: 54 MB); beyond it, distances are computed on demand.
_CACHED_CANDIDATES = 4000


class SearchExhausted(RuntimeError):
    """Every candidate of the space is evaluated or being evaluated."""


def output_peaks(expressions: Sequence[str], outputs=None) -> np.ndarray:
    """Largest output magnitude of each expression on a grid of [-5, 5] (and
    on ``outputs``, its values on the sample points); inf if not finite."""
    x = torch.from_numpy(_GRID)
    peaks = np.empty(len(expressions))
    with torch.no_grad(), one_thread():
        for i, expr in enumerate(expressions):
            peaks[i] = float(Expression(expr)(x).abs().max())
    if outputs is not None:
        peaks = np.maximum(peaks, np.abs(outputs).max(axis=1))
    return np.where(np.isnan(peaks), np.inf, peaks)


def failing_candidates(
    expressions: Sequence[str],
    finite: np.ndarray,
    *,
    outputs: np.ndarray | None = None,
    keep: Sequence[int] = (),
) -> dict[str, np.ndarray]:
    """The failure filter: candidates removed before any training.

    Parameters
    ----------
    expressions : sequence of str
        The candidates.
    finite : ndarray of shape (n_candidates,), bool
        Whether each candidate's Fisher spectrum is finite
        (:func:`~sklearn_learnact.surrogate.fisher_features` with
        ``return_finite=True``).
    outputs : ndarray of shape (n_candidates, n_points), optional
        The output features (values on the sample points), also checked.
    keep : sequence of int, default=()
        Candidates never removed (the baselines, evaluated as references).

    Returns
    -------
    reasons : dict of str to ndarray of bool
        ``"non-finite Fisher spectrum"``, ``"output above 100"`` (each
        criterion on its own) and ``"removed"`` (either), all of shape
        (n_candidates,).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_learnact.surrogate import failing_candidates
    >>> exprs = ["tanh(x)", "tanh(x) / softplus(x)", "relu(x)"]
    >>> flags = failing_candidates(exprs, np.array([True, True, False]))
    >>> flags["removed"].tolist()  # -149 at x = -5; a non-finite spectrum
    [False, True, True]
    """
    huge = output_peaks(expressions, outputs) > MAX_OUTPUT
    bad = ~np.asarray(finite, dtype=bool)
    removed = huge | bad
    removed[list(keep)] = False
    return {
        "non-finite Fisher spectrum": bad,
        f"output above {MAX_OUTPUT:g}": huge,
        "removed": removed,
    }


class CandidateDistance:
    """Distances between candidates, computed on demand.

    Parameters
    ----------
    outputs : ndarray of shape (n_candidates, n_points) or None
        Output features (Euclidean distance).
    fisher : ndarray of shape (n_candidates, n_fisher) or None
        Fisher features (Manhattan distance).
    coordinates : ndarray of shape (n_candidates, n_dims), optional
        Instead of the features: an embedding (Euclidean distance).
    among : ndarray of bool, optional
        The candidates whose pairs give the medians (those the failure filter
        kept: a removed candidate's huge outputs would inflate them); default
        all.

    Attributes
    ----------
    scales_ : dict
        The median over pairs of each feature's distance (with both
        features), by which it is divided.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_learnact.surrogate import CandidateDistance
    >>> rng = np.random.default_rng(0)
    >>> d = CandidateDistance(rng.random((5, 3)), rng.random((5, 4)))
    >>> d([0, 1], [0, 1, 2]).shape
    (2, 3)
    >>> float(d([3], [3])[0, 0])
    0.0
    """

    def __init__(self, outputs=None, fisher=None, *, coordinates=None, among=None):
        if coordinates is not None:
            self.parts = [(np.asarray(coordinates, dtype=float), "euclidean", 1.0)]
            self.scales_ = {}
            self._matrix = None
            return
        parts = [
            (np.asarray(f, dtype=float), metric)
            for f, metric in ((outputs, "euclidean"), (fisher, "cityblock"))
            if f is not None
        ]
        if not parts:
            raise ValueError("CandidateDistance needs outputs, fisher or coordinates.")
        self.scales_ = {}
        self.parts = []
        for features, metric in parts:
            scale = 1.0
            if len(parts) > 1:
                scale = _median_distance(
                    features if among is None else features[among], metric
                )
            self.scales_[metric] = scale
            self.parts.append((features, metric, scale))

        self._matrix = None

    def __len__(self) -> int:
        return len(self.parts[0][0])

    def __call__(self, rows, cols) -> np.ndarray:
        """Distances between the candidates ``rows`` and ``cols`` (indices)."""
        if len(self) <= _CACHED_CANDIDATES:
            if self._matrix is None:
                everyone = np.arange(len(self))
                self._matrix = self._compute(everyone, everyone)
            return self._matrix[np.ix_(np.asarray(rows), np.asarray(cols))]
        return self._compute(rows, cols)

    def _compute(self, rows, cols) -> np.ndarray:
        total = 0.0
        for features, metric, scale in self.parts:
            total = total + _distances(features[rows], features[cols], metric) / scale
        return total


def _distances(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    if metric == "euclidean":  # through a matrix product: fast for many points
        return euclidean_distances(a, b)
    return cdist(a, b, metric)


def _median_distance(features: np.ndarray, metric: str) -> float:
    n = len(features)
    rows = np.arange(n)
    if n > _MEDIAN_CANDIDATES:
        rows = np.sort(
            np.random.default_rng(0).choice(n, _MEDIAN_CANDIDATES, replace=False)
        )
    d = _distances(features[rows], features[rows], metric)
    median = float(np.median(d[np.triu_indices(len(rows), 1)])) if n > 1 else 0.0
    return median if median > 0 else 1.0


def propose_candidate(
    distance: CandidateDistance,
    scores: dict[int, float],
    busy: set[int],
    first: Sequence[int],
    rng: np.random.Generator,
    n_neighbors: int = 3,
    *,
    allowed: np.ndarray | None = None,
) -> tuple[int, float]:
    """Next candidate: a baseline still to do, else the best predicted one.

    The prediction of a candidate is the mean score of its ``n_neighbors``
    nearest evaluated candidates (:class:`CandidateDistance`; equal distances
    ordered by index); ties between predictions (common with few evaluations)
    are broken at random with ``rng``.

    Parameters
    ----------
    distance : CandidateDistance
    scores : dict of int to float
        Scores of the evaluated candidates, by index.
    busy : set of int
        Candidates being evaluated (by other workers): not proposed.
    first : sequence of int
        Candidates proposed first, in order (the baselines).
    rng : numpy.random.Generator
    n_neighbors : int, default=3
    allowed : ndarray of bool, optional
        The candidates that may be proposed (those the failure filter kept);
        default all.

    Returns
    -------
    index : int
    predicted : float
        The prediction (NaN for a baseline, or a first pick at random when
        nothing is evaluated yet).

    Raises
    ------
    SearchExhausted
        If no candidate is left.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_learnact.surrogate import CandidateDistance, propose_candidate
    >>> d = CandidateDistance(coordinates=np.arange(6.0)[:, None])
    >>> rng = np.random.default_rng(0)
    >>> propose_candidate(d, {0: 0.1, 5: 0.9}, set(), [], rng, n_neighbors=1)
    (4, 0.9)
    """
    for index in first:
        if index not in scores and index not in busy:
            return int(index), float("nan")
    free = np.ones(len(distance), dtype=bool) if allowed is None else allowed.copy()
    free[list(scores) + list(busy)] = False
    left = np.flatnonzero(free)
    if not left.size:
        raise SearchExhausted("every candidate is evaluated or being evaluated")
    if not scores:
        return int(rng.choice(left)), float("nan")
    done = np.fromiter(scores, dtype=int)
    values = np.array([scores[i] for i in done])
    k = min(n_neighbors, done.size)
    order = np.argsort(distance(left, done), axis=1, kind="stable")[:, :k]
    predicted = values[order].mean(axis=1)
    best = np.flatnonzero(predicted == predicted.max())
    pick = int(rng.choice(best))
    return int(left[pick]), float(predicted[pick])
