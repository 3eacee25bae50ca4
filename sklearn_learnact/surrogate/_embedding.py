"""The surrogate's 2-D embedding of the candidates: UMAP of their features.

Two ways, chosen on the first benchmark's pool (``benchmarks/bench_surrogate.py``):

- ``"umap"`` (the default): one UMAP of the distance between candidates
  (:class:`~sklearn_learnact.surrogate.CandidateDistance`: with both
  features, the output Euclidean distance over its median plus the Fisher
  Manhattan distance over its median). In simulated searches of that pool it
  evaluated more of the best candidates than a nearest-neighbour regression
  on the distance itself (top 2%: 4.9 against 3.9 in 50 evaluations) and than
  the union below (1.0); on the fresh pool that confirmed it, 6.1 against the
  union's 4.9 and random search's 1.2.
- ``"union"``: the paper's union of two UMAP graphs, one of the outputs
  (Euclidean, 15 neighbours) and one of the Fisher features (Manhattan, 5
  neighbours); umap-learn lays out a union with its own fixed seed.
"""

import warnings

import numpy as np

from ._surrogate import CandidateDistance

__all__ = ["embed_candidates", "import_umap"]

#: The features an embedding can be built from.
_FEATURES = ("both", "outputs", "fisher")
#: How the candidates are embedded.
_EMBEDDINGS = ("umap", "union")
#: Fewest candidates UMAP embeds (its spectral layout needs more points than 3).
MIN_CANDIDATES = 4
#: Neighbours of the UMAPs: the paper's default for the outputs (and for the
#: distance), few for the Fisher CDFs.
OUTPUT_NEIGHBORS, FISHER_NEIGHBORS = 15, 5


def import_umap():
    """Import :mod:`umap` (``umap-learn``), or explain how to install it.

    Raises
    ------
    ImportError
        If umap-learn is missing; the message names the extra to install.
    """
    try:
        import umap
    except ImportError as exc:
        raise ImportError(
            "The surrogate activation search embeds the candidates with UMAP, "
            'which needs umap-learn: pip install "sklearn-learnact[search]" '
            "(or pip install umap-learn)."
        ) from exc
    return umap


def embed_candidates(
    outputs: np.ndarray | None,
    fisher: np.ndarray | None,
    *,
    features: str = "both",
    embedding: str = "umap",
    random_state: int = 0,
) -> np.ndarray:
    """2-D UMAP embedding of the candidates from their features.

    Parameters
    ----------
    outputs : ndarray of shape (n_candidates, n_points) or None
        Output features.
    fisher : ndarray of shape (n_candidates, n_fisher) or None
        Fisher features.
    features : {"both", "outputs", "fisher"}, default="both"
        The features used (the others may be None).
    embedding : {"umap", "union"}, default="umap"
        ``"umap"``: a UMAP (15 neighbours) of the candidates' distance
        (:class:`~sklearn_learnact.surrogate.CandidateDistance`). ``"union"``:
        the union of a UMAP of the outputs (Euclidean, 15 neighbours) and one
        of the Fisher features (Manhattan, 5 neighbours), umap-learn's ``+``
        of two fitted models, as the paper does; with one feature, that
        feature's UMAP.
    random_state : int, default=0
        Seeds each UMAP. umap-learn lays out a union with its own fixed seed,
        so there it only seeds the two neighbour graphs.

    Returns
    -------
    embedding : ndarray of shape (n_candidates, 2)

    Raises
    ------
    ImportError
        If umap-learn is not installed.
    """
    if features not in _FEATURES:
        raise ValueError(f"features must be one of {_FEATURES}, got {features!r}.")
    if embedding not in _EMBEDDINGS:
        raise ValueError(f"embedding must be one of {_EMBEDDINGS}, got {embedding!r}.")
    umap = import_umap()
    outputs = outputs if features in ("both", "outputs") else None
    fisher = fisher if features in ("both", "fisher") else None
    n = len(outputs if outputs is not None else fisher)
    if n < MIN_CANDIDATES:
        raise ValueError(
            f"The embedding needs at least {MIN_CANDIDATES} candidates, got {n}."
        )

    def fit(data, metric: str, k: int):
        model = umap.UMAP(
            n_components=2,
            n_neighbors=max(2, min(k, n - 1)),
            metric=metric,
            random_state=random_state,
            n_jobs=1,
        )
        return model.fit(np.asarray(data, dtype=np.float32))

    with warnings.catch_warnings():
        # umap says that random_state forces one thread, and warns about
        # tiny or disconnected graphs (it falls back to a random layout)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        if embedding == "umap":
            everyone = np.arange(n)
            distance = CandidateDistance(outputs, fisher)(everyone, everyone)
            model = fit(distance, "precomputed", OUTPUT_NEIGHBORS)
        elif fisher is None:
            model = fit(outputs, "euclidean", OUTPUT_NEIGHBORS)
        elif outputs is None:
            model = fit(fisher, "manhattan", FISHER_NEIGHBORS)
        else:
            model = fit(outputs, "euclidean", OUTPUT_NEIGHBORS) + fit(
                fisher, "manhattan", FISHER_NEIGHBORS
            )
    return np.asarray(model.embedding_, dtype=float)
