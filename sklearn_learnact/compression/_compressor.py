"""SplineActivationCompressor: the meta-estimator that swaps learned activations."""

import copy
import dataclasses
import numbers
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, r2_score
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags, resample
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._validation import (
    Boolean,
    Interval,
    Satisfies,
    validate_call,
    validate_params,
)
from ..activations import (
    Expression,
    activation_spec,
    available_activations,
    fused_kernels,
)
from ..estimators import learnact_step, wrapped_estimator_tags
from ._cost import activation_madds, cost_note
from ._fit import (
    SPLINE_CONSTRAINTS,
    _as_function,
    _check_points,
    check_knots,
    fit_spline,
)
from ._symbolic import SymbolicActivation, _fit_symbolic

#: Recorded inputs kept per activation during ``fit`` (a random subset); only
#: their histogram is kept in the fitted compressor.
_MAX_RECORDED = 2_000_000
#: Histogram of the recorded inputs: bins across the recorded range, and bins
#: added on each side of it (same width).
_HIST_BINS, _HIST_SIDE_BINS = 50, 10
#: Elements each activation is timed on, and the side-by-side rounds.
_TIMED_ELEMENTS, _TIMING_ROUNDS = 65_536, 15
#: Rows of ``fit``'s X remembered (as 64-bit hashes) to recognise them in
#: evaluate, and rows of it checked for duplicates; rows of X checked there.
_HASHED_ROWS, _CHECKED_ROWS = 2048, 20_000
#: Share of evaluate's rows given to fit, beyond what held-out rows of the same
#: data match by chance, at which ``evaluate`` raises, and above which it warns.
_SEEN_ERROR, _SEEN_WARNING = 0.5, 0.05
#: Values per chunk when evaluating an activation on its recorded inputs.
_CHUNK = 1 << 18


def _on_accelerator(layer: "CompressedLayer") -> bool:
    modules = (layer.original, layer.compressed)
    return any(t.device.type != "cpu" for m in modules for t in m.state_dict().values())


def _on_cpu(layer: "CompressedLayer") -> "CompressedLayer":
    return dataclasses.replace(
        layer,
        original=copy.deepcopy(layer.original).cpu(),
        compressed=copy.deepcopy(layer.compressed).cpu(),
    )


def _quantile_pair(q) -> bool:
    unit = Interval(numbers.Real, 0.0, 1.0)
    return (
        isinstance(q, (tuple, list))
        and len(q) == 2
        and all(unit.is_satisfied_by(v) for v in q)
        and q[0] < q[1]
    )


@dataclass(frozen=True, repr=False, eq=False)
class CompressedLayer:
    """One compressed activation, an item of ``SplineActivationCompressor.layers_``.

    Attributes
    ----------
    layer : int
        1-based hidden layer (as in ``report_``; ``layer - 1`` indexes
        ``activations_`` and ``replace_activations``).
    original : torch.nn.Module
        The learned activation (a module of ``estimator_``).
    compressed : torch.nn.Module
        Its replacement (a module of ``compressed_estimator_``).
    low, high : ndarray of shape (C,)
        The recorded range of each channel (``C = 1`` for a layer-wide
        activation): the compressor's ``quantiles`` of its inputs.
    counts : ndarray of shape (C, n_bins)
        Histogram of the recorded inputs per channel, on the bins ``edges``:
        50 bins across ``[low, high]`` and 10 more of the same width on each
        side.
    below, above : ndarray of shape (C,)
        Recorded inputs left of the first bin and right of the last.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_learnact import (LearnedActivationRegressor,
    ...                               SplineActivationCompressor)
    >>> X = np.linspace(-2, 2, 64)[:, None]
    >>> reg = LearnedActivationRegressor((8,), "swish", max_iter=5, random_state=0)
    >>> comp = SplineActivationCompressor(reg).fit(X, X[:, 0] ** 2)
    >>> layer = comp.layers_[0]
    >>> layer.layer, int(layer.counts.sum() + layer.below.sum() + layer.above.sum())
    (1, 512)
    """

    layer: int
    original: nn.Module
    compressed: nn.Module
    low: np.ndarray
    high: np.ndarray
    counts: np.ndarray
    below: np.ndarray
    above: np.ndarray

    @property
    def edges(self) -> np.ndarray:
        """Bin edges of ``counts``, shape (C, n_bins + 1)."""
        width = (self.high - self.low)[:, None] / _HIST_BINS
        steps = np.arange(-_HIST_SIDE_BINS, _HIST_BINS + _HIST_SIDE_BINS + 1)
        return self.low[:, None] + width * steps

    def __repr__(self) -> str:
        return (
            f"CompressedLayer(layer={self.layer}, "
            f"original={type(self.original).__name__}, "
            f"compressed={type(self.compressed).__name__}, "
            f"channels={self.low.size}, "
            f"range=[{self.low.min():.4g}, {self.high.max():.4g}])"
        )


def _histogram(values: np.ndarray, low: np.ndarray, high: np.ndarray):
    """``counts``, ``below`` and ``above`` of :class:`CompressedLayer`."""
    n_bins = _HIST_BINS + 2 * _HIST_SIDE_BINS
    width = (high - low) / _HIST_BINS
    index = np.floor((values - (low - _HIST_SIDE_BINS * width)) / width)
    below = np.sum(index < 0, axis=0)
    above = np.sum(index >= n_bins, axis=0)
    inside = (index >= 0) & (index < n_bins)
    flat = (index + n_bins * np.arange(values.shape[1]))[inside].astype(np.int64)
    counts = np.bincount(flat, minlength=n_bins * values.shape[1])
    return counts.reshape(values.shape[1], n_bins), below, above


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
    activations) with :func:`fit_spline`: scipy's least-squares B-spline on
    uniform knots, converted to a table of cells that
    :class:`SplineActivation` evaluates with a few elementwise ops, whatever
    the number of knots. Outside the range the spline continues linearly with
    the activation's own slopes at the ends. Expression activations
    (``"expr"``) are compressed too; other fixed activations are left
    alone. ``predict``, ``predict_proba``, ``decision_function`` and ``score``
    use the compressed model, ``compressed_estimator_``.

    The compressed model is the fitted estimator (or pipeline) with modules
    in place of its learned activations: it predicts, pickles and plots like
    any other, and its ``replaced_activations_`` says which layers were
    replaced. Its parameters still describe the uncompressed network, so
    :func:`~sklearn.base.clone` refuses it; clone the compressor instead.
    :meth:`summary` says in words what it is.

    A spline is a table, made for speed (a constant number of elementwise
    ops per element), not for size: it can store more numbers than the
    learned activation had parameters. ``report_`` shows both.

    Parameters
    ----------
    estimator : estimator
        The model to compress: a
        :class:`~sklearn_learnact.LearnedActivationClassifier` or
        :class:`~sklearn_learnact.LearnedActivationRegressor`, or a
        :class:`~sklearn.pipeline.Pipeline` ending in one (its last step is
        compressed, its preprocessing kept: every method takes raw ``X``). A
        fitted one is never modified; an unfitted one is cloned and fitted on
        ``(X, y)`` first.
    n_knots : "auto" or int, default="auto"
        Knots per spline (uniform on the recorded range). ``"auto"`` picks, per
        activation, the fewest whose maximum error on the recorded range is
        below ``tol`` (up to ``max_knots``). The evaluation cost does not grow
        with the number of knots, only the table does.
    degree : {1, 3}, default=1
        Degree of the spline. Degree 1 is the fastest to evaluate and fits the
        kinks of a ReLU subnetwork best; degree 3 needs fewer knots on smooth
        activations.
    tol : float, default=1e-3
        Target maximum absolute error of each activation on its recorded range
        (checked on a dense grid of the range and on the recorded inputs).
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
    compile : bool, default=True
        Evaluate the splines with fused kernels (``compiled=True`` on each
        :class:`SplineActivation`): one compiled loop per activation instead
        of a sequence of elementwise ops. Piecewise-linear splines with at
        most 64 slope changes (every exact compression of a small subnetwork)
        are fused in their truncated-power form, without table look-ups.
        ``fit`` compiles the kernels when it measures the errors, and runs the
        compressed net once on a few rows of ``X``, so that ``predict`` never
        compiles: seconds the first time on a machine, milliseconds later
        (the kernels are cached on disk); later models with the same number
        of kinks reuse the kernel. It needs a C++ compiler (CPU) or triton
        (GPU); without one, a warning says so and the evaluation stays eager
        (``compile=False``: eager, without trying). See
        ``benchmarks/bench_inference.py`` for the speed-up.

    Attributes
    ----------
    estimator_ : estimator
        The uncompressed, fitted estimator or pipeline (``estimator`` itself
        if it was fitted).
    compressed_estimator_ : estimator
        A copy of ``estimator_`` whose learned activations are replaced (see
        above: it refuses ``clone``).
    report_ : pandas.DataFrame
        One row per compressed activation:

        - ``layer`` (1-based), ``kind`` (the learned activation), ``channels``,
          ``range_low``/``range_high`` (the recorded range, over channels);
        - the spline: ``n_knots`` (for an exact compression: the kinks kept,
          summed over channels, plus the two ends), ``n_cells`` (of the grid,
          tails included), ``degree``, ``exact``;
        - its error against the learned activation, in float32, on the
          recorded inputs: ``max_error`` and ``rms_error`` over the same
          values, those inside the recorded range; ``tail_share``, the share
          of recorded inputs outside it, and ``tail_max_error`` /
          ``tail_rms_error`` over those (NaN without any);
        - its cost: ``stored_before``/``stored_after``, the numbers in the
          module's ``state_dict`` (parameters and buffers: what saving it
          stores; ``stored_after`` is larger when the table holds more
          numbers than the learned activation has); ``madds_before`` /
          ``madds_after``, multiply-adds per element (a cost model, see
          :func:`activation_madds`); ``ns_before``/``ns_after``, measured
          nanoseconds per element of the module alone on batches of its
          recorded inputs (65,536 elements, 15 rounds timed side by side,
          medians; ``fit`` time, this machine), and ``speedup``, their ratio;
        - ``symbolic``, ``symbolic_r2`` (with ``symbolic=True``) and
          ``replaced_by`` (``"spline"`` or ``"symbolic:<name>"``).
    layers_ : list of CompressedLayer
        Per compressed activation: the original and the compressed module,
        the recorded range and a histogram of the recorded inputs (what
        :class:`~sklearn_learnact.plotting.CompressionDisplay` draws). The
        recorded inputs themselves are used during ``fit`` only.
    max_abs_error_ : float
        Largest ``max_error`` over the activations.
    evaluation_ : dict
        Set by :meth:`evaluate`, on held-out data.
    classes_ : ndarray
        The classifier's classes (classifiers only).
    n_features_in_ : int
        Number of features of the estimator.
    feature_names_in_ : ndarray of str
        Feature names of the estimator, when it has them.

    See Also
    --------
    fit_spline : Fits the spline of one activation.
    sklearn_learnact.plotting.CompressionDisplay : Each activation beside its
        replacement.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_learnact import (LearnedActivationClassifier,
    ...                               SplineActivationCompressor)
    >>> X, y = load_iris(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> clf = LearnedActivationClassifier((16,), "mlp", max_iter=100,
    ...                                   learning_rate_init=1e-2, random_state=0)
    >>> comp = SplineActivationCompressor(clf).fit(X_train, y_train)
    >>> bool(comp.max_abs_error_ < comp.tol)
    True
    >>> float(comp.evaluate(X_test, y_test)["agreement"])
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
        compile=True,
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
        return wrapped_estimator_tags(super().__sklearn_tags__(), self.estimator)

    _parameter_constraints = {
        **SPLINE_CONSTRAINTS,
        "quantiles": [
            Satisfies(
                _quantile_pair, "two numbers (low, high) with 0 <= low < high <= 1"
            )
        ],
        "symbolic": [Boolean()],
        "compile": [Boolean()],
    }

    def _check_params(self) -> None:
        validate_params(self.get_params(deep=False), self._parameter_constraints)
        check_knots(self.degree, self.n_knots, self.max_knots)

    def fit(self, X, y=None):
        """Record the activations' inputs on ``X`` and compress them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data whose activation inputs define the range of each spline
            (typically the training data; raw data for a pipeline).
        y : array-like of shape (n_samples,), optional
            Targets: needed only to fit an unfitted ``estimator``.

        Returns
        -------
        self : object
        """
        self._check_params()
        try:
            learnact_step(self.estimator)
        except TypeError as exc:
            raise TypeError(
                "SplineActivationCompressor compresses a "
                "LearnedActivationClassifier, a LearnedActivationRegressor or a "
                f"Pipeline ending in one, got {type(self.estimator).__name__}."
            ) from exc
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
        _, inner = learnact_step(estimator)
        acts = inner.activations_
        learned = [i for i, m in enumerate(acts) if _compressible(m)]
        if not learned:
            raise ValueError(
                f"Nothing to compress: the estimator's activation "
                f"{inner.activation_!r} is fixed (not learnable). Compress a "
                "model with a learnable activation, one of "
                f"{', '.join(available_activations('learnable'))}, or an "
                "expression activation ('expr')."
            )
        Xt = _preprocess(estimator, X)
        recorded, widths = _record_inputs(inner, Xt, learned)
        fitted = {i: self._compress_one(acts[i], recorded[i]) for i in learned}
        compressed = copy.deepcopy(estimator)
        _, compressed_inner = learnact_step(compressed)
        compressed_inner.replace_activations({i: f[0] for i, f in fitted.items()})
        if self.compile:  # compile now what predict runs (its shapes and mode)
            n = _n_rows(Xt)
            with fused_kernels(compile=True):  # predict itself never compiles
                _run_network(
                    compressed_inner,
                    resample(Xt, n_samples=min(64, n), replace=False, random_state=0),
                )
        new_acts = compressed_inner.activations_
        rows, layers = [], []
        for i in learned:
            _, row, low, high = fitted[i]
            last = {k: row.pop(k) for k in ("symbolic", "symbolic_r2", "replaced_by")}
            x = _timing_batch(recorded[i], widths[i], inner.device_)
            before, after = _time_activations([acts[i], new_acts[i]], x)
            rows.append(
                {
                    "layer": i + 1,
                    "kind": inner.activation_,
                    **row,
                    "ns_before": 1e9 * before / x.numel(),
                    "ns_after": 1e9 * after / x.numel(),
                    "speedup": before / after,
                    **last,
                }
            )
            counts, below, above = _histogram(recorded[i], low, high)
            layers.append(
                CompressedLayer(
                    i + 1, acts[i], new_acts[i], low, high, counts, below, above
                )
            )
        self._fit_rows = _FitRows(X)
        self.estimator_ = estimator
        self.compressed_estimator_ = compressed
        self.report_ = pd.DataFrame(rows)
        self.layers_ = layers
        self.max_abs_error_ = float(self.report_["max_error"].max())
        self.n_features_in_ = estimator.n_features_in_
        if hasattr(estimator, "feature_names_in_"):
            self.feature_names_in_ = estimator.feature_names_in_
        return self

    def __getstate__(self) -> dict:
        # the fingerprint of fit's rows as plain data (arrays and numbers), so
        # that the state holds no private class (pickle and the safe format
        # of sklearn_learnact.persistence store it alike)
        state = super().__getstate__()
        if isinstance(state.get("_fit_rows"), _FitRows):
            state["_fit_rows"] = dict(vars(state["_fit_rows"]))
        layers = state.get("layers_")
        if layers and any(_on_accelerator(layer) for layer in layers):
            # the estimators' nets pickle with skorch's device mapping, these
            # copies of their modules do not: keep them on the CPU, so that a
            # model compressed on CUDA unpickles where there is none
            state["layers_"] = [_on_cpu(layer) for layer in layers]
        return state

    def __setstate__(self, state: dict) -> None:
        rows = state.get("_fit_rows")
        if isinstance(rows, dict):
            state = {**state, "_fit_rows": _FitRows.from_state(rows)}
        super().__setstate__(state)

    def _compress_one(self, original: nn.Module, values: np.ndarray):
        """Replacement of one activation, its report row (without timings) and
        its recorded range ``(low, high)``."""
        lo, hi = np.quantile(values, self.quantiles, axis=0)  # (C,) each
        lo, hi = np.atleast_1d(lo), np.atleast_1d(hi)
        # a range of (nearly) one value is widened on both sides
        pad, narrow = np.maximum(1e-3, 1e-3 * np.abs(lo)), hi - lo < 1e-6
        lo, hi = np.where(narrow, lo - pad, lo), np.where(narrow, hi + pad, hi)
        spline, info = fit_spline(
            original,
            lo,
            hi,
            degree=self.degree,
            tol=self.tol,
            n_knots=self.n_knots,
            max_knots=self.max_knots,
            exact=self.exact,
            values=values,
        )
        spline.compiled = bool(self.compile)
        fn = _as_function(original)
        new, replaced_by = spline, "spline"
        sym_name, sym_r2 = None, np.nan
        if self.symbolic and lo.size == 1:
            x = np.linspace(lo[0], hi[0], 2001)
            sym_name, abcd, sym_r2 = _fit_symbolic(x, fn(x[:, None])[:, 0])
            if sym_name is not None:
                sym = SymbolicActivation(sym_name, *abcd)
                points = _check_points(lo, hi, 2, np.clip(values, lo, hi))
                if _abs_errors(sym, fn, points).max() < self.tol:
                    new, replaced_by = sym, f"symbolic:{sym_name}"
        # errors of what is actually used, in float32, on the recorded inputs
        errors = _abs_errors(new, fn, values)
        inside = (values >= lo) & (values <= hi)
        max_error, rms_error = _max_rms(errors[inside])
        tail_max, tail_rms = _max_rms(errors[~inside])
        row = {
            "channels": lo.size,
            "range_low": float(lo.min()),
            "range_high": float(hi.max()),
            "n_knots": info["n_knots"],
            "n_cells": info["n_cells"],
            "degree": info["degree"],
            "exact": info["exact"],
            "max_error": max_error,
            "rms_error": rms_error,
            "tail_share": float(1.0 - inside.mean()),
            "tail_max_error": tail_max,
            "tail_rms_error": tail_rms,
            "stored_before": _n_stored(original),
            "stored_after": _n_stored(new),
            "madds_before": activation_madds(original),
            "madds_after": activation_madds(new),
            "symbolic": sym_name,
            "symbolic_r2": sym_r2,
            "replaced_by": replaced_by,
        }
        return new, row, lo, hi

    def summary(self) -> str:
        """What ``compressed_estimator_`` is, in words, layer by layer.

        Returns
        -------
        text : str
        """
        check_is_fitted(self)
        _, inner = learnact_step(self.compressed_estimator_)
        lines = [
            f"compressed_estimator_ is the fitted {type(inner).__name__} "
            f"(activation {inner.activation_!r}) with {len(self.layers_)} of its "
            f"{len(inner.activations_)} hidden activations replaced; it predicts "
            "and pickles like the original, and refuses clone (its parameters "
            "describe the uncompressed network): clone the compressor instead."
        ]
        for row in self.report_.to_dict("records"):
            form = (
                "exact piecewise-linear spline"
                if row["exact"]
                else (f"degree-{row['degree']} spline")
            )
            if row["replaced_by"] != "spline":
                form = row["replaced_by"]
            more = row["stored_after"] > row["stored_before"]
            tail = (
                f", tails max {row['tail_max_error']:.2g}"
                if row["tail_share"] > 0
                else ""
            )
            lines.append(
                f"layer {row['layer']}: {row['kind']} -> {form} "
                f"({row['n_cells']} cells); error on the recorded inputs max "
                f"{row['max_error']:.2g}, rms {row['rms_error']:.2g} "
                f"({row['tail_share']:.1%} outside the recorded range{tail}); "
                f"stores {row['stored_after']} numbers (was "
                f"{row['stored_before']}{': more' if more else ''}); "
                f"{row['madds_after']:g} multiply-adds per element (was "
                f"{row['madds_before']:g}); measured {row['speedup']:.2f}x the "
                "speed of the learned activation."
            )
        note = cost_note(
            m for layer in self.layers_ for m in (layer.original, layer.compressed)
        )
        return "\n".join([*lines, note] if note else lines)

    # ------------------------------------------------------------ delegation
    def predict(self, X):
        """Predict with the compressed model.

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
        """Class probabilities of the compressed model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.compressed_estimator_.predict_proba(X)

    @available_if(_has("decision_function"))
    def decision_function(self, X):
        """Logits of the compressed classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.compressed_estimator_.decision_function(X)

    def score(self, X, y, sample_weight=None):
        """Accuracy (classifier) or R^2 (regressor) of the compressed model.

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

    @validate_call({"n_repeats": [Interval(numbers.Integral, 1, None)]})
    def evaluate(self, X, y, *, n_repeats: int = 5) -> dict:
        """Model-level effect of the compression, on held-out data.

        ``X`` must be held out: rows the model was not fitted on. Rows given
        to :meth:`fit` are recognised (from hashes of up to 2,048 of them):
        if about half of ``X`` or more are such rows, beyond the share that
        held-out rows of the same data match by chance (duplicate rows), this
        raises; above 5% it warns. Data the estimator was trained on but the
        compressor never saw cannot be recognised: pass a test split. The
        result is also stored in ``evaluation_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Held-out data (raw data for a pipeline).
        y : array-like of shape (n_samples,)
        n_repeats : int, default=5
            Timed ``predict`` calls of each model, side by side.

        Returns
        -------
        evaluation : dict
            ``metric`` ("accuracy" or "r2"), ``n_samples``, ``score_before``,
            ``score_after``; ``agreement``: for a classifier the share of
            samples with the same predicted class, for a regressor the R^2 of
            the compressed predictions against the uncompressed ones;
            ``predict_seconds_before``, ``predict_seconds_after`` (median of
            ``n_repeats`` ``predict`` calls on ``X``, the two models timed in
            turn) and ``predict_speedup``, their ratio.
        """
        check_is_fitted(self)
        self._check_held_out(X)
        before = self.estimator_.predict(X)
        after = self.compressed_estimator_.predict(X)
        if get_tags(self.estimator_).estimator_type == "classifier":
            metric, score = "accuracy", accuracy_score
            agreement = float(np.mean(before == after))
        else:
            metric, score = "r2", r2_score
            agreement = float(r2_score(before, after))
        t_before, t_after = _time_side_by_side(
            [self.estimator_.predict, self.compressed_estimator_.predict],
            X,
            rounds=n_repeats,
            warm_up=False,  # both just predicted X
        )
        self.evaluation_ = {
            "metric": metric,
            "n_samples": _n_rows(X),
            "score_before": float(score(y, before)),
            "score_after": float(score(y, after)),
            "agreement": agreement,
            "predict_seconds_before": t_before,
            "predict_seconds_after": t_after,
            "predict_speedup": t_before / t_after,
        }
        return self.evaluation_

    def _check_held_out(self, X) -> None:
        seen, expected = self._fit_rows.share(X), self._fit_rows.expected
        excess = seen - expected
        if excess <= _SEEN_WARNING:
            return
        message = (
            f"About {min(seen, 1.0):.0%} of the rows given to evaluate are rows "
            "given to fit"
        )
        if expected > 0.01:
            message += (
                f" ({expected:.0%} would be expected of held-out rows: this data "
                "has duplicate rows)"
            )
        message += (
            ": evaluate scores the compression on held-out data (e.g. a test "
            "split the model was not trained on)"
        )
        if excess >= _SEEN_ERROR:
            raise ValueError(f"{message}. Use score(X, y) for an in-sample score.")
        warnings.warn(f"{message}; the scores are optimistic.", UserWarning)


# ----------------------------------------------------------------- helpers
def _n_rows(X) -> int:
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _sample(n: int, k: int) -> np.ndarray:
    """``k`` distinct row indices out of ``n``, in random order."""
    return np.random.default_rng(0).choice(n, k, replace=False)


def _row_hashes(X, rows: np.ndarray) -> np.ndarray:
    """64-bit hashes of the ``rows`` of ``X`` (numbers compared as float64)."""
    if isinstance(X, pd.DataFrame):
        frame = X.iloc[rows].reset_index(drop=True)
    else:
        part = X[rows] if issparse(X) else np.asarray(X)[rows]
        frame = pd.DataFrame(part.toarray() if issparse(part) else part)
    numeric = frame.select_dtypes("number").columns
    frame = frame.astype(dict.fromkeys(numeric, "float64"))
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


class _FitRows:
    """The rows given to ``fit`` (64-bit hashes of up to ``_HASHED_ROWS``), to
    recognise them in ``evaluate``.

    :meth:`share` estimates the share of rows of an ``X`` that were given to
    fit; ``expected`` is what rows of the same data that fit did not see
    score: the same estimate on other rows of fit's ``X`` (or, when every row
    is hashed, the share of rows equal to another one), not 0 when the data
    has duplicate rows.
    """

    def __init__(self, X) -> None:
        n = _n_rows(X)
        rows = _sample(n, min(n, 2 * _HASHED_ROWS))
        hashed, other = np.sort(rows[:_HASHED_ROWS]), np.sort(rows[_HASHED_ROWS:])
        hashes = _row_hashes(X, hashed)
        self.n_rows, self.n_hashed = n, len(hashed)
        self.hashes = np.unique(hashes)
        if len(other):
            self.expected = self._estimate(_row_hashes(X, other))
        else:
            _, inverse, counts = np.unique(
                hashes, return_inverse=True, return_counts=True
            )
            self.expected = float(np.mean(counts[inverse] > 1))

    @classmethod
    def from_state(cls, state: dict) -> "_FitRows":
        """The fingerprint from ``vars()`` of one (a compressor's state)."""
        rows = cls.__new__(cls)
        rows.n_rows, rows.n_hashed = int(state["n_rows"]), int(state["n_hashed"])
        rows.hashes = np.asarray(state["hashes"], dtype=np.uint64)
        rows.expected = float(state["expected"])
        return rows

    def _estimate(self, hashes: np.ndarray) -> float:
        # each row given to fit is among the hashed ones with probability
        # n_hashed / n_rows
        hits = np.isin(hashes, self.hashes).sum()
        return float(hits * self.n_rows / self.n_hashed / len(hashes))

    def share(self, X) -> float:
        n = _n_rows(X)
        return self._estimate(
            _row_hashes(X, np.sort(_sample(n, min(n, _CHECKED_ROWS))))
        )


def _compressible(module: nn.Module) -> bool:
    """Learned activations, and expression activations (often costly)."""
    spec = activation_spec(module)
    return isinstance(module, Expression) or (spec is not None and spec.learnable)


def _preprocess(estimator, X):
    """``X`` as the learned-activation step of ``estimator`` receives it."""
    while isinstance(estimator, Pipeline):
        if len(estimator) > 1:
            X = estimator[:-1].transform(X)
        estimator = estimator[-1]
    return X


def _run_network(estimator, X) -> None:
    """Run the fitted network on ``X`` through its public predict surface."""
    if is_classifier(estimator):
        estimator.decision_function(X)
    else:
        estimator.predict(X)


def _record_inputs(estimator, X, layers):
    """Inputs of the activations ``layers`` on ``X``.

    Returns ``values`` (per layer an (n_values, C) float64 array: per-neuron
    activations keep their channel axis, C channels; layer-wide ones are
    flattened, C = 1) and ``widths`` (per layer, the elements per sample). At
    most ``_MAX_RECORDED`` values per activation are kept, a random subset of
    each batch.
    """
    acts = estimator.activations_
    n_samples = _n_rows(X)
    rng = np.random.default_rng(0)
    chunks = {i: [] for i in layers}
    widths = {}

    def hook(i):
        channels = getattr(acts[i], "num_parameters", 1)

        def record(module, args):
            (x,) = args
            x = x.detach()
            widths[i] = x[0].numel()
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
    values = {i: np.concatenate(chunks[i]).astype(np.float64) for i in layers}
    return values, widths


def _abs_errors(module: nn.Module, fn, values: np.ndarray) -> np.ndarray:
    """|module(x) - fn(x)| on the (n, C) ``values``, module in float32 (in
    chunks: a subnetwork's float64 reference holds its hidden units)."""
    step = max(1, _CHUNK // values.shape[1])
    out = []
    with torch.inference_mode():
        for start in range(0, len(values), step):
            x = values[start : start + step]
            approx = module(torch.as_tensor(x, dtype=torch.float32)).double()
            out.append(np.abs(approx.numpy() - fn(x)))
    return np.concatenate(out)


def _max_rms(errors: np.ndarray) -> tuple[float, float]:
    if not errors.size:
        return np.nan, np.nan
    return float(errors.max()), float(np.sqrt(np.mean(errors**2)))


def _n_stored(module: nn.Module) -> int:
    """Numbers in the module's ``state_dict`` (parameters and buffers)."""
    return int(sum(v.numel() for v in module.state_dict().values()))


def _timing_batch(values: np.ndarray, width: int, device) -> torch.Tensor:
    """About ``_TIMED_ELEMENTS`` recorded inputs as a batch of the layer:
    (rows, C) for a per-channel activation, (rows, width) for a layer-wide
    one; values drawn with replacement from those recorded."""
    rng = np.random.default_rng(0)
    channels = values.shape[1]
    cols = channels if channels > 1 else width
    n_rows = max(1, _TIMED_ELEMENTS // cols)
    if channels > 1:
        x = values[rng.integers(len(values), size=n_rows)]
    else:
        x = rng.choice(values[:, 0], size=(n_rows, cols))
    return torch.as_tensor(x, dtype=torch.float32, device=device)


def _time_side_by_side(
    functions: Sequence[Callable], arg, *, rounds: int = _TIMING_ROUNDS, warm_up=True
) -> list[float]:
    """Median seconds of each ``function(arg)``, timed in turn, ``rounds`` times.

    On CUDA the device is synchronised around each call.
    """
    device = getattr(arg, "device", None)
    cuda = isinstance(device, torch.device) and device.type == "cuda"

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    times = [[] for _ in functions]
    with torch.inference_mode():
        if warm_up:
            for function in functions:
                function(arg)
        for _ in range(rounds):
            for k, function in enumerate(functions):
                sync()
                start = time.perf_counter()
                function(arg)
                sync()
                times[k].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def _time_activations(modules: Sequence[nn.Module], x: torch.Tensor) -> list[float]:
    """:func:`_time_side_by_side` of activation modules on ``x``; on the CPU on
    one thread, so that a busy machine's thread-pool stalls (up to 1000x the
    time of a small elementwise op) do not decide the figure."""
    if x.device.type != "cpu":
        return _time_side_by_side(modules, x)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _time_side_by_side(modules, x)
    finally:
        torch.set_num_threads(threads)
