"""The surrogate activation search: kept so that
``sklearn_learnact.search.surrogate`` imports keep working; the code lives in
:mod:`sklearn_learnact.surrogate`, its figures in :mod:`sklearn_learnact.plotting`
(:class:`~sklearn_learnact.plotting.ActivationShapesDisplay`,
:class:`~sklearn_learnact.plotting.SearchEmbeddingDisplay`)."""

from ..surrogate import (
    BASELINES,
    DEFAULT_BINARY,
    DEFAULT_SCHEMAS,
    DEFAULT_UNARY,
    FISHER_BINS,
    ActivationSpace,
    SurrogateActivationSearch,
    build_space,
    embed_candidates,
    fisher_features,
    import_umap,
    output_features,
    sample_points,
)

__all__ = [
    "BASELINES",
    "DEFAULT_BINARY",
    "DEFAULT_SCHEMAS",
    "DEFAULT_UNARY",
    "FISHER_BINS",
    "ActivationSpace",
    "SurrogateActivationSearch",
    "build_space",
    "embed_candidates",
    "fisher_features",
    "import_umap",
    "output_features",
    "sample_points",
]
