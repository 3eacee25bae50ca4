"""Design study of the surrogate of seed 003 (issue 23), on the old pool only.

Everything here is measured on the first benchmark's pool
(``benchmarks/activation_benchmark.csv``: 520 candidates, 784-64-64-10 MLP,
10 epochs) and on the pilot of ``build_seed003_pool.py`` (40 candidates on the
chosen task). It never reads the fresh pool (of
``benchmarks/seed003_pool_features.npz`` it reads only the old pool's arrays):
the design must be confirmed there, not chosen there.

What it measures:

1. **The Fisher feature's edges.** The features are recomputed with extra
   bins (:data:`EDGES`: exact zeros, below e^-40, the 60 bins of
   ``FISHER_BINS``, above e^20, non-finite), which the library's function
   accepts as ``bins``; folding the extra bins into the end bins gives back
   the stored feature (checked). It prints how much of each layer's mass is
   zero or out of range.
2. **The failure filter**, applied before any training: a candidate is
   removed when its Fisher spectrum is not finite (any mass in the non-finite
   bin: the network's output or a Kronecker factor overflows at
   initialisation) or its output exceeds 100 in magnitude on the sample
   points. Counted on the whole default space, on the old pool (with how
   the removed did: every run at chance, validation accuracy at most 0.15;
   some run at chance; mean below 0.5; in the top 10%), on the old pool's
   candidates with the chosen task's network (those that only the non-finite
   criterion removes there are trained on the chosen task, 3 seeds) and on
   the pilot.
3. **Leave-one-out KNN (k = 3) Spearman** between the prediction and the mean
   validation accuracy over the three seeds, on the whole pool, on the
   filtered pool, and inside the top quartile, for: outputs only (Euclidean),
   Fisher only (Manhattan), the combined distance (each divided by its median
   over pairs, summed), a 2-D UMAP of the combined distance (several seeds),
   and the union of the two UMAP graphs (what the library does now). The
   Fisher variants: as stored (zeros and values below range in the first bin,
   values above range and non-finite ones in the last), zeros dropped (the
   CDF of the non-zero products), and zeros apart (that CDF plus the zero
   share as one more value per layer).

Results (``--umap-seeds 5``; UMAP figures are means over the seeds; the top
quartile is of the rows used):

- LOO KNN Spearman on the old pool (all 520 / filtered 415; top quartile in
  brackets), Fisher as stored: outputs only 0.881 (0.486) / 0.823 (0.420);
  Fisher only 0.609 (0.208) / 0.488 (0.253); combined distance 0.872 (0.485)
  / 0.812 (0.474); UMAP of the combined distance 0.781 (0.289) / 0.710
  (0.352), sd over seeds 0.01-0.06; union UMAP 0.734 (0.209) / 0.626 (0.207),
  the same for every seed (umap-learn lays out a union with its own seed).
  Direct KNN on the combined distance beats both embeddings, most in the top
  quartile.
- Zeros: the first layer's factor A has the data's constant pixels, so 68%
  of its products are zero for every candidate (a constant: no effect on a
  Manhattan distance); the rest of the zeros are dead units (G). Dropping the
  zeros, or keeping their share as one more value per layer, does not help
  (combined 0.868 / 0.867, top quartile 0.451 / 0.451; Fisher only 0.630 /
  0.616 but top quartile 0.143 / 0.145): keep them in the first bin.
- Range: on the old 2-layer network under 1% of the products fall outside
  [e^-40, e^20]; on the 6-layer network 9-21% fall below and up to 11% above
  (99% within [-90, 42] to [-29, 49] per layer in the log, the first two
  layers reaching below -120), so the fixed range flattens the
  deep network's spectra into its end bins. Set the range per network from
  the candidate space's own spectra (needs no accuracy); not tested here.
- Filter on the old 2-layer network: 472 of the space's 2,591 (18.2%), 105 of
  the old pool (20.2%): 54 with every run at chance, 89 with some run at
  chance, 102 with a mean below 0.5, none in the top 10% (best 0.694). The
  |output| > 100 criterion covers all of them (the 4 non-finite spectra
  included); 20 candidates with every run at chance are kept. On the 6-layer
  network it removes 117 of the old pool's candidates: the non-finite
  spectrum adds 12, all built on exp(x), two of them good on the old task
  (0.83-0.84); trained on the new task, all 12 score chance on every seed.
  On the pilot: 5 of 40 removed, all 5 at chance; 10 at chance kept.
- Pilot (40 candidates, indicative only): combined 0.636, Fisher only 0.602,
  outputs only 0.441, union 0.637, UMAP of combined 0.597: on the deeper
  network the Fisher feature carries more than on the old one.

Usage::

    PYTHONPATH=. nice -n 10 python benchmarks/seed003_design.py \\
        --data-home ../shared/data [--umap-seeds 5]
"""

import argparse
import json
import time
import warnings

import torch

torch.set_num_threads(1)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from build_seed003_pool import (  # noqa: E402
    EDGES,
    FEATURES,
    FISHER_ROWS,
    OLD_POOL,
    POOL_TASK,
    SEEDS,
    WORK,
    WORKING,
    candidates,
    load_task,
    make_estimator,
    read_runs,
    run_one,
)
from scipy import stats  # noqa: E402
from scipy.spatial.distance import cdist  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from sklearn_learnact import LearnedActivationClassifier  # noqa: E402
from sklearn_learnact.surrogate import (  # noqa: E402
    FISHER_BINS,
    build_space,
    embed_candidates,
    fisher_features,
    import_umap,
    output_features,
)

K = 3
#: Outputs larger than this in magnitude on the sample points fail the filter.
MAX_OUTPUT = 100.0
N_EXTRA = len(EDGES) - 1  # bins per layer: zero, below, 60, above, non-finite


def layer_masses(ext: np.ndarray) -> np.ndarray:
    """(n, layers, 64) bin masses from the extended-bin CDFs."""
    cdf = ext.reshape(len(ext), -1, N_EXTRA)
    return np.diff(cdf, axis=2, prepend=0.0)


def fisher_variant(mass: np.ndarray, variant: str) -> np.ndarray:
    """The Fisher feature with zeros and out-of-range values handled as named."""
    zero, below, inside = mass[..., 0], mass[..., 1], mass[..., 2:-2].copy()
    above, bad = mass[..., -2], mass[..., -1]
    inside[..., 0] += below
    inside[..., -1] += above + bad
    if variant == "stored":
        inside[..., 0] += zero
        return np.cumsum(inside, axis=2).reshape(len(mass), -1)
    rest = inside.sum(axis=2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        cdf = np.where(rest > 0, np.cumsum(inside, axis=2) / rest, 1.0)
    if variant == "zeros dropped":
        return cdf.reshape(len(mass), -1)
    return np.concatenate([cdf, zero[..., None]], axis=2).reshape(len(mass), -1)


def loo_knn(distance: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Leave-one-out k-nearest-neighbour mean (uniform weights)."""
    d = distance.copy()
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1, kind="stable")[:, :K]
    return y[nearest].mean(axis=1)


def spearman(pred, y, mask=None) -> float:
    if mask is not None:
        pred, y = pred[mask], y[mask]
    return float(stats.spearmanr(pred, y).statistic)


def combined(outputs, fisher) -> np.ndarray:
    d_out = cdist(outputs, outputs)
    d_fis = cdist(fisher, fisher, "cityblock")
    off = ~np.eye(len(outputs), dtype=bool)
    return d_out / np.median(d_out[off]) + d_fis / np.median(d_fis[off])


def umap_of(distance: np.ndarray, seed: int) -> np.ndarray:
    umap = import_umap()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = umap.UMAP(
            n_components=2,
            n_neighbors=15,
            metric="precomputed",
            random_state=seed,
            n_jobs=1,
        )
        return model.fit_transform(distance)


def figures(outputs, fisher, y, keep, umap_seeds) -> dict:
    """LOO Spearman (all, top quartile) of each surrogate on the kept rows."""
    o, f, yy = outputs[keep], fisher[keep], y[keep]
    top = yy >= np.percentile(yy, 75)
    dists = {
        "outputs only": cdist(o, o),
        "Fisher only": cdist(f, f, "cityblock"),
        "combined": combined(o, f),
    }
    rows = {}
    for name, d in dists.items():
        pred = loo_knn(d, yy)
        rows[name] = (spearman(pred, yy), spearman(pred, yy, top))
    for name, embed in (
        ("UMAP of combined", lambda s: umap_of(dists["combined"], s)),
        (
            "union UMAP",
            lambda s: embed_candidates(o, f, embedding="union", random_state=s),
        ),
    ):
        values = []
        for seed in range(umap_seeds):
            e = embed(seed)
            pred = loo_knn(cdist(e, e), yy)
            values.append((spearman(pred, yy), spearman(pred, yy, top)))
        rows[name] = tuple(np.mean(values, axis=0)) + tuple(np.std(values, axis=0))
    return rows


def print_figures(title: str, rows: dict) -> None:
    print(title)
    for name, v in rows.items():
        text = f"  {name:18s} all {v[0]:.3f}  top quartile {v[1]:.3f}"
        if len(v) == 4:
            text += f"  (sd over seeds {v[2]:.3f}, {v[3]:.3f})"
        print(text)


def flags(outputs, mass) -> pd.DataFrame:
    """The filter's two criteria, and the out-of-range masses behind them."""
    return pd.DataFrame(
        {
            "non-finite Fisher": (mass[..., -1] > 0).any(axis=1),
            "|output| > 100": np.abs(outputs).max(axis=1) > MAX_OUTPUT,
            "above range": (mass[..., -2] > 0).any(axis=1),
        }
    )


def print_filter(name: str, flag: pd.DataFrame, valid=None) -> np.ndarray:
    """Count what the filter removes; with ``valid`` (candidates x seeds), how
    the removed ones did: every run at chance, any run at chance, mean below
    0.5, in the top 10% of the mean."""
    removed = (flag["non-finite Fisher"] | flag["|output| > 100"]).to_numpy()
    text = (
        f"Filter on {name}: removes {removed.sum()} of {len(flag)} "
        f"({100 * removed.mean():.1f}%; non-finite Fisher "
        f"{int(flag['non-finite Fisher'].sum())}, |output| > {MAX_OUTPUT:g} "
        f"{int(flag['|output| > 100'].sum())}; a finite eigenvalue product above "
        f"e^20: {int(flag['above range'].sum())})"
    )
    if valid is not None:
        mean = valid.mean(axis=1)
        top = mean >= np.percentile(mean, 90)
        every, some = valid.max(axis=1) <= WORKING, valid.min(axis=1) <= WORKING
        r, k = removed, ~removed
        text += (
            f". Removed: {every[r].sum()} every run at chance, {some[r].sum()} "
            f"some run at chance, {(mean[r] < 0.5).sum()} mean below 0.5, "
            f"{top[r].sum()} in the top 10%, best mean {mean[r].max():.4f}. "
            f"Kept: {every[k].sum()} every run at chance, {some[k].sum()} some run"
        )
    print(text)
    return removed


def edges_report(name: str, mass: np.ndarray) -> None:
    share = mass.mean(axis=0)  # (layers, bins)
    print(f"Fisher mass per layer on {name} (mean over candidates):")
    for i, layer in enumerate(share):
        print(
            f"  layer {i}: zero {layer[0]:.3f}, below e^-40 {layer[1]:.3f}, above "
            f"e^20 {layer[-2]:.4f}, non-finite {layer[-1]:.4f}; share of "
            f"candidates with any zero {np.mean(mass[:, i, 0] > 0):.2f}"
        )


def range_report(estimator, X, y, exprs, name: str) -> None:
    """Where the non-zero, finite log-eigenvalue products lie, per layer (no
    accuracy involved): the share outside FISHER_BINS' range and the range
    that holds 99% of them, from 1-wide bins over [-120, 60]."""
    wide = np.concatenate(
        [[-1e300, -1e299], np.linspace(-120, 60, 181), [1e299, 1e300]]
    )
    cdf = fisher_features(estimator, X, y, exprs, batch_size=FISHER_ROWS, bins=wide)
    mass = np.diff(cdf.reshape(len(exprs), -1, len(wide) - 1), axis=2, prepend=0.0)
    inside = mass[..., 1:-1].mean(axis=0)  # (layers, bins): nor zero nor non-finite
    centres = (wide[1:-2] + wide[2:-1]) / 2
    lo, hi = FISHER_BINS[0], FISHER_BINS[-1]
    print(f"Log-eigenvalue products, non-zero and finite, {name}:")
    for i, layer in enumerate(inside):
        c = np.cumsum(layer) / layer.sum()
        q = [wide[2 + np.searchsorted(c, p)] for p in (0.005, 0.995)]
        q = [
            f"{v:.0f}" if -120 < v < 60 else ("< -120" if v < 0 else "> 60") for v in q
        ]
        print(
            f"  layer {i}: below {lo:g} {layer[centres < lo].sum() / layer.sum():.3f}, "
            f"above {hi:g} {layer[centres > hi].sum() / layer.sum():.3f}; 99% within "
            f"[{q[0]}, {q[1]}]"
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None, help="folder of fashion_mnist/")
    parser.add_argument("--umap-seeds", type=int, default=5)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    space = build_space()
    all_outputs = output_features(space)
    data = load_task(args.data_home)
    X, y = data[0], data[1]

    # The old pool, on its own network (784-64-64-10).
    table = pd.read_csv(OLD_POOL)
    exprs = table["expression"].tolist()
    index = [space.index(e) for e in exprs]
    outputs = all_outputs[index]
    valid = table.filter(regex=r"^valid_seed\d$").to_numpy()
    target = valid.mean(axis=1).round(6)  # ties at chance stay ties
    old_net = LearnedActivationClassifier((64, 64))
    start = time.perf_counter()
    ext = fisher_features(
        old_net, X, y, space.expressions, batch_size=FISHER_ROWS, bins=EDGES
    )
    seconds = time.perf_counter() - start
    print(
        f"Extended Fisher features of the {len(space)} candidates of the space "
        f"(784-64-64-10): {1e3 * seconds / len(space):.1f} ms each"
    )
    space_mass = layer_masses(ext)
    mass = space_mass[index]
    stored = table.filter(regex=r"^fisher_\d+$").to_numpy()
    rebuilt = fisher_variant(mass, "stored")
    print(
        f"Stored Fisher feature rebuilt from the extended bins: largest difference "
        f"{np.abs(rebuilt - stored).max():.1e} (the CSV rounds to 4 decimals)"
    )
    edges_report("the old pool", mass)
    print_filter("the default space (784-64-64-10)", flags(all_outputs, space_mass))
    removed = print_filter("the old pool", flags(outputs, mass), valid)
    print(
        f"Old pool: {len(table)} candidates; target: mean "
        "validation accuracy over 3 seeds; top quartile of the rows used"
    )
    everyone = np.ones(len(table), dtype=bool)
    for variant in ("stored", "zeros dropped", "zeros apart"):
        fisher = fisher_variant(mass, variant)
        for label, keep in (("all 520", everyone), ("filtered", ~removed)):
            rows = figures(outputs, fisher, target, keep, args.umap_seeds)
            print_figures(
                f"LOO KNN Spearman, old pool, {label} ({keep.sum()}), Fisher "
                f"{variant}:",
                rows,
            )

    # The old pool's candidates on the chosen task's network (features saved by
    # build_seed003_pool.py features; the accuracies are still the old task's).
    saved = np.load(FEATURES)
    if saved["old_expr"].tolist() != exprs:
        raise SystemExit(f"{FEATURES} does not hold the old pool; rebuild it")
    new_flags = flags(saved["old_outputs"], layer_masses(saved["old_fisher_edges"]))
    print_filter(
        f"the old pool, {POOL_TASK} network (accuracy of the old task)",
        new_flags,
        valid,
    )
    only = new_flags["non-finite Fisher"] & ~new_flags["|output| > 100"]
    print(
        f"The {only.sum()} candidates only the non-finite criterion removes there, "
        f"trained on {POOL_TASK} (validation accuracy, seeds {SEEDS}):"
    )
    for expr in np.asarray(exprs)[only.to_numpy()]:
        scores = [run_one(POOL_TASK, expr, s, data)["val_acc"] for s in SEEDS]
        print(f"  {expr}: {', '.join(f'{v:.4f}' for v in scores)}", flush=True)

    # The pilot, on the chosen task's network.
    runs = pd.DataFrame(read_runs(WORK / f"pilot_{POOL_TASK}.jsonl"))
    pilot = candidates("pilot")
    p_valid = np.stack(
        [runs[runs["expr"] == e].sort_values("seed")["val_acc"] for e in pilot]
    )
    p_out = all_outputs[[space.index(e) for e in pilot]]
    net = make_estimator(POOL_TASK, "x", 0)
    p_ext = fisher_features(net, X, y, pilot, batch_size=FISHER_ROWS, bins=EDGES)
    p_mass = layer_masses(p_ext)
    edges_report(f"the pilot ({POOL_TASK})", p_mass)
    range_report(net, X, y, exprs, f"old pool's candidates, {POOL_TASK} network")
    p_removed = print_filter(f"the pilot ({POOL_TASK})", flags(p_out, p_mass), p_valid)
    target = p_valid.mean(axis=1).round(6)
    for label, keep in (
        ("all 40", np.ones(len(pilot), dtype=bool)),
        ("filtered", ~p_removed),
    ):
        rows = figures(
            p_out, fisher_variant(p_mass, "stored"), target, keep, args.umap_seeds
        )
        print_figures(
            f"LOO KNN Spearman, pilot, {label} ({keep.sum()}; small: indicative)",
            rows,
        )
    print(json.dumps({"pilot_removed": [e for e, r in zip(pilot, p_removed) if r]}))


if __name__ == "__main__":
    main()
