"""Speed-up of a comparison on a Dask cluster: serial against 2 worker processes.

One ``compare_activations`` (4 activations x 4 folds of a 64-64 network on
synthetic data, no refit: 16 fits of about the same cost) runs serially (one
torch thread, as each Dask worker has) and through
``joblib.parallel_config(backend="dask")`` on a ``distributed.LocalCluster``
of ``--workers`` processes of one thread each. Each is run once untimed
(imports, the workers' fused kernels loaded from the disk cache) and then
``--repeats`` times; the best time of each is kept. The tables must be
identical (but the measured times), else the exit status is 1.

On ``--workers`` free cores the speed-up is close to the number of workers
(the cost of a fit dwarfs sending it). On a shared machine it is bounded by
the CPU the others leave: the load average (1 minute) is printed before and
after, with the CPU share each run got (the serial run's CPU time over its
wall time; the workers' CPU time over the wall time, per worker). The
speed-up is about ``workers x worker share / serial share``.

Run::

    PYTHONPATH=. python benchmarks/bench_scaling.py --workers 2
"""

import argparse
import os
import time
import warnings

import joblib
import numpy as np
import pandas as pd
import torch
from distributed import Client, LocalCluster
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sklearn_learnact import LearnedActivationClassifier
from sklearn_learnact.compare import compare_activations

ACTIVATIONS = ["relu", "tanh", "affine", "rational"]


def _compare(X, y, args) -> pd.DataFrame:
    clf = LearnedActivationClassifier(
        (64, 64), max_iter=args.max_iter, batch_size=64, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return compare_activations(
            clf, X, y, ACTIVATIONS, cv=args.cv, refit=False, random_state=0
        )


def _best_of(run, repeats: int, cpu_time=time.process_time):
    """Best wall time, the CPU time ``cpu_time()`` counted during that run, and
    the table."""
    run()  # untimed: imports, kernels
    best = None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), cpu_time()
        table = run()
        wall, cpu = time.perf_counter() - wall, cpu_time() - cpu
        if best is None or wall < best[0]:
            best = (wall, cpu, table)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--cv", type=int, default=4)
    parser.add_argument("--max-iter", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    X, y = make_classification(
        args.rows, 20, n_informative=10, n_classes=3, random_state=0
    )
    X = X.astype(np.float32)
    print(
        f"{len(ACTIVATIONS)} activations x {args.cv} folds of a 64-64 network, "
        f"{args.max_iter} epochs, {args.rows} rows; {os.cpu_count()} CPUs; load "
        f"average before: {os.getloadavg()[0]:.2f}"
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each worker
    try:
        serial, cpu, expected = _best_of(lambda: _compare(X, y, args), args.repeats)
    finally:
        torch.set_num_threads(threads)
    print(
        f"serial (1 thread):                {serial:7.1f} s (CPU share "
        f"{cpu / serial:.0%})"
    )

    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        started = time.perf_counter() - start

        def on_dask():
            with joblib.parallel_config(backend="dask"):
                return _compare(X, y, args)

        def workers_cpu() -> float:
            return sum(client.run(time.process_time).values())

        dask, dask_cpu, got = _best_of(on_dask, args.repeats, workers_cpu)
    print(
        f"Dask, {args.workers} workers x 1 thread:     {dask:7.1f} s (CPU share "
        f"{dask_cpu / dask / args.workers:.0%} per worker; cluster start "
        f"{started:.1f} s, not counted)"
    )
    print(f"speed-up: {serial / dask:.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    measured = [c for c in expected.columns if c.endswith("_time")]
    same = expected.drop(columns=measured).equals(got.drop(columns=measured))
    print(f"identical tables (but the measured times): {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
