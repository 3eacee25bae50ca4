"""Inference time: learnable and compressed nets vs the ReLU net, batch 4096 and 256.

The 784-128-64-10 networks share the same linear layers. Every learnable kind
is trained briefly on MNIST-shaped synthetic data (so that its parameters and
pre-activation ranges are realistic; its fused kernels are compiled then, by
``fit``); the ``mlp`` net (1-16-1 ReLU subnetworks, seed 000) is also
compressed by :class:`~sklearn_learnact.SplineActivationCompressor`: as a user
calls it (``SplineActivationCompressor(clf)``: exact piecewise-linear splines,
fused), eagerly (``compile=False``) and with the uniform spline
(``exact=False``). Rows, timed as ``predict`` runs them (inference mode, no
compiling):

- ``relu``: fixed ReLU activations (the reference); ``identity``: the linear
  layers alone, the floor that no activation can go below.
- every learnable kind, uncompressed (target <= 1.5x ReLU at batch 4096);
- the compressed ``mlp`` nets (the default one: target <= 1.15x ReLU at batch
  4096 and <= 1.3x at batch 256);
- ``mlp (naive seed 000)``: the subnetworks as ``nn.Linear(1, 16) -> ReLU ->
  nn.Linear(16, 1)``, the implementation seed 000 describes.

Then the first activation alone on its real inputs (batch x 128), and the
one-time cost of the default compression in new processes: compiling its
kernels with empty caches (cold) and loading them from the disk cache (warm).
Configurations run interleaved in one process, in a shuffled order per round;
medians and ratios are printed with PASS/FAIL per target. The exit status is
0 when the default compressed net meets its targets.

Run::

    PYTHONPATH=. python benchmarks/bench_inference.py --reps 40 --threads 2

``--clock cpu`` times the process's CPU time instead of the wall clock: with
``--threads 1`` it is robust to other processes on a busy machine.
"""

import argparse
import copy
import random
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

# the compile-time probe shared with bench_training.py (beside this file)
from _compile_probe import PRELUDE, run_probe
from sklearn.exceptions import ConvergenceWarning

from sklearn_learnact import LearnedActivationClassifier, SplineActivationCompressor
from sklearn_learnact.activations import available_activations, no_new_kernels

KINDS = available_activations("learnable")
#: (label, SplineActivationCompressor options) of the compressions measured
COMPRESSIONS = {
    "compressed (default)": {},
    "compressed (eager)": {"compile": False},
    "compressed (uniform)": {"exact": False},
}
TARGETS = {4096: 1.15, 256: 1.3}  # the default compressed net vs ReLU
LEARNABLE_TARGET = 1.5  # uncompressed, batch 4096


def _data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = rng.random((10, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    X = centers[y] * (rng.random((n, 784), dtype=np.float32) < 0.3)
    return X.astype(np.float32), y


def _fit(kind: str, X, y):
    return LearnedActivationClassifier(
        (128, 64), kind, batch_size=128, max_iter=2, device="cpu", random_state=0
    ).fit(X, y)


def _time(fns: dict, x: torch.Tensor, reps: int, clock=time.perf_counter) -> dict:
    """Seconds per call of each ``fns[name](x)``, as predict runs it (inference
    mode, no compiling), interleaved in a shuffled order per round."""
    times = {name: [] for name in fns}
    rng = random.Random(0)
    with torch.inference_mode(), no_new_kernels():
        for fn in fns.values():  # warm-up
            fn(x)
        for _ in range(reps):
            order = list(fns)
            rng.shuffle(order)
            for name in order:
                t0 = clock()
                fns[name](x)
                times[name].append(clock() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


PROBE = (
    PRELUDE
    + """
from sklearn_learnact import LearnedActivationClassifier, SplineActivationCompressor
from sklearn_learnact.activations import compiled_kernels, fused_kernels
with fused_kernels(False):  # the training kernels are not what is timed here
    clf = LearnedActivationClassifier((128, 64), "mlp", max_iter=2, random_state=0,
                                      device="cpu").fit(X, y)
start = time.perf_counter()
comp = SplineActivationCompressor(clf).fit(X)
fit_s = time.perf_counter() - start
start = time.perf_counter()
comp.predict(X)
records = compiled_kernels()[1:]  # the compression's own kernels
print(json.dumps({{"fit": fit_s, "predict": time.perf_counter() - start, "once": once,
                  "kernels": sum(r["seconds"] for r in records), "n": len(records),
                  "how": sorted({{r["how"] for r in records}})}}))
"""
)


def _probe(cache: Path, threads: int) -> dict:
    return run_probe(PROBE.format(threads=threads), cache, "the default compression")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument(
        "--no-compile-times",
        action="store_true",
        help="skip the cold/warm compile times (two new processes)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter

    X, y = _data(8192)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = {kind: _fit(kind, X, y) for kind in KINDS}
    comps = {}
    for label, options in COMPRESSIONS.items():
        start = time.perf_counter()
        comps[label] = SplineActivationCompressor(fitted["mlp"], **options).fit(X)
        fit_s = time.perf_counter() - start
        columns = ["layer", "n_knots", "n_cells", "max_error", "madds_after"]
        print(f"{label}: compression fit {fit_s:.1f} s")
        print(comps[label].report_[columns].to_string(), end="\n\n")

    mlp_net = fitted["mlp"].net_.module_.eval()
    relu_net = copy.deepcopy(mlp_net)
    relu_net.activations = torch.nn.ModuleList(torch.nn.ReLU() for _ in range(2))
    identity_net = copy.deepcopy(mlp_net)
    identity_net.activations = torch.nn.ModuleList(
        torch.nn.Identity() for _ in range(2)
    )
    naive_net = copy.deepcopy(mlp_net)
    naive_net.activations = torch.nn.ModuleList(
        _NaiveSubnet(a) for a in mlp_net.activations
    )
    nets = {
        "identity": identity_net,
        "relu": relu_net,
        **{kind: fitted[kind].net_.module_.eval() for kind in KINDS},
        "mlp (naive seed 000)": naive_net,
        **{label: c.compressed_estimator_.net_.module_ for label, c in comps.items()},
    }
    verdicts = []
    med = {}
    for batch in (4096, 256):
        Xb = torch.from_numpy(_data(batch, seed=1)[0])
        with torch.inference_mode():
            ref = mlp_net(Xb)
            for name, net in nets.items():  # a sanity check of the compressions
                if name.startswith(("compressed", "mlp")):
                    assert torch.allclose(net.eval()(Xb), ref, atol=1e-2), name
        reps = args.reps if batch == 4096 else 4 * args.reps
        med[batch] = _time(nets, Xb, reps, clock)
    print(
        f"{torch.get_num_threads()} threads, {args.clock} clock, median of "
        f"{args.reps} rounds (x4 at batch 256), order shuffled per round"
    )
    print(f"{'net':<30}{'4096: ms':>10}{'vs relu':>9}{'256: ms':>10}{'vs relu':>9}")
    for name in nets:
        cells = "".join(
            f"{med[b][name] * 1e3:>10.3f}{med[b][name] / med[b]['relu']:>9.2f}"
            for b in (4096, 256)
        )
        print(f"{name:<30}{cells}")
    for batch, target in TARGETS.items():
        verdicts.append(
            (
                f"default compressed net / relu, batch {batch}",
                med[batch]["compressed (default)"] / med[batch]["relu"],
                target,
            )
        )
    for kind in KINDS:
        verdicts.append(
            (
                f"{kind} (uncompressed) / relu, batch 4096",
                med[4096][kind] / med[4096]["relu"],
                LEARNABLE_TARGET,
            )
        )
    floor = med[4096]["mlp"] / med[4096]["identity"]
    print(
        "(identity: the linear layers alone, a floor for any activation: no "
        f"compressed net can be more\n than {floor:.2f}x faster than the "
        "uncompressed mlp net at batch 4096)\n"
    )

    # the first activation alone, on its real inputs (batch x 128)
    Xb = torch.from_numpy(_data(4096, seed=1)[0])
    with torch.inference_mode():
        h = mlp_net.hidden[0](Xb)
    acts = {name: net.activations[0] for name, net in nets.items()}
    act_med = _time(acts, h, args.reps, clock)
    print(f"first activation alone, input {tuple(h.shape)}")
    print(f"{'activation':<30}{'median ms':>10}{'vs relu':>9}")
    for name in acts:
        print(
            f"{name:<30}{act_med[name] * 1e3:>10.3f}"
            f"{act_med[name] / act_med['relu']:>9.2f}"
        )
    print()

    if not args.no_compile_times:
        with tempfile.TemporaryDirectory(prefix="learnact-compile-") as tmp:
            cold = _probe(Path(tmp), torch.get_num_threads())
            warm = _probe(Path(tmp), torch.get_num_threads())
        print("default compression of an mlp net, in new processes:")
        for label, r in (("cold (empty caches)", cold), ("warm (disk cache)", warm)):
            print(
                f"  {label:20s} compressor fit {r['fit']:6.2f} s, of which its "
                f"{r['n']} fused kernels {r['kernels']:5.2f} s ({'/'.join(r['how'])}); "
                f"first predict {r['predict'] * 1e3:.1f} ms; once per process "
                f"(importing torch's compiler, the first kernel) {r['once']:.2f} s"
            )
        verdicts.append(("compressor kernels cold (s)", cold["kernels"], 20.0))
        verdicts.append(("compressor kernels warm (s)", warm["kernels"], 2.0))
        print()

    ok = True
    for text, value, target in verdicts:
        passed = value <= target
        if text.startswith("default compressed"):
            ok = ok and passed
        print(
            f"{text:<50} = {value:6.2f} (target <= {target:g}): "
            f"{'PASS' if passed else 'FAIL'}"
        )
    return 0 if ok else 1


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
