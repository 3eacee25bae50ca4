"""Figures as scikit-learn Displays: activation shapes, scores, training
curves, robustness, compression and the surrogate search.

Each Display follows scikit-learn's pattern: build it with
``from_estimator`` (a fitted learned-activation estimator or a
:class:`~sklearn.pipeline.Pipeline` ending in one), ``from_comparison`` (a
:class:`~sklearn_learnact.compare.Comparison`), ``from_compressor``,
``from_expressions`` or ``from_search`` (a fitted
:class:`~sklearn_learnact.surrogate.SurrogateActivationSearch`), which
computes what to draw and calls :meth:`plot`; ``plot(ax=...)`` draws into
your axes, else into a new figure. The drawn figure and axes are ``figure_``
and ``ax_``. The Displays read only the estimators' public attributes
(``history_``, ``activations_``...).

Matplotlib is optional (``pip install "sklearn-learnact[plot]"``) and imported
on first use. New figures are :class:`matplotlib.figure.Figure` objects built
without pyplot, so nothing here touches the global backend or opens a window;
``display.figure_.savefig("x.png")`` renders with Agg.
"""

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from .activations import Expression
from .estimators import learnact_step
from .evaluation import activation_input_ranges, activation_outputs
from .surrogate import BASELINES

__all__ = [
    "ActivationDisplay",
    "ActivationShapesDisplay",
    "CompressionDisplay",
    "RobustnessDisplay",
    "ScoreDisplay",
    "SearchEmbeddingDisplay",
    "TrainingCurveDisplay",
]

#: Input ranges to draw an activation on: near zero, moderate, and far out
#: (saturation or growth).
DEFAULT_RANGES = ((-3, 3), (-10, 10), (-100, 100))
_KIND_COLORS = {"fixed": "tab:gray", "learned": "tab:blue", "frozen": "tab:olive"}
_SCORE_LABELS = {"r2": "R²", "accuracy": "accuracy"}


def _new_figure(**kwargs):
    """A pyplot-free :class:`~matplotlib.figure.Figure`."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is in [dev]
        raise ImportError(
            'Plotting needs matplotlib: pip install "sklearn-learnact[plot]".'
        ) from exc
    return Figure(layout="constrained", **kwargs)


def _axes(ax, n: int, figsize) -> tuple[object, np.ndarray]:
    """``n`` axes: the ones given (one Axes or a sequence of ``n``), else new."""
    if ax is None:
        fig = _new_figure(figsize=figsize)
        return fig, np.atleast_1d(fig.subplots(1, n, squeeze=False)[0])
    axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
    if axes.size != n:
        raise ValueError(f"This figure draws {n} axes; got ax with {axes.size}.")
    return axes[0].figure, axes


def _label(score_name: str) -> str:
    return _SCORE_LABELS.get(score_name, score_name)


class ActivationDisplay:
    """The activation of every hidden layer over several input ranges, with
    the inputs the data actually reached marked and ReLU for reference.

    Build it with :meth:`from_estimator` or :meth:`from_comparison`. The
    first panel spans the inputs seen (when known, padded by 10%), the others
    those of the ranges ``[-3, 3]``, ``[-10, 10]``, ``[-100, 100]`` at
    least twice as wide: there, outside the marked band, the curve is
    extrapolation.

    Parameters
    ----------
    inputs : list of ndarray of shape (n_points,)
        The x values, one array per panel.
    outputs : list of list of ndarray of shape (n_points, n_curves)
        Per panel, per layer: the activation's values (one curve per neuron
        for per-neuron activations, else one).
    activation : str
        Name shown in the title.
    input_ranges : list of (float, float), optional
        Per layer, the range of the inputs the activation received.
    initial : list of list of ndarray, optional
        Like ``outputs``, for the activations before training (dotted).

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
    ax_ : ndarray of matplotlib.axes.Axes
        One per panel (also ``axes_``).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.plotting import ActivationDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LearnedActivationClassifier((8, 8), "mixture", max_iter=3).fit(X, y)
    >>> disp = ActivationDisplay.from_estimator(clf, X)
    >>> len(disp.outputs[0]), disp.ax_[-1].get_title()  # 2 layers; widest panel
    (2, 'x in [-100, 100]')
    """

    def __init__(
        self, inputs, outputs, activation: str, *, input_ranges=None, initial=None
    ):
        self.inputs, self.outputs, self.activation = inputs, outputs, activation
        self.input_ranges, self.initial = input_ranges, initial

    @staticmethod
    def _panels(ranges, input_ranges) -> list[tuple[float, float]]:
        if ranges is not None:
            return [tuple(map(float, r)) for r in ranges]
        if not input_ranges:
            return list(DEFAULT_RANGES)
        low = min(lo for lo, _ in input_ranges)
        high = max(hi for _, hi in input_ranges)
        pad = 0.1 * (high - low) or 1.0
        first = (low - pad, high + pad)
        # the wider ranges that show notably more than the data's range
        wider = [r for r in DEFAULT_RANGES if r[1] - r[0] >= 2 * (first[1] - first[0])]
        return [first, *wider]

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X=None,
        *,
        ranges: Sequence[tuple[float, float]] | None = None,
        input_ranges: Sequence[tuple[float, float]] | None = None,
        initial_activations=None,
        n_points: int = 401,
        max_neurons: int = 16,
        title: str | None = None,
        ax=None,
    ) -> "ActivationDisplay":
        """Evaluate and plot a fitted estimator's hidden activations.

        Parameters
        ----------
        estimator : estimator
            A fitted learned-activation classifier or regressor, or a pipeline
            ending in one.
        X : array-like, optional
            Data to mark the inputs each activation receives (e.g. the
            training data); passed through the pipeline's steps.
        ranges : sequence of (float, float), optional
            Input ranges, one panel each; default: the inputs' range (when
            known) and the wider ranges beyond it.
        input_ranges : sequence of (float, float), optional
            Per layer, the inputs' range, if already known (instead of ``X``).
        initial_activations : sequence of torch.nn.Module, optional
            The activations before training, drawn dotted
            (:class:`~sklearn_learnact.evaluation.InitialActivations`).
        n_points : int, default=401
            Points per range.
        max_neurons : int, default=16
            Per-neuron activations: at most this many curves per layer.
        title : str, optional
            Figure title; default names the activation.
        ax : sequence of matplotlib Axes, optional
            One per panel; default a new figure.

        Returns
        -------
        display : ActivationDisplay
        """
        _, inner = learnact_step(estimator)
        if input_ranges is None and X is not None:
            input_ranges = activation_input_ranges(estimator, X)
        panels = cls._panels(ranges, input_ranges)

        def curves(modules):
            out = []
            for low, high in panels:
                x = np.linspace(low, high, n_points)
                out.append([activation_outputs(m, x)[:, :max_neurons] for m in modules])
            return out

        display = cls(
            [np.linspace(low, high, n_points) for low, high in panels],
            curves(inner.activations_),
            inner.activation_,
            input_ranges=None if input_ranges is None else list(input_ranges),
            initial=None
            if initial_activations is None
            else curves(initial_activations),
        )
        return display.plot(title=title, ax=ax)

    @classmethod
    def from_comparison(
        cls, comparison, activation: str, *, title: str | None = None, ax=None, **kw
    ) -> "ActivationDisplay":
        """Plot the refitted model of ``activation`` from a comparison, with
        the inputs it saw on all the data and its initial shape.

        Parameters
        ----------
        comparison : Comparison
            From ``compare_activations(..., return_details=True)``.
        activation : str
            One of ``comparison.estimators``.
        title : str, optional
        ax : sequence of matplotlib Axes, optional
        **kw
            More options of :meth:`from_estimator`.

        Returns
        -------
        display : ActivationDisplay
        """
        if activation not in comparison.estimators:
            raise ValueError(
                f"No refitted model of {activation!r} in this comparison (it has "
                f"{sorted(comparison.estimators)}); compare with refit=True."
            )
        return cls.from_estimator(
            comparison.estimators[activation],
            input_ranges=comparison.input_ranges.get(activation),
            initial_activations=comparison.initial_activations.get(activation),
            title=title,
            ax=ax,
            **kw,
        )

    def plot(self, *, title: str | None = None, ax=None) -> "ActivationDisplay":
        """Draw one panel per range, one colour per layer.

        Parameters
        ----------
        title : str, optional
        ax : sequence of matplotlib Axes, optional
            One per panel; default a new figure.

        Returns
        -------
        self : ActivationDisplay
        """
        n = len(self.inputs)
        fig, axes = _axes(ax, n, (4.2 * n, 3.9))
        for p, (axis, x, per_layer) in enumerate(zip(axes, self.inputs, self.outputs)):
            axis.plot(
                x, np.maximum(x, 0), color="0.55", ls="--", lw=1, label="relu (ref.)"
            )
            for layer, y in enumerate(per_layer):
                color = f"C{layer % 10}"
                single = y.shape[1] == 1
                width, alpha = (2, 1) if single else (0.8, 0.5)
                axis.plot(x, y, color=color, lw=width, alpha=alpha)
                if self.initial is not None:
                    axis.plot(x, self.initial[p][layer], color=color, ls=":", lw=1)
                label = f"layer {layer + 1}" + (
                    "" if single else f" ({y.shape[1]} neurons)"
                )
                axis.plot([], [], color=color, lw=2, label=label)
                if self.input_ranges is not None:
                    low, high = self.input_ranges[layer]
                    axis.axvspan(low, high, color=color, alpha=0.08, lw=0)
                    axis.plot(
                        [low, high],
                        [0.02 + 0.03 * layer] * 2,
                        transform=axis.get_xaxis_transform(),
                        color=color,
                        lw=4,
                        solid_capstyle="butt",
                    )
            if self.input_ranges is not None:
                axis.plot([], [], color="0.4", lw=4, label="inputs seen (band)")
            if self.initial is not None:
                axis.plot([], [], color="0.4", ls=":", label="before training")
            axis.axhline(0, color="0.85", lw=0.8, zorder=0)
            axis.axvline(0, color="0.85", lw=0.8, zorder=0)
            axis.set_xlim(x[0], x[-1])
            axis.set_title(f"x in [{x[0]:.3g}, {x[-1]:.3g}]")
            axis.set_xlabel("pre-activation x")
            axis.set_ylabel("activation(x)")
            axis.legend(fontsize="x-small")
        if ax is None:
            fig.suptitle(
                title or f"Activation '{self.activation}' of each hidden layer"
            )
        self.figure_, self.ax_ = fig, axes
        self.axes_ = axes
        return self


class _TableDisplay:
    """A figure of a :func:`~sklearn_learnact.compare.compare_activations` table,
    its axes labelled with the score's name."""

    def __init__(self, table: pd.DataFrame, *, score_name: str = "score"):
        self.table, self.score_name = table, score_name

    @classmethod
    def _from(cls, comparison, score_name, title, ax):
        name = score_name or _label(comparison.scoring)
        return cls(comparison.table, score_name=name).plot(title=title, ax=ax)


class ScoreDisplay(_TableDisplay):
    """Mean cross-validated score per activation with the table's 95% interval.

    Each activation is a point at its mean score with its 95% confidence
    interval (``ci_low``, ``ci_high`` of the table: the corrected t interval,
    clipped to the metric's range), coloured by kind; ``*`` marks a
    significant difference from the baseline (Holm-adjusted), the dashed line
    is the baseline's mean; a failed activation is listed without a point.

    Parameters
    ----------
    table : DataFrame
        A :func:`~sklearn_learnact.compare.compare_activations` table.
    score_name : str, default="score"
        Axis label, e.g. ``"accuracy"``.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
    ax_ : matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_learnact.plotting import ScoreDisplay
    >>> t = pd.DataFrame({"activation": ["relu", "mixture"], "kind": ["fixed",
    ...     "learned"], "mean_score": [0.8, 0.82], "ci_low": [0.78, 0.8],
    ...     "ci_high": [0.82, 0.84], "baseline": "relu",
    ...     "significant": [False, True]})
    >>> ScoreDisplay(t, score_name="accuracy").plot().ax_.get_xlabel()
    'mean CV accuracy, 95% CI (as in the table)'
    """

    @classmethod
    def from_comparison(
        cls, comparison, *, score_name: str | None = None, title=None, ax=None
    ) -> "ScoreDisplay":
        """Plot the scores of a :class:`~sklearn_learnact.compare.Comparison`.

        Parameters
        ----------
        comparison : Comparison
        score_name : str, optional
            Default: the comparison's metric.
        title : str, optional
        ax : matplotlib Axes, optional

        Returns
        -------
        display : ScoreDisplay
        """
        return cls._from(comparison, score_name, title, ax)

    def plot(self, *, title: str | None = None, ax=None) -> "ScoreDisplay":
        """Draw the scores.

        Parameters
        ----------
        title : str, optional
        ax : matplotlib Axes, optional

        Returns
        -------
        self : ScoreDisplay
        """
        table = self.table.iloc[::-1]  # best at the top
        fig, (axis,) = _axes(ax, 1, (7, 0.45 * len(table) + 1.6))
        y = np.arange(len(table))
        mean = table["mean_score"].to_numpy(float)
        err = np.vstack([mean - table["ci_low"], table["ci_high"] - mean])
        for kind, color in _KIND_COLORS.items():
            rows = (table["kind"] == kind).to_numpy() & np.isfinite(mean)
            if rows.any():
                axis.errorbar(
                    mean[rows],
                    y[rows],
                    xerr=err[:, rows],
                    fmt="o",
                    color=color,
                    capsize=4,
                    lw=2,
                    label=kind,
                )
        labels = [
            f"{a} (failed)" if not np.isfinite(m) else (f"{a} *" if sig else a)
            for a, m, sig in zip(table["activation"], mean, table["significant"])
        ]
        axis.set_yticks(y, labels)
        axis.set_ylim(-0.7, len(table) - 0.3)
        base = table["baseline"].iloc[0]
        base_mean = table.loc[table["activation"] == base, "mean_score"]
        if len(base_mean) and np.isfinite(base_mean.iloc[0]):
            axis.axvline(
                base_mean.iloc[0], color="k", ls="--", lw=1, label=f"baseline ({base})"
            )
        axis.legend(fontsize="small", loc="best")
        axis.set_xlabel(f"mean CV {self.score_name}, 95% CI (as in the table)")
        axis.set_ylabel("activation (* significant vs baseline)")
        axis.grid(axis="x", color="0.92")
        if ax is None:
            fig.suptitle(title or "Cross-validated score per activation")
        self.figure_, self.ax_ = fig, axis
        return self


def _loss_name(inner) -> str:
    if is_classifier(inner):
        return "cross-entropy"
    if getattr(inner, "standardize_target", False):
        return "MSE on the standardised target"
    return "MSE"


class TrainingCurveDisplay:
    """Training (solid) and validation (dashed) loss per epoch, and the
    validation score of early stopping.

    Parameters
    ----------
    histories : mapping of str to DataFrame
        Per model, an estimator's ``history_``.
    score_name : str, default="score"
        What the estimators' ``valid_score`` is: accuracy for a classifier,
        R² for a regressor.
    loss_name : str, default="loss"

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
    ax_ : ndarray of matplotlib.axes.Axes
        The loss axes, and the validation-score axes when there is one.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.plotting import TrainingCurveDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LearnedActivationClassifier((8,), max_iter=3, early_stopping=True)
    >>> disp = TrainingCurveDisplay.from_estimator(clf.fit(X, y))
    >>> disp.ax_[1].get_ylabel()
    'validation accuracy'
    """

    def __init__(
        self,
        histories: Mapping[str, pd.DataFrame],
        *,
        score_name: str = "score",
        loss_name: str = "loss",
    ):
        self.histories = dict(histories)
        self.score_name, self.loss_name = score_name, loss_name

    @classmethod
    def from_estimator(
        cls, estimator, *, name: str | None = None, title=None, ax=None
    ) -> "TrainingCurveDisplay":
        """Plot a fitted estimator's (or pipeline's) training curves.

        Parameters
        ----------
        estimator : estimator
            Fitted learned-activation estimator, or a pipeline ending in one.
        name : str, optional
            Legend label; default the activation.
        title : str, optional
        ax : matplotlib Axes or a pair of them, optional
            Loss axes, and validation-score axes with early stopping.

        Returns
        -------
        display : TrainingCurveDisplay
        """
        return cls._from({name: estimator}, title, ax)

    @classmethod
    def from_comparison(cls, comparison, *, title=None, ax=None):
        """Plot the training curves of a comparison's refitted models.

        Parameters
        ----------
        comparison : Comparison
        title : str, optional
        ax : matplotlib Axes or a pair of them, optional

        Returns
        -------
        display : TrainingCurveDisplay
        """
        if not comparison.estimators:
            raise ValueError("The comparison has no refitted model: use refit=True.")
        return cls._from(dict(comparison.estimators), title, ax)

    @classmethod
    def _from(cls, estimators: Mapping, title, ax):
        histories, inner = {}, None
        for name, estimator in estimators.items():
            _, inner = learnact_step(estimator)
            histories[name or inner.activation_] = inner.history_
        display = cls(
            histories,
            score_name="accuracy" if is_classifier(inner) else "R²",
            loss_name=_loss_name(inner),
        )
        return display.plot(title=title, ax=ax)

    def plot(self, *, title: str | None = None, ax=None) -> "TrainingCurveDisplay":
        """Draw the curves.

        Parameters
        ----------
        title : str, optional
        ax : matplotlib Axes or a pair of them, optional

        Returns
        -------
        self : TrainingCurveDisplay
        """
        scored = any("valid_score" in h for h in self.histories.values())
        n = 2 if scored else 1
        fig, axes = _axes(ax, n, (11 if scored else 6, 4.2))
        for i, (name, history) in enumerate(self.histories.items()):
            color = f"C{i % 10}"
            epochs = np.arange(1, len(history) + 1)
            axes[0].plot(epochs, history["train_loss"], color=color, label=name)
            if "valid_loss" in history:
                axes[0].plot(epochs, history["valid_loss"], color=color, ls="--")
            if scored and "valid_score" in history:
                axes[1].plot(epochs, history["valid_score"], color=color, label=name)
        axes[0].set_title("Loss (solid: training, dashed: validation)")
        axes[0].set_xlabel("epoch")
        axes[0].set_ylabel(self.loss_name)
        axes[0].legend(fontsize="small", ncol=2)
        if scored:
            axes[1].set_title(f"Validation {self.score_name} (early stopping)")
            axes[1].set_xlabel("epoch")
            axes[1].set_ylabel(f"validation {self.score_name}")
            axes[1].legend(fontsize="small", ncol=2)
        if ax is None:
            fig.suptitle(title or "Training curves")
        self.figure_, self.ax_ = fig, axes
        return self


class RobustnessDisplay(_TableDisplay):
    """Clean vs dirty training data: scores and their difference.

    Left: the clean and the dirty model's mean score on the same clean test
    folds. Right: dirty minus clean with its 95% confidence interval (as in
    the table); a robust activation stays close to 0.

    Parameters
    ----------
    table : DataFrame
        A :func:`~sklearn_learnact.compare.compare_activations` table from the
        robustness mode (``corruption=...``).
    score_name : str, default="score"

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
    ax_ : ndarray of two matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_learnact.plotting import RobustnessDisplay
    >>> t = pd.DataFrame({"activation": ["relu", "tanh"], "clean_score": [0.9, 0.8],
    ...     "dirty_score": [0.8, 0.78], "dirty_minus_clean": [-0.1, -0.02],
    ...     "dirty_minus_clean_ci_low": [-0.15, -0.05],
    ...     "dirty_minus_clean_ci_high": [-0.05, 0.01]})
    >>> len(RobustnessDisplay(t).plot().ax_)
    2
    """

    @classmethod
    def from_comparison(
        cls, comparison, *, score_name: str | None = None, title=None, ax=None
    ) -> "RobustnessDisplay":
        """Plot a robustness comparison (``corruption=...``).

        Parameters
        ----------
        comparison : Comparison
        score_name : str, optional
            Default: the comparison's metric.
        title : str, optional
        ax : pair of matplotlib Axes, optional

        Returns
        -------
        display : RobustnessDisplay
        """
        if "dirty_score" not in comparison.table:
            raise ValueError(
                "Not a robustness comparison: call compare_activations with "
                "corruption=... ."
            )
        return cls._from(comparison, score_name, title, ax)

    def plot(self, *, title: str | None = None, ax=None) -> "RobustnessDisplay":
        """Draw the two panels.

        Parameters
        ----------
        title : str, optional
        ax : pair of matplotlib Axes, optional

        Returns
        -------
        self : RobustnessDisplay
        """
        table = self.table.iloc[::-1]
        fig, (left, right) = _axes(ax, 2, (11, 0.45 * len(table) + 1.8))
        y = np.arange(len(table))
        left.barh(
            y + 0.2,
            table["clean_score"],
            height=0.4,
            color="tab:green",
            label="trained on clean data",
        )
        left.barh(
            y - 0.2,
            table["dirty_score"],
            height=0.4,
            color="tab:red",
            label="trained on dirty data",
        )
        left.set_yticks(y, table["activation"])
        right.set_yticks(y, table["activation"])
        scores = np.r_[table["clean_score"], table["dirty_score"]]
        scores = scores[np.isfinite(scores)]
        if scores.size:
            pad = 0.1 * (scores.max() - scores.min()) + 1e-3
            left.set_xlim(scores.min() - pad, scores.max() + pad)
        left.set_xlabel(f"mean {self.score_name} on clean test folds")
        left.set_ylabel("activation")
        left.set_title("Clean vs dirty training data")
        left.legend(fontsize="small", loc="best")
        diff = table["dirty_minus_clean"]
        err = np.vstack(
            [
                diff - table["dirty_minus_clean_ci_low"],
                table["dirty_minus_clean_ci_high"] - diff,
            ]
        )
        right.errorbar(
            diff,
            y,
            xerr=err,
            fmt="o",
            color="tab:orange",
            capsize=4,
            lw=2,
            label="dirty − clean, 95% CI",
        )
        right.axvline(0, color="k", lw=1)
        right.set_xlabel(f"dirty − clean {self.score_name} (0 = robust)")
        right.set_title("Cost of the corruption")
        right.legend(fontsize="small", loc="best")
        if ax is None:
            fig.suptitle(title or "Robustness to corrupted training data")
        self.figure_, self.ax_ = fig, np.array([left, right], dtype=object)
        return self


class CompressionDisplay:
    """Each learned activation beside its compressed replacement.

    One panel per compressed activation: the learned function and its
    replacement over the recorded range (widened by a margin), the recorded
    range marked, and a histogram of the recorded inputs on a twin axis.
    Create it with :meth:`from_compressor` (or :meth:`from_estimator`, which
    fits the compressor first).

    Parameters
    ----------
    inputs : list of ndarray of shape (n_points,)
        The x values, one array per panel.
    learned, compressed : list of ndarray of shape (n_points,)
        The learned activation and its replacement at ``inputs``.
    ranges : list of (float, float)
        The recorded range of each panel.
    histograms : list of (ndarray, ndarray)
        Per panel, ``(counts, edges)`` of the recorded inputs.
    titles : list of str
        Panel titles.
    replaced_by : list of str
        Legend label of each replacement, e.g. ``"spline"``.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
        After :meth:`plot`.
    axes_ : ndarray of matplotlib.axes.Axes
        One per panel.
    hist_axes_ : ndarray of matplotlib.axes.Axes
        The twin axes of the histograms.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_learnact import (LearnedActivationRegressor,
    ...                               SplineActivationCompressor)
    >>> from sklearn_learnact.plotting import CompressionDisplay
    >>> X = np.linspace(-2, 2, 64)[:, None]
    >>> reg = LearnedActivationRegressor((8,), "swish", max_iter=5, random_state=0)
    >>> comp = SplineActivationCompressor(reg).fit(X, X[:, 0] ** 2)
    >>> disp = CompressionDisplay.from_compressor(comp)
    >>> len(disp.axes_), disp.axes_[0].get_xlabel()
    (1, 'pre-activation x')
    """

    def __init__(
        self, inputs, learned, compressed, ranges, histograms, titles, replaced_by
    ):
        self.inputs, self.learned, self.compressed = inputs, learned, compressed
        self.ranges, self.histograms = ranges, histograms
        self.titles, self.replaced_by = titles, replaced_by

    @classmethod
    def from_compressor(
        cls,
        compressor,
        *,
        channel: int = 0,
        margin: float = 0.1,
        n_points: int = 1001,
        ax=None,
    ) -> "CompressionDisplay":
        """Plot the activations of a fitted compressor.

        Parameters
        ----------
        compressor : SplineActivationCompressor
            A fitted compressor.
        channel : int, default=0
            Channel drawn for per-neuron activations.
        margin : float, default=0.1
            Share of the recorded range added on each side.
        n_points : int, default=1001
            Points per curve.
        ax : matplotlib Axes or sequence of Axes, optional
            One per compressed activation; default: a new figure.

        Returns
        -------
        display : CompressionDisplay
        """
        check_is_fitted(compressor, "layers_")
        rows = {row["layer"]: row for row in compressor.report_.to_dict("records")}
        panels = []
        for layer in compressor.layers_:
            n_channels = layer.low.size
            if n_channels > 1 and not 0 <= channel < n_channels:
                raise ValueError(
                    f"channel={channel} but layer {layer.layer} has {n_channels} "
                    f"channels (0 to {n_channels - 1})."
                )
            ch = channel if n_channels > 1 else 0
            low, high = float(layer.low[ch]), float(layer.high[ch])
            width = high - low
            x = np.linspace(low - margin * width, high + margin * width, n_points)
            xs = np.repeat(x[:, None], n_channels, axis=1)
            row = rows[layer.layer]
            suffix = f", channel {ch}" if n_channels > 1 else ""
            form = "exact" if row["exact"] else f"{row['n_knots']} knots"
            title = (
                f"layer {layer.layer} ({row['kind']}{suffix}): {form}, "
                f"{row['n_cells']} cells, max err {row['max_error']:.1e}"
            )
            panels.append(
                (
                    x,
                    _evaluate(layer.original, xs)[:, ch],
                    _evaluate(layer.compressed, xs)[:, ch],
                    (low, high),
                    (layer.counts[ch], layer.edges[ch]),
                    title,
                    row["replaced_by"],
                )
            )
        display = cls(*(list(column) for column in zip(*panels)))
        return display.plot(ax=ax)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y=None,
        *,
        channel: int = 0,
        margin: float = 0.1,
        n_points: int = 1001,
        ax=None,
        **compressor_params,
    ) -> "CompressionDisplay":
        """Compress ``estimator`` on ``X`` and plot its activations.

        Parameters
        ----------
        estimator : estimator
            A learned-activation classifier or regressor, or a pipeline ending
            in one (fitted, or fitted on ``X, y`` first).
        X : array-like of shape (n_samples, n_features)
            Data whose activation inputs define the recorded ranges.
        y : array-like of shape (n_samples,), optional
            Targets, for an unfitted ``estimator``.
        channel, margin, n_points, ax
            As in :meth:`from_compressor`.
        **compressor_params
            Parameters of
            :class:`~sklearn_learnact.SplineActivationCompressor`, e.g.
            ``tol``.

        Returns
        -------
        display : CompressionDisplay
        """
        from .compression import SplineActivationCompressor

        compressor = SplineActivationCompressor(estimator, **compressor_params)
        return cls.from_compressor(
            compressor.fit(X, y),
            channel=channel,
            margin=margin,
            n_points=n_points,
            ax=ax,
        )

    def plot(self, *, ax=None) -> "CompressionDisplay":
        """Draw one panel per compressed activation.

        Parameters
        ----------
        ax : matplotlib Axes or sequence of Axes, optional
            One per panel; default: a new figure.

        Returns
        -------
        self : CompressionDisplay
        """
        n = len(self.inputs)
        if ax is None:
            fig = _new_figure(figsize=(4.5 * n, 3.6))
            axes = np.atleast_1d(fig.subplots(1, n, squeeze=False)[0])
        else:
            axes = np.ravel(np.asarray(ax, dtype=object))
            if len(axes) != n:
                raise ValueError(
                    f"ax has {len(axes)} axes but there are {n} compressed "
                    "activations: pass one Axes per activation."
                )
            fig = axes[0].figure
        hist_axes = []
        panels = zip(
            axes,
            self.inputs,
            self.learned,
            self.compressed,
            self.ranges,
            self.histograms,
            self.titles,
            self.replaced_by,
        )
        for ax_, x, learned, compressed, (low, high), hist, title, label in panels:
            counts, edges = hist
            shown = (edges[1:] > x[0]) & (edges[:-1] < x[-1])
            edges = edges[np.r_[shown, False] | np.r_[False, shown]]
            twin = ax_.twinx()
            twin.stairs(counts[shown], edges, fill=True, color="0.85")
            twin.set_ylabel("recorded inputs")
            hist_axes.append(twin)
            ax_.set_zorder(twin.get_zorder() + 1)
            ax_.patch.set_visible(False)
            ax_.plot(x, learned, color="C0", lw=2.5, label="learned")
            ax_.plot(x, compressed, "--", color="C3", lw=1.5, label=label)
            ax_.axvspan(low, high, color="C2", alpha=0.06, label="recorded range")
            for edge in (low, high):
                ax_.axvline(edge, color="C2", lw=0.8, ls=":")
            ax_.set_xlim(x[0], x[-1])
            ax_.set_title(title, fontsize=9)
            ax_.set_xlabel("pre-activation x")
            ax_.set_ylabel("activation(x)")
            ax_.legend(fontsize=8, loc="upper left")
        self.figure_, self.axes_ = fig, axes
        self.hist_axes_ = np.asarray(hist_axes, dtype=object)
        return self


class ActivationShapesDisplay:
    """Expression activations over an input range, and a reference dashed.

    Build it with :meth:`from_expressions`.

    Parameters
    ----------
    x : ndarray of shape (n_points,)
        The inputs.
    outputs : list of ndarray of shape (n_points,)
        One curve per activation.
    labels : list of str
        Their legend entries.
    reference : ndarray of shape (n_points,), optional
        The reference activation's values, drawn dashed.
    reference_label : str, optional
        Its legend entry.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
    ax_ : matplotlib.axes.Axes

    Examples
    --------
    >>> from sklearn_learnact.plotting import ActivationShapesDisplay
    >>> disp = ActivationShapesDisplay.from_expressions(["tanh(x)", "min(x, sin(x))"])
    >>> [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    ['tanh(x)', 'min(x, sin(x))', 'relu(x)']
    """

    def __init__(self, x, outputs, labels, *, reference=None, reference_label=None):
        self.x, self.outputs, self.labels = x, outputs, labels
        self.reference, self.reference_label = reference, reference_label

    @classmethod
    def from_expressions(
        cls,
        expressions: Sequence[str],
        *,
        reference: str | None = "relu(x)",
        x_range: tuple[float, float] = (-5.0, 5.0),
        labels: Sequence[str] | None = None,
        title: str | None = None,
        ax=None,
    ) -> "ActivationShapesDisplay":
        """Plot expression activations (e.g. a search's best) over ``x_range``.

        Parameters
        ----------
        expressions : sequence of str
            Expressions of ``x`` (:class:`~sklearn_learnact.activations.Expression`).
        reference : str or None, default="relu(x)"
            An expression drawn dashed for reference.
        x_range : (float, float), default=(-5, 5)
        labels : sequence of str, optional
            Legend entries; default the expressions.
        title : str, optional
            Title of a new figure.
        ax : matplotlib Axes, optional

        Returns
        -------
        display : ActivationShapesDisplay
        """
        x = np.linspace(*x_range, 1001)
        outputs = [_evaluate(Expression(expr), x) for expr in expressions]
        values = None if reference is None else _evaluate(Expression(reference), x)
        display = cls(
            x,
            outputs,
            list(labels or expressions),
            reference=values,
            reference_label=reference,
        )
        return display.plot(title=title, ax=ax)

    def plot(self, *, title: str | None = None, ax=None) -> "ActivationShapesDisplay":
        """Draw the curves.

        Parameters
        ----------
        title : str, optional
            Title of a new figure (none by default).
        ax : matplotlib Axes, optional

        Returns
        -------
        self : ActivationShapesDisplay
        """
        fig, (axis,) = _axes(ax, 1, (6.4, 4.0))
        for values, label in zip(self.outputs, self.labels):
            axis.plot(self.x, values, label=label)
        if self.reference is not None:
            axis.plot(self.x, self.reference, "k--", lw=1, label=self.reference_label)
        axis.axhline(0, color="0.8", lw=0.5, zorder=0)
        axis.axvline(0, color="0.8", lw=0.5, zorder=0)
        axis.set_xlabel("x")
        axis.set_ylabel("activation(x)")
        axis.legend(fontsize="small")
        if ax is None and title is not None:
            fig.suptitle(title)
        self.figure_, self.ax_ = fig, axis
        return self


class SearchEmbeddingDisplay:
    """The 2-D embedding of a surrogate search's candidates, coloured by score.

    Unevaluated candidates are grey; evaluated ones are coloured by their
    cross-validated score, the baselines are labelled and the best is starred.
    Build it with :meth:`from_search`.

    Parameters
    ----------
    embedding : ndarray of shape (n_candidates, 2)
        The candidates' coordinates; NaN for candidates not shown (those the
        failure filter removed).
    evaluated : ndarray of int
        The indices of the evaluated candidates.
    scores : ndarray of shape (n_evaluated,)
        Their scores.
    labels : dict of int to str
        Annotations, by candidate index (the baselines).
    best : int
        The index of the best candidate.
    best_label : str
        Its legend entry.
    features : str
        The features of the embedding, named in the title.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
    ax_ : matplotlib.axes.Axes
    colorbar_ : matplotlib.colorbar.Colorbar

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_learnact.plotting import SearchEmbeddingDisplay
    >>> emb = np.random.default_rng(0).random((20, 2))
    >>> disp = SearchEmbeddingDisplay(emb, np.array([3, 7]), np.array([0.8, 0.9]),
    ...     labels={3: "relu"}, best=7, best_label="tanh(x)", features="both").plot()
    >>> disp.ax_.get_title()
    '2 of 20 candidates evaluated (both features)'
    """

    def __init__(
        self, embedding, evaluated, scores, *, labels, best, best_label, features
    ):
        self.embedding, self.evaluated, self.scores = embedding, evaluated, scores
        self.labels, self.best, self.best_label = labels, best, best_label
        self.features = features

    @classmethod
    def from_search(cls, search, *, ax=None) -> "SearchEmbeddingDisplay":
        """Plot the embedding of a fitted surrogate search (the candidates
        that its failure filter removed are not shown).

        Parameters
        ----------
        search : SurrogateActivationSearch
            Fitted.
        ax : matplotlib Axes, optional

        Returns
        -------
        display : SearchEmbeddingDisplay
        """
        check_is_fitted(search, "results_")
        index = {e: i for i, e in enumerate(search.space_.expressions)}
        res = search.results_
        done = np.array([index[e] for e in res["expression"]])
        labels = {
            i: expr.removesuffix("(x)")
            for expr, i in zip(res["expression"], done)
            if expr in search.baselines or expr in BASELINES
        }
        display = cls(
            search.embedding_,
            done,
            res["cv_score"].to_numpy(),
            labels=labels,
            best=index[search.best_activation_],
            best_label=search.best_activation_,
            features=search.features,
        )
        return display.plot(ax=ax)

    def plot(self, *, ax=None) -> "SearchEmbeddingDisplay":
        """Draw the embedding.

        Parameters
        ----------
        ax : matplotlib Axes, optional

        Returns
        -------
        self : SearchEmbeddingDisplay
        """
        fig, (axis,) = _axes(ax, 1, (6.4, 5.2))
        emb, done = self.embedding, self.evaluated
        axis.scatter(emb[:, 0], emb[:, 1], s=4, c="0.82", label="not evaluated")
        points = axis.scatter(
            emb[done, 0],
            emb[done, 1],
            s=22,
            c=self.scores,
            cmap="viridis",
            edgecolors="k",
            linewidths=0.3,
            label="evaluated",
        )
        self.colorbar_ = fig.colorbar(points, ax=axis, label="CV score")
        for i, text in self.labels.items():
            axis.annotate(text, emb[i], fontsize=7, alpha=0.8)
        axis.scatter(
            *emb[self.best],
            marker="*",
            s=220,
            c="tab:red",
            edgecolors="k",
            label=f"best: {self.best_label}",
        )
        axis.set_xlabel("UMAP 1")
        axis.set_ylabel("UMAP 2")
        axis.legend(fontsize="small", loc="best")
        shown = int(np.isfinite(emb).all(axis=1).sum())
        axis.set_title(
            f"{len(done)} of {shown} candidates evaluated ({self.features} features)"
        )
        self.figure_, self.ax_ = fig, axis
        return self


def _evaluate(module: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    """``module`` at the (n, C) points ``x``, in float32 on its own device."""
    tensors = [*module.parameters(), *module.buffers()]
    device = tensors[0].device if tensors else torch.device("cpu")
    with torch.inference_mode():
        y = module(torch.as_tensor(x, dtype=torch.float32, device=device))
    return y.cpu().double().numpy()
