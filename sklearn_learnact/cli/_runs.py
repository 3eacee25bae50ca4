"""The record of an Optuna comparison in its output folder (``run.json``):
the command that made it, and which report is the newest.

With several workers on one storage, each writes the report when it finishes,
from the storage as it is then; a report is only ever replaced by one read
from at least as many finished trials (:func:`write_newest`).
"""

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..reports import write_report
from ._common import UsageError

__all__ = ["RUN_FILE", "read_record", "record_run", "trial_counts", "write_newest"]

#: The command of an Optuna comparison, recorded in its output folder.
RUN_FILE = "run.json"

_TRIAL_COUNTS = ("n_trials_complete", "n_trials_pruned", "n_trials_failed")


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


def read_record(folder: Path) -> dict:
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
        record = read_record(out)
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
        record = read_record(out)
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
