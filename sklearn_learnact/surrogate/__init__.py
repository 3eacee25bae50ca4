"""Surrogate-guided activation search: which few functions to train.

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
   network on one batch of your data, over a range per layer set by the
   candidates' own spectra.
3. **Failure filter** (:func:`failing_candidates`): candidates whose Fisher
   spectrum is not finite, or whose outputs exceed 100 in magnitude on
   [-5, 5], are removed before any training.
4. **Surrogate**: a 2-D UMAP embedding (:func:`embed_candidates`) of the
   distance between candidates (:class:`CandidateDistance`: the output
   Euclidean distance over its median plus the Fisher Manhattan distance over
   its median), and a ``k``-nearest-neighbour regression (k = 3) of the
   evaluated candidates' scores on it. The paper's embedding, the union of a
   UMAP of each feature, is kept as an option (``embedding="union"``); in
   simulated searches on the first benchmark's pool it found fewer of the
   best candidates.
5. **Loop** (:class:`SurrogateActivationSearch`): evaluate the baselines
   (elu, relu, selu, sigmoid, softplus, softsign, swish, tanh), then
   repeatedly the candidate with the highest predicted score
   (:func:`propose_candidate`); an evaluation is the cross-validated score
   of your estimator with that activation. The evaluations live in an Optuna
   study (resumable, shareable by workers).

UMAP comes from ``umap-learn``, the study from Optuna: ``pip install
"sklearn-learnact[search]"``.
"""

from ._embedding import embed_candidates, import_umap
from ._features import FISHER_BINS, N_FISHER_BINS, fisher_features, output_features
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
from ._surrogate import (
    MAX_OUTPUT,
    CandidateDistance,
    failing_candidates,
    propose_candidate,
)

__all__ = [
    "BASELINES",
    "DEFAULT_BINARY",
    "DEFAULT_SCHEMAS",
    "DEFAULT_UNARY",
    "FISHER_BINS",
    "MAX_OUTPUT",
    "N_FISHER_BINS",
    "ActivationSpace",
    "CandidateDistance",
    "SurrogateActivationSearch",
    "build_space",
    "embed_candidates",
    "failing_candidates",
    "fisher_features",
    "import_umap",
    "output_features",
    "propose_candidate",
    "sample_points",
]
