"""Build the fresh candidate pool of seed 003 (issue 23) on a task where the
activation matters: the pilot gate, the pool, its features.

The first benchmark (``build_activation_benchmark.py``: a 784-64-64-10 MLP,
10 epochs) is flat at the top: there the spread between good candidates is
below the noise between seeds, so no search can show anything. This script
picks a harder task on a pilot, then evaluates a fresh pool on it.

Data (as the first benchmark): Fashion-MNIST from the shared data folder;
8,000 training and 5,000 validation images drawn (seed 0) from the official
training split, the 10,000 official test images; pixels in [0, 1].

Tasks (:data:`TASKS`): the library's public estimator,
``LearnedActivationClassifier(hidden, "expr", activation_params={"expr":
...})``, Adam, batch 128, no early stopping; every hidden layer uses the
candidate. A run whose training diverges scores chance (0.1) on both splits.

Phases (the first argument):

- ``pilot``: 40 candidates drawn (seed 2301) from the default candidate space
  (:func:`build_space`), leaving out the first benchmark's pool, x 3 seeds on
  ``--task``; prints the gate. Gate: among the working candidates (no run at
  chance: every validation accuracy above 0.15), the spread between
  candidates (sd of their mean validation accuracy) is at least 3 times the
  noise between seeds (median over candidates of the sd across seeds,
  ``ddof=1``). It also prints the same two figures inside the better half of
  the working candidates (at or above their median): the top is what a
  search competes for, and the whole-pool gate cannot see it (the first
  benchmark, flat at the top, passes it with a ratio of 23).
- ``pool``: the 8 baselines plus 512 candidates drawn (seed 2302) from the
  default space, leaving out the first benchmark's pool and the pilot's
  candidates, x seeds 0, 1, 2 on the chosen task (:data:`POOL_TASK`).
- ``features``: for every pool candidate, and for the first benchmark's 520,
  the output feature and the Fisher feature of the chosen task's network at
  initialisation on 256 of its training rows (the library's defaults), saved
  to ``benchmarks/seed003_pool_features.npz``: arrays ``expr``, ``outputs``
  (520 x 1000, on ``points``), ``fisher`` (520 x 420: 7 weighted layers x 60
  bins, ``fisher_bins``) and ``fisher_edges`` (520 x 448: the same with
  :data:`EDGES`, which separate zeros, values out of range and non-finite
  ones: a failure filter needs them), row-aligned; the same with the prefix
  ``old_`` for the first benchmark's pool (its accuracies belong to the first
  task: for design work that must not touch the fresh pool).
- ``assemble``: writes ``docs/results/seed003_pilot.csv`` and
  ``docs/results/seed003_pool.csv`` (one row per candidate x seed: ``expr``,
  ``seed``, ``val_acc``, ``test_acc``, ``fit_time`` in seconds, ``diverged``,
  ``baseline``) and prints the gate and the pool's time.

The pool (``mlp6x64``, 520 candidates x 3 seeds = 1,560 runs) took 29.0
minutes of wall time and 19.0 minutes of CPU summed over its runs (one thread,
``nice``; 29.4 minutes from start to end on 2 cores shared with other jobs);
260 runs diverged (scored 0.1) and 220 candidates have a mean validation
accuracy at chance (at most 0.15). On the pool itself the gate reads: 285
working, spread 0.1819, noise 0.0181, ratio 10.1; better half spread 0.0240,
noise 0.0100, ratio 2.40. The features take about 15 ms per candidate (the
6-layer network's Fisher feature; one thread).

Every finished run (candidate x seed) is appended to a JSON-lines file under
``benchmarks/_work/seed003/``; a killed phase resumes where it stopped.

Pilot results (``assemble`` prints them and writes the runs to
``docs/results/seed003_pilot.csv``; validation accuracy; "better
half": the working candidates at or above their median, with their own
noise; time per run on this machine: 2 shared cores, one thread, ``nice``):

=================  =======  ======  ======  =====  ======  =====  =====
task               working  spread  noise   ratio  half    half   s/run
                                                   spread  ratio
=================  =======  ======  ======  =====  ======  =====  =====
first benchmark    386/520  0.1301  0.0056  23.3   0.0044  0.95   0.8
mlp6x64 (chosen)   24/40    0.2297  0.0155  14.9   0.0255  2.68   0.66
mlp6x64-e10        24/40    0.2046  0.0111  18.4   0.0094  1.06   1.77
mlp6x64-e3         23/40    0.2195  0.0264   8.3   0.0402  4.31   0.42
mlp10x64           14/40    0.1858  0.0223   8.3   0.0229  1.82   1.12
mlp8x32            18/40    0.2216  0.0331   6.7   0.0458  3.02   0.60
=================  =======  ======  ======  =====  ======  =====  =====

Every task passes the gate; ``mlp6x64`` (784-(64x6)-10, 5 epochs, Adam lr
1e-3), the first one tried, is the pool's task: its better-half ratio is 2.8
times the first benchmark's, with less seed noise and fewer failures than
the deeper, narrower or shorter variants (``mlp6x64-e3`` separates the top
more, but not distinguishably on 40 candidates: it beats ``mlp6x64`` in 74%
of bootstrap resamples, and its seed noise is 1.7 times larger). A CNN was
not tried: the library's CNN (two 5x5 convolutions, 32 and 64 channels, one
dense layer of 64) takes 7.7 s of CPU per epoch here (one thread), so 5
epochs x 1,560 runs is about 17 hours of one core, 60 times the MLP.

Usage::

    PYTHONPATH=. nice -n 10 python benchmarks/build_seed003_pool.py pilot \\
        --task mlp6x64 --data-home ../shared/data
    PYTHONPATH=. nohup nice -n 10 python benchmarks/build_seed003_pool.py pool \\
        --data-home ../shared/data > pool.log 2>&1 &
    PYTHONPATH=. python benchmarks/build_seed003_pool.py features --data-home ...
    PYTHONPATH=. python benchmarks/build_seed003_pool.py assemble
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import torch

# Before torch's thread pool starts: dead units otherwise fill Adam's state
# with slow denormal floats (../shared/perf/ANCHORS.md).
torch.set_flush_denormal(True)
# One core: on a shared machine a second thread mostly spins waiting for the first.
torch.set_num_threads(1)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from sklearn_learnact import (  # noqa: E402
    LearnedActivationClassifier,
    TrainingDivergedError,
)
from sklearn_learnact.datasets import load_fashion_mnist  # noqa: E402
from sklearn_learnact.surrogate import (  # noqa: E402
    BASELINES,
    FISHER_BINS,
    build_space,
    fisher_features,
    output_features,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "_work" / "seed003"
OLD_POOL = HERE / "activation_benchmark.csv"
FEATURES = HERE / "seed003_pool_features.npz"
RESULTS = ROOT / "docs" / "results"

N_TRAIN, N_VALID = 8_000, 5_000
BATCH = 128
SEEDS = (0, 1, 2)
CHANCE = 0.1
#: A run at or below this validation accuracy is "at chance" for the gate.
WORKING = CHANCE + 0.05
GATE = 3.0
PILOT_SEED, N_PILOT = 2301, 40
POOL_SEED, N_POOL = 2302, 512
FISHER_ROWS = 256
#: FISHER_BINS with four extra bins per layer (64 in all): exact zeros (-inf),
#: values below e^-40, above e^20, and non-finite ones (nan, +inf), which the
#: default feature folds into its end bins. A finite log never reaches 1e299.
EDGES = np.concatenate([[-1e300, -1e299], FISHER_BINS, [1e299, 1e300]])

#: Candidate tasks of the pilot: hidden layers, epochs, Adam's learning rate.
TASKS = {
    "mlp6x64": {"hidden": (64,) * 6, "epochs": 5, "lr": 1e-3},
    "mlp6x64-e10": {"hidden": (64,) * 6, "epochs": 10, "lr": 1e-3},
    "mlp6x64-e3": {"hidden": (64,) * 6, "epochs": 3, "lr": 1e-3},
    "mlp10x64": {"hidden": (64,) * 10, "epochs": 5, "lr": 1e-3},
    "mlp8x32": {"hidden": (32,) * 8, "epochs": 5, "lr": 1e-3},
}
#: The task the pool is evaluated on, chosen on the pilot only.
POOL_TASK = "mlp6x64"


def load_task(data_home):
    """Train, validation and test arrays (the first benchmark's split)."""
    X, y = load_fashion_mnist(data_home, split="train", return_X_y=True)
    X_test, y_test = load_fashion_mnist(data_home, split="test", return_X_y=True)
    order = np.random.default_rng(0).permutation(len(X))
    train, valid = order[:N_TRAIN], order[N_TRAIN : N_TRAIN + N_VALID]
    return X[train], y[train], X[valid], y[valid], X_test, y_test


def make_estimator(task: str, expr: str, seed: int) -> LearnedActivationClassifier:
    spec = TASKS[task]
    return LearnedActivationClassifier(
        spec["hidden"],
        "expr",
        activation_params={"expr": expr},
        max_iter=spec["epochs"],
        batch_size=BATCH,
        learning_rate_init=spec["lr"],
        random_state=seed,
    )


def old_pool() -> list[str]:
    return pd.read_csv(OLD_POOL)["expression"].tolist()


def draw(space, seed: int, n: int, exclude) -> list[str]:
    """``n`` expressions of the space drawn at random, none of ``exclude`` nor a
    baseline, in random order (every prefix is a random sample too)."""
    exclude = set(exclude) | set(BASELINES)
    others = [e for e in space.expressions if e not in exclude]
    picked = np.random.default_rng(seed).choice(len(others), n, replace=False)
    return [others[i] for i in picked]


def candidates(phase: str) -> list[str]:
    """The pilot's or the pool's candidates, fixed in ``WORK`` at the first call."""
    path = WORK / f"candidates_{phase}.json"
    if path.exists():
        return json.loads(path.read_text())
    space = build_space()
    old = old_pool()
    missing = [e for e in old if e not in space.expressions]
    if missing:
        raise SystemExit(f"{len(missing)} old-pool expressions not in the space")
    pilot = draw(space, PILOT_SEED, N_PILOT, old)
    chosen = {
        "pilot": pilot,
        "pool": list(BASELINES) + draw(space, POOL_SEED, N_POOL, old + pilot),
    }
    WORK.mkdir(parents=True, exist_ok=True)
    for name, exprs in chosen.items():
        (WORK / f"candidates_{name}.json").write_text(json.dumps(exprs))
    return chosen[phase]


def run_one(task: str, expr: str, seed: int, data) -> dict:
    X, y, X_valid, y_valid, X_test, y_test = data
    start, cpu = time.perf_counter(), time.process_time()
    diverged = False
    try:
        clf = make_estimator(task, expr, seed).fit(X, y)
        fit_time = time.perf_counter() - start
        valid, test = clf.score(X_valid, y_valid), clf.score(X_test, y_test)
    except TrainingDivergedError:
        fit_time = time.perf_counter() - start
        valid = test = CHANCE
        diverged = True
    return {
        "task": task,
        "expr": expr,
        "seed": seed,
        "val_acc": float(valid),
        "test_acc": float(test),
        "fit_time": round(fit_time, 3),
        "wall_time": round(time.perf_counter() - start, 3),
        "cpu_time": round(time.process_time() - cpu, 3),
        "diverged": diverged,
    }


def read_runs(path: Path) -> list[dict]:
    """Finished runs of a JSON-lines file (a torn last line is skipped)."""
    runs = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                runs.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return runs


def train(task: str, exprs: list[str], path: Path, data) -> None:
    done = {(r["expr"], r["seed"]) for r in read_runs(path)}
    todo = [(e, s) for e in exprs for s in SEEDS if (e, s) not in done]
    print(f"{task}: {len(done)} runs done, {len(todo)} to go", flush=True)
    start = time.perf_counter()
    with path.open("a") as f:
        for i, (expr, seed) in enumerate(todo, 1):
            row = run_one(task, expr, seed, data)
            f.write(json.dumps(row) + "\n")
            f.flush()
            per_run = (time.perf_counter() - start) / i
            print(
                f"[{i}/{len(todo)}] {expr} seed {seed}: valid {row['val_acc']:.4f} "
                f"test {row['test_acc']:.4f} ({row['wall_time']:.1f} s; "
                f"ETA {per_run * (len(todo) - i) / 60:.0f} min)",
                flush=True,
            )


def per_candidate(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd (ddof=1) over seeds of each candidate's validation accuracy."""
    return runs.groupby("expr", sort=False)["val_acc"].agg(["mean", "std", "min"])


def gate(runs: pd.DataFrame) -> dict:
    """Spread between working candidates vs noise between seeds."""
    stats = per_candidate(runs)
    working = stats[stats["min"] > WORKING]
    spread, noise = float(working["mean"].std()), float(working["std"].median())
    top = working[working["mean"] >= working["mean"].median()]
    return {
        "candidates": len(stats),
        "working": len(working),
        "all at chance": int((stats["mean"] <= WORKING).sum()),
        "spread": spread,
        "noise": noise,
        "ratio": spread / noise,
        "passes": spread >= GATE * noise,
        "top-half spread": float(top["mean"].std()),
        "top-half noise": float(top["std"].median()),
        "top-half ratio": float(top["mean"].std() / top["std"].median()),
        "best": float(working["mean"].max()),
        "median": float(working["mean"].median()),
    }


def print_gate(task: str, runs: pd.DataFrame) -> None:
    g = gate(runs)
    print(
        f"Gate, {task}: {g['candidates']} candidates x {len(SEEDS)} seeds; "
        f"{g['working']} working (no run at chance), {g['all at chance']} at chance. "
        f"Working: mean validation accuracy median {g['median']:.4f}, best "
        f"{g['best']:.4f}; spread between candidates (sd of means) "
        f"{g['spread']:.4f}, noise between seeds (median sd) {g['noise']:.4f}, "
        f"ratio {g['ratio']:.2f}: gate (>= {GATE:g}) "
        f"{'PASSED' if g['passes'] else 'FAILED'}. Better half of the working: "
        f"spread {g['top-half spread']:.4f}, noise {g['top-half noise']:.4f}, "
        f"ratio {g['top-half ratio']:.2f}.",
        flush=True,
    )


def old_runs() -> pd.DataFrame:
    """The first benchmark's runs, one row per candidate x seed."""
    table = pd.read_csv(OLD_POOL)
    return pd.DataFrame(
        {"expr": table["expression"].repeat(len(SEEDS)).to_numpy()}
    ).assign(val_acc=table.filter(regex=r"^valid_seed\d$").to_numpy().ravel())


def features(data, task: str) -> None:
    """Output and Fisher features of the pool's and the old pool's candidates."""
    space = build_space()
    outputs = output_features(space)
    X, y = data[0], data[1]
    estimator = make_estimator(task, "x", 0)
    arrays = {"points": space.points, "fisher_bins": FISHER_BINS, "edges": EDGES}
    for prefix, exprs in (("", candidates("pool")), ("old_", old_pool())):
        start = time.perf_counter()
        fisher = fisher_features(
            estimator, X, y, exprs, batch_size=FISHER_ROWS, bins=FISHER_BINS
        )
        seconds = time.perf_counter() - start
        edges = fisher_features(
            estimator, X, y, exprs, batch_size=FISHER_ROWS, bins=EDGES
        )
        arrays[f"{prefix}expr"] = np.array(exprs)
        arrays[f"{prefix}outputs"] = outputs[[space.index(e) for e in exprs]]
        arrays[f"{prefix}fisher"] = fisher.astype(np.float32)
        arrays[f"{prefix}fisher_edges"] = edges.astype(np.float32)
        print(
            f"{prefix or 'pool '}features: {len(exprs)} candidates, Fisher "
            f"{fisher.shape[1]} values each, {1e3 * seconds / len(exprs):.1f} ms "
            "per candidate",
            flush=True,
        )
    np.savez_compressed(FEATURES, **arrays)
    print(f"Wrote {FEATURES}")


def assemble() -> None:
    columns = ["expr", "seed", "val_acc", "test_acc", "fit_time", "diverged"]
    pilot = pd.concat(
        [pd.DataFrame(read_runs(WORK / f"pilot_{task}.jsonl")) for task in TASKS]
    )
    print_gate("first benchmark (784-64-64-10, 10 epochs, 520 candidates)", old_runs())
    for task, runs in pilot.groupby("task", sort=False):
        print_gate(task, runs)
    pilot[["task", *columns]].to_csv(
        RESULTS / "seed003_pilot.csv", index=False, float_format="%.4f"
    )
    exprs = candidates("pool")
    runs = pd.DataFrame(read_runs(WORK / f"pool_{POOL_TASK}.jsonl"))
    runs = runs.drop_duplicates(["expr", "seed"], keep="last")
    if len(runs) < len(exprs) * len(SEEDS):
        raise SystemExit(
            f"{len(runs)} of {len(exprs) * len(SEEDS)} pool runs done; run pool"
        )
    order = {e: i for i, e in enumerate(exprs)}
    runs = runs.assign(order=runs["expr"].map(order)).sort_values(["order", "seed"])
    runs["baseline"] = runs["expr"].isin(BASELINES)
    runs[[*columns, "baseline"]].to_csv(
        RESULTS / "seed003_pool.csv", index=False, float_format="%.4f"
    )
    print_gate(f"pool ({POOL_TASK}, seeds 0-2)", runs)
    stats = per_candidate(runs)
    print(
        f"Pool {POOL_TASK}: {len(stats)} candidates x {len(SEEDS)} seeds; "
        f"{int(runs['diverged'].sum())} runs diverged, "
        f"{int((stats['mean'] <= WORKING).sum())} candidates at chance; "
        f"training {runs['wall_time'].sum() / 3600:.2f} h wall, "
        f"{runs['cpu_time'].sum() / 3600:.2f} h CPU (sum over runs)"
    )
    print(f"Wrote {RESULTS / 'seed003_pool.csv'} and seed003_pilot.csv")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=("pilot", "pool", "features", "assemble"))
    parser.add_argument("--task", choices=tuple(TASKS), default=POOL_TASK)
    parser.add_argument("--data-home", default=None, help="folder of fashion_mnist/")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    WORK.mkdir(parents=True, exist_ok=True)
    if args.phase == "assemble":
        assemble()
        return
    data = load_task(args.data_home)
    if args.phase == "features":
        features(data, POOL_TASK)
        return
    task = args.task if args.phase == "pilot" else POOL_TASK
    path = WORK / f"{args.phase}_{task}.jsonl"
    train(task, candidates(args.phase), path, data)
    if args.phase == "pilot":
        print_gate(task, pd.DataFrame(read_runs(path)))


if __name__ == "__main__":
    main()
