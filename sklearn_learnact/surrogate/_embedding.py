"""The surrogate's 2-D embedding of the candidates: UMAP of their features."""

import warnings

import numpy as np

__all__ = ["embed_candidates", "import_umap"]

#: The features an embedding can be built from.
_FEATURES = ("both", "outputs", "fisher")
#: Fewest candidates UMAP embeds (its spectral layout needs more points than 3).
MIN_CANDIDATES = 4
#: Neighbours of the two UMAPs: the paper's default for the outputs, few for
#: the Fisher CDFs.
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
    random_state: int = 0,
) -> np.ndarray:
    """2-D UMAP embedding of the candidates from their features.

    Parameters
    ----------
    outputs : ndarray of shape (n_candidates, n_points) or None
        Output features (UMAP with the euclidean metric, 15 neighbours).
    fisher : ndarray of shape (n_candidates, n_fisher) or None
        Fisher features (UMAP with the manhattan metric, 5 neighbours).
    features : {"both", "outputs", "fisher"}, default="both"
        ``"both"`` embeds the union of the two UMAP graphs (umap-learn's
        ``+`` of two fitted models), as the paper does.
    random_state : int, default=0
        Seeds each UMAP. umap-learn lays out the union (``"both"``) with its
        own fixed seed, so there it only seeds the two neighbour graphs.

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
    umap = import_umap()
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
        if features == "outputs":
            model = fit(outputs, "euclidean", OUTPUT_NEIGHBORS)
        elif features == "fisher":
            model = fit(fisher, "manhattan", FISHER_NEIGHBORS)
        else:
            model = fit(outputs, "euclidean", OUTPUT_NEIGHBORS) + fit(
                fisher, "manhattan", FISHER_NEIGHBORS
            )
    return np.asarray(model.embedding_, dtype=float)
