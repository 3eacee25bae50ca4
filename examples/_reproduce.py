"""Shared plumbing of the examples that reproduce the research documents (not
an example itself).

Each ``plot_*.py`` that reproduces a research document runs a quick version
of its protocol by default and the document's own protocol with ``--full``.
Both go through the same code: every finished run (one fit, or one group of
fits that are timed together) is appended as one row to a CSV in the results
folder, a rerun skips the runs already there, and the summary tables are
recomputed from those rows.
A killed job loses only the run in progress.

- :func:`parse_args`: ``--full``, ``--out``, ``--seeds``, ``--threads``,
  ``--summaries-only``;
- :func:`fetch_data`: the image datasets an example needs, fetched before any
  training if missing (or one line saying how to provide them);
- :class:`RunLog`: the append-only, resumable CSV of finished runs;
- :func:`mean_ci`, :func:`paired_test`: t-intervals and paired t-tests over seeds;
- :func:`write_provenance`: the command, dates and machine of every invocation.

sphinx-gallery runs the examples from this folder, with it on ``sys.path``
(so ``import _reproduce`` works) and without ``__file__``.
"""

import argparse
import csv
import datetime
import os
import platform
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import stats

from sklearn_learnact.datasets import CorruptDataError, DatasetNotFoundError

__all__ = [
    "RESULTS",
    "RunLog",
    "committed_results",
    "fetch_data",
    "mean_ci",
    "paired_test",
    "parse_args",
    "write_provenance",
]

try:
    _HERE = Path(__file__).resolve().parent
except NameError:  # sphinx-gallery: no __file__, the cwd is this folder
    _HERE = Path.cwd()
#: Where the full runs' results are committed.
RESULTS = _HERE.parent / "docs" / "results"


def parse_args(
    description: str,
    default_seeds: tuple[int, int],
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    """The options every seed example takes.

    Parameters
    ----------
    description : str
        ``--help`` text.
    default_seeds : (int, int)
        Number of seeds of the quick and of the full protocol.
    add_arguments : callable, optional
        Adds an example's own options to the parser.

    Returns
    -------
    args : argparse.Namespace
        ``full``, ``out`` (a Path: ``docs/results`` for ``--full``, else a new
        temporary folder), ``seeds``, ``threads`` and ``fit`` (False with
        ``--summaries-only``: the example fits nothing and recomputes its
        tables from the recorded runs); unknown arguments (as sphinx-gallery
        may pass) are ignored.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--full",
        action="store_true",
        help="run the research document's own protocol (hours on a CPU) instead "
        "of the quick one",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results folder (default: docs/results with --full, else a temporary "
        "folder); a rerun resumes the runs recorded there",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        help=f"number of seeds (default {default_seeds[0]} quick, "
        f"{default_seeds[1]} full)",
    )
    parser.add_argument(
        "--summaries-only",
        action="store_true",
        help="fit nothing: recompute the tables and figures from the runs already "
        "recorded in the results folder",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: on a shared machine two threads can "
        "be several times slower than one)",
    )
    if add_arguments is not None:
        add_arguments(parser)
    args, _ = parser.parse_known_args()
    if args.seeds is None:
        args.seeds = default_seeds[1] if args.full else default_seeds[0]
    if args.seeds < 1 or args.threads < 1:
        parser.error("--seeds and --threads must be at least 1")
    args.fit = not args.summaries_only
    if args.out is None:
        args.out = RESULTS if args.full else Path(tempfile.mkdtemp(prefix="seed-"))
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    return args


def fetch_data(*loaders: Callable, splits: Sequence[str] = ("train", "test")) -> None:
    """Make sure the ``splits`` of each image loader's dataset are on disk.

    Called before any training: a dataset missing from the data folder
    (``SKLEARN_LEARNACT_DATA``, else ``~/sklearn_learnact_data``) is downloaded
    on first use, from its canonical source or the mirror named by
    ``SKLEARN_LEARNACT_MIRROR``, checksums checked. One that is neither there
    nor downloadable (no network) ends the example with one line saying what
    is missing and how to provide it, and exit status 1, not a traceback.
    """
    for loader in loaders:
        for split in splits:
            try:
                loader(split=split, n_samples=1, random_state=0, download="if_missing")
            except (DatasetNotFoundError, CorruptDataError) as exc:
                line = getattr(exc, "summary", str(exc).splitlines()[0])
                script = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
                raise SystemExit(f"{script or 'example'}: {line}") from None


class RunLog:
    """An append-only CSV with one row per finished run; reruns resume.

    Parameters
    ----------
    path : path-like
        The CSV file; created with a header on the first :meth:`add`.
    columns : sequence of str
        Its columns, in order. An existing file must have the same header.
    key : sequence of str
        The columns that identify a run (e.g. dataset, seed, activation).

    Notes
    -----
    A row is written with one ``write`` and flushed to disk, so a killed job
    leaves at most one incomplete last line; it is dropped (with a warning)
    when the file is opened again.
    """

    def __init__(
        self, path: str | os.PathLike, columns: Sequence[str], key: Sequence[str]
    ):
        self.path, self.columns, self.key = Path(path), list(columns), list(key)
        self.n_added = 0  # add() calls (finished runs) by this process
        missing = set(self.key) - set(self.columns)
        if missing:
            raise ValueError(f"key columns {sorted(missing)} are not in columns")
        self._drop_incomplete_line()
        if self.path.exists() and self.path.stat().st_size:
            header = self.path.read_text().splitlines()[0].split(",")
            if header != self.columns:
                raise ValueError(
                    f"{self.path} has columns {header}, expected {self.columns}: "
                    "it was written by another version of this example; move it "
                    "away or pass another --out."
                )

    def _drop_incomplete_line(self) -> None:
        if not self.path.exists():
            return
        text = self.path.read_text()
        if text and not text.endswith("\n"):
            kept = text[: text.rfind("\n") + 1]
            self.path.write_text(kept)
            warnings.warn(
                f"{self.path}: dropped an incomplete last line (a killed run); "
                f"{max(kept.count(chr(10)) - 1, 0)} finished rows kept.",
                stacklevel=3,
            )

    def frame(self) -> pd.DataFrame:
        """All finished rows (an empty frame with the columns if none)."""
        if not self.path.exists() or not self.path.stat().st_size:
            return pd.DataFrame(columns=self.columns)
        return pd.read_csv(self.path)

    def done(self, **key) -> bool:
        """Whether a run with these key values is recorded."""
        frame = self.frame()
        if frame.empty:
            return False
        mask = np.ones(len(frame), dtype=bool)
        for name in self.key:
            mask &= frame[name].astype(str).to_numpy() == str(key[name])
        return bool(mask.any())

    def add(self, rows: Mapping | Iterable[Mapping]) -> None:
        """Append one row (a mapping) or several, written and flushed at once."""
        rows = [rows] if isinstance(rows, Mapping) else list(rows)
        new = not self.path.exists() or not self.path.stat().st_size
        lines = []
        for row in rows:
            unknown = set(row) - set(self.columns)
            if unknown:
                raise ValueError(f"unknown columns {sorted(unknown)}")
            lines.append(row)
        with open(self.path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.columns)
            if new:
                writer.writeheader()
            writer.writerows(lines)
            f.flush()
            os.fsync(f.fileno())
        self.n_added += 1


def mean_ci(values, level: float = 0.95) -> dict:
    """Mean, standard deviation and t-interval of ``values`` (NaNs dropped).

    Returns
    -------
    summary : dict
        ``mean``, ``sd`` (ddof=1), ``ci_low``, ``ci_high`` (Student's t with
        n - 1 degrees of freedom; NaN for n < 2) and ``n``.
    """
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = v.size
    if n == 0:
        return {
            "mean": np.nan,
            "sd": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "n": 0,
        }
    mean = float(v.mean())
    if n < 2:
        return {"mean": mean, "sd": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": 1}
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf((1 + level) / 2, n - 1) * sd / np.sqrt(n))
    return {
        "mean": mean,
        "sd": sd,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "n": n,
    }


def paired_test(a, b) -> float:
    """Two-sided p-value of the paired t-test of ``a - b`` (NaN for n < 2)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size < 2:
        return np.nan
    diff = a - b
    if np.allclose(diff, diff[0]):  # no spread: the test is undefined
        return 0.0 if diff[0] != 0 else 1.0
    return float(stats.ttest_rel(a, b).pvalue)


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):  # the machine is shared: timings depend on it
        load = f", load average {os.getloadavg()[0]:.1f} at the end"
    return (
        f"{model}, {os.cpu_count()} logical CPUs{load}, {torch.get_num_threads()} "
        f"torch thread(s), {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}, torch {torch.__version__}"
    )


PROVENANCE_COLUMNS = ["command", "started", "finished", "new_runs", "total_runs"]
PROVENANCE_COLUMNS += ["machine", "note"]


def write_provenance(
    out: Path,
    seed: str,
    started: datetime.datetime,
    log: "RunLog",
    total_runs: int,
    note: str = "",
) -> Path:
    """Append this invocation to ``seedNNN_provenance.csv``.

    One row per invocation: the command, when it started and finished, how
    many runs it added (``log.n_added``: 0 for a rerun that only recomputes
    the summaries) and how many the results hold, and the machine. A protocol
    run in several resumed invocations thus lists each of them.

    Parameters
    ----------
    out : Path
        Results folder.
    seed : str
        ``"000"``, ``"001"`` ...
    started : datetime.datetime
        When this invocation started.
    log : RunLog
        The run log whose runs this invocation added.
    total_runs : int
        Finished runs recorded in the results.
    note : str, default=""
        The protocol's size (seeds, epochs, images).
    """
    script = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "?"
    path = out / f"seed{seed}_provenance.csv"
    RunLog(path, PROVENANCE_COLUMNS, key=["started"]).add(
        {
            "command": " ".join(["python", f"examples/{script}", *sys.argv[1:]]),
            "started": started.strftime("%Y-%m-%d %H:%M"),
            "finished": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "new_runs": log.n_added,
            "total_runs": total_runs,
            "machine": _machine(),
            "note": note,
        }
    )
    return path


def committed_results(name: str) -> pd.DataFrame | None:
    """A committed full-protocol table from ``docs/results`` (None if absent)."""
    path = RESULTS / name
    return pd.read_csv(path) if path.exists() else None
