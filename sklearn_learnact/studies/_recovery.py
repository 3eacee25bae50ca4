"""Repair of an Optuna journal file damaged by an interrupted write."""

import itertools
import json
import os
import warnings
from pathlib import Path

from ._errors import StorageRecoveredWarning

__all__ = ["is_journal", "recover_journal"]

#: How Optuna (and this library) start every journal record.
_RECORD_START = b'{"op_code"'
#: Bytes read to tell a journal from another file.
_HEAD = 1 << 16


def is_journal(path: str | os.PathLike) -> bool:
    """Whether ``path`` is missing, empty or starts as an Optuna journal.

    A journal's first line is a journal record (a JSON object with an
    ``op_code``), or the start of one cut by an interrupted first write. A
    CSV file or any other file is not: :func:`recover_journal` and
    :func:`~sklearn_learnact.studies.open_storage` refuse it and leave it
    untouched.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_learnact.studies import is_journal
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "data.csv").write_text("x,y\\n1,2\\n")
    >>> is_journal(folder / "data.csv"), is_journal(folder / "new.journal")
    (False, True)
    """
    try:
        with open(path, "rb") as f:
            head = f.read(_HEAD)
    except FileNotFoundError:
        return True
    return _is_journal_head(head)


def _is_journal_head(head: bytes) -> bool:
    if not head:
        return True
    line = head.split(b"\n", 1)[0]
    if line.startswith(_RECORD_START):
        return True
    if b"\n" not in head and _RECORD_START.startswith(line):
        return True  # a first record cut within its first bytes
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and "op_code" in record


def _not_a_journal(path) -> ValueError:
    return ValueError(
        f"{path} is not an Optuna journal (its first line is not a journal "
        "record), so it is left untouched: give the path of a new file or of an "
        "existing journal."
    )


def recover_journal(path: str | os.PathLike) -> int:
    """Repair an Optuna journal file damaged by an interrupted write.

    A kill or a full disk during an append can leave an incomplete last
    record; an older writer may then have appended whole records onto it,
    which makes Optuna refuse the whole file. The incomplete record is
    dropped, a whole record written onto one is kept, and a
    :class:`StorageRecoveredWarning` says how many records were dropped and
    kept. An undamaged file is not touched; a damaged one whose middle had to
    be rewritten is first copied to ``path + ".damaged"`` (``.damaged.1``,
    ``.damaged.2``... when that exists: a backup never replaces an earlier
    one). A file that is not a journal (:func:`is_journal`) is refused,
    untouched. Call it while no other process writes the file
    (:func:`open_storage` calls it under the journal's lock).

    Parameters
    ----------
    path : path-like
        The journal file; a missing file has no records.

    Returns
    -------
    n_records : int
        The number of records the file holds after the repair.

    Raises
    ------
    ValueError
        If the file is not an Optuna journal (e.g. a CSV file).

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
    if not _is_journal_head(data[:_HEAD]):
        raise _not_a_journal(path)
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
        backup = _backup(path, data)
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


def _backup(path: Path, data: bytes) -> Path:
    """Write ``data`` to the first free ``path.damaged[.N]``, never over a file."""
    for n in itertools.count():
        backup = path.with_name(f"{path.name}.damaged{f'.{n}' if n else ''}")
        try:
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return backup


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
