"""Running fit-and-score tasks with joblib, on a Dask cluster too."""

import functools
import warnings
import weakref
from collections.abc import Iterable

from joblib import Parallel
from joblib.parallel import BACKENDS, get_active_backend

__all__ = ["run_parallel"]

#: joblib's Dask backend scatters the task arguments larger than this (bytes).
_SCATTERED_ABOVE = 1e3


def run_parallel(tasks: Iterable, n_jobs: int | None = None, *, desc=None) -> list:
    """Run joblib tasks in parallel; their results, in order.

    ``joblib.Parallel(n_jobs)(tasks)``, which a
    :func:`joblib.parallel_config` around the call sends to threads,
    processes or a Dask cluster, with one difference on Dask: no task fails
    because a worker died.

    Inside ``joblib.parallel_config(backend="dask")``, joblib scatters each
    large argument of the tasks (the data, the fold indices) to a worker.
    Dask reruns the tasks of a worker that dies (killed, out of memory, its
    machine lost), but it cannot recompute scattered data: once the last
    worker holding a piece dies (Dask drops the extra copies of data no
    longer needed elsewhere), every task that needs it fails
    (``FutureCancelledError``), and the whole call with them. Here each such
    argument is sent once per call as a task that returns it instead, which
    Dask computes again elsewhere when its result is lost, so that the call
    completes with the same results. (The scheduler keeps one copy of those
    arguments meanwhile.)

    Parameters
    ----------
    tasks : iterable of joblib.delayed calls
    n_jobs : int, optional
        As for :class:`joblib.Parallel` (on Dask: ignored, every worker
        thread of the cluster works).
    desc : str, optional
        Show a progress bar of this name.

    Returns
    -------
    results : list
        The tasks' results, in the order of ``tasks``.

    Examples
    --------
    >>> from joblib import delayed
    >>> from sklearn_learnact.evaluation import run_parallel
    >>> run_parallel([delayed(pow)(2, k) for k in range(4)], n_jobs=2)
    [1, 2, 4, 8]
    """
    tasks = list(tasks)
    client = _dask_client()
    sent = _as_tasks(client, tasks) if client is not None else {}
    if sent:
        wrappers: dict[int, _Gathering] = {}
        tasks = [
            (
                wrappers.setdefault(id(func), _Gathering(func)),
                [sent.get(id(a), a) for a in args],
                {k: sent.get(id(v), v) for k, v in kwargs.items()},
            )
            for func, args, kwargs in tasks
        ]
    try:
        results = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
        if desc is not None:
            from tqdm.auto import tqdm

            results = tqdm(results, total=len(tasks), desc=desc, unit="fit")
        return list(results)
    finally:
        if sent:
            client.cancel(list(sent.values()))


def _dask_client():
    """The Dask client of the active joblib backend, or None if it is not Dask."""
    backend, _ = get_active_backend()
    dask = BACKENDS.get("dask")  # registered by parallel_config(backend="dask")
    if dask is None or not isinstance(backend, dask):
        return None
    return backend.client


def _as_tasks(client, tasks: list) -> dict:
    """The arguments joblib would scatter, each sent as a task that returns it:
    ``id(argument) -> future``."""
    from dask.sizeof import sizeof

    large = {}
    for _, args, kwargs in tasks:
        for arg in (*args, *kwargs.values()):
            if id(arg) not in large and _weakrefable(arg):
                if sizeof(arg) > _SCATTERED_ABOVE:
                    large[id(arg)] = arg
    with warnings.catch_warnings():
        # large data in the graph is the point: the scheduler can send it again
        warnings.filterwarnings("ignore", message="Sending large graph")
        return {i: client.submit(_same, arg, pure=False) for i, arg in large.items()}


def _same(value):
    return value


def _weakrefable(obj) -> bool:
    """joblib scatters only weak-referenceable arguments (not tuples, lists)."""
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True


class _Gathering:
    """A task function that takes Dask futures for arguments.

    On a worker, Dask passes the futures' values; where joblib runs a task in
    this process instead (a cluster of one thread), the values are gathered
    here.
    """

    def __init__(self, func):
        self.func = func
        functools.update_wrapper(self, func)  # joblib names batches after it

    def __call__(self, *args, **kwargs):
        from distributed import Future

        def value(x):
            return x.result() if isinstance(x, Future) else x

        args = [value(a) for a in args]
        kwargs = {k: value(v) for k, v in kwargs.items()}
        return self.func(*args, **kwargs)
