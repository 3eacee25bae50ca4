"""Repair of an Optuna journal file damaged by an interrupted write."""

import json
import os
import warnings
from pathlib import Path

from ._errors import StorageRecoveredWarning

__all__ = ["recover_journal"]


def recover_journal(path: str | os.PathLike) -> int:
    """Repair an Optuna journal file damaged by an interrupted write.

    A kill or a full disk during an append can leave an incomplete last
    record; an older writer may then have appended whole records onto it,
    which makes Optuna refuse the whole file. The incomplete record is
    dropped, a whole record written onto one is kept, and a
    :class:`StorageRecoveredWarning` says how many records were dropped and
    kept. An undamaged file is not touched; a damaged one whose middle had to
    be rewritten is first copied to ``path + ".damaged"``. Call it while no
    other process writes the file (:func:`open_storage` calls it under the
    journal's lock).

    Parameters
    ----------
    path : path-like
        The journal file; a missing file has no records.

    Returns
    -------
    n_records : int
        The number of records the file holds after the repair.

    Examples
    --------
    >>> import tempfile, warnings
    >>> from pathlib import Path
    >>> from sklearn_learnact.studies import recover_journal
    >>> path = Path(tempfile.mkdtemp()) / "optuna.journal"
    >>> _ = path.write_text('{"op_code":0,"worker_id":"a"}\\n{"op_code":4,"wor')
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     recover_journal(path)
    1
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    Optuna journal ...: dropped 1 incomplete record (17 bytes) ...; kept 1 complete ...
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    lines = data.splitlines(keepends=True)
    kept, dropped, dropped_bytes, rewrite = [], 0, 0, False
    for i, line in enumerate(lines):
        record = _journal_record(line)
        if record is not None:
            kept.append(record)
            continue
        if i < len(lines) - 1 or line.endswith(b"\n"):
            rewrite = True  # damage in the middle: the file must be rewritten
        salvaged = _salvage(line)
        dropped += 1
        dropped_bytes += len(line) - len(salvaged or b"")
        if salvaged is not None:
            kept.append(salvaged)
    if not dropped:
        return len(kept)
    if rewrite:
        backup = path.with_name(path.name + ".damaged")
        backup.write_bytes(data)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.recovered")
        with open(tmp, "wb") as f:
            f.write(b"".join(kept))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        where = f" (the damaged file is kept as {backup})"
    else:
        with open(path, "r+b") as f:
            f.truncate(len(data) - dropped_bytes)
        where = ""
    warnings.warn(
        f"Optuna journal {path}: dropped {_records(dropped, 'incomplete')} "
        f"({dropped_bytes} bytes) left by an interrupted write (a kill or a full "
        f"disk); kept {_records(len(kept), 'complete')}{where}.",
        StorageRecoveredWarning,
        stacklevel=2,
    )
    return len(kept)


def _records(n: int, kind: str) -> str:
    return f"{n} {kind} record{'' if n == 1 else 's'}"


def _journal_record(line: bytes) -> bytes | None:
    """``line`` if it is one whole journal record, else None."""
    if not line.endswith(b"\n"):
        return None
    try:
        return line if isinstance(json.loads(line), dict) else None
    except ValueError:
        return None


def _salvage(line: bytes) -> bytes | None:
    """The whole record appended onto an incomplete one, if any."""
    start = line.find(b'{"op_code"', 1)
    while start > 0:
        record = _journal_record(line[start:])
        if record is not None:
            return record
        start = line.find(b'{"op_code"', start + 1)
    return None
