"""Opening an Optuna storage, robustly: a journal file or an SQL database."""

import os
from pathlib import Path

__all__ = ["import_optuna", "open_storage"]


class NotAJournalError(ValueError):
    """A journal path names a file that is not an Optuna journal."""


def import_optuna():
    """Import :mod:`optuna`, or explain how to install it.

    Examples
    --------
    >>> from sklearn_learnact.studies import import_optuna
    >>> import_optuna().__name__
    'optuna'
    """
    try:
        import optuna
    except ImportError as exc:  # pragma: no cover - optuna is in [dev]
        raise ImportError(
            'search="optuna" needs Optuna: pip install "sklearn-learnact[optuna]".'
        ) from exc
    return optuna


def open_storage(storage: str | os.PathLike | None, *, retry_timeout: float = 60.0):
    """Open an Optuna storage from a URL or a journal-file path, robustly.

    Parameters
    ----------
    storage : str, path-like, optuna.storages.BaseStorage or None
        A storage object is returned as is; None means in memory; a string
        containing ``"://"`` is an Optuna storage URL (``sqlite:///file.db``,
        ``postgresql://...``, with the PostgreSQL driver that is installed);
        anything else is the path of an Optuna journal file, created if
        missing (an existing file that is not a journal, e.g. a CSV file, is
        refused and left untouched).
    retry_timeout : float, default=60
        For a URL: how many seconds a lost or refused connection is retried
        (with backoff) before :class:`StorageUnavailableError` is raised.

    Returns
    -------
    storage : optuna.storages.BaseStorage or None
        A journal path gives a :class:`~optuna.storages.JournalStorage` on the
        absolute path (a relative one is resolved now, so a later change of
        directory or a lock link cannot dangle), recovered first by
        :func:`recover_journal`; a lock left behind by a killed run is
        cleared with a :class:`StorageRecoveredWarning` (at once when the run
        was this library's, after a grace period otherwise). A URL gives an
        :class:`~optuna.storages.RDBStorage` whose schema is created once
        (PostgreSQL: under an advisory lock, so workers started together do
        not collide) and whose calls are retried after a lost connection.

    Raises
    ------
    ValueError
        If the storage cannot be opened; the message says why (a URL's
        password is hidden).

    Examples
    --------
    >>> from sklearn_learnact.studies import open_storage
    >>> open_storage(None) is None
    True
    >>> open_storage("nodb://nowhere")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Cannot open the Optuna storage 'nodb://nowhere': ...
    """
    if storage is None:
        return None
    optuna = import_optuna()
    if isinstance(storage, optuna.storages.BaseStorage):
        return storage
    from ._journal import open_journal
    from ._rdb import open_rdb, safe_url
    from ._recovery import is_journal

    text = os.fspath(storage)
    shown = safe_url(text) if "://" in text else text
    try:
        if "://" in text:
            return open_rdb(text, retry_timeout=retry_timeout)
        path = Path(text).expanduser().absolute()
        if not path.parent.is_dir():
            raise FileNotFoundError(f"folder {str(path.parent)!r} does not exist")
        if path.is_dir():
            raise IsADirectoryError("it is a folder, not a journal file")
        if not is_journal(path):
            raise NotAJournalError(
                "the file exists and is not an Optuna journal (its first line is "
                "not a journal record), so it is left untouched: give the path of "
                "a new file or of an existing journal"
            )
        with open(path, "a"):  # fails early on a read-only file or folder
            pass
        return open_journal(os.path.realpath(path))
    except NotAJournalError as exc:
        raise ValueError(f"Cannot open the Optuna storage {shown!r}: {exc}") from None
    except Exception as exc:  # sqlalchemy, drivers and the OS raise many kinds
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        if "://" in text:
            message = message.replace(text, shown)
        raise ValueError(
            f"Cannot open the Optuna storage {shown!r}: {message}"
        ) from exc
