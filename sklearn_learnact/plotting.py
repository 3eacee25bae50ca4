"""Figures: learned activation shapes, training curves, scores, robustness.

Matplotlib is optional (``pip install "sklearn-learnact[plot]"``) and imported
on first use. Figures are built as :class:`matplotlib.figure.Figure` objects
without pyplot, so nothing here touches the global backend or opens a window;
``fig.savefig("x.png")`` renders with Agg. Each function takes an optional
``ax`` (or returns a new figure) so the figures compose.
"""

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

__all__ = [
    "ActivationDisplay",
    "CompressionDisplay",
    "plot_robustness",
    "plot_scores",
    "plot_training_curves",
]

#: Seed 002's input ranges: near zero, moderate, and far out (saturation/growth).
DEFAULT_RANGES = ((-3, 3), (-10, 10), (-100, 100))
_KIND_COLORS = {"fixed": "tab:gray", "learned": "tab:blue", "frozen": "tab:olive"}


def _new_figure(**kwargs):
    """A pyplot-free :class:`~matplotlib.figure.Figure`."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is in [dev]
        raise ImportError(
            'Plotting needs matplotlib: pip install "sklearn-learnact[plot]".'
        ) from exc
    return Figure(layout="constrained", **kwargs)


class ActivationDisplay:
    """The activation function of every hidden layer over several input ranges.

    Create it with :meth:`from_estimator`; seed 002's figures show each layer's
    learned activation at ``[-3, 3]``, ``[-10, 10]`` and ``[-100, 100]``.

    Parameters
    ----------
    inputs : list of ndarray of shape (n_points,)
        The x values, one array per range.
    outputs : list of list of ndarray of shape (n_points, n_curves)
        Per range, per layer: the activation's values (one curve per neuron
        for per-neuron activations, else one).
    activation : str
        Name shown in the title.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
        After :meth:`plot`.
    axes_ : ndarray of matplotlib.axes.Axes
        One per range.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.plotting import ActivationDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LearnedActivationClassifier((8, 8), "mixture", max_iter=3).fit(X, y)
    >>> disp = ActivationDisplay.from_estimator(clf)
    >>> len(disp.axes_), len(disp.outputs[0])
    (3, 2)
    """

    def __init__(self, inputs, outputs, activation: str):
        self.inputs, self.outputs, self.activation = inputs, outputs, activation

    @classmethod
    def from_estimator(
        cls,
        estimator,
        ranges: Sequence[tuple[float, float]] = DEFAULT_RANGES,
        *,
        n_points: int = 401,
        max_neurons: int = 16,
        title: str | None = None,
    ) -> "ActivationDisplay":
        """Evaluate and plot a fitted estimator's hidden activations.

        Parameters
        ----------
        estimator : estimator
            A fitted learned-activation classifier or regressor, or a pipeline
            ending in one.
        ranges : sequence of (float, float), default=((-3, 3), (-10, 10), (-100, 100))
            Input ranges, one panel each.
        n_points : int, default=401
            Points per range.
        max_neurons : int, default=16
            Per-neuron activations: at most this many curves per layer.
        title : str, optional
            Figure title; default names the activation.

        Returns
        -------
        display : ActivationDisplay
        """
        from .estimators import learnact_step

        _, inner = learnact_step(estimator)
        modules = inner.activations_
        inputs, outputs = [], []
        for low, high in ranges:
            x = np.linspace(low, high, n_points, dtype=np.float32)
            inputs.append(x)
            per_layer = []
            for module in modules:
                # a per-neuron module needs one input column per neuron
                n_curves = getattr(module, "num_parameters", 1)
                xt = torch.from_numpy(x)[:, None].expand(-1, n_curves)
                module.eval()
                with torch.no_grad():
                    y = module(xt.to(inner.device_)).cpu().numpy()
                per_layer.append(y[:, :max_neurons].astype(np.float64))
            outputs.append(per_layer)
        display = cls(inputs, outputs, inner.activation)
        return display.plot(title=title)

    def plot(self, *, title: str | None = None) -> "ActivationDisplay":
        """Draw one panel per range, one colour per layer.

        Returns
        -------
        self : ActivationDisplay
        """
        n = len(self.inputs)
        fig = _new_figure(figsize=(4.2 * n, 3.8))
        axes = np.atleast_1d(fig.subplots(1, n, squeeze=False)[0])
        colors = [f"C{i}" for i in range(10)]
        for ax, x, per_layer in zip(axes, self.inputs, self.outputs):
            for layer, y in enumerate(per_layer):
                color = colors[layer % 10]
                single = y.shape[1] == 1
                ax.plot(
                    x,
                    y,
                    color=color,
                    lw=2 if single else 0.8,
                    alpha=1 if single else 0.5,
                )
                label = f"layer {layer + 1}" + (
                    "" if single else f" ({y.shape[1]} neurons)"
                )
                ax.plot([], [], color=color, lw=2, label=label)
            ax.axhline(0, color="0.8", lw=0.8, zorder=0)
            ax.axvline(0, color="0.8", lw=0.8, zorder=0)
            ax.set_title(f"x in [{x[0]:g}, {x[-1]:g}]")
            ax.set_xlabel("pre-activation x")
            ax.set_ylabel("activation(x)")
            ax.legend(fontsize="small")
        fig.suptitle(title or f"Activation '{self.activation}' of each hidden layer")
        self.figure_, self.axes_ = fig, axes
        return self


def plot_training_curves(
    histories: Mapping[str, pd.DataFrame], *, title: str = "", score_name="score"
):
    """Training (solid) and validation (dashed) loss, and the validation score.

    Parameters
    ----------
    histories : mapping of str to DataFrame
        Per activation, an estimator's ``history_`` (seed 001's curves).
    title : str, default=""
        Figure title.
    score_name : str, default="score"
        Label of the validation score, e.g. ``"accuracy"``.

    Returns
    -------
    figure : matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_learnact.plotting import plot_training_curves
    >>> h = pd.DataFrame({"train_loss": [1.0, 0.5], "valid_loss": [1.1, 0.7],
    ...                   "valid_score": [0.6, 0.8]})
    >>> len(plot_training_curves({"relu": h}).axes)
    2
    """
    scored = any("valid_score" in h for h in histories.values())
    fig = _new_figure(figsize=(11 if scored else 6, 4.2))
    axes = fig.subplots(1, 2 if scored else 1, squeeze=False)[0]
    for i, (name, history) in enumerate(histories.items()):
        color = f"C{i % 10}"
        epochs = np.arange(1, len(history) + 1)
        axes[0].plot(epochs, history["train_loss"], color=color, label=name)
        if "valid_loss" in history:
            axes[0].plot(epochs, history["valid_loss"], color=color, ls="--")
        if scored and "valid_score" in history:
            axes[1].plot(epochs, history["valid_score"], color=color, label=name)
    axes[0].set_title("Loss (solid: training, dashed: validation)")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("loss")
    axes[0].legend(fontsize="small", ncol=2)
    if scored:
        axes[1].set_title("Validation score")
        axes[1].set_xlabel("epoch")
        axes[1].set_ylabel(f"validation {score_name}")
        axes[1].legend(fontsize="small", ncol=2)
    fig.suptitle(title or "Training curves")
    return fig


def plot_scores(table: pd.DataFrame, *, title: str = "", score_name: str = "score"):
    """Mean cross-validated score per activation, error bars one std.

    Bars are coloured by kind (fixed, learned, frozen); ``*`` marks a
    difference from the baseline that is significant (Holm-adjusted
    corrected t-test), the dashed line is the baseline's mean.

    Parameters
    ----------
    table : DataFrame
        A :func:`~sklearn_learnact.search.compare_activations` table.
    title : str, default=""
    score_name : str, default="score"
        Axis label, e.g. ``"accuracy"``.

    Returns
    -------
    figure : matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_learnact.plotting import plot_scores
    >>> t = pd.DataFrame({"activation": ["relu", "mixture"], "kind": ["fixed",
    ...     "learned"], "mean_score": [0.8, 0.82], "std_score": [0.02, 0.01],
    ...     "baseline": "relu", "significant": [False, True]})
    >>> plot_scores(t).axes[0].get_xlabel()
    'mean CV score (± 1 std over folds)'
    """
    table = table.iloc[::-1]  # best at the top
    fig = _new_figure(figsize=(7, 0.45 * len(table) + 1.6))
    ax = fig.subplots()
    y = np.arange(len(table))
    colors = [_KIND_COLORS.get(k, "tab:purple") for k in table["kind"]]
    ax.barh(
        y,
        table["mean_score"],
        xerr=table["std_score"],
        color=colors,
        capsize=3,
        alpha=0.85,
    )
    labels = [
        f"{a} *" if sig else a
        for a, sig in zip(table["activation"], table["significant"])
    ]
    ax.set_yticks(y, labels)
    base = table.loc[table["activation"] == table["baseline"].iloc[0], "mean_score"]
    if len(base):
        ax.axvline(
            base.iloc[0],
            color="k",
            ls="--",
            lw=1,
            label=f"baseline ({table['baseline'].iloc[0]})",
        )
    low = (table["mean_score"] - table["std_score"]).min()
    high = (table["mean_score"] + table["std_score"]).max()
    pad = 0.15 * (high - low) + 1e-3
    ax.set_xlim(low - pad, high + pad)
    for kind, color in _KIND_COLORS.items():
        if kind in set(table["kind"]):
            ax.barh([np.nan], [np.nan], color=color, label=kind)
    ax.legend(fontsize="small", loc="lower right")
    ax.set_xlabel(f"mean CV {score_name} (± 1 std over folds)")
    ax.set_ylabel("activation (* significant vs baseline)")
    fig.suptitle(title or "Cross-validated score per activation")
    return fig


def plot_robustness(table: pd.DataFrame, *, title: str = "", score_name="score"):
    """Clean vs dirty training data (seed 004): scores and their difference.

    Left: the clean and the dirty model's mean score on the same clean test
    folds. Right: dirty minus clean with its 95% confidence interval; a
    robust activation stays close to 0.

    Parameters
    ----------
    table : DataFrame
        A :func:`~sklearn_learnact.search.compare_activations` table from the
        robustness mode (``corruption=...``).
    title : str, default=""
    score_name : str, default="score"

    Returns
    -------
    figure : matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_learnact.plotting import plot_robustness
    >>> t = pd.DataFrame({"activation": ["relu", "tanh"], "clean_score": [0.9, 0.8],
    ...     "dirty_score": [0.8, 0.78], "dirty_minus_clean": [-0.1, -0.02],
    ...     "dirty_minus_clean_ci_low": [-0.15, -0.05],
    ...     "dirty_minus_clean_ci_high": [-0.05, 0.01]})
    >>> len(plot_robustness(t).axes)
    2
    """
    table = table.iloc[::-1]
    fig = _new_figure(figsize=(11, 0.45 * len(table) + 1.8))
    left, right = fig.subplots(1, 2, sharey=True)
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
    scores = np.r_[table["clean_score"], table["dirty_score"]]
    pad = 0.1 * (scores.max() - scores.min()) + 1e-3
    left.set_xlim(scores.min() - pad, scores.max() + pad)
    left.set_xlabel(f"mean {score_name} on clean test folds")
    left.set_ylabel("activation")
    left.set_title("Clean vs dirty training data")
    left.legend(fontsize="small", loc="lower right")
    diff = table["dirty_minus_clean"]
    err = np.vstack(
        [
            diff - table["dirty_minus_clean_ci_low"],
            table["dirty_minus_clean_ci_high"] - diff,
        ]
    )
    right.barh(
        y, diff, xerr=err, color="tab:orange", capsize=3, label="dirty − clean, 95% CI"
    )
    right.axvline(0, color="k", lw=1)
    right.set_xlabel(f"dirty − clean {score_name} (0 = robust)")
    right.set_title("Cost of the corruption")
    right.legend(fontsize="small", loc="lower right")
    fig.suptitle(title or "Robustness to corrupted training data")
    return fig


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
        from sklearn.utils.validation import check_is_fitted

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


def _evaluate(module: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    """``module`` at the (n, C) points ``x``, in float32 on its own device."""
    tensors = [*module.parameters(), *module.buffers()]
    device = tensors[0].device if tensors else torch.device("cpu")
    with torch.inference_mode():
        y = module(torch.as_tensor(x, dtype=torch.float32, device=device))
    return y.cpu().double().numpy()
