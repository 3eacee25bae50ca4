"""Build the activation benchmark of seed 003 on Fashion-MNIST (rebuilds the CSV).

The table ``benchmarks/activation_benchmark.csv`` that
``benchmarks/bench_surrogate.py`` simulates searches on. One fixed task:

- data: Fashion-MNIST from the shared data folder; 8,000 training and 5,000
  validation images drawn (seed 0) from the official training split, the
  10,000 official test images; pixels in [0, 1];
- network: ``LearnedActivationClassifier((64, 64), activation="expr")``, a
  784-64-64-10 MLP, Adam (lr 1e-3), batch 128, 10 epochs, no early stopping;
- candidates: the 8 baselines plus 512 expressions drawn (seed 0) from the
  default candidate space (:func:`sklearn_learnact.surrogate.build_space`);
- 3 seeds (0, 1, 2) per candidate; a diverged run (NaN or infinite loss)
  counts as chance accuracy (0.1: ten balanced classes).

Per candidate the CSV stores the per-seed and median validation and test
accuracies, the number of diverged runs, the mean fit time, and the Fisher
feature (:func:`sklearn_learnact.surrogate.fisher_features`: K-FAC
log-eigenvalue CDFs of the same MLP at initialisation on 256 training rows),
rounded to 4 decimals. The output feature is not stored: it is a
deterministic function of the expression
(:func:`~sklearn_learnact.surrogate.output_features`).

Cost, measured on this machine (a 2-core machine shared with other jobs, one
thread, ``nice``): 2.4 s of CPU per candidate (its three runs, 0.8 s each),
so the 1,560 runs take about 21 minutes of one core (66 minutes of wall time
here); the Fisher features of the 520 candidates take 8 ms each. Progress is
appended to a JSON-lines file after every candidate, so a killed build
resumes where it stopped.

Usage::

    nohup nice -n 19 python benchmarks/build_activation_benchmark.py \\
        --data-home ../shared/data > build.log 2>&1 &

``--phase train`` only trains, ``--phase assemble`` only writes the CSV from
the finished runs (it needs all of them).
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
from sklearn_learnact.surrogate import BASELINES, build_space  # noqa: E402

HERE = Path(__file__).resolve().parent
N_CANDIDATES = 520
SEEDS = (0, 1, 2)
N_TRAIN, N_VALID = 8_000, 5_000
HIDDEN = (64, 64)
EPOCHS = 10
BATCH = 128
LR = 1e-3
CHANCE = 0.1
FISHER_ROWS = 256


def load_task(data_home):
    """Train, validation and test arrays of the fixed task."""
    X, y = load_fashion_mnist(data_home, split="train", return_X_y=True)
    X_test, y_test = load_fashion_mnist(data_home, split="test", return_X_y=True)
    order = np.random.default_rng(0).permutation(len(X))
    train, valid = order[:N_TRAIN], order[N_TRAIN : N_TRAIN + N_VALID]
    return X[train], y[train], X[valid], y[valid], X_test, y_test


def choose_candidates(space) -> list[str]:
    """The baselines, then a seeded random sample of the rest of the space, in
    random order: every prefix of the list is a random sample too."""
    others = [e for e in space.expressions if e not in BASELINES]
    rng = np.random.default_rng(0)
    picked = rng.choice(len(others), N_CANDIDATES - len(BASELINES), replace=False)
    return list(BASELINES) + [others[i] for i in picked]


def make_estimator(expr: str, seed: int) -> LearnedActivationClassifier:
    return LearnedActivationClassifier(
        HIDDEN,
        "expr",
        activation_params={"expr": expr},
        max_iter=EPOCHS,
        batch_size=BATCH,
        learning_rate_init=LR,
        random_state=seed,
    )


def run_candidate(expr, task) -> dict:
    X, y, X_valid, y_valid, X_test, y_test = task
    row = {"expression": expr, "valid": [], "test": [], "diverged": 0, "fit_time": []}
    for seed in SEEDS:
        start = time.perf_counter()
        try:
            clf = make_estimator(expr, seed).fit(X, y)
            valid, test = clf.score(X_valid, y_valid), clf.score(X_test, y_test)
        except TrainingDivergedError:
            valid = test = CHANCE
            row["diverged"] += 1
        row["fit_time"].append(time.perf_counter() - start)
        row["valid"].append(float(valid))
        row["test"].append(float(test))
    return row


def read_runs(path: Path) -> dict[str, dict]:
    """Finished candidates of the JSON-lines file (a torn last line is skipped)."""
    runs = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            runs[row["expression"]] = row
    return runs


def train(candidates, task, raw: Path) -> None:
    done = read_runs(raw)
    todo = [e for e in candidates if e not in done]
    print(f"{len(done)} candidates done, {len(todo)} to go", flush=True)
    start, cpu = time.perf_counter(), time.process_time()
    with raw.open("a") as f:
        for i, expr in enumerate(todo, 1):
            row = run_candidate(expr, task)
            f.write(json.dumps(row) + "\n")
            f.flush()
            elapsed = time.perf_counter() - start
            print(
                f"[{i}/{len(todo)}] {expr}: valid {np.median(row['valid']):.4f} "
                f"test {np.median(row['test']):.4f} ({sum(row['fit_time']):.1f} s; "
                f"{elapsed / i:.1f} s wall, "
                f"{(time.process_time() - cpu) / i:.1f} s CPU per candidate)",
                flush=True,
            )


def assemble(candidates, task, raw: Path, out: Path, min_candidates: int) -> None:
    from sklearn_learnact.surrogate import fisher_features

    runs = read_runs(raw)
    candidates = [e for e in candidates if e in runs]
    if len(candidates) < min_candidates or not set(BASELINES) <= set(candidates):
        raise SystemExit(
            f"{len(candidates)} candidates trained, fewer than {min_candidates} (or "
            "a baseline missing); run --phase train"
        )
    X = task[0]
    start = time.perf_counter()
    fisher = fisher_features(
        make_estimator("x", 0), X, task[1], candidates, batch_size=FISHER_ROWS
    )
    seconds = time.perf_counter() - start
    print(
        f"Fisher features: {fisher.shape[1]} values per candidate, "
        f"{1000 * seconds / len(candidates):.1f} ms per candidate"
    )
    rows = []
    for expr in candidates:
        run = runs[expr]
        row = {"expression": expr, "baseline": expr in BASELINES}
        for split in ("valid", "test"):
            for seed, value in zip(SEEDS, run[split]):
                row[f"{split}_seed{seed}"] = value
            row[f"{split}_median"] = float(np.median(run[split]))
        row["n_diverged"] = run["diverged"]
        row["fit_time"] = round(float(np.mean(run["fit_time"])), 3)
        rows.append(row)
    table = pd.DataFrame(rows)
    columns = [f"fisher_{j:03d}" for j in range(fisher.shape[1])]
    table = pd.concat(
        [table, pd.DataFrame(np.round(fisher, 4), columns=columns)], axis=1
    )
    table.to_csv(out, index=False, float_format="%.4g")
    print(f"Wrote {out} ({len(table)} candidates)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None, help="folder of fashion_mnist/")
    parser.add_argument("--phase", choices=("train", "assemble", "all"), default="all")
    parser.add_argument("--raw", default=str(HERE / "_work" / "activation_runs.jsonl"))
    parser.add_argument("--out", default=str(HERE / "activation_benchmark.csv"))
    parser.add_argument(
        "--min-candidates",
        type=int,
        default=N_CANDIDATES,
        help="assemble once this many candidates are trained (default: all)",
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    raw = Path(args.raw)
    raw.parent.mkdir(parents=True, exist_ok=True)
    chosen = raw.parent / "candidates.json"  # fixed at the first run
    if chosen.exists():
        candidates = json.loads(chosen.read_text())
    else:
        space = build_space()
        print(space.summary())
        candidates = choose_candidates(space)
        chosen.write_text(json.dumps(candidates))
    task = load_task(args.data_home)
    if args.phase in ("train", "all"):
        train(candidates, task, raw)
    if args.phase in ("assemble", "all"):
        assemble(candidates, task, raw, Path(args.out), args.min_candidates)


if __name__ == "__main__":
    main()
