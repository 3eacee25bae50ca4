"""Training cost of one epoch: the estimator vs a hand loop, sklearn, ReLU.

Synthetic 60000x784 float32 data (10 classes), MLP 784-128-64-10, Adam, one
epoch at batch 128. All configurations are timed in this one process, in
rounds (one run of each per round, in a new shuffled order each round), and
compared by their medians, so that a busy machine slows all of them alike.
Each is warmed up on a subset first. Targets (issue acceptance point 7):

- ``LearnedActivationClassifier(activation="relu")`` vs a hand-written PyTorch
  loop over pre-made tensors with default ``torch.optim.Adam``: <= 1.0;
- vs ``sklearn.neural_network.MLPClassifier`` (adam) on the same data: <= 0.75;
- a learnable activation (mixture, rational, spline, mlp) vs ``relu`` through
  the same estimator: <= 1.3 (affine, prelu, swish are shown for information).

No ``torch.compile`` is used, so there is no compile cost to report.

Usage::

    python benchmarks/bench_training.py [--reps N] [--quick]

It prints a table and exits with 0 whatever the outcome: it is a report.
"""

import argparse
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence

import torch

# Before torch's thread pool exists (its threads copy the setting): dead ReLU
# units otherwise fill the default Adam's state with slow denormal floats.
torch.set_flush_denormal(True)

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from sklearn_learnact import LearnedActivationClassifier  # noqa: E402

HIDDEN = (128, 64)
BATCH = 128
LEARNABLE = ("mixture", "rational", "spline", "mlp")
INFO = ("affine", "prelu", "swish")
TARGETS = {"relu vs hand loop": 1.0, "relu vs sklearn MLP": 0.75}
ACTIVATION_TARGET = 1.3


def make_data(n: int, n_features: int = 784, seed: int = 0):
    """Uniform [0, 1) float32 features and 10 random classes."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_features), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return X, y


def hand_loop(X: np.ndarray, y: np.ndarray) -> None:
    """One epoch of a plain PyTorch loop, default Adam, tensors made up front."""
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    model = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], HIDDEN[0]),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN[0], HIDDEN[1]),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN[1], 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    perm = torch.randperm(len(Xt))
    for start in range(0, len(Xt), BATCH):
        idx = perm[start : start + BATCH]
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
        loss.backward()
        opt.step()


def estimator(activation: str) -> Callable[[np.ndarray, np.ndarray], None]:
    def fit(X, y):
        LearnedActivationClassifier(
            hidden_layer_sizes=HIDDEN,
            activation=activation,
            batch_size=BATCH,
            max_iter=1,
            alpha=0.0,
            random_state=0,
            device="cpu",
        ).fit(X, y)

    return fit


def sklearn_mlp(X: np.ndarray, y: np.ndarray) -> None:
    MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        solver="adam",
        batch_size=BATCH,
        max_iter=1,
        learning_rate_init=1e-3,
        alpha=0.0,
        random_state=0,
    ).fit(X, y)


def measure(
    configs: dict[str, Callable], X, y, reps: int, n_warm: int
) -> dict[str, list[float]]:
    """Seconds per run of each config, ``reps`` rounds, each in a shuffled order."""
    for fit in configs.values():
        fit(X[:n_warm], y[:n_warm])
    times = {name: [] for name in configs}
    order = list(configs)
    rng = random.Random(0)
    for rep in range(reps):
        # a new order each round: the allocator's and thread pools' state left by
        # one config moves the next one's time by up to 30% here
        rng.shuffle(order)
        for name in order:
            fit = configs[name]
            torch.manual_seed(rep)
            t0 = time.perf_counter()
            fit(X, y)
            times[name].append(time.perf_counter() - t0)
        print(f"  rep {rep + 1}/{reps} done", file=sys.stderr, flush=True)
    return times


def report(times: dict[str, list[float]]) -> list[str]:
    """The table: median seconds, ratio to its baseline, target, verdict."""
    med = {name: statistics.median(ts) for name, ts in times.items()}
    rows = [
        ("hand loop (default Adam)", "hand loop", None),
        ("sklearn MLPClassifier", "hand loop", None),
        ("estimator relu", "hand loop", TARGETS["relu vs hand loop"]),
        ("estimator relu", "sklearn MLPClassifier", TARGETS["relu vs sklearn MLP"]),
    ]
    rows += [(f"estimator {a}", "estimator relu", ACTIVATION_TARGET) for a in LEARNABLE]
    rows += [(f"estimator {a}", "estimator relu", None) for a in INFO]
    base_name = {
        "hand loop": "hand loop (default Adam)",
        "sklearn MLPClassifier": "sklearn MLPClassifier",
        "estimator relu": "estimator relu",
    }
    lines = [
        f"{'config':28s} {'median s':>9s} {'vs':>22s} {'ratio':>6s} "
        f"{'target':>7s}  verdict",
    ]
    for name, base, target in rows:
        if name not in med:
            continue
        ratio = med[name] / med[base_name[base]]
        verdict = "" if target is None else ("PASS" if ratio <= target else "FAIL")
        tgt = "" if target is None else f"<={target:.2f}"
        lines.append(
            f"{name:28s} {med[name]:9.3f} {base:>22s} {ratio:6.2f} {tgt:>7s}  {verdict}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table; always returns 0.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9, help="rounds (default 9)")
    parser.add_argument(
        "--quick", action="store_true", help="6000 samples, 2 rounds: a smoke run"
    )
    args = parser.parse_args(argv)
    n, reps = (6000, min(args.reps, 2)) if args.quick else (60000, args.reps)
    X, y = make_data(n)
    configs = {
        "hand loop (default Adam)": hand_loop,
        "sklearn MLPClassifier": sklearn_mlp,
        "estimator relu": estimator("relu"),
    }
    configs.update({f"estimator {a}": estimator(a) for a in LEARNABLE + INFO})
    print(
        f"one epoch, {n}x784 float32, MLP 784-{HIDDEN[0]}-{HIDDEN[1]}-10, "
        f"batch {BATCH}, Adam; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; median of {reps} rounds, "
        "order shuffled per round"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        times = measure(configs, X, y, reps, n_warm=max(n // 10, 1000))
    print("\n".join(report(times)))
    print("torch.compile: not used (no compile cost).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
