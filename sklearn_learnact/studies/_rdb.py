"""Optuna SQL storages that survive database restarts.

Imported only by :func:`~sklearn_learnact.studies.open_storage` (it needs
Optuna, an optional dependency): :class:`RetryingRDBStorage`, an SQL storage
whose schema is created once (under a PostgreSQL advisory lock) and whose
calls are retried, for a bounded time, when the connection to the server is
lost.
"""

import functools
import importlib.util
import time
import warnings

import optuna
from optuna.storages import RDBStorage

from ._errors import StorageRecoveredWarning, StorageUnavailableError

#: Key of the PostgreSQL advisory lock held while the schema is created.
_SCHEMA_LOCK_KEY = 0x6C6561726E616374  # "learnact"


#: Connection errors that waiting does not cure: said at once, never retried.
_PERMANENT = (
    "does not exist",
    "authentication failed",
    "pg_hba.conf",
    "permission denied",
    "access denied",
    "unknown database",
)


def _is_transient(exc: BaseException) -> bool:
    """A lost or refused connection anywhere in ``exc``'s chain."""
    import sqlalchemy.exc as sa

    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, StorageUnavailableError):
            return False  # an inner call already retried and gave up
        seen.add(id(exc))
        if isinstance(exc, (sa.OperationalError, sa.InterfaceError)) or (
            isinstance(exc, sa.DBAPIError) and exc.connection_invalidated
        ):
            return not any(p in str(exc).lower() for p in _PERMANENT)
        exc = exc.__cause__ or exc.__context__
    return False


def _is_schema_race(exc: BaseException) -> bool:
    """Another process created the same tables or rows at the same time."""
    import sqlalchemy.exc as sa

    text = str(exc).lower()
    return isinstance(exc, (sa.IntegrityError, sa.ProgrammingError)) or (
        "already exists" in text or "duplicate" in text
    )


def safe_url(url: str) -> str:
    """``url`` with its password hidden, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL sqlalchemy can parse: nothing to hide
        return url


class RetryingRDBStorage(RDBStorage):
    """:class:`~optuna.storages.RDBStorage` that rides out server restarts.

    Every storage call that fails because the connection was lost or refused
    is retried with exponential backoff (0.25 s doubling to 8 s) until
    ``retry_timeout`` seconds have passed since the first failure; then
    :class:`~sklearn_learnact.studies.StorageUnavailableError` says so.
    Pooled connections are checked before use (``pool_pre_ping``), so a restart
    between two calls costs nothing.
    """

    def __init__(self, url: str, *, retry_timeout: float = 60.0, **kwargs):
        kwargs.setdefault("engine_kwargs", {}).setdefault("pool_pre_ping", True)
        self.retry_timeout = float(retry_timeout)
        self.gave_up = None  # why this process gave up on the server, if it did
        super().__init__(url, **kwargs)

    def _retry(self, method, args, kwargs):
        first_failure, delay, tries = None, 0.25, 0
        while True:
            try:
                result = method(self, *args, **kwargs)
                self.gave_up = None
                return result
            except Exception as exc:
                if _is_transient(exc):
                    error = exc
                elif tries and _already_done(self, method, args, kwargs, exc):
                    return True  # the lost reply of a write that did commit
                else:
                    raise
            tries += 1
            now = time.monotonic()
            first_failure = first_failure or now
            # Once given up, later calls (Optuna recording the failed trial)
            # try once: giving up takes retry_timeout, not a multiple of it.
            if self.gave_up is not None:
                raise StorageUnavailableError(self.gave_up) from error
            if now - first_failure >= self.retry_timeout:
                unavailable = _unavailable(self.url, tries, now - first_failure, error)
                self.gave_up = str(unavailable)
                raise unavailable from error
            warnings.warn(
                f"Optuna storage {safe_url(self.url)}: connection lost "
                f"({_root(error)}); retrying in {delay:g} s.",
                StorageRecoveredWarning,
                stacklevel=3,
            )
            self.scoped_session.remove()
            time.sleep(delay)
            delay = min(2 * delay, 8.0)


def _unavailable(url: str, tries: int, seconds: float, error) -> OSError:
    """The error that ends the retries: what failed, for how long, what to do."""
    return StorageUnavailableError(
        f"Lost the connection to the Optuna storage {safe_url(url)} and could not "
        f"reconnect in {tries} tries over {seconds:.0f} s ({_root(error)}). Check "
        "that the database server is running, then rerun the same command: "
        "finished trials are kept"
    )


def _root(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]


def _already_done(storage, method, args, kwargs, exc) -> bool:
    """A retried ``set_trial_state_values`` whose first try committed."""
    if method.__name__ != "set_trial_state_values" or not isinstance(
        exc, optuna.exceptions.UpdateFinishedTrialError
    ):
        return False
    trial_id = kwargs.get("trial_id", args[0] if args else None)
    state = kwargs.get("state", args[1] if len(args) > 1 else None)
    return storage.get_trial(trial_id).state == state


def _retrying(method):
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        return self._retry(method, args, kwargs)

    return call


#: RDBStorage methods that Optuna's own cache layer (``_CachedStorage``, which
#: ``create_study`` puts around any RDBStorage) calls directly. They are private
#: to Optuna, and no public hook exists for retries: if a later Optuna renames
#: one, its calls are simply not retried.
_PRIVATE_CALLS = (
    "_create_new_trial",
    "_set_trial_param",
    "_get_best_trial_id",
    "_get_trials",
    "_get_stale_trial_ids",
)
for _name in [
    *(n for n in dir(optuna.storages.BaseStorage) if not n.startswith("_")),
    "record_heartbeat",
    *_PRIVATE_CALLS,
]:
    if _name != "remove_session" and callable(getattr(RDBStorage, _name, None)):
        setattr(RetryingRDBStorage, _name, _retrying(getattr(RDBStorage, _name)))


#: PostgreSQL drivers a plain URL may use, in order (SQLAlchemy 2's default
#: first; the ``[postgres]`` extra installs psycopg2).
_PG_DRIVERS = ("psycopg", "psycopg2")


def with_installed_driver(url: str) -> str:
    """``url`` with a PostgreSQL driver that is installed.

    A plain ``postgresql://`` URL means SQLAlchemy's default driver (psycopg 3
    in SQLAlchemy 2), while the ``[postgres]`` extra installs psycopg2: the
    URL is then rewritten to ``postgresql+psycopg2://``. Other URLs are
    returned as given.

    Raises
    ------
    ValueError
        If the URL names a PostgreSQL driver that is not installed (or none is);
        the message says which URL forms work here and how to install one.
    """
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    installed = [d for d in _PG_DRIVERS if importlib.util.find_spec(d)]
    wanted = parsed.get_driver_name()
    if importlib.util.find_spec(wanted) is not None:
        return url
    if "+" not in parsed.drivername and installed:
        rewritten = parsed.set(drivername=f"postgresql+{installed[0]}")
        return rewritten.render_as_string(hide_password=False)
    forms = " or ".join(f"postgresql+{d}://" for d in installed)
    use = f"use {forms} URLs, or " if installed else ""
    raise ValueError(
        f"the URL needs the PostgreSQL driver {wanted!r}, which is not installed: "
        f'{use}pip install "sklearn-learnact[postgres]" (psycopg2: '
        "postgresql:// and postgresql+psycopg2:// URLs work)"
    )


def open_rdb(url: str, retry_timeout: float = 60.0) -> RetryingRDBStorage:
    """Open an SQL storage; create its schema once, safely, among many workers.

    A plain ``postgresql://`` URL uses the PostgreSQL driver that is installed
    (:func:`with_installed_driver`). On PostgreSQL, workers that start together
    take turns under an advisory lock, so only the first creates the tables. On
    any database a creation that collides with another process's (a duplicate
    table or row) or a refused connection is retried until ``retry_timeout``
    seconds have passed.
    """
    url = with_installed_driver(url)
    deadline = time.monotonic() + retry_timeout
    delay = 0.25
    while True:
        try:
            with _schema_lock(url):
                return RetryingRDBStorage(url, retry_timeout=retry_timeout)
        except Exception as exc:
            if not (_is_transient(exc) or _is_schema_race(exc)):
                raise
            if time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(2 * delay, 8.0)


class _schema_lock:
    """A PostgreSQL session advisory lock around the schema creation."""

    def __init__(self, url: str):
        self.url, self.engine, self.connection = url, None, None

    def __enter__(self):
        import sqlalchemy

        if sqlalchemy.engine.make_url(self.url).get_backend_name() != "postgresql":
            return self
        self.engine = sqlalchemy.create_engine(
            self.url, poolclass=sqlalchemy.pool.NullPool
        )
        self.connection = self.engine.connect()
        self.connection.execute(
            sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": _SCHEMA_LOCK_KEY}
        )
        self.connection.commit()
        return self

    def __exit__(self, *exc):
        if self.connection is not None:
            self.connection.close()  # ends the session, which frees its lock
            self.engine.dispose()
