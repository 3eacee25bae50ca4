"""A comparison's answer in plain words: the verdict, then what limits it."""

import math

import numpy as np
from scipy import stats

from ..evaluation import BARELY_MOVED
from ._stats import MIN_PAIRED_FOLDS

#: Below this many folds the paired test has little power (df = k - 1 <= 3).
FEW_FOLDS = 5


def _is_fraction(comparison) -> bool:
    return tuple(comparison.score_bounds) == (0.0, 1.0)


def format_difference(comparison, value: float, low: float, high: float) -> str:
    """``+0.5 pp [-1.2, +2.2]`` for a [0, 1] metric, else ``+0.012 [...]``."""
    if _is_fraction(comparison):
        return f"{100 * value:+.1f} pp [{100 * low:+.1f}, {100 * high:+.1f}]"
    spec = "+.3f" if comparison.score_bounds[1] == 1.0 else "+.4g"  # R², D²
    return f"{value:{spec}} [{low:{spec}}, {high:{spec}}]"


def _value(comparison, value: float) -> str:
    """``-6.7 pp`` for a [0, 1] metric, else ``-0.012``."""
    if _is_fraction(comparison):
        return f"{100 * value:+.1f} pp"
    spec = "+.3f" if comparison.score_bounds[1] == 1.0 else "+.4g"
    return f"{value:{spec}}"


#: Reasons of the ``untested`` column that mean "cannot tell".
_CANNOT_TELL = ("too few folds", "no variance")


def _cannot_tell(rows, comparison, base: str) -> str:
    """Why the rows cannot be tested against ``base``, in words."""
    parts = []
    few = rows[rows["untested"] == "too few folds"]
    if len(few):
        parts.append(
            f"too few folds for {', '.join(few['activation'])} ("
            f"{len(comparison.splits)} paired differences; the test needs "
            f"{MIN_PAIRED_FOLDS} or more: use more folds, --cv)"
        )
    flat = rows[rows["untested"] == "no variance"]
    if len(flat):
        same = ", ".join(
            f"{r.activation} {_value(comparison, r.diff_vs_baseline)}"
            for r in flat.itertuples()
        )
        parts.append(
            f"no variance ({same} against {base} on every fold: identical "
            "differences are no evidence either way)"
        )
    return "; ".join(parts)


def _design(comparison) -> str:
    k = len(comparison.splits)
    parts = [f"{k}-fold CV"]
    if comparison.selection == "nested":
        parts[0] = f"nested {k}-fold CV"
    parts += ["Holm-adjusted", f"alpha {comparison.alpha:g}"]
    return ", ".join(parts)


def _listing(rows, comparison) -> str:
    return ", ".join(
        f"{r.activation} {format_difference(comparison, r.diff_vs_baseline, r.diff_ci_low, r.diff_ci_high)}"  # noqa: E501
        for r in rows.itertuples()
    )


def verdict(comparison) -> str:
    """The answer to "did a learned activation beat the baseline?", in words.

    Parameters
    ----------
    comparison : Comparison
        From ``compare_activations(..., return_details=True)``.

    Returns
    -------
    text : str
        E.g. ``"No learned activation beat relu significantly (5-fold CV,
        Holm-adjusted, alpha 0.05); best: mlp, +0.5 pp [-1.2, +2.2]."``: the
        difference from the baseline's mean score, in percentage points for
        a score in [0, 1], with its 95% interval.
    """
    table = comparison.table
    base = table["baseline"].iloc[0]
    base_row = table[table["activation"] == base].iloc[0]
    design = _design(comparison)
    if not math.isfinite(base_row["mean_score"]):
        return (
            f"No test: the baseline {base} failed ({base_row['failure']}); see the "
            "table."
        )
    ok = table[table["mean_score"].notna() & (table["activation"] != base)]
    learned = ok[ok["kind"] == "learned"]
    open_ = ok[ok["untested"].isin(_CANNOT_TELL)]
    better = learned[learned["significant"] & (learned["diff_vs_baseline"] > 0)]
    worse = learned[learned["significant"] & (learned["diff_vs_baseline"] < 0)]
    fixed = ok[(ok["kind"] != "learned") & ok["significant"]]
    if not (table["kind"] == "learned").any():
        head = f"No learned activation was compared with {base}."
    elif learned.empty:
        head = f"Every learned activation failed: no test against {base}."
    elif len(better):
        who = " and ".join(better["activation"])
        head = (
            f"{who} beat {base} significantly ({design}): "
            f"{_listing(better, comparison)}."
        )
    elif learned["untested"].isin(_CANNOT_TELL).all():
        head = (
            f"Cannot tell whether a learned activation beats {base}: "
            f"{_cannot_tell(learned, comparison, base)}."
        )
        open_ = open_[open_["kind"] != "learned"]
    else:
        best = learned.iloc[0]
        head = (
            f"No learned activation beat {base} significantly ({design}); best: "
            f"{best.activation}, "
            + format_difference(
                comparison, best.diff_vs_baseline, best.diff_ci_low, best.diff_ci_high
            )
            + "."
        )
    tail = []
    if len(open_):
        tail.append(
            f"Cannot tell for the others: {_cannot_tell(open_, comparison, base)}."
        )
    if len(worse):
        tail.append(f"Significantly worse than {base}: {_listing(worse, comparison)}.")
    if len(fixed):
        up = fixed[fixed["diff_vs_baseline"] > 0]
        down = fixed[fixed["diff_vs_baseline"] < 0]
        if len(up):
            tail.append(
                f"Among the other activations, significantly better than {base}: "
                f"{_listing(up, comparison)}."
            )
        if len(down):
            tail.append(
                f"Among the other activations, significantly worse than {base}: "
                f"{_listing(down, comparison)}."
            )
    return " ".join([head, *tail])


def under_trained(comparison) -> str:
    """How many reported fits ran out of epochs while still improving."""
    table = comparison.table
    n, total = int(table["n_under_trained"].sum()), int(table["n_fits"].sum())
    which = ", ".join(
        f"{r.activation} {r.n_under_trained}/{r.n_fits}"
        for r in table.itertuples()
        if r.n_under_trained
    )
    epochs = f" ({comparison.max_iter} epochs)" if comparison.max_iter else ""
    lead = "Most fits are under-trained" if 2 * n > total else "Under-trained fits"
    return (
        f"{lead}: {n} of {total} fits stopped at max_iter{epochs} while still "
        f"improving ({which}). Their scores are those of models still learning, "
        "so the ranking may change with more epochs: raise max_iter (--max-iter)."
    )


def _min_detectable(comparison) -> float:
    """Median half-width of the 95% intervals of the differences."""
    table = comparison.table
    width = (table["diff_ci_high"] - table["diff_ci_low"]).dropna() / 2
    return float(width.median()) if len(width) else math.nan


def caveats(comparison) -> list[str]:
    """What limits the verdict, most important first (an empty list if
    nothing does): failures, under-training, learned activations that barely
    moved, selection bias, low power.

    Parameters
    ----------
    comparison : Comparison

    Returns
    -------
    lines : list of str
    """
    table = comparison.table
    out = []
    failed = table[table["n_failed_folds"] > 0]
    for row in failed.itertuples():
        out.append(
            f"Failed: {row.activation}: {row.failure}. Its score is NaN; it is "
            "ranked last and left out of the tests."
        )
    if table["n_under_trained"].sum():
        out.append(under_trained(comparison))
    still = table[table["barely_moved"]]
    if len(still):
        which = ", ".join(
            f"{r.activation} ({r.movement:.3f})" for r in still.itertuples()
        )
        out.append(
            f"Barely learned: {which} moved less than {BARELY_MOVED:g} from their "
            "initial shape (largest change of the activation over the inputs it "
            "saw, relative to the initial output's range; median over folds): "
            "here 'learned' means 'still at its initialisation'. Raise "
            "activation_lr, train longer, or use more data."
        )
    if comparison.selection == "same folds":
        tries = (
            f"{comparison.n_candidates} Optuna trials"
            if comparison.search == "optuna"
            else f"{comparison.n_candidates} grid candidates"
        )
        out.append(
            f"Selection bias: each activation's best of {tries} was chosen and "
            "scored on the same folds, so its score is optimistically biased (the "
            "more trials, the more): use nested cross-validation (inner_cv, "
            "--inner-cv) for an unbiased score."
        )
    k = len(comparison.splits)
    if 1 < k < FEW_FOLDS:
        detectable = _min_detectable(comparison)
        size = (
            f"{100 * detectable:.1f} pp"
            if _is_fraction(comparison)
            else f"{detectable:.3g}"
        )
        t = stats.t.ppf(1 - comparison.alpha / 2, k - 1)
        smaller = (
            f"; differences smaller than about {size} (the median half-width of "
            "the 95% intervals) cannot be told from noise"
            if math.isfinite(detectable)
            else ""
        )
        out.append(
            f"Low power: with {k} folds the test has {k - 1} degrees of freedom "
            f"(critical t = {t:.2f}){smaller}. Use {FEW_FOLDS} folds or more (--cv)."
        )
    return out


def selection_text(comparison) -> str:
    """How each activation's configuration was chosen, in one sentence."""
    if comparison.selection == "nested":
        return (
            f"Nested cross-validation: in each of the {len(comparison.splits)} "
            f"outer training folds the configuration was chosen on "
            f"{comparison.n_inner_splits} inner folds, refitted on the outer "
            "training fold and scored on the outer test fold it had never seen."
        )
    if comparison.selection == "same folds":
        return (
            "The configuration was chosen and scored on the same folds "
            "(optimistically biased; nested CV: inner_cv)."
        )
    return "One configuration per activation: no tuning, no selection bias."


def bounds_text(comparison) -> str:
    """How the intervals were bounded, in one sentence."""
    low, high = comparison.score_bounds
    if np.isinf(low) and np.isinf(high):
        return (
            "The range of this metric is not known here, so the intervals are not "
            "clipped."
        )
    shown = f"[{low:g}, {high:g}]".replace("-inf", "-∞").replace("inf", "∞")
    return (
        f"The intervals are clipped to the metric's range {shown} (differences "
        "to ± its width); a clipped bound means the t interval reached past "
        "what is possible."
    )
