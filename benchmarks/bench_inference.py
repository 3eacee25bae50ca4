"""Inference time at batch 4096: ReLU net, uncompressed ``mlp`` net, compressed net.

The three 784-128-64-10 networks share the same linear layers. The ``mlp``
activations (1-16-1 ReLU subnetworks) are trained briefly on MNIST-shaped
synthetic data so that their pre-activation ranges are realistic, then
compressed by :class:`~sklearn_learnact.SplineActivationCompressor`.
Configurations run interleaved in one process; medians and ratios are printed,
with PASS/FAIL against the targets of issue #4 (compressed <= 1.2x ReLU and
>= 5x faster than the uncompressed ``mlp`` net).

Run::

    PYTHONPATH=. python benchmarks/bench_inference.py --reps 30 --threads 2
"""

import argparse
import copy
import statistics
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from sklearn_learnact import LearnedActivationClassifier, SplineActivationCompressor


def _data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = rng.random((10, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    X = centers[y] * (rng.random((n, 784), dtype=np.float32) < 0.3)
    return X.astype(np.float32), y


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    X, y = _data(8192)
    clf = LearnedActivationClassifier(
        (128, 64), "mlp", batch_size=128, max_iter=2, device="cpu", random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    start = time.perf_counter()
    comp = SplineActivationCompressor(clf).fit(X)
    fit_s = time.perf_counter() - start
    print(comp.report_[["layer", "n_knots", "max_error", "madds_before"]].to_string())
    print(f"compression fit: {fit_s:.1f} s")

    mlp_net = clf.net_.module_.eval()
    compressed = comp.compressed_estimator_.net_.module_.eval()
    relu_net = copy.deepcopy(mlp_net)
    relu_net.activations = torch.nn.ModuleList(torch.nn.ReLU() for _ in range(2))
    nets = {"relu": relu_net, "mlp (uncompressed)": mlp_net, "compressed": compressed}

    Xb = torch.from_numpy(_data(args.batch, seed=1)[0])
    times = {name: [] for name in nets}
    with torch.inference_mode():
        for net in nets.values():  # warm-up
            net(Xb)
        for _ in range(args.reps):
            for name, net in nets.items():
                t0 = time.perf_counter()
                net(Xb)
                times[name].append(time.perf_counter() - t0)
    base = statistics.median(times["relu"])
    print(f"\nbatch {args.batch}, {torch.get_num_threads()} threads, {args.reps} reps")
    print(f"{'net':<22}{'median ms':>10}{'min ms':>9}{'vs relu':>9}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<22}{med * 1e3:>10.2f}{min(ts) * 1e3:>9.2f}{med / base:>9.2f}")
    ratio_relu = statistics.median(times["compressed"]) / base
    speedup = statistics.median(times["mlp (uncompressed)"]) / statistics.median(
        times["compressed"]
    )
    ok_relu, ok_mlp = ratio_relu <= 1.2, speedup >= 5.0
    print(
        f"compressed / relu = {ratio_relu:.2f} (target <= 1.2): "
        f"{'PASS' if ok_relu else 'FAIL'}"
    )
    print(
        f"mlp / compressed = {speedup:.1f}x (target >= 5x): "
        f"{'PASS' if ok_mlp else 'FAIL'}"
    )
    return 0 if ok_relu and ok_mlp else 1


if __name__ == "__main__":
    raise SystemExit(main())
