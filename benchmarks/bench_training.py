"""Training cost of one epoch: learnable activations vs ReLU, and the estimator
vs a hand-written loop and scikit-learn.

Synthetic MNIST-shaped float32 data (784 features, 10 classes), Adam, one
epoch. All configurations of a section are timed in this one process, in
rounds (one run of each per round, in a new shuffled order each round), and
compared by their medians, so that a busy machine slows all of them alike.
Each is warmed up first (which also compiles its fused kernels: compiling is
measured separately, in the ``compile`` section). Sections and targets (issue
13; the ratios are to ReLU through the same estimator unless said otherwise):

- ``mlp128``: MLP 784-128-64-10 at batch 128, 60000 samples. Every learnable
  kind <= 1.3x (aim 1.15x). ReLU: <= 1.0x a hand-written PyTorch loop over
  pre-made tensors (default Adam), <= 0.75x ``MLPClassifier`` (adam); the
  same loop with fused Adam (the estimator's) is shown against
  ``MLPClassifier``: the floor under that ratio.
  ``--eager`` adds each kind on the eager path (fused kernels off), for
  information.
- ``mlp32``: the same MLP at batch 32 (seed 001's), 20000 samples: <= 1.5x.
- ``cnn``: seed 002's CNN (two 5x5 convolutions with 32 and 64 channels, a
  128-unit dense layer; ``architecture="cnn"``, images 1x28x28) at batch 128,
  6000 samples: ``mixture`` <= 1.3x.
- ``floor`` (not run by default): the hand-written loop with fused Adam and
  ReLU against the same loop with ``k * x`` (a learnable ``k``) as its
  activation, recorded by autograd, or through the library's autograd
  Function with its formulas eager or compiled: the fixed cost per call that
  every learnable activation pays before any arithmetic.
- ``compile``: per kind, in a new process, the time to compile its fused
  kernels with empty caches (cold, <= 20 s) and to load them from the on-disk
  cache (warm, <= 2 s); the once-per-process cost of torch's compiler (import
  and CPU probe) is shown apart, and so is the library of native training
  operators (C++; spline, mlp, rational, mixture), built once per machine for
  all kinds (<= 20 s) and loaded in each process (<= 2 s).

Usage::

    python benchmarks/bench_training.py [--reps N] [--quick] [--threads T]
        [--clock wall|cpu] [--sections mlp128,mlp32,cnn,compile,floor] [--eager]

``--clock cpu`` times the process's CPU time instead of the wall clock: with
``--threads 1`` it is robust to other processes on a busy machine. With two
threads on a busy machine, ``OMP_WAIT_POLICY=PASSIVE`` avoids OpenMP threads
spinning against other processes. It prints tables and a summary of the
targets, and exits with 0 whatever the outcome: it is a report.
"""

import argparse
import functools
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

# Before torch's thread pool exists (its threads copy the setting): dead ReLU
# units otherwise fill the default Adam's state with slow denormal floats.
torch.set_flush_denormal(True)

import numpy as np  # noqa: E402
from _compile_probe import PRELUDE, run_probe  # noqa: E402  (beside this file)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from sklearn_learnact import LearnedActivationClassifier  # noqa: E402
from sklearn_learnact.activations import (  # noqa: E402
    available_activations,
    compiled_kernels,
    fused_kernels,
)

HIDDEN = (128, 64)
KINDS = available_activations("learnable")  # expr too, once it is registered
MLP_TARGET = {128: 1.3, 32: 1.5}
CNN_TARGET = 1.3
RELU_TARGETS = {"hand loop": 1.0, "sklearn MLPClassifier": 0.75}
COLD_TARGET, WARM_TARGET = 20.0, 2.0


def make_data(n: int, n_features: int = 784, seed: int = 0):
    """Uniform [0, 1) float32 features and 10 random classes."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_features), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return X, y


def hand_loop(batch: int, activation: Callable = torch.nn.ReLU, **adam) -> Callable:
    """One epoch of a plain PyTorch loop, default Adam (or ``adam`` options),
    tensors made up front; ``activation()`` makes each hidden activation."""

    def fit(X, y):
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        model = torch.nn.Sequential(
            torch.nn.Linear(X.shape[1], HIDDEN[0]),
            activation(),
            torch.nn.Linear(HIDDEN[0], HIDDEN[1]),
            activation(),
            torch.nn.Linear(HIDDEN[1], 10),
        )
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, **adam)
        perm = torch.randperm(len(Xt))
        for start in range(0, len(Xt), batch):
            idx = perm[start : start + batch]
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    return fit


def sklearn_mlp(batch: int) -> Callable:
    def fit(X, y):
        MLPClassifier(
            hidden_layer_sizes=HIDDEN,
            solver="adam",
            batch_size=batch,
            max_iter=1,
            learning_rate_init=1e-3,
            alpha=0.0,
            random_state=0,
        ).fit(X, y)

    return fit


def estimator(
    activation: str, batch: int, fused=True, hidden=HIDDEN, **params
) -> Callable:
    """One epoch of the estimator (fused kernels on, or the eager path)."""

    def fit(X, y):
        with fused_kernels(fused):
            LearnedActivationClassifier(
                hidden_layer_sizes=hidden,
                activation=activation,
                batch_size=batch,
                max_iter=1,
                alpha=0.0,
                random_state=0,
                device="cpu",
                **params,
            ).fit(X, y)

    return fit


def measure(configs: dict[str, Callable], X, y, reps: int, n_warm: int, clock):
    """Seconds per run of each config, ``reps`` rounds, each in a shuffled order."""
    for fit in configs.values():  # warm-up; compiles the fused kernels
        fit(X[:n_warm], y[:n_warm])
    times = {name: [] for name in configs}
    order = list(configs)
    rng = random.Random(0)
    for rep in range(reps):
        # a new order each round: the allocator's and thread pools' state left by
        # one config moves the next one's time by up to 30% here
        rng.shuffle(order)
        for name in order:
            torch.manual_seed(rep)
            t0 = clock()
            configs[name](X, y)
            times[name].append(clock() - t0)
        print(f"  round {rep + 1}/{reps} done", file=sys.stderr, flush=True)
    return {name: statistics.median(ts) for name, ts in times.items()}


def table(med: dict, rows, title: str, verdicts: list) -> None:
    """Print ``rows`` of (name, baseline, target); record each verdict."""
    print(f"\n{title}")
    print(f"{'config':34s} {'median s':>9s} {'vs':>24s} {'ratio':>6s} {'target':>7s}")
    for name, base, target in rows:
        ratio = med[name] / med[base]
        verdict = "" if target is None else ("PASS" if ratio <= target else "FAIL")
        tgt = "" if target is None else f"<={target:.2f}"
        print(
            f"{name:34s} {med[name]:9.3f} {base:>24s} {ratio:6.2f} {tgt:>7s}  {verdict}"
        )
        if target is not None:
            verdicts.append((f"{title}: {name} vs {base}", ratio, target))


def section_mlp(batch: int, n: int, args, clock, verdicts) -> None:
    X, y = make_data(n)
    configs = {}
    if batch == 128:
        configs["hand loop"] = hand_loop(batch)
        # what plain PyTorch reaches with the estimator's optimiser: the floor
        # under the ReLU estimator's ratio to MLPClassifier
        configs["hand loop, fused Adam"] = hand_loop(batch, fused=True)
        configs["sklearn MLPClassifier"] = sklearn_mlp(batch)
    configs["relu"] = estimator("relu", batch)
    configs.update({kind: estimator(kind, batch) for kind in KINDS})
    if args.eager and batch == 128:
        configs.update({f"{k} (eager)": estimator(k, batch, False) for k in KINDS})
    med = measure(configs, X, y, args.reps, max(n // 20, 1000), clock)
    rows = []
    if batch == 128:
        rows += [
            ("relu", "hand loop", RELU_TARGETS["hand loop"]),
            ("relu", "sklearn MLPClassifier", RELU_TARGETS["sklearn MLPClassifier"]),
            ("sklearn MLPClassifier", "hand loop", None),
            ("hand loop, fused Adam", "sklearn MLPClassifier", None),
        ]
    rows += [(kind, "relu", MLP_TARGET[batch]) for kind in KINDS]
    rows += [(name, "relu", None) for name in configs if name.endswith("(eager)")]
    table(
        med,
        rows,
        f"MLP 784-{HIDDEN[0]}-{HIDDEN[1]}-10, batch {batch}, {n} samples",
        verdicts,
    )


def section_cnn(args, clock, verdicts) -> None:
    n = 6000 if not args.quick else 1024
    X, y = make_data(n)
    cnn = {"architecture": "cnn", "image_shape": (1, 28, 28), "hidden": (128,)}
    configs = {
        "cnn relu": estimator("relu", 128, **cnn),
        "cnn mixture": estimator("mixture", 128, **cnn),
    }
    if args.eager:
        configs["cnn mixture (eager)"] = estimator("mixture", 128, False, **cnn)
    med = measure(configs, X, y, args.reps, 256, clock)
    rows = [("cnn mixture", "cnn relu", CNN_TARGET)]
    rows += [(name, "cnn relu", None) for name in configs if "eager" in name]
    table(med, rows, f"seed 002's CNN, 1x28x28, batch 128, {n} samples", verdicts)


# -- the floor: what any learnable activation pays per call --------------------
def _scale_forward(x, k):
    return x * k


def _scale_backward(x, grad, k, *, needs):
    grad_x = grad * k if needs[0] else None
    return grad_x, (grad * x).sum() if needs[1] else None


class _Scale(torch.nn.Module):
    """``k * x`` with a learnable ``k``: through the library's machinery (an
    autograd Function whose formulas run as compiled kernels, or eagerly), or
    recorded by autograd."""

    #: one formula per way (its compiled kernels live as long as it does)
    formulas: dict = {}

    def __init__(self, how: str):
        from sklearn_learnact.activations import Formula

        super().__init__()
        self.k = torch.nn.Parameter(torch.ones(()))
        self.how = how
        if how not in self.formulas:
            # the library's formula machinery: this benchmark is its floor
            self.formulas[how] = Formula(
                _scale_forward, _scale_backward, fuse=how == "fused"
            )

    def forward(self, x):
        if self.how == "autograd":
            return x * self.k
        return self.formulas[self.how](x, self.k)


def section_floor(batch: int, n: int, args, clock, verdicts) -> None:
    """The hand-written loop (fused Adam) with ReLU, and with ``k * x`` as the
    activation three ways: the fixed cost of any learnable activation."""
    X, y = make_data(n)
    configs = {"relu (hand loop, fused Adam)": hand_loop(batch, fused=True)}
    for how in ("autograd", "function, eager", "function, fused"):
        act = functools.partial(_Scale, how.removeprefix("function, "))
        configs[f"k*x {how}"] = hand_loop(batch, act, fused=True)
    med = measure(configs, X, y, args.reps, max(n // 20, 1000), clock)
    base = "relu (hand loop, fused Adam)"
    rows = [(name, base, None) for name in configs if name != base]
    table(med, rows, f"floor: k * x as the activation, batch {batch}", verdicts)


# -- compile times, each in a new process ------------------------------------
PROBE = (
    PRELUDE
    + """
from sklearn_learnact import LearnedActivationClassifier
from sklearn_learnact.activations import compiled_kernels
clf = LearnedActivationClassifier({hidden}, {kind!r}, batch_size=128, max_iter=1,
                                  random_state=0, device="cpu").fit(X, y)
clf.predict(X)
records = compiled_kernels()[1:]  # the kind's own kernels and the native library
native = [r for r in records if r["kernel"] == "native"]
records = [r for r in records if r["kernel"] != "native"]
print(json.dumps({{"once": once, "kernels": sum(r["seconds"] for r in records),
                  "n": len(records), "how": sorted({{r["how"] for r in records}}),
                  "native": sum(r["seconds"] for r in native),
                  "native_how": [r["how"] for r in native]}}))
"""
)


def probe(kind: str, cache: Path, threads: int) -> dict:
    code = PROBE.format(threads=threads, hidden=HIDDEN, kind=kind)
    return run_probe(code, cache, kind)


def section_compile(args, verdicts) -> None:
    print("\nfused kernels' one-time cost per kind, each in a new process")
    with tempfile.TemporaryDirectory(prefix="learnact-compile-") as tmp:
        # the native training operators: one library for every kind, built
        # once per machine (here with an empty cache, then loaded from it)
        cache = Path(tmp) / "native"
        cold = probe("spline", cache, args.threads)
        warm = probe("spline", cache, args.threads)
        print(
            f"native operators (every kind with a formula; once per machine): "
            f"built {cold['native']:.2f} s ({', '.join(cold['native_how'])}), "
            f"loaded {warm['native']:.3f} s ({', '.join(warm['native_how'])})"
        )
        verdicts.append(("native operators built (s)", cold["native"], COLD_TARGET))
        verdicts.append(("native operators loaded (s)", warm["native"], WARM_TARGET))
        library = list((cache / "kernels").glob("native-*.so"))
        print(
            f"{'kind':10s} {'kernels':>8s} {'cold s':>8s} {'warm s':>8s} "
            f"{'(once per process: cold s, warm s)':>36s}"
        )
        for kind in KINDS:
            cache = Path(tmp) / kind  # empty: a cold start on a fresh machine
            for path in library:  # ... where the native library was built
                (cache / "kernels").mkdir(parents=True, exist_ok=True)
                shutil.copy(path, cache / "kernels" / path.name)
            cold = probe(kind, cache, args.threads)
            warm = probe(kind, cache, args.threads)
            print(
                f"{kind:10s} {cold['n']:8d} {cold['kernels']:8.2f} "
                f"{warm['kernels']:8.2f} {cold['once']:24.2f} {warm['once']:10.2f}"
                + ("" if warm["how"] in ([], ["loaded"]) else "  (warm recompiled!)")
            )
            verdicts.append((f"compile {kind} cold (s)", cold["kernels"], COLD_TARGET))
            verdicts.append((f"compile {kind} warm (s)", warm["kernels"], WARM_TARGET))
    print(
        "(kernels: compiling, or loading from the disk cache, the kernels a fit and\n"
        " predict of the 784-128-64-10 MLP use, the native library aside; once per\n"
        " process: importing torch's compiler and the first kernel of the process\n"
        " (it probes the CPU when it compiles), timed on an unrelated kernel)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its tables; always returns 0.

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
    parser.add_argument("--reps", type=int, default=5, help="rounds (default 5)")
    parser.add_argument(
        "--quick", action="store_true", help="1/10 of the data, 2 rounds: a smoke run"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--sections", default="mlp128,mlp32,cnn,compile")
    parser.add_argument("--eager", action="store_true", help="time the eager path too")
    args = parser.parse_args(argv)
    # every thread pool (torch's, and numpy's BLAS that MLPClassifier uses)
    threadpool_limits(limits=args.threads)
    torch.set_num_threads(args.threads)
    if args.quick:
        args.reps = min(args.reps, 2)
    scale = 10 if args.quick else 1
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    sections = args.sections.split(",")
    print(
        f"one training epoch, Adam, synthetic 784-feature float32 data; torch "
        f"{torch.__version__}, {torch.get_num_threads()} threads, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'default')}; "
        f"{args.clock} clock, median of {args.reps} rounds, order shuffled per "
        "round; fused kernels compiled before timing"
    )
    verdicts: list = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if "mlp128" in sections:
            section_mlp(128, 60000 // scale, args, clock, verdicts)
        if "mlp32" in sections:
            section_mlp(32, 20000 // scale, args, clock, verdicts)
        if "floor" in sections:
            section_floor(128, 60000 // scale, args, clock, verdicts)
            section_floor(32, 20000 // scale, args, clock, verdicts)
        if "cnn" in sections:
            section_cnn(args, clock, verdicts)
    if "compile" in sections:
        section_compile(args, verdicts)
    held = [v for v in verdicts if v[1] <= v[2]]
    print(f"\ntargets held: {len(held)} of {len(verdicts)}")
    for what, value, target in verdicts:
        if value > target:
            print(f"  FAIL {what}: {value:.2f} > {target:.2f}")
    kernels = compiled_kernels()
    print(f"({len(kernels)} fused kernel variants compiled or loaded in this process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
