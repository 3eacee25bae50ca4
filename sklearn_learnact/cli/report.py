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
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..reports import write_report
from ._common import UsageError

#: The command of an Optuna comparison, recorded in its output folder.
RUN_FILE = "run.json"

_TRIAL_COUNTS = ("n_trials_complete", "n_trials_pruned", "n_trials_failed")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``report`` subcommand to ``subparsers``."""
    report = subparsers.add_parser(
        "report",
        help="rewrite the report of a 'compare --search optuna' run from its "
        "storage (e.g. once all its workers are done)",
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


@contextmanager
def _locked(folder: Path):
    """Hold an exclusive lock on ``folder/.report.lock`` (no-op without fcntl)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock between workers
        yield
        return
    with open(folder / ".report.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_record(folder: Path) -> dict:
    try:
        return json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise UsageError(f"{folder / RUN_FILE} is not valid JSON ({exc}).") from exc


def _write_record(folder: Path, record: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{RUN_FILE}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2)
    os.replace(tmp, folder / RUN_FILE)


def record_run(out: Path, argv: list[str], storage: str) -> None:
    """Record the command of an Optuna comparison in ``out/run.json``."""
    with _locked(out):
        record = _read_record(out)
        command = {"argv": list(argv), "cwd": os.getcwd(), "storage": storage}
        if {k: record.get(k) for k in command} != command:
            record = command  # a new comparison: its report starts afresh
        _write_record(out, record)


def trial_counts(table) -> str:
    """The report line on the Optuna trials behind ``table``."""
    n = {c: int(table[c].sum()) for c in (*_TRIAL_COUNTS, "n_trials_running")}
    finished = sum(n[c] for c in _TRIAL_COUNTS)
    n_studies = sum(len(names.split()) for names in table["study"])  # nested: >1
    text = (
        f"{finished} finished over {n_studies} studies ({n['n_trials_complete']} "
        f"complete, {n['n_trials_pruned']} pruned, {n['n_trials_failed']} failed); "
        f"{n['n_trials_running']} still running when this report was written"
    )
    if n["n_trials_running"]:
        text += (
            " (by other workers, or left by killed runs): `learnact report` "
            "rewrites this report from the storage once they are done"
        )
    return text


def write_newest(out: Path, sections: list, settings: dict) -> list[Path]:
    """Write the report unless ``out`` holds one read from more finished trials.

    Returns the files written, or an empty list when the report in ``out``
    was kept.
    """
    table = sections[0].comparison.table
    state = {
        "studies": sorted(table["study"]),
        "finished": int(sum(table[c].sum() for c in _TRIAL_COUNTS)),
    }
    with _locked(out):
        record = _read_record(out)
        previous = record.get("report", {})
        if (
            previous.get("studies") == state["studies"]
            and previous.get("finished", 0) > state["finished"]
        ):
            print(
                f"Kept the report in {out}: it was read from {previous['finished']} "
                f"finished trials, more than the {state['finished']} seen now."
            )
            return []
        paths = write_report(out, sections, settings=settings)
        if record:
            _write_record(out, {**record, "report": state})
    return paths


def _absolute(path: str | None, cwd: str) -> str | None:
    """``path`` made absolute against ``cwd`` if it names something there."""
    if path is None or "://" in path or Path(path).is_absolute():
        return path
    candidate = Path(cwd) / path
    return str(candidate) if candidate.exists() else path


def run(args) -> list[Path]:
    """Run ``learnact report``; return the files written."""
    from . import _parser, compare

    folder = Path(args.dir)
    record = _read_record(folder) if folder.is_dir() else {}
    if "argv" not in record:
        raise UsageError(
            f"No {RUN_FILE} in {str(folder)!r}: learnact report rewrites the report "
            "of a 'learnact compare --search optuna' run from its storage; run "
            f"that first with --out {folder}."
        )
    cwd = record["cwd"]
    compare_args = _parser().parse_args(record["argv"])
    compare_args.argv = record["argv"]
    compare_args.dataset = _absolute(compare_args.dataset, cwd)
    compare_args.data_home = _absolute(compare_args.data_home, cwd)
    compare_args.storage = args.storage or record["storage"]
    compare_args.out = str(folder)
    compare_args.no_progress = args.no_progress
    return compare.run(compare_args, new_trials=False)
