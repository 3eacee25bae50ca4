"""The comparison table, one row per activation, and the per-fold table."""

import json
import math

import numpy as np
import pandas as pd

from ..activations import is_learnable
from ..estimators import learnact_step
from ..evaluation import BARELY_MOVED
from ..studies import json_params
from ._stats import _corrected_ci, _diff_bounds, _holm, corrected_ttest, untestable


def _learned_summary(estimator) -> str:
    _, inner = learnact_step(estimator)
    frame = inner.learned_activations_
    if frame.empty:
        return ""
    parts = []
    for layer, rows in frame.groupby("layer", sort=True):
        values = rows.groupby("parameter", sort=False)["value"]
        means = values.mean()
        per_neuron = (values.size() > 1).any()
        shown = [f"{p}={v:.3g}" for p, v in means.iloc[:6].items()]
        more = f", +{len(means) - 6} more" if len(means) > 6 else ""
        mean = " (means over neurons)" if per_neuron else ""
        parts.append(f"layer {layer}: {', '.join(shown)}{more}{mean}")
    return "; ".join(parts)


def _n_parameters(estimator) -> tuple[int, int]:
    _, inner = learnact_step(estimator)
    module = inner.net_.module_
    total = sum(p.numel() for p in module.parameters())
    act = sum(p.numel() for p in module.activations.parameters())
    return int(total), int(act)


def _nan_to_inf(value: float) -> float:
    return -math.inf if math.isnan(value) else value


def _kind(name: str, inner) -> str:
    if not is_learnable(name):
        return "fixed"
    return "learned" if inner.learn_activation else "frozen"


def _failure(folds: list[dict]) -> str:
    errors = [r["error"] for r in folds if r["error"]]
    if not errors:
        return ""
    return f"{len(errors)} of {len(folds)} folds failed, first: {errors[0]}"


def _median(values) -> float:
    """Median of the finite values; NaN if there are none."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else math.nan


def _table(names, results, refits, splits, inner, baseline, alpha, bounds):
    n_train = float(np.mean([len(tr) for tr, _ in splits]))
    n_test = float(np.mean([len(te) for _, te in splits]))
    scores = {
        n: np.array([r["score"] for r in results[n]["folds"]], float) for n in names
    }
    means = {n: float(s.mean()) for n, s in scores.items()}
    if baseline not in names:
        ok = [n for n in names if np.isfinite(means[n])] or list(names)
        baseline = max(ok, key=lambda n: _nan_to_inf(means[n]))
    base = scores[baseline]
    rows = []
    for name in names:
        res, s = results[name], scores[name]
        folds = res["folds"]
        ci_low, ci_high = _corrected_ci(s, n_train, n_test, bounds)
        diff = s - base
        why = "baseline" if name == baseline else untestable(diff)
        diff_low, diff_high = (
            _corrected_ci(diff, n_train, n_test, _diff_bounds(bounds))
            if not why
            else (math.nan, math.nan)
        )
        movements = [r["movement"] for r in folds if r["movement"] is not None]
        movement = float(np.median(movements)) if movements else math.nan
        kind = _kind(name, inner)
        per_fold = [json_params(r["params"]) for r in folds]
        params = per_fold[0] if all(p == per_fold[0] for p in per_fold) else per_fold
        row = {
            "activation": name,
            "kind": kind,
            "mean_score": means[name],
            "std_score": float(s.std(ddof=1)) if s.size > 1 else 0.0,
            "ci_low": ci_low,
            "ci_high": ci_high,
            "baseline": baseline,
            "diff_vs_baseline": float(diff.mean()),
            "diff_ci_low": diff_low,
            "diff_ci_high": diff_high,
            "p_value": (
                corrected_ttest(s, base, n_train, n_test)[1] if not why else math.nan
            ),
            "untested": why,
            "n_failed_folds": int(np.isnan(s).sum()),
            "failure": _failure(folds),
            "n_fits": len(folds),
            "n_under_trained": int(sum(bool(r["under_trained"]) for r in folds)),
            "movement": movement,
            "barely_moved": bool(kind == "learned" and movement < BARELY_MOVED),
            "fit_time": _median([r["fit_time"] for r in folds]),
            "predict_time": _median([r["score_time"] for r in folds]),
            "params": json.dumps(params, sort_keys=True, default=str),
        }
        refitted = refits.get(name, {}).get("estimator")
        if refitted is not None:
            row["n_parameters"], row["n_activation_parameters"] = _n_parameters(
                refitted
            )
            row["learned_parameters"] = _learned_summary(refitted)
        row.update({k: v for k, v in res.items() if k.startswith("n_trials_")})
        if "studies" in res:
            row["study"] = " ".join(res["studies"])
        if "dirty" in res:
            dirty = np.array([r["score"] for r in res["dirty"]], float)
            change = dirty - s
            low, high = _corrected_ci(change, n_train, n_test, _diff_bounds(bounds))
            row.update(
                clean_score=means[name],
                dirty_score=float(dirty.mean()),
                dirty_minus_clean=float(change.mean()),
                dirty_minus_clean_ci_low=low,
                dirty_minus_clean_ci_high=high,
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    table["p_value_holm"] = math.nan
    tested = table["p_value"].notna()
    if tested.any():
        table.loc[tested, "p_value_holm"] = _holm(table.loc[tested, "p_value"].values)
    table["significant"] = (table["p_value_holm"] < alpha).astype(bool)
    table = table.sort_values(
        "mean_score", ascending=False, kind="stable", na_position="last"
    )
    table.insert(2, "rank", np.arange(1, len(table) + 1))
    first = [
        "activation",
        "kind",
        "rank",
        "mean_score",
        "std_score",
        "ci_low",
        "ci_high",
        "baseline",
        "diff_vs_baseline",
        "diff_ci_low",
        "diff_ci_high",
        "p_value",
        "p_value_holm",
        "significant",
        "untested",
    ]
    return table[first + [c for c in table.columns if c not in first]].reset_index(
        drop=True
    )


def _fold_frame(names, results) -> pd.DataFrame:
    rows = [
        {
            "activation": name,
            "fold": fold,
            "condition": condition,
            "score": r["score"],
            "error": r["error"],
            "fit_time": r["fit_time"],
            "score_time": r["score_time"],
            "n_iter": r["n_iter"],
            "under_trained": r["under_trained"],
            "movement": r["movement"],
            "params": json.dumps(
                json_params(results[name]["folds"][fold]["params"]),
                sort_keys=True,
                default=str,
            ),
        }
        for name in names
        for condition, key in (("clean", "folds"), ("dirty", "dirty"))
        for fold, r in enumerate(results[name].get(key, []))
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "activation",
            "fold",
            "condition",
            "score",
            "error",
            "fit_time",
            "score_time",
            "n_iter",
            "under_trained",
            "movement",
            "params",
        ],
    )
