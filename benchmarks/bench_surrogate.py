"""Does the surrogate find good activations faster than random search? (seed 003)

Simulated searches that replay measured accuracies: every candidate of a pool
was trained with three seeds beforehand, so a "search" only decides which
candidates to look at. Two pools:

- ``old``: the first benchmark (``benchmarks/activation_benchmark.csv``: 520
  candidates x 3 seeds, 784-64-64-10 MLP, 10 epochs, Fashion-MNIST 8k/5k/10k).
  The design is chosen here (and on the pilot of ``build_seed003_pool.py``).
- ``fresh``: the pool of issue 23 (``docs/results/seed003_pool.csv``: 8
  baselines + 512 new candidates x 3 seeds, 784-(64x6)-10 MLP, 5 epochs, the
  same split), drawn independently of the old pool and never used to choose
  the design: it confirms.

Features. The library computes them as a real search would: the output
feature of every candidate, and the Fisher feature of the pool's network at
initialisation on 256 of its training rows, for the whole default candidate
space (2,591 functions: the range of each layer's bins comes from the space's
own spectra), of which the pool's rows are used. They are cached under
``benchmarks/_work/seed003/`` (about 2 minutes the first time).

Protocol, per run (``--runs``, default 100; the same draws for every method,
so the methods are paired by run):

1. Resample the pool: the 8 baselines and 80% of the other candidates.
2. Draw, for every candidate, which of its three seeds is "observed": a
   search sees only that seed's validation accuracy.
3. Each method evaluates candidates one by one, up to 100; at budget ``b`` it
   chooses the candidate with the best observed validation accuracy among
   its first ``b``.
4. The chosen candidate is scored on the *other two* seeds' test accuracy
   (cross-fit: the choice and its score share no training run).

Methods: ``surrogate`` (the library's default search: the failure filter
:func:`~sklearn_learnact.surrogate.failing_candidates`, then
:func:`~sklearn_learnact.surrogate.embed_candidates`, a 2-D UMAP of the
combined distance of the run's kept candidates seeded by the run, and the
baselines followed by :func:`~sklearn_learnact.surrogate.propose_candidate`),
``outputs only`` and ``Fisher only`` (the same with one feature's distance),
``union`` (the paper's union of two UMAP graphs, ``embedding="union"``),
``random`` (a uniformly random order of the resampled pool) and ``random +
filter`` (the filter and the baselines, then a random order: what the
surrogate adds beyond them). On the old pool two design ablations run too:
``KNN on distance`` (the nearest neighbours on the combined distance itself,
:class:`~sklearn_learnact.surrogate.CandidateDistance`, without UMAP) and
``no filter``. The embeddings are fitted on the run's candidates (about 300
to 400), not on the whole space as a real search does (2,000 or more): the
simulation would otherwise take hours.

Reported, per pool: the pilot's gate figures; the seed noise (``seed sd``:
median over working candidates of the sd of test accuracy over seeds); the
leave-one-out 3-NN Spearman of each distance (design evidence); then per
method the best-so-far curve over budgets 10-100 and its area (the curve's
mean), and at budgets 20, 50 and 100 the mean cross-fit test accuracy, the
paired difference to random search with wins/ties/losses (a difference below
one seed sd is a tie) and the one-sided Wilcoxon signed-rank p-value (the
method finds better candidates than random); within 50 evaluations the
top-2% and top-10% candidates evaluated (by mean test accuracy over the three
seeds, in the run's pool) and the failed ones (observed run at chance,
validation accuracy at most 0.15). Differences in mean accuracy below one
seed sd are called ties.

Target (issue 23), on the fresh pool at budget 50: the surrogate beats random
search with p < 0.01 and evaluates at least twice as many top-2% candidates.

Writes (``--pool fresh`` or ``both``): ``docs/results/seed003_search_runs.csv``
(the fresh pool's runs: ``method``, ``run``, ``budget`` every 5 from 10 to
100, ``chosen_expr``, ``test_acc``: the chosen candidate's mean test accuracy
over the held-out seeds) and ``docs/results/seed003_curves.png``.

Usage::

    PYTHONPATH=. nice python benchmarks/bench_surrogate.py --pool old \\
        --data-home ../shared/data
    PYTHONPATH=. nice python benchmarks/bench_surrogate.py --pool both \\
        --data-home ../shared/data | tee docs/results/seed003_bench.txt
"""

import argparse
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import torch

torch.set_num_threads(1)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from build_seed003_pool import (  # noqa: E402
    FISHER_ROWS,
    OLD_POOL,
    RESULTS,
    WORK,
    WORKING,
    candidates,
    gate,
    load_task,
    make_estimator,
    old_runs,
)
from scipy import stats  # noqa: E402

from sklearn_learnact import LearnedActivationClassifier  # noqa: E402
from sklearn_learnact.surrogate import (  # noqa: E402
    BASELINES,
    FISHER_BINS,
    CandidateDistance,
    build_space,
    embed_candidates,
    failing_candidates,
    fisher_features,
    propose_candidate,
)

BUDGETS = tuple(range(10, 101, 5))
REPORTED = (20, 50, 100)
HITS_WITHIN = 50
MAX_BUDGET = max(BUDGETS)
SUBSAMPLE = 0.8
K = 3
MAIN = (
    "surrogate",
    "outputs only",
    "Fisher only",
    "union",
    "random",
    "random + filter",
)
DESIGN = ("KNN on distance", "no filter")


@dataclass
class Pool:
    name: str
    title: str
    exprs: np.ndarray  # (n,)
    val: np.ndarray  # (n, 3)
    test: np.ndarray  # (n, 3)
    outputs: np.ndarray  # (n, 1000)
    fisher: np.ndarray  # (n, n_fisher), range from the default space
    fisher_fixed: np.ndarray  # (n, n_fisher), FISHER_BINS
    finite: np.ndarray  # (n,)
    first: list  # baseline indices, in order


def _network(name: str):
    if name == "old":
        return LearnedActivationClassifier((64, 64))
    return make_estimator("mlp6x64", "x", 0)


def space_features(name: str, data, space) -> dict:
    """Fisher features of the whole default space on the pool's network
    (cached): the range of the bins comes from the space, as in a search."""
    path = WORK / f"bench_space_{name}.npz"
    if path.exists():
        cached = np.load(path)
        if cached["expr"].tolist() == list(space.expressions):
            return dict(cached)
    start = time.perf_counter()
    fisher, finite = fisher_features(
        _network(name),
        data[0],
        data[1],
        space.expressions,
        batch_size=FISHER_ROWS,
        return_finite=True,
    )
    print(
        f"  Fisher features of the {len(space)} candidates of the space on the "
        f"{name} pool's network: {time.perf_counter() - start:.0f} s",
        flush=True,
    )
    arrays = {"expr": np.array(space.expressions), "fisher": fisher}
    arrays["finite"] = finite
    np.savez_compressed(path, **arrays)
    return arrays


def load_pool(name: str, data, space) -> Pool:
    if name == "old":
        table = pd.read_csv(OLD_POOL)
        exprs = table["expression"].to_numpy()
        val = table.filter(regex=r"^valid_seed\d$").to_numpy()
        test = table.filter(regex=r"^test_seed\d$").to_numpy()
        title = "old pool (784-64-64-10, 10 epochs): design"
    else:
        runs = pd.read_csv(RESULTS / "seed003_pool.csv")
        exprs = runs["expr"].drop_duplicates().to_numpy()
        wide = runs.pivot(index="expr", columns="seed").loc[exprs]
        val, test = wide["val_acc"].to_numpy(), wide["test_acc"].to_numpy()
        title = "fresh pool (784-(64x6)-10, 5 epochs): confirmation"
    index = [space.index(e) for e in exprs]
    cached = space_features(name, data, space)
    fixed = fisher_features(
        _network(name),
        data[0],
        data[1],
        list(exprs),
        batch_size=FISHER_ROWS,
        bins=FISHER_BINS,
    )
    return Pool(
        name,
        title,
        exprs,
        val,
        test,
        space.outputs[index],
        cached["fisher"][index],
        fixed,
        cached["finite"][index],
        [int(np.flatnonzero(exprs == b)[0]) for b in BASELINES],
    )


# ------------------------------------------------------------ design evidence
def loo_spearman(distance: CandidateDistance, rows: np.ndarray, y: np.ndarray):
    """Leave-one-out 3-NN prediction vs y: Spearman on all rows, top quartile."""
    d = distance(rows, rows)
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1, kind="stable")[:, :K]
    pred = y[nearest].mean(axis=1)
    top = y >= np.percentile(y, 75)
    return (
        stats.spearmanr(pred, y).statistic,
        stats.spearmanr(pred[top], y[top]).statistic,
    )


def design_figures(pool: Pool, kept: np.ndarray, label: str, rows=None) -> None:
    rows = np.flatnonzero(kept) if rows is None else rows[kept[rows]]
    y = pool.val.mean(axis=1).round(6)[rows]
    among = kept
    variants = {
        "combined (range from the space)": CandidateDistance(
            pool.outputs, pool.fisher, among=among
        ),
        "combined (fixed range e^-40..e^20)": CandidateDistance(
            pool.outputs, pool.fisher_fixed, among=among
        ),
        "outputs only": CandidateDistance(pool.outputs),
        "Fisher only (range from the space)": CandidateDistance(fisher=pool.fisher),
        "Fisher only (fixed range)": CandidateDistance(fisher=pool.fisher_fixed),
    }
    print(f"LOO 3-NN Spearman vs mean validation accuracy, {label} ({len(rows)}):")
    for name, distance in variants.items():
        everyone, top = loo_spearman(distance, rows, y)
        print(f"  {name:36s} all {everyone:.3f}  top quartile {top:.3f}")


# --------------------------------------------------------------- simulation
def _surrogate_order(distance, allowed, first, observed, rng) -> list[int]:
    """The library's loop: propose, observe, repeat (up to MAX_BUDGET)."""
    scores: dict[int, float] = {}
    while len(scores) < min(MAX_BUDGET, int(allowed.sum())):
        index, _ = propose_candidate(
            distance, scores, set(), first, rng, K, allowed=allowed
        )
        scores[index] = observed[index]
    return list(scores)  # in evaluation order


#: How each surrogate method embeds the run's kept candidates: the
#: arguments of the library's embed_candidates (None: no embedding, the
#: nearest neighbours on the combined distance itself).
EMBEDDINGS = {
    "surrogate": {"features": "both", "embedding": "umap"},
    "outputs only": {"features": "outputs", "embedding": "umap"},
    "Fisher only": {"features": "fisher", "embedding": "umap"},
    "union": {"features": "both", "embedding": "union"},
    "no filter": {"features": "both", "embedding": "umap"},
    "KNN on distance": None,
}


def _distance(pool: Pool, method: str, rows: np.ndarray, run: int):
    """The search's geometry over the candidates ``rows``, as the library
    builds it (embed_candidates with the run as random_state)."""
    how = EMBEDDINGS[method]
    if how is None:
        among = np.isin(np.arange(len(pool.exprs)), rows)
        return CandidateDistance(pool.outputs, pool.fisher, among=among)
    coords = np.zeros((len(pool.exprs), 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coords[rows] = embed_candidates(
            pool.outputs[rows], pool.fisher[rows], random_state=run, **how
        )
    return CandidateDistance(coordinates=coords)


def simulate(pool: Pool, n_runs: int, methods) -> pd.DataFrame:
    n = len(pool.exprs)
    flags = failing_candidates(
        pool.exprs, pool.finite, outputs=pool.outputs, keep=pool.first
    )
    kept = ~flags["removed"]
    quality_all = pool.test.mean(axis=1)
    others = [i for i in range(n) if i not in pool.first]
    rows_out = []
    start = time.perf_counter()
    for run in range(n_runs):
        rng = np.random.default_rng([23, run])
        sub = np.zeros(n, dtype=bool)
        sub[pool.first] = True
        drawn = rng.choice(others, int(round(SUBSAMPLE * len(others))), replace=False)
        sub[drawn] = True
        seen = rng.integers(3, size=n)
        observed = pool.val[np.arange(n), seen]
        held_out = (pool.test.sum(axis=1) - pool.test[np.arange(n), seen]) / 2
        in_pool = np.flatnonzero(sub)
        top2 = quality_all >= np.percentile(quality_all[in_pool], 98)
        top10 = quality_all >= np.percentile(quality_all[in_pool], 90)
        for method in methods:
            rng_m = np.random.default_rng([23, run, zlib.crc32(method.encode())])
            allowed = sub if method == "no filter" else sub & kept
            if method == "random":
                order = rng_m.permutation(in_pool).tolist()
            elif method == "random + filter":
                rest = rng_m.permutation(np.flatnonzero(allowed))
                order = pool.first + [i for i in rest if i not in pool.first]
            else:
                distance = _distance(pool, method, np.flatnonzero(allowed), run)
                order = _surrogate_order(distance, allowed, pool.first, observed, rng_m)
            order = np.asarray(order[:MAX_BUDGET])
            within = order[:HITS_WITHIN]
            for budget in BUDGETS:
                first_b = order[:budget]
                chosen = first_b[np.argmax(observed[first_b])]
                rows_out.append(
                    {
                        "method": method,
                        "run": run,
                        "budget": budget,
                        "chosen_expr": pool.exprs[chosen],
                        "test_acc": round(float(held_out[chosen]), 6),
                        "top2": int(top2[within].sum()),
                        "top10": int(top10[within].sum()),
                        "failed": int((observed[within] <= WORKING).sum()),
                        "oracle": float(held_out[in_pool].max()),
                    }
                )
        if run in (0, n_runs - 1) or (run + 1) % 25 == 0:
            print(
                f"  run {run + 1}/{n_runs} ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
    return pd.DataFrame(rows_out)


# ------------------------------------------------------------------ report
def seed_sd(pool: Pool) -> float:
    working = pool.val.min(axis=1) > WORKING
    return float(np.median(pool.test[working].std(axis=1, ddof=1)))


def report(runs: pd.DataFrame, sd: float, methods) -> pd.DataFrame:
    curve = runs.groupby(["method", "budget"])["test_acc"].mean().unstack()
    area = curve.mean(axis=1)
    at = runs[runs["budget"] == HITS_WITHIN].set_index(["method", "run"])
    rows = []
    for budget in REPORTED:
        table = runs[runs["budget"] == budget].pivot(
            index="run", columns="method", values="test_acc"
        )
        for method in methods:
            diff = table[method] - table["random"]
            row = {
                "budget": budget,
                "method": method,
                "mean test acc": table[method].mean(),
                "diff vs random": diff.mean(),
            }
            if method == "random":
                row.update({"W/T/L": "", "p (> random)": np.nan, "verdict": ""})
            else:
                wins, losses = int((diff >= sd).sum()), int((diff <= -sd).sum())
                p = (
                    float(stats.wilcoxon(diff, alternative="greater").pvalue)
                    if np.any(diff)
                    else 1.0
                )
                verdict = "tie (< 1 seed sd)"
                if abs(diff.mean()) >= sd:
                    verdict = "better" if diff.mean() > 0 else "worse"
                row.update(
                    {
                        "W/T/L": f"{wins}/{len(diff) - wins - losses}/{losses}",
                        "p (> random)": p,
                        "verdict": verdict,
                    }
                )
            row.update(
                {
                    "top-2% in 50": at.loc[method, "top2"].mean(),
                    "top-10% in 50": at.loc[method, "top10"].mean(),
                    "failed in 50": at.loc[method, "failed"].mean(),
                    "curve area": area[method],
                }
            )
            rows.append(row)
    return pd.DataFrame(rows)


def print_pilot() -> None:
    pilot = pd.read_csv(RESULTS / "seed003_pilot.csv")
    print("Pilot gate (40 candidates x 3 seeds per task; validation accuracy):")
    tasks = [("first benchmark (old pool, 520)", old_runs())]
    tasks += list(pilot.groupby("task", sort=False))
    for task, runs in tasks:
        g = gate(runs)
        print(
            f"  {task:32s} working {g['working']:3d}/{g['candidates']}; spread "
            f"{g['spread']:.4f}, noise {g['noise']:.4f}, ratio {g['ratio']:5.2f}; "
            f"better half: spread {g['top-half spread']:.4f}, noise "
            f"{g['top-half noise']:.4f}, ratio {g['top-half ratio']:.2f}"
        )


def run_pool(name: str, data, space, n_runs: int):
    pool = load_pool(name, data, space)
    flags = failing_candidates(
        pool.exprs, pool.finite, outputs=pool.outputs, keep=pool.first
    )
    kept = ~flags["removed"]
    chance = pool.val.mean(axis=1) <= WORKING
    quality = pool.test.mean(axis=1)
    top10 = quality >= np.percentile(quality, 90)
    sd = seed_sd(pool)
    print(f"\n=== {pool.title} ===")
    print(
        f"{len(pool.exprs)} candidates; {int(chance.sum())} at chance (mean "
        f"validation accuracy <= {WORKING:g}); best mean test accuracy "
        f"{quality.max():.4f} ({pool.exprs[quality.argmax()]}); top-10% threshold "
        f"{np.percentile(quality, 90):.4f}; seed sd (test) {sd:.4f}"
    )
    print(
        f"Failure filter: removes {int(flags['removed'].sum())} "
        f"(non-finite Fisher {int(flags['non-finite Fisher spectrum'].sum())}, "
        f"outputs above 100 {int(flags['output above 100'].sum())}); of them "
        f"{int((chance & ~kept).sum())} at chance, {int((top10 & ~kept).sum())} in "
        f"the top 10%; it keeps {int((chance & kept).sum())} at chance"
    )
    if name == "fresh":
        runs = pd.read_csv(RESULTS / "seed003_pool.csv")
        print(
            f"Pool training: {len(runs)} runs, {runs['fit_time'].sum() / 60:.1f} min "
            "of fitting summed over runs (29.0 min wall, 19.0 min CPU for the whole "
            "build, build_seed003_pool.py)"
        )
    if name == "old":
        design_figures(pool, kept, "old pool, filtered")
    else:
        pilot_exprs = np.array(candidates("pilot"))
        print("(design figures are computed on the old pool and the pilot only)")
        pilot_design(pilot_exprs, data, space)
    methods = MAIN + (DESIGN if name == "old" else ())
    start = time.perf_counter()
    print(f"Simulated searches: {n_runs} runs, methods {', '.join(methods)}")
    runs = simulate(pool, n_runs, methods)
    print(f"  ({time.perf_counter() - start:.0f} s)")
    table = report(runs, sd, methods)
    oracle = runs.groupby("run")["oracle"].first().mean()
    print(
        f"Best held-out test accuracy in a run's pool (oracle), mean over runs: "
        f"{oracle:.4f}; ties: differences below one seed sd ({sd:.4f})"
    )
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return pool, runs, table, sd


def pilot_design(exprs: np.ndarray, data, space) -> None:
    """LOO figures on the pilot (40 candidates of the chosen task)."""
    pilot = pd.read_csv(RESULTS / "seed003_pilot.csv")
    pilot = pilot[pilot["task"] == "mlp6x64"]
    wide = pilot.pivot(index="expr", columns="seed")["val_acc"].loc[exprs]
    index = [space.index(e) for e in exprs]
    cached = space_features("fresh", data, space)
    fixed = fisher_features(
        _network("fresh"),
        data[0],
        data[1],
        list(exprs),
        batch_size=FISHER_ROWS,
        bins=FISHER_BINS,
    )
    pool = Pool(
        "pilot",
        "",
        exprs,
        wide.to_numpy(),
        wide.to_numpy(),
        space.outputs[index],
        cached["fisher"][index],
        fixed,
        cached["finite"][index],
        [],
    )
    kept = ~failing_candidates(pool.exprs, pool.finite, outputs=pool.outputs)["removed"]
    design_figures(pool, kept, "pilot (mlp6x64), filtered; 40 candidates: indicative")


def plot_curves(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.4))
    axes = np.atleast_1d(axes)
    for ax, (title, (runs, sd)) in zip(axes, results.items()):
        curve = runs.groupby(["method", "budget"])["test_acc"].mean().unstack()
        for method in [m for m in MAIN + DESIGN if m in curve.index]:
            style = "--" if method.startswith("random") else "-"
            width = 2.2 if method == "surrogate" else 1.2
            ax.plot(curve.columns, curve.loc[method], style, lw=width, label=method)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("candidates evaluated (budget)")
        ax.set_ylabel(
            "chosen candidate's test accuracy\n(held-out seeds, mean of runs)"
        )
        ax.text(
            0.98,
            0.02,
            f"one seed sd = {sd:.4f}",
            transform=ax.transAxes,
            ha="right",
            fontsize=8,
        )
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"Wrote {path}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", choices=("old", "fresh", "both"), default="both")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--data-home", help="folder of fashion_mnist/")
    args = parser.parse_args(argv)
    print_pilot()
    data = load_task(args.data_home)
    space = build_space()
    pools = ("old", "fresh") if args.pool == "both" else (args.pool,)
    results = {}
    for name in pools:
        pool, runs, table, sd = run_pool(name, data, space, args.runs)
        results[pool.title] = (runs, sd)
        if name == "fresh":
            runs[["method", "run", "budget", "chosen_expr", "test_acc"]].to_csv(
                RESULTS / "seed003_search_runs.csv", index=False
            )
            print(f"Wrote {RESULTS / 'seed003_search_runs.csv'}")
            row = table[(table["budget"] == 50)].set_index("method")
            p = row.loc["surrogate", "p (> random)"]
            ratio = row.loc["surrogate", "top-2% in 50"] / max(
                row.loc["random", "top-2% in 50"], 1e-12
            )
            met = p < 0.01 and ratio >= 2
            print(
                f"Target at budget 50 (fresh pool): surrogate beats random with "
                f"p < 0.01: p = {p:.3g}; at least twice random's top-2% hits: "
                f"{row.loc['surrogate', 'top-2% in 50']:.2f} vs "
                f"{row.loc['random', 'top-2% in 50']:.2f} ({ratio:.2f}x): "
                f"{'MET' if met else 'NOT MET'}; mean accuracy difference "
                f"{row.loc['surrogate', 'diff vs random']:+.4f} "
                f"({row.loc['surrogate', 'verdict']})"
            )
    if "fresh" in pools:
        plot_curves(results, RESULTS / "seed003_curves.png")


if __name__ == "__main__":
    main()
