"""The features of the candidates, computed without training.

The output feature is each candidate's values on fixed sample points
(:func:`output_features`). The Fisher feature (:func:`fisher_features`): the
K-FAC spectra of a network at initialisation.

For the user's architecture, initialised with a fixed seed, with a candidate
activation, on one batch of the user's data: per weighted layer (``Linear``,
``Conv2d``) the Kronecker factors of the K-FAC approximation of the Fisher
information, ``A = E[a a^T]`` over the layer inputs ``a`` (a 1 appended for the
bias; im2col patches for a convolution) and ``G = E[g g^T]`` over the
gradients ``g`` of the loss with respect to the layer outputs. The targets of
the loss are drawn from the network's own predictive distribution (a
categorical over the softmax for a classifier, N(output, 1) for a
regressor), so this is the Fisher of the model, not of the labels. Both
expectations are means over the batch rows (patch positions count as rows for
a convolution). The block's eigenvalues are all products ``lambda_A *
lambda_G``: their logarithms, all pairwise sums, are summarised by a
histogram CDF per layer, and the layers are concatenated.

The bins span, per layer, the range of the candidates' own spectra (by
default: 60 bins between the 0.5% and 99.5% quantiles of the finite, non-zero
log-eigenvalue products of all the candidates given, pooled), so that a deep
network's spectra, which reach far below e^-40, are not flattened into the end
bins of a fixed range. Zero eigenvalues (a dead unit, a constant input pixel)
are the smallest values and count in the first bin, as do values below the
range; values above it count in the last. A candidate whose spectrum is not
finite (the network or a factor overflows at initialisation) has its mass in
the last bin and is reported as such (``return_finite``): the search's
failure filter removes it before any training.

No training is involved; a candidate costs one forward and backward pass on
the batch plus small eigendecompositions (the first layer's ``A`` does not
depend on the activation and is decomposed once).
"""

import numbers
from collections.abc import Sequence

import numpy as np
import torch
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_array, check_random_state
from torch import nn

from ..activations import Expression
from ..estimators import learnact_step
from ..nets import CNN, MLP, check_hidden_layer_sizes
from ._space import ActivationSpace, one_thread

__all__ = ["FISHER_BINS", "N_FISHER_BINS", "fisher_features", "output_features"]

#: Fixed bin edges of the log-eigenvalue CDFs (natural log), for ``bins``:
#: eigenvalue products from e^-40 to e^20 in 60 bins (the default before the
#: range was set per network).
FISHER_BINS = np.linspace(-40.0, 20.0, 61)
#: Bins per layer of the default Fisher feature (range from the candidates).
N_FISHER_BINS = 60
#: Quantiles of the pooled log-eigenvalue products that bound a layer's range.
RANGE_QUANTILES = (0.005, 0.995)
#: Eigenvalues below this fraction of a factor's largest are rounding noise:
#: they count as zero (``-inf``, the first bin).
_ZERO = 1e-12
#: Most rows (patch positions) of a convolution's factors, drawn at random.
_MAX_CONV_ROWS = 8192
#: Resolution of the pooled histogram that locates the quantiles (natural log).
_FINE = np.arange(-1600.0, 1600.5, 0.5)


def output_features(space: ActivationSpace) -> np.ndarray:
    """The output feature: each candidate's values on the sample points.

    Parameters
    ----------
    space : ActivationSpace

    Returns
    -------
    outputs : ndarray of shape (n_candidates, n_points), float32

    Examples
    --------
    >>> from sklearn_learnact.surrogate import build_space, output_features
    >>> output_features(build_space(schemas=(), include=("relu(x)",))).shape
    (1, 1000)
    """
    return space.outputs


def _network_input(estimator, X, y, rows: np.ndarray) -> np.ndarray:
    """The batch as the network sees it: through the pipeline's preprocessing."""
    while isinstance(estimator, Pipeline):
        pre = estimator[:-1].fit(X, y)
        X, estimator = pre.transform(X), estimator.steps[-1][1]
    X = check_array(X, dtype=np.float32)
    return X[rows]


def _n_outputs(estimator, y) -> int:
    if is_classifier(estimator):
        return len(LabelEncoder().fit(np.asarray(y).ravel()).classes_)
    y = np.asarray(y)
    return 1 if y.ndim == 1 else y.shape[1]


def _network(inner, n_features: int, n_outputs: int) -> nn.Module:
    """The estimator's architecture, from its public parameters."""
    sizes = check_hidden_layer_sizes(inner.hidden_layer_sizes)
    if inner.architecture == "cnn":
        return CNN(inner.image_shape, n_outputs, sizes, activation="identity")
    return MLP(n_features, n_outputs, sizes, activation="identity")


def _log_eigenvalues(matrix: torch.Tensor) -> np.ndarray:
    m = matrix.double()
    if not torch.isfinite(m).all():
        return np.full(m.shape[0], np.inf)
    eig = torch.linalg.eigvalsh(m).numpy()
    zero = eig <= _ZERO * max(float(eig.max()), 0.0)
    with np.errstate(divide="ignore"):
        return np.where(zero, -np.inf, np.log(np.where(zero, 1.0, eig)))


def _products(log_a: np.ndarray, log_g: np.ndarray) -> np.ndarray:
    """Log-eigenvalues of ``A (x) G``: all pairwise sums (``-inf`` for zeros)."""
    with np.errstate(invalid="ignore"):  # -inf + inf: a zero times a huge one
        return np.add.outer(log_a, log_g).ravel()


def _cdf(sums: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """CDF at the right edge of each bin; zeros and values below the range in
    the first bin, values above it (and non-finite ones) in the last."""
    sums = np.nan_to_num(sums, nan=edges[-1], posinf=edges[-1], neginf=edges[0])
    hist = np.histogram(np.clip(sums, edges[0], edges[-1]), bins=edges)[0]
    return np.cumsum(hist) / sums.size


def _layer_edges(spectra: list, n_bins: int) -> list[np.ndarray]:
    """Per layer, ``n_bins`` equal bins between the quantiles
    :data:`RANGE_QUANTILES` of the finite, non-zero products of every candidate
    whose spectrum is finite, pooled (a fixed range if there is none)."""
    n_layers = max((len(layers) for layers in spectra if layers), default=0)
    pooled = np.zeros((n_layers, len(_FINE) - 1))
    for layers in spectra:
        for i, (log_a, log_g) in enumerate(layers or ()):
            sums = _products(log_a, log_g)
            pooled[i] += np.histogram(sums[np.isfinite(sums)], bins=_FINE)[0]
    edges = []
    for counts in pooled:
        if not counts.sum():
            edges.append(np.linspace(FISHER_BINS[0], FISHER_BINS[-1], n_bins + 1))
            continue
        cdf = np.cumsum(counts) / counts.sum()
        low = _FINE[np.searchsorted(cdf, RANGE_QUANTILES[0])]
        high = _FINE[np.searchsorted(cdf, RANGE_QUANTILES[1]) + 1]
        edges.append(np.linspace(low, high, n_bins + 1))
    return edges


class _KFAC:
    """Forward hooks that collect every weighted layer's inputs and outputs."""

    def __init__(self, module: nn.Module, rng: np.random.Generator):
        self.layers = [
            m for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv2d))
        ]
        self.inputs: list = [None] * len(self.layers)
        self.outputs: list = [None] * len(self.layers)
        self.rng = rng
        self.conv_rows: dict[int, np.ndarray] = {}
        for i, layer in enumerate(self.layers):
            layer.register_forward_hook(self._hook(i))

    def _hook(self, i: int):
        def hook(layer, args, output):
            self.inputs[i], self.outputs[i] = args[0], output

        return hook

    def _rows(self, i: int, a: torch.Tensor, g: torch.Tensor):
        """(rows, features) inputs with a 1 appended, and (rows, outputs) grads."""
        layer = self.layers[i]
        if isinstance(layer, nn.Conv2d):
            patches = nn.functional.unfold(
                a, layer.kernel_size, layer.dilation, layer.padding, layer.stride
            )  # (N, C * kh * kw, L)
            a = patches.transpose(1, 2).reshape(-1, patches.shape[1])
            g = g.flatten(2).transpose(1, 2).reshape(-1, g.shape[1])
            if len(a) > _MAX_CONV_ROWS:  # the same positions for every candidate
                if i not in self.conv_rows:
                    self.conv_rows[i] = np.sort(
                        self.rng.choice(len(a), _MAX_CONV_ROWS, replace=False)
                    )
                keep = torch.from_numpy(self.conv_rows[i])
                a, g = a[keep], g[keep]
        ones = torch.ones(len(a), 1, dtype=a.dtype)
        return torch.cat([a, ones], dim=1), g


def fisher_features(
    estimator,
    X,
    y,
    expressions: Sequence[str],
    *,
    batch_size: int = 256,
    bins: int | np.ndarray = N_FISHER_BINS,
    random_state: int = 0,
    return_finite: bool = False,
):
    """Fisher feature of each candidate activation, without training.

    Parameters
    ----------
    estimator : LearnedActivationClassifier, LearnedActivationRegressor or Pipeline
        Its architecture (``hidden_layer_sizes``, ``architecture``,
        ``image_shape``) is used, initialised with ``random_state``; a
        pipeline's preprocessing is fitted on ``X`` and applied first.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Only its number of classes (outputs) is used.
    expressions : sequence of str
        Candidate activations, as ``"expr"`` expressions.
    batch_size : int, default=256
        Rows of X (drawn with ``random_state``) the factors are computed on.
    bins : int or ndarray, default=60
        An int: that many bins per layer, between the 0.5% and 99.5%
        quantiles of the log-eigenvalue products of all the ``expressions``
        whose spectrum is finite, pooled (the range depends on the network
        and the candidates, never on accuracies). An array: fixed edges for
        every layer (e.g. :data:`FISHER_BINS`).
    random_state : int, default=0
        Seeds the batch, the initialisation and the sampled targets: the same
        for every candidate.
    return_finite : bool, default=False
        Also return whether each candidate's spectrum is finite.

    Returns
    -------
    features : ndarray of shape (n_candidates, n_layers * n_bins)
        Per weighted layer, the CDF of the block's log-eigenvalues at the
        right edge of each bin.
    finite : ndarray of shape (n_candidates,), bool
        With ``return_finite``: False where the network's output or a
        Kronecker factor is not finite at initialisation (its mass is then in
        the last bin).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.surrogate import fisher_features
    >>> X, y = load_iris(return_X_y=True)
    >>> F, finite = fisher_features(LearnedActivationClassifier((8,)), X, y,
    ...                             ["relu(x)", "tanh(x)"], return_finite=True)
    >>> F.shape, finite.tolist()  # two weighted layers, 60 bins each
    ((2, 120), [True, True])
    >>> bool((F[:, 59] == 1).all() and (F[:, 119] == 1).all())
    True
    """
    with one_thread():  # the work per candidate is small
        spectra, n_layers = _spectra(
            estimator, X, y, expressions, batch_size, random_state
        )
    finite = np.array([_is_finite(layers) for layers in spectra], dtype=bool)
    if isinstance(bins, numbers.Integral):
        edges = _layer_edges([s for s, ok in zip(spectra, finite) if ok], int(bins))
        edges += [edges[-1]] * (n_layers - len(edges))  # no finite candidate
    else:
        edges = [np.asarray(bins, dtype=float)] * n_layers
    width = len(edges[0]) - 1
    features = np.empty((len(expressions), n_layers * width))
    for c, layers in enumerate(spectra):
        if layers is None:  # the network overflows: every eigenvalue is "huge"
            top = np.zeros(width)
            top[-1] = 1.0
            features[c] = np.tile(top, n_layers)
            continue
        features[c] = np.concatenate(
            [_cdf(_products(a, g), e) for (a, g), e in zip(layers, edges)]
        )
    return (features, finite) if return_finite else features


def _is_finite(layers) -> bool:
    """A spectrum is finite if every log-eigenvalue is (zeros, ``-inf``, are)."""
    if layers is None:
        return False
    return all(
        not np.isnan(v).any() and not np.isposinf(v).any()
        for pair in layers
        for v in pair
    )


def _spectra(estimator, X, y, expressions, batch_size, random_state):
    """Per candidate, per weighted layer, the log-eigenvalues of ``A`` and ``G``
    (None where the network's output is not finite); and the number of layers."""
    _, inner = learnact_step(estimator)
    rng = check_random_state(random_state)
    n = len(X) if hasattr(X, "__len__") else check_array(X).shape[0]
    rows = np.sort(rng.choice(n, min(batch_size, n), replace=False))
    batch = torch.from_numpy(_network_input(estimator, X, y, rows))
    n_outputs = _n_outputs(inner, y)
    classifier = is_classifier(inner)
    seed = int(rng.randint(np.iinfo(np.int32).max))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = _network(inner, batch.shape[1], n_outputs)
    module.eval()
    kfac = _KFAC(module, np.random.default_rng(seed))
    first_a: np.ndarray | None = None  # the first layer sees the data: one A
    spectra = []
    for expr in expressions:
        for i in range(len(module.activations)):
            module.activations[i] = Expression(expr)
        out = module(batch)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            if not torch.isfinite(out).all():
                spectra.append(None)
                continue
            if classifier:
                probs = torch.softmax(out.double(), dim=1)
                target = torch.multinomial(probs, 1, generator=generator)[:, 0]
            else:
                target = out + torch.randn(out.shape, generator=generator)
        if classifier:
            loss = nn.functional.cross_entropy(out, target, reduction="sum")
        else:
            loss = 0.5 * (out - target).pow(2).sum()
        grads = torch.autograd.grad(loss, kfac.outputs)
        layers = []
        for i, (a, g) in enumerate(zip(kfac.inputs, grads)):
            with torch.no_grad():
                a, g = kfac._rows(i, a.detach(), g)
                if i == 0 and first_a is not None:
                    log_a = first_a
                else:
                    log_a = _log_eigenvalues(a.T.double() @ a.double() / len(a))
                    if i == 0:
                        first_a = log_a
                log_g = _log_eigenvalues(g.T.double() @ g.double() / len(g))
            layers.append((log_a, log_g))
        spectra.append(layers)
    return spectra, len(kfac.layers)
