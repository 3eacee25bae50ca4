"""``learnact report DIR``: rewrite an Optuna comparison's report from its storage.

With several workers on one storage, each writes the report when it finishes,
from the storage as it is then (every worker's finished trials), and says how
many trials were still running. A report is only ever replaced by one read
from at least as many finished trials, so the last worker to finish leaves the
complete report even if an earlier one writes after it. ``learnact report DIR``
rewrites it from the storage at any time (e.g. once every worker is done): it
reruns the recorded command of ``DIR/run.json`` without running any trial
(the data are loaded again and each activation's best configuration is refitted
for the figures).
"""

import argparse
from pathlib import Path

from . import compare
from ._common import UsageError
from ._parser import build_parser
from ._runs import RUN_FILE, read_record


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``report`` subcommand to ``subparsers``."""
    report = subparsers.add_parser(
        "report",
        description="Rewrite report.md, results.csv and the figures in DIR from "
        "the Optuna storage of the 'learnact compare --search optuna' run that "
        "wrote DIR (its command is in DIR/run.json). No trial is run: the data "
        "are loaded again and each activation's best configuration is refitted.",
    )
    report.add_argument("dir", metavar="DIR", help="output folder of the comparison")
    report.add_argument(
        "--storage",
        help="Optuna storage URL or journal file, if not the run's (default: the "
        "one recorded in DIR/run.json)",
    )
    report.add_argument(
        "--no-progress",
        action="store_true",
        help="hide the progress bars (default: shown)",
    )
    report.set_defaults(run=run)
    return report


#: What ``record_run`` writes in ``run.json``.
_RECORD_KEYS = {"argv", "cwd", "storage"}


def _absolute(path: str | None, cwd: str) -> str | None:
    """``path`` made absolute against ``cwd`` if it names something there."""
    if path is None or "://" in path or Path(path).is_absolute():
        return path
    candidate = Path(cwd) / path
    return str(candidate) if candidate.exists() else path


def run(args) -> list[Path]:
    """Run ``learnact report``; return the files written."""
    folder = Path(args.dir)
    record = read_record(folder) if folder.is_dir() else {}
    if record and not (isinstance(record, dict) and _RECORD_KEYS <= set(record)):
        raise UsageError(
            f"{folder / RUN_FILE} is not the record of a 'learnact compare --search "
            f"optuna' run (it lacks {', '.join(sorted(_RECORD_KEYS))}): learnact "
            "report rewrites the report of such a run, in the folder it wrote."
        )
    if "argv" not in record:
        raise UsageError(
            f"No {RUN_FILE} in {str(folder)!r}: learnact report rewrites the report "
            "of a 'learnact compare --search optuna' run from its storage; run "
            f"that first with --out {folder}."
        )
    cwd = record["cwd"]
    compare_args = build_parser("compare").parse_args(record["argv"])
    compare_args.argv = record["argv"]
    compare_args.dataset = _absolute(compare_args.dataset, cwd)
    compare_args.data_home = _absolute(compare_args.data_home, cwd)
    compare_args.storage = args.storage or record["storage"]
    compare_args.out = str(folder)
    compare_args.no_progress = args.no_progress
    compare_args.dask = None  # the refits are few: here, whether or not it is up
    return compare.run(compare_args, new_trials=False)
