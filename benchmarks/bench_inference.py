"""Inference time at batch 4096: ReLU net, mlp nets, compressed nets.

The 784-128-64-10 networks share the same linear layers. The ``mlp``
activations (1-16-1 ReLU subnetworks) are trained briefly on MNIST-shaped
synthetic data so that their pre-activation ranges are realistic, then
compressed by :class:`~sklearn_learnact.SplineActivationCompressor` four
ways: exactly (the default for piecewise-linear activations: one kink per
cell) or with the uniform degree-1 spline (``exact=False``, max error < tol),
each evaluated eagerly (the default) or compiled (``compile=True``: one fused
torch.compile loop per activation; its one-off compile time is printed with
the compression's fit time). Rows:

- ``relu``: fixed ReLU activations (the reference).
- ``mlp (library)``: the uncompressed ``mlp`` net with the library's fused
  subnet kernel.
- ``mlp (naive seed 000)``: the same subnetworks as
  ``nn.Linear(1, 16) -> ReLU -> nn.Linear(16, 1)`` on ``x.unsqueeze(-1)``, the
  implementation the ">= 5x" target of issue #4 was written for.
- ``compressed (exact)``, ``compressed (uniform)``, and the same compiled.
- ``identity``: the linear layers alone, the floor that no activation can go
  below; it bounds how much faster than the ``mlp`` net a compressed net can be.

Then the first activation alone on its real inputs (batch x 128), where the
activations' own costs compare without the matrix products.

Configurations run interleaved in one process, in a shuffled order per round;
medians and ratios are printed, with PASS/FAIL per target of issue #4:
compressed <= 1.2x ReLU, and >= 5x faster than the uncompressed ``mlp`` net
(against both implementations). The exit status is 0 when the fastest
configuration, the exact compression compiled, meets the first target,
<= 1.2x ReLU. ``--cold-compile`` gives torch's inductor an empty cache
directory, so that the printed compile time is that of a first run on a fresh
machine (later processes reuse the cache).

Run::

    PYTHONPATH=. python benchmarks/bench_inference.py --reps 40 --threads 2
"""

import argparse
import copy
import os
import random
import statistics
import tempfile
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from sklearn_learnact import LearnedActivationClassifier, SplineActivationCompressor

#: (label, exact, compile) of the compressions measured
VARIANTS = [
    ("exact", True, False),
    ("uniform", False, False),
    ("exact, compiled", True, True),
    ("uniform, compiled", False, True),
]


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
    parser.add_argument(
        "--cold-compile",
        action="store_true",
        help="compile with an empty inductor cache (a fresh machine's first run)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.cold_compile:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="inductor-")

    X, y = _data(8192)
    clf = LearnedActivationClassifier(
        (128, 64), "mlp", batch_size=128, max_iter=2, device="cpu", random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    comps = {}
    for label, exact, compile in VARIANTS:
        start = time.perf_counter()
        comps[label] = SplineActivationCompressor(
            clf, exact=exact, compile=compile
        ).fit(X)
        fit_s = time.perf_counter() - start
        columns = ["layer", "n_knots", "n_cells", "max_error", "madds_after"]
        what = "compression fit, compile included" if compile else "compression fit"
        print(f"{label}: {what} {fit_s:.1f} s")
        print(comps[label].report_[columns].to_string(), end="\n\n")

    mlp_net = clf.net_.module_.eval()
    relu_net = copy.deepcopy(mlp_net)
    relu_net.activations = torch.nn.ModuleList(torch.nn.ReLU() for _ in range(2))
    naive_net = copy.deepcopy(mlp_net)
    naive_net.activations = torch.nn.ModuleList(
        _NaiveSubnet(a) for a in mlp_net.activations
    )
    identity_net = copy.deepcopy(mlp_net)
    identity_net.activations = torch.nn.ModuleList(
        torch.nn.Identity() for _ in range(2)
    )
    nets = {
        "identity": identity_net,
        "relu": relu_net,
        "mlp (library)": mlp_net,
        "mlp (naive seed 000)": naive_net,
        **{
            f"compressed ({label})": comp.compressed_estimator_.net_.module_
            for label, comp in comps.items()
        },
    }
    Xb = torch.from_numpy(_data(args.batch, seed=1)[0])
    with torch.inference_mode():
        ref = mlp_net(Xb)
        first = {}
        for name, net in nets.items():  # warm-up and a sanity check
            net.eval()
            start = time.perf_counter()
            out = net(Xb)
            first[name] = time.perf_counter() - start
            if name not in ("relu", "identity"):
                assert torch.allclose(out, ref, atol=1e-2), name
    times = _time(nets, Xb, args.reps)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"batch {args.batch}, {torch.get_num_threads()} threads, {args.reps} reps")
    print(f"{'net':<34}{'median ms':>10}{'min ms':>9}{'vs relu':>9}{'1st call ms':>13}")
    for name, ts in times.items():
        print(
            f"{name:<34}{med[name] * 1e3:>10.2f}{min(ts) * 1e3:>9.2f}"
            f"{med[name] / med['relu']:>9.2f}{first[name] * 1e3:>13.1f}"
        )
    print(
        "(identity: the linear layers alone, a floor for any activation: no "
        "compressed net can be more than\n"
        f" {med['mlp (library)'] / med['identity']:.2f}x faster than the library's "
        "mlp net at this size)\n"
    )
    # the first activation alone, on its real inputs (batch x 128)
    with torch.inference_mode():
        h = mlp_net.hidden[0](Xb)
    acts = {name: net.activations[0] for name, net in nets.items()}
    act_med = {
        name: statistics.median(ts) for name, ts in _time(acts, h, args.reps).items()
    }
    print(f"first activation alone, input {tuple(h.shape)}")
    print(f"{'activation':<34}{'median ms':>10}{'vs relu':>9}{'mlp (lib) /':>13}")
    for name in acts:
        print(
            f"{name:<34}{act_med[name] * 1e3:>10.3f}"
            f"{act_med[name] / act_med['relu']:>9.2f}"
            f"{act_med['mlp (library)'] / act_med[name]:>13.1f}"
        )
    print()
    ok = False
    for label, *_ in VARIANTS:
        comp = med[f"compressed ({label})"]
        checks = [
            (f"compressed ({label}) / relu", comp / med["relu"], "<=", 1.2),
            (
                f"mlp (library) / compressed ({label})",
                med["mlp (library)"] / comp,
                ">=",
                5.0,
            ),
            (
                f"mlp (naive seed 000) / compressed ({label})",
                med["mlp (naive seed 000)"] / comp,
                ">=",
                5.0,
            ),
        ]
        for text, value, op, target in checks:
            passed = value <= target if op == "<=" else value >= target
            if label == "exact, compiled" and op == "<=":  # the acceptance target
                ok = passed
            print(
                f"{text:<54} = {value:5.2f} (target {op} {target:g}): "
                f"{'PASS' if passed else 'FAIL'}"
            )
    return 0 if ok else 1


def _time(fns: dict, x: torch.Tensor, reps: int) -> dict:
    """Seconds per call of each ``fns[name](x)``, interleaved in a shuffled
    order per round."""
    times = {name: [] for name in fns}
    rng = random.Random(0)
    with torch.inference_mode():
        for _ in range(reps):
            order = list(fns)
            rng.shuffle(order)
            for name in order:
                t0 = time.perf_counter()
                fns[name](x)
                times[name].append(time.perf_counter() - t0)
    return times


class _NaiveSubnet(torch.nn.Module):
    """A library ``Subnet`` as seed 000 ran it: Linear(1, h), ReLU, Linear(h, 1)."""

    def __init__(self, subnet):
        super().__init__()
        h = subnet.hidden_size
        self.net = torch.nn.Sequential(
            torch.nn.Linear(1, h), torch.nn.ReLU(), torch.nn.Linear(h, 1)
        )
        with torch.no_grad():
            self.net[0].weight.copy_(subnet.w1.reshape(h, 1))
            self.net[0].bias.copy_(subnet.b1)
            self.net[2].weight.copy_(subnet.w2.reshape(1, h))
            self.net[2].bias.copy_(subnet.b2.reshape(1))

    def forward(self, x):
        return self.net(x.unsqueeze(-1)).squeeze(-1)


if __name__ == "__main__":
    raise SystemExit(main())
