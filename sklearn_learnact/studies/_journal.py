"""Optuna journal files that survive kills and full disks.

Imported only by :func:`~sklearn_learnact.studies.open_storage` (it needs
Optuna, an optional dependency):

- :class:`JournalLock`: the journal file's lock, Optuna's symlink protocol (so
  plain Optuna processes on the same file still exclude each other), but a lock
  left by a killed process is cleared with a warning, and waiting sleeps; it
  never spins.
- :class:`SafeJournalBackend`: appends only whole records: an incomplete last
  record (a kill or a full disk mid-write) is dropped before the next append,
  and a failed write is rolled back, so the file is never left half-written by
  this process.
"""

import json
import os
import time
import uuid
import warnings

import optuna
from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock

from ._errors import StorageRecoveredWarning
from ._recovery import recover_journal

#: Optuna's lock-file suffix (``JournalFileSymlinkLock`` uses the same one).
LOCK_SUFFIX = ".lock"


class JournalLock(JournalFileSymlinkLock):
    """The journal's lock, cleared when a killed process left it behind.

    Optuna's protocol, so that plain Optuna processes on the same journal are
    still excluded: the lock is a symbolic link ``journal + ".lock"``, created
    atomically by :func:`os.symlink` and held for the milliseconds of an
    append. Learnact processes first take an exclusive :func:`fcntl.flock` on
    ``journal + ".flock"``, which the kernel releases when its holder dies, and
    link to the journal's absolute path spelt ``dir/./name``. So a link spelt
    so, found while holding the ``flock``, was left by a killed process: it is
    removed at once. Other links (plain Optuna's, or where ``flock`` does not
    work) are stale when they dangle for ``dangling_grace`` seconds (Optuna
    links to the path it was given, which dangles when relative) or exist for
    ``grace_period`` seconds. A stale lock is removed with a
    :class:`~sklearn_learnact.studies.StorageRecoveredWarning`. Waiting
    sleeps (in the kernel, or 1 ms doubling up to 0.1 s): it never spins.
    """

    def __init__(
        self, path: str, grace_period: float = 30.0, dangling_grace: float = 2.0
    ):
        super().__init__(path, grace_period=max(int(grace_period), 3))
        self.path = os.path.abspath(path)
        self.lock_path = self.path + LOCK_SUFFIX
        self.flock_path = self.path + ".flock"
        folder, name = os.path.split(self.path)
        self.target = os.path.join(folder, ".", name)  # marks our links
        self.stale_after = float(grace_period)
        self.dangling_grace = float(dangling_grace)
        self._fd = None  # the open flock file while held (never pickled)

    def __getstate__(self):
        return {**self.__dict__, "_fd": None}

    def acquire(self) -> bool:
        flocked = self._flock()
        delay, seen, since = 0.001, None, time.monotonic()
        while True:
            try:
                os.symlink(self.target, self.lock_path)
                return True
            except FileExistsError:
                pass
            except OSError as exc:  # a full disk, a read-only folder...
                self._unflock()
                raise _write_error(self.path, exc) from exc
            try:
                stat = os.lstat(self.lock_path)
                target = os.readlink(self.lock_path)
            except FileNotFoundError:
                continue  # released between our calls: try again at once
            except OSError:  # not a link: Optuna's JournalFileOpenLock file
                target = None
            if flocked and target == self.target:
                self._clear("left by a run killed while writing the journal")
                continue
            if (stat.st_ino, stat.st_mtime_ns) != seen:
                seen, since = (stat.st_ino, stat.st_mtime_ns), time.monotonic()
            self.clear_if_stale(time.monotonic() - since)
            time.sleep(delay)
            delay = min(2 * delay, 0.1)

    def clear_if_stale(self, unchanged: float = 0.0) -> bool:
        """Remove a lock past its grace period; True if it was removed.

        Parameters
        ----------
        unchanged : float, default=0
            Seconds this process has seen the same lock (the same link): a
            guard against clocks that disagree about the link's age.
        """
        try:
            stat = os.lstat(self.lock_path)
        except FileNotFoundError:
            return False
        age = max(time.time() - stat.st_mtime, unchanged)
        dangling = not os.path.exists(self.lock_path)
        if not (age > self.stale_after or (dangling and age > self.dangling_grace)):
            return False
        if dangling:
            why = f"its link to {os.readlink(self.lock_path)!r} dangles"
        else:
            why = f"{age:.0f} s old"
        return self._clear(why)

    def release(self) -> None:
        # Ours: unlinked directly (a rename could need room on a full disk). A
        # lock cleared by another process (held past the grace period) is
        # gone already; nothing to remove then.
        try:
            os.unlink(self.lock_path)
        except FileNotFoundError:
            pass
        finally:
            self._unflock()

    def _clear(self, why: str) -> bool:
        if not self._remove():
            return False
        warnings.warn(
            f"Removed the stale lock {self.lock_path} ({why}). No finished trial "
            "is lost.",
            StorageRecoveredWarning,
            stacklevel=3,
        )
        return True

    def _remove(self) -> bool:
        # Rename first: of several processes clearing the same lock at once,
        # exactly one succeeds, and none removes a lock taken in between.
        moved = f"{self.lock_path}.{uuid.uuid4().hex}.rename"
        try:
            os.rename(self.lock_path, moved)
        except FileNotFoundError:
            return False
        except OSError:  # no room for the new name: unlink it in place
            try:
                os.unlink(self.lock_path)
            except FileNotFoundError:
                return False
            return True
        os.unlink(moved)
        return True

    def _flock(self) -> bool:
        """Take the exclusive ``flock``; False where the system has none."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return False
        try:
            self._fd = os.open(self.flock_path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise _write_error(self.path, exc) from exc
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)  # waits in the kernel
        except OSError:  # e.g. ENOLCK on a file system without locks
            self._unflock()
            return False
        return True

    def _unflock(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None


class SafeJournalBackend(JournalFileBackend):
    """A journal file that this process never leaves half-written.

    Opening it recovers a damaged file
    (:func:`~sklearn_learnact.studies.recover_journal`). Each append,
    under :class:`JournalLock`, first drops an incomplete last record left by
    another process (killed mid-write), then writes whole records; if the
    write fails (a full disk), the partial bytes are truncated away and an
    :class:`OSError` naming the file is raised.
    """

    def __init__(self, path: str, lock: JournalLock):
        self.journal_lock = lock
        self.path = os.path.abspath(path)
        with _held(lock):
            recover_journal(self.path)
        super().__init__(self.path, lock_obj=lock)

    def append_logs(self, logs: list) -> None:
        data = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs)
        with _held(self.journal_lock):
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
            try:
                start = _drop_partial_tail(fd, self.path)
                try:
                    _write_all(fd, data.encode("utf-8"))
                    os.fsync(fd)
                except OSError as exc:
                    os.ftruncate(fd, start)  # no half-written record is left
                    raise _write_error(self.path, exc) from exc
            finally:
                os.close(fd)


class _held:
    """``with _held(lock):`` acquire and release a journal lock."""

    def __init__(self, lock):
        self.lock = lock

    def __enter__(self):
        self.lock.acquire()

    def __exit__(self, *exc):
        self.lock.release()


def _write_error(path: str, exc: OSError) -> OSError:
    """An OSError whose message names the journal and what to do."""
    error = OSError(
        f"Cannot write the Optuna journal {path}: {exc.strerror or exc}. The "
        "trials finished so far are kept: free some space (or fix the folder), "
        "then rerun the same command to resume"
    )
    error.errno = exc.errno
    return error


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _drop_partial_tail(fd: int, path: str) -> int:
    """Truncate an incomplete last record (no final newline); the new size."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    end = size
    while end > 0:
        chunk = os.pread(fd, min(65536, end), max(0, end - 65536))
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            end = end - len(chunk) + newline + 1
            break
        end -= len(chunk)
    os.ftruncate(fd, end)
    warnings.warn(
        f"Optuna journal {path}: dropped an incomplete last record ({size - end} "
        "bytes) left by an interrupted write (a kill or a full disk); every "
        "complete record is kept.",
        StorageRecoveredWarning,
        stacklevel=3,
    )
    return end


def open_journal(path: str):
    """A :class:`~optuna.storages.JournalStorage` on a safe journal file."""
    return optuna.storages.JournalStorage(SafeJournalBackend(path, JournalLock(path)))
