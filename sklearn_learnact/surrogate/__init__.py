"""Surrogate-guided activation search (seed 003): which few functions to train.

A reimplementation, from the paper's description, of Bingham & Miikkulainen,
"Efficient Activation Function Optimization through Surrogate Modeling"
(2023). Among a few thousand candidate activations (expressions such as
``"min(tanh(x), swish(x))"``), it finds good ones for *your* data and network
while training only a few of them:

1. **Space** (:func:`build_space`): the schemas ``unary(unary(x))`` and
   ``binary(unary(x), unary(x))`` over the operators of
   :mod:`sklearn_learnact.activations.expression`, evaluated on 1000 fixed
   N(0, 1) samples clipped to [-5, 5] in float32; non-finite and constant
   functions are dropped and one function is kept per group of identical
   outputs.
2. **Features**, at initialisation, without training: the function's 1000
   outputs (:func:`output_features`), and the Fisher feature
   (:func:`fisher_features`): log-eigenvalue CDFs of the K-FAC blocks of your
   network on one batch of your data.
3. **Surrogate**: a 2-D UMAP embedding of the candidates
   (:func:`embed_candidates`: the union of a UMAP of the outputs, euclidean,
   and a UMAP of the Fisher CDFs, manhattan with few neighbours), and a
   ``KNeighborsRegressor(n_neighbors=3)`` of the evaluated candidates' scores
   on it.
4. **Loop** (:class:`SurrogateActivationSearch`): evaluate the baselines
   (elu, relu, selu, sigmoid, softplus, softsign, swish, tanh), then
   repeatedly the candidate with the highest predicted score; an evaluation
   is the cross-validated score of your estimator with that activation. The
   evaluations live in an Optuna study (resumable, shareable by workers).

UMAP comes from ``umap-learn``: ``pip install "sklearn-learnact[search]"``.
"""

from ._embedding import embed_candidates, import_umap
from ._features import FISHER_BINS, fisher_features, output_features
from ._search import SurrogateActivationSearch
from ._space import (
    BASELINES,
    DEFAULT_BINARY,
    DEFAULT_SCHEMAS,
    DEFAULT_UNARY,
    ActivationSpace,
    build_space,
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
