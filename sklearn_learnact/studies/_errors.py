"""The exceptions of the studies and their storages."""

import errno

__all__ = ["StorageRecoveredWarning", "StorageUnavailableError", "StudyMismatchError"]


class StorageRecoveredWarning(UserWarning):
    """A storage was repaired: a stale lock cleared, an incomplete record
    dropped, or a lost database connection retried."""


class StorageUnavailableError(ConnectionError):
    """The storage's server stayed unreachable for longer than the retry time.

    An :class:`OSError` (``errno.ECONNABORTED``) whose message says which
    storage, for how long, and what to do.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.errno = errno.ECONNABORTED


class StudyMismatchError(ValueError):
    """A stored study was made by a different comparison (the message says
    what differs), or there is no stored study to report."""
