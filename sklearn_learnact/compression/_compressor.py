"""SplineActivationCompressor: the meta-estimator that swaps learned activations."""

import copy
import numbers

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _num_samples, check_is_fitted
from torch import nn

from ..activations import (
    Expression,
    LearnableActivation,
    available_activations,
)
from ..estimators import LearnedActivationEstimator
from ._cost import activation_madds
from ._fit import (
    _as_function,
    _check_points,
    _exact_spline,
    _kink_form,
    _max_error,
    _search_knots,
    _spline_for,
)
from ._symbolic import SymbolicActivation, _fit_symbolic

_MAX_RECORDED = 2_000_000  # recorded inputs kept per activation (a random subset)
_MAX_CHECKED = 100_000  # recorded inputs on which the max error is measured


# --------------------------------------------------------------- compressor
def _has(attr: str):
    """``available_if`` check: the wrapped estimator has ``attr``."""

    def check(self):
        return hasattr(self.estimator, attr)

    return check


class SplineActivationCompressor(MetaEstimatorMixin, BaseEstimator):
    """Replace every learned activation of an estimator by a fast spline.

    ``fit`` runs ``X`` through the network, records the inputs of every
    learned activation, and fits a spline to each activation over the range
    those inputs reach (between two quantiles, per channel for per-neuron
    activations): scipy's least-squares B-spline on uniform knots, converted
    to a table of cells that :class:`SplineActivation` evaluates with a few
    elementwise ops, whatever the number of knots. Outside the range the
    spline continues linearly with the activation's own slopes at the ends.
    Expression activations (``"expr"``) are compressed too; other fixed
    activations are left alone. ``predict``, ``predict_proba`` and
    ``score`` use the compressed network, ``compressed_estimator_``, a normal
    fitted estimator (it pickles, predicts and plots like any other).

    Parameters
    ----------
    estimator : LearnedActivationClassifier or LearnedActivationRegressor
        The model to compress. A fitted one is never modified; an unfitted one
        is cloned and fitted on ``(X, y)`` first.
    n_knots : "auto" or int, default="auto"
        Knots per spline (uniform on the recorded range). ``"auto"`` picks, per
        activation, the fewest whose maximum error on the recorded range is
        below ``tol`` (up to ``max_knots``). The evaluation cost does not grow
        with the number of knots, only the (small) table does.
    degree : {1, 3}, default=1
        Degree of the spline. Degree 1 is the fastest to evaluate and fits the
        kinks of a ReLU subnetwork best; degree 3 needs fewer knots on smooth
        activations.
    tol : float, default=1e-3
        Target maximum absolute error of each activation on its recorded range.
    quantiles : (float, float), default=(0.001, 0.999)
        The recorded range of each activation: these quantiles of its inputs.
    max_knots : int, default=4096
        Most knots ``"auto"`` may use.
    symbolic : bool, default=False
        Also fit ``a * f(b * x + c) + d`` for every fixed registry activation
        ``f`` and report the best; use it instead of the spline when its max
        error is below ``tol`` ("layer 1 is almost a leaky ReLU"). Layer-wide
        activations only (per-neuron ones keep their splines).
    exact : bool, default=True
        With ``n_knots="auto"``, compress the piecewise-linear activations
        whose kinks are known (a ReLU ``mlp`` subnetwork, ``prelu``) exactly,
        up to float32 rounding, whatever ``degree``: a uniform grid with at
        most one kink per cell, each cell a line plus ``d * max(x, t)`` (see
        :class:`SplineActivation`). Every kink that a recorded input reaches
        is kept (neighbours closer than a merge error of ``tol / 100`` are
        merged, so near-duplicates cannot blow up the grid); beyond the
        outermost kept kinks the function continues linearly, as the
        activation does up to its first kink no recorded input reached. If
        more than ``max_knots`` cells would be needed, the uniform spline is
        used. About 1.7x the activation time of the uniform degree-1 spline
        (two more look-ups), still one fixed sequence of elementwise ops.
    compile : bool, default=False
        Evaluate the splines with ``torch.compile`` (``compiled=True`` on each
        :class:`SplineActivation`): one fused loop per activation instead of a
        sequence of elementwise ops. Piecewise-linear splines with at most 64
        slope changes (every exact compression of a small subnetwork) compile
        in their truncated-power form, without table look-ups. ``fit``
        compiles the kernels when it measures the errors, and runs the
        compressed net once on a few rows of ``X`` so that the first
        ``predict`` does not compile: the first time in a process costs
        seconds (torch's inductor, cached on disk), later models with the same
        number of kinks reuse the kernel. It needs a C++ compiler (CPU) or
        triton (GPU); without one, a warning says so and the evaluation stays
        eager. Worth it for large batches (inference at batch 4096: see
        ``benchmarks/bench_inference.py``).

    Attributes
    ----------
    estimator_ : estimator
        The uncompressed, fitted estimator (``estimator`` itself if it was
        fitted).
    compressed_estimator_ : estimator
        A copy of ``estimator_`` whose learned activations are replaced.
    report_ : pandas.DataFrame
        One row per compressed activation: ``layer`` (1-based), ``kind``,
        ``channels``, ``range_low``/``range_high`` (over channels), ``n_knots``
        (for an exact compression: the kinks kept, summed over channels, plus
        the two ends),
        ``n_cells`` (of the grid, tails included), ``degree``, ``exact``,
        ``max_error`` (on a dense grid of the recorded range and
        up to 100,000 recorded inputs clipped to it), ``rms_error`` (all
        recorded inputs, tails included), ``params_before``/``params_after``,
        ``madds_before``/``madds_after`` (per element, see
        :func:`activation_madds`), ``symbolic``, ``symbolic_r2`` and
        ``replaced_by``.
    max_abs_error_ : float
        Largest ``max_error`` over the activations.
    evaluation_ : dict
        Set by :meth:`evaluate`: the score before and after compression and
        the agreement of the predictions, on the data given there.
    classes_ : ndarray
        The classifier's classes (classifiers only).
    n_features_in_ : int
        Number of features of the estimator.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_learnact import (LearnedActivationClassifier,
    ...                               SplineActivationCompressor)
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LearnedActivationClassifier((16,), "mlp", max_iter=100,
    ...                                   learning_rate_init=1e-2, random_state=0)
    >>> comp = SplineActivationCompressor(clf).fit(X, y)
    >>> bool(comp.max_abs_error_ < comp.tol)
    True
    >>> float(comp.evaluate(X, y)["agreement"])
    1.0
    """

    def __init__(
        self,
        estimator,
        *,
        n_knots="auto",
        degree=1,
        tol=1e-3,
        quantiles=(0.001, 0.999),
        max_knots=4096,
        symbolic=False,
        exact=True,
        compile=False,
    ):
        self.estimator = estimator
        self.n_knots = n_knots
        self.degree = degree
        self.tol = tol
        self.quantiles = quantiles
        self.max_knots = max_knots
        self.symbolic = symbolic
        self.exact = exact
        self.compile = compile

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        return tags

    def _check_params(self) -> None:
        if self.degree not in (1, 3):
            raise ValueError(f"degree must be 1 or 3, got {self.degree!r}.")
        for key in ("exact", "compile"):
            value = getattr(self, key)
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{key} must be True or False, got {value!r}.")
        if not (isinstance(self.tol, numbers.Real) and self.tol > 0):
            raise ValueError(f"tol must be a number > 0, got {self.tol!r}.")
        if not (
            isinstance(self.max_knots, numbers.Integral)
            and self.max_knots > self.degree
        ):
            raise ValueError(
                f"max_knots must be an int > degree, got {self.max_knots!r}."
            )
        if not (
            self.n_knots == "auto"
            or (
                isinstance(self.n_knots, numbers.Integral)
                and not isinstance(self.n_knots, bool)
                and self.n_knots > self.degree
            )
        ):
            raise ValueError(
                f"n_knots must be 'auto' or an int > degree, got {self.n_knots!r}."
            )
        q = self.quantiles
        if not (isinstance(q, (tuple, list)) and len(q) == 2 and 0 <= q[0] < q[1] <= 1):
            raise ValueError(
                "quantiles must be two numbers 0 <= low < high <= 1, got "
                f"{self.quantiles!r}."
            )

    def fit(self, X, y=None):
        """Record the activations' inputs on ``X`` and compress them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data whose activation inputs define the range of each spline
            (typically the training data).
        y : array-like of shape (n_samples,), optional
            Targets: needed only to fit an unfitted ``estimator``.

        Returns
        -------
        self : object
        """
        self._check_params()
        if not isinstance(self.estimator, LearnedActivationEstimator):
            raise TypeError(
                "SplineActivationCompressor compresses LearnedActivationClassifier "
                f"or LearnedActivationRegressor models, got "
                f"{type(self.estimator).__name__}."
            )
        try:
            check_is_fitted(self.estimator)
            estimator = self.estimator
        except NotFittedError as exc:
            if y is None:
                raise NotFittedError(
                    f"The {type(self.estimator).__name__} to compress is not fitted "
                    "and y is None: pass y so that it can be fitted, or fit it "
                    "first."
                ) from exc
            estimator = clone(self.estimator).fit(X, y)
        acts = estimator.activations_
        # learned activations, and expression activations (often costly)
        compressible = (LearnableActivation, Expression)
        learned = [i for i, m in enumerate(acts) if isinstance(m, compressible)]
        if not learned:
            raise ValueError(
                f"Nothing to compress: the estimator's activation "
                f"{estimator.activation!r} is fixed (not learnable). Compress a "
                "model with a learnable activation, one of "
                f"{', '.join(available_activations('learnable'))}, or an "
                "expression activation ('expr')."
            )
        recorded = _record_inputs(estimator, X, learned)
        compressed = copy.deepcopy(estimator)
        rows, self._curves, replacements = [], {}, {}
        for i in learned:
            original = acts[i]
            new, row, curve = self._compress_one(original, recorded[i])
            replacements[i] = new
            rows.append({"layer": i + 1, "kind": estimator.activation_, **row})
            self._curves[i + 1] = curve
        compressed.replace_activations(replacements)
        if self.compile:  # compile now what predict runs (its shapes and mode)
            _run_network(
                compressed, _safe_indexing(X, np.arange(min(64, _num_samples(X))))
            )
        self.estimator_ = estimator
        self.compressed_estimator_ = compressed
        self.report_ = pd.DataFrame(rows)
        self.max_abs_error_ = float(self.report_["max_error"].max())
        self.n_features_in_ = estimator.n_features_in_
        if hasattr(estimator, "feature_names_in_"):
            self.feature_names_in_ = estimator.feature_names_in_
        return self

    def _compress_one(self, original: nn.Module, values: np.ndarray):
        """Spline (or symbolic) replacement of one activation, and its report row."""
        lo, hi = np.quantile(values, self.quantiles, axis=0)  # (C,) each
        lo, hi = np.atleast_1d(lo), np.atleast_1d(hi)
        pad = np.maximum(1e-3, 1e-3 * np.abs(lo))
        hi = np.where(hi - lo < 1e-6, hi + pad, hi)
        lo = np.where(hi - lo < 1e-6, lo - pad, lo)
        inside = values
        if len(inside) > _MAX_CHECKED:
            rng = np.random.default_rng(0)
            inside = inside[rng.choice(len(inside), _MAX_CHECKED, replace=False)]
        inside = np.clip(inside, lo, hi)
        forms = _kink_form(original) if self.exact and self.n_knots == "auto" else None
        exact = forms and _exact_spline(forms, values, lo, hi, self.tol, self.max_knots)
        if exact:
            spline, n_kinks, n_cells = exact
            n_knots = n_kinks + 2
        elif self.n_knots == "auto":
            n_knots, spline, _ = _search_knots(
                original, lo, hi, self.degree, self.tol, self.max_knots, inside
            )
        else:
            n_knots = self.n_knots
            spline, _ = _spline_for(original, lo, hi, n_knots, self.degree, inside)
        if not exact:
            n_cells = spline.n_cells
        spline.compiled = bool(self.compile)
        fn = _as_function(original)
        new, replaced_by = spline, "spline"
        sym_name, sym_r2 = None, np.nan
        if self.symbolic and lo.size == 1:
            x = np.linspace(lo[0], hi[0], 2001)
            sym_name, abcd, sym_r2 = _fit_symbolic(x, fn(x[:, None])[:, 0])
            if sym_name is not None:
                sym = SymbolicActivation(sym_name, *abcd)
                if _max_error(sym, fn, _check_points(lo, hi, 2, inside)) < self.tol:
                    new, replaced_by = sym, f"symbolic:{sym_name}"
        # errors of what is actually used, in float32
        max_error = _max_error(new, fn, _check_points(lo, hi, n_cells + 1, inside))
        with torch.inference_mode():
            approx = new(torch.as_tensor(values, dtype=torch.float32)).double()
        rms = float(np.sqrt(np.mean((approx.numpy() - fn(values)) ** 2)))
        row = {
            "channels": lo.size,
            "range_low": float(lo.min()),
            "range_high": float(hi.max()),
            "n_knots": int(n_knots),
            "n_cells": int(n_cells),
            "degree": spline.degree,
            "exact": bool(exact),
            "max_error": max_error,
            "rms_error": rms,
            "params_before": sum(p.numel() for p in original.parameters()),
            "params_after": new.n_stored(),
            "madds_before": activation_madds(original),
            "madds_after": activation_madds(new),
            "symbolic": sym_name,
            "symbolic_r2": sym_r2,
            "replaced_by": replaced_by,
        }
        curve = {"original": original, "compressed": new, "values": values}
        return new, row, curve

    # ------------------------------------------------------------ delegation
    def predict(self, X):
        """Predict with the compressed network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.compressed_estimator_.predict(X)

    @available_if(_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the compressed network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.compressed_estimator_.predict_proba(X)

    def score(self, X, y, sample_weight=None):
        """Accuracy (classifier) or R^2 (regressor) of the compressed network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        return self.compressed_estimator_.score(X, y, sample_weight=sample_weight)

    @property
    def classes_(self) -> np.ndarray:
        """Class labels of the compressed classifier."""
        check_is_fitted(self)
        return self.compressed_estimator_.classes_

    def evaluate(self, X, y) -> dict:
        """Model-level effect of the compression on held-out data.

        Pass data not used for ``fit`` (e.g. the test set) for an honest
        figure. The result is also stored in ``evaluation_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        evaluation : dict
            ``metric`` ("accuracy" or "r2"), ``score_before``,
            ``score_after`` and ``agreement``: for a classifier the share of
            samples with the same predicted class, for a regressor the R^2 of
            the compressed predictions against the uncompressed ones.
        """
        check_is_fitted(self)
        before = self.estimator_.predict(X)
        after = self.compressed_estimator_.predict(X)
        if get_tags(self.estimator_).estimator_type == "classifier":
            metric, score = "accuracy", accuracy_score
            agreement = float(np.mean(before == after))
        else:
            metric, score = "r2", r2_score
            agreement = float(r2_score(before, after))
        self.evaluation_ = {
            "metric": metric,
            "score_before": float(score(y, before)),
            "score_after": float(score(y, after)),
            "agreement": agreement,
        }
        return self.evaluation_


def _run_network(estimator, X) -> None:
    """Run the fitted network on ``X`` through its public predict surface."""
    if is_classifier(estimator):
        estimator.decision_function(X)
    else:
        estimator.predict(X)


def _record_inputs(estimator, X, layers) -> dict[int, np.ndarray]:
    """Inputs of the activations ``layers`` on ``X``: (n_values, C) per layer.

    Per-neuron activations keep their channel axis (C channels); layer-wide
    ones are flattened (C = 1). At most ``_MAX_RECORDED`` values per
    activation are kept, a random subset of each batch.
    """
    acts = estimator.activations_
    n_samples = len(X)
    rng = np.random.default_rng(0)
    chunks = {i: [] for i in layers}

    def hook(i):
        channels = getattr(acts[i], "num_parameters", 1)

        def record(module, args):
            (x,) = args
            x = x.detach()
            if channels > 1:
                x = x.movedim(1, -1).reshape(-1, channels)
            else:
                x = x.reshape(-1, 1)
            per_sample = x.shape[0] / len(args[0])
            keep = min(1.0, _MAX_RECORDED / (per_sample * n_samples))
            x = x.float().cpu().numpy()
            if keep < 1.0:
                x = x[rng.random(x.shape[0]) < keep]
            chunks[i].append(x)

        return record

    handles = [acts[i].register_forward_pre_hook(hook(i)) for i in layers]
    try:
        _run_network(estimator, X)
    finally:
        for handle in handles:
            handle.remove()
    return {i: np.concatenate(chunks[i]).astype(np.float64) for i in layers}


def plot_compression(compressor, *, channel: int = 0, margin: float = 0.1):
    """Each learned activation beside its compressed version.

    One panel per compressed activation: the learned function and its
    replacement over the recorded range (widened by ``margin``), the range
    marked, and a histogram of the recorded inputs on a twin axis.

    Parameters
    ----------
    compressor : SplineActivationCompressor
        A fitted compressor.
    channel : int, default=0
        Channel drawn for per-neuron activations.
    margin : float, default=0.1
        Share of the recorded range added on each side.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_learnact import (LearnedActivationRegressor,
    ...                               SplineActivationCompressor)
    >>> from sklearn_learnact.compression import plot_compression
    >>> X = np.linspace(-2, 2, 64)[:, None]
    >>> reg = LearnedActivationRegressor((8,), "swish", max_iter=5, random_state=0)
    >>> comp = SplineActivationCompressor(reg).fit(X, X[:, 0] ** 2)
    >>> len(plot_compression(comp).axes)  # one panel and its twin
    2
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "plot_compression needs matplotlib: pip install matplotlib (or "
            "sklearn-learnact[plot])."
        ) from exc
    check_is_fitted(compressor, "report_")
    rows = compressor.report_.to_dict("records")
    fig, axes = plt.subplots(
        1, len(rows), figsize=(4.5 * len(rows), 3.6), squeeze=False
    )
    for ax, row in zip(axes[0], rows):
        curve = compressor._curves[row["layer"]]
        values = curve["values"]
        ch = channel if values.shape[1] > 1 else 0
        lo, hi = np.quantile(values[:, ch], compressor.quantiles)
        width = max(hi - lo, 1e-3)
        x = np.linspace(lo - margin * width, hi + margin * width, 1001)
        xs = np.repeat(x[:, None], values.shape[1], axis=1)
        y_true = _as_function(curve["original"])(xs)[:, ch]
        with torch.inference_mode():
            y_new = curve["compressed"].cpu()(torch.as_tensor(xs, dtype=torch.float32))
        twin = ax.twinx()
        twin.hist(values[:, ch], bins=60, range=(x[0], x[-1]), color="0.85")
        twin.set_ylabel("recorded inputs")
        ax.set_zorder(twin.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.plot(x, y_true, color="C0", lw=2.5, label="learned")
        ax.plot(
            x, y_new[:, ch].numpy(), "--", color="C3", lw=1.5, label=row["replaced_by"]
        )
        ax.axvspan(lo, hi, color="C2", alpha=0.06, label="recorded range")
        suffix = f", channel {ch}" if values.shape[1] > 1 else ""
        ax.set_title(
            f"layer {row['layer']} ({row['kind']}{suffix}): {row['n_knots']} knots, "
            f"max err {row['max_error']:.1e}",
            fontsize=9,
        )
        ax.set_xlabel("pre-activation x")
        ax.set_ylabel("activation(x)")
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig
