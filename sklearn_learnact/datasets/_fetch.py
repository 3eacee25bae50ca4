"""The data folder, checksums and downloads, for the image loaders.

Names here are internal to :mod:`sklearn_learnact.datasets` (this module is
private); :data:`DATA_HOME_ENV`, :data:`MIRROR_ENV`, :class:`CorruptDataError`,
:class:`DatasetNotFoundError` and :func:`get_data_home` are re-exported by the
package.
"""

import hashlib
import http.client
import os
import tarfile
import tempfile
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ._options import OptionNames

#: Environment variable naming the data folder (see :func:`get_data_home`).
DATA_HOME_ENV = "SKLEARN_LEARNACT_DATA"
#: Environment variable naming a mirror to download from instead of the canonical
#: sources: a URL or a local folder laid out as the data folder (``mnist/...``).
MIRROR_ENV = "SKLEARN_LEARNACT_MIRROR"
_DEFAULT_DATA_HOME = "~/sklearn_learnact_data"


class CorruptDataError(OSError):
    """A data file exists but fails its checksum or its format check."""


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not on disk and was not (or could not be) downloaded.

    ``str(error)`` lists every accepted file, found or missing; ``summary`` says
    in one line what is missing and how to provide it (what the ``learnact``
    command and the examples print).
    """

    def __init__(self, message: str, summary: str) -> None:
        super().__init__(message)
        self.summary = summary


def resolve_data_home(
    data_home: str | os.PathLike | None, names: OptionNames | None = None
) -> tuple[Path, str]:
    """Return the data folder and a phrase saying where it came from."""
    if data_home is not None:
        return Path(data_home).expanduser(), (names or OptionNames()).source(
            "data_home"
        )
    env = os.environ.get(DATA_HOME_ENV)
    if env:
        return Path(env).expanduser(), f"the {DATA_HOME_ENV} environment variable"
    return (
        Path(_DEFAULT_DATA_HOME).expanduser(),
        f"the default {_DEFAULT_DATA_HOME} ({DATA_HOME_ENV} is not set)",
    )


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the folder the image loaders read from.

    The folder is, in order: ``data_home`` if given, else the folder named by the
    ``SKLEARN_LEARNACT_DATA`` environment variable if set and non-empty, else
    ``~/sklearn_learnact_data``. It holds one subfolder per dataset (``mnist/``,
    ``fashion_mnist/``, ``kmnist/``, ``cifar10/``). The folder is not created here;
    loaders create it only when they download.

    Parameters
    ----------
    data_home : str or path-like, default=None
        An explicit folder; ``~`` is expanded.

    Returns
    -------
    pathlib.Path
        The data folder.

    Examples
    --------
    >>> from sklearn_learnact.datasets import get_data_home
    >>> get_data_home("/tmp/learnact-data").as_posix()
    '/tmp/learnact-data'
    """
    return resolve_data_home(data_home)[0]


# %% Files and checksums


@dataclass(frozen=True)
class File:
    """A file of a dataset; ``algorithm=None`` means only its format is checked."""

    name: str
    algorithm: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class Archive:
    """A downloadable tar.gz whose members ``prefix + file.name`` are ``files``."""

    url: str
    md5: str
    prefix: str
    files: tuple[File, ...]


#: Verified (path, size, mtime, algorithm, digest) keys: each file is hashed once per
#: process unless it changes on disk.
_VERIFIED: set[tuple[str, int, int, str, str]] = set()


def _file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify_checksum(path: Path, algorithm: str, expected: str, fix: str) -> None:
    """Raise :class:`CorruptDataError` unless ``path`` has the expected digest."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, algorithm, expected)
    if key in _VERIFIED:
        return
    actual = _file_digest(path, algorithm)
    if actual != expected:
        raise CorruptDataError(
            f"{path} is corrupted or incomplete: its {algorithm} is {actual}, "
            f"expected {expected}. {fix}"
        )
    _VERIFIED.add(key)


# %% Downloads


class DownloadFailedError(FileNotFoundError):
    """No source gave a file; ``reason`` is the first source's failure, briefly."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def get_mirror() -> str | None:
    """The mirror named by ``SKLEARN_LEARNACT_MIRROR`` as a base URL ending in
    ``/`` (a local folder as a ``file:`` URL), or None when it is not set."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    if not mirror:
        return None
    if "://" not in mirror:
        mirror = Path(mirror).expanduser().resolve().as_uri()
    return mirror.rstrip("/") + "/"


def _reason(exc: BaseException) -> str:
    """Why a download failed, in a few words (a URLError's reason, unwrapped)."""
    return str(getattr(exc, "reason", None) or exc)


def _download_to(
    urls: Sequence[str], dest: Path, algorithm: str | None, digest: str | None
) -> None:
    """Fetch ``dest`` from the first URL that works and gives the right digest.

    The bytes go to a temporary file beside ``dest`` that is renamed only after its
    checksum matched, so ``dest`` is never left half-written. A file without a
    known checksum (``algorithm=None``) is only checked by its reader.
    """
    failures = []
    for url in urls:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{dest.name}.", suffix=".part", dir=dest.parent
        )
        try:
            hasher = hashlib.new(algorithm or "sha256")
            with (
                os.fdopen(fd, "wb") as out,
                urllib.request.urlopen(url, timeout=60) as response,
            ):
                while chunk := response.read(1 << 20):
                    hasher.update(chunk)
                    out.write(chunk)
            if algorithm is not None and hasher.hexdigest() != digest:
                raise CorruptDataError(
                    f"{url} gave {algorithm} {hasher.hexdigest()}, expected {digest}"
                )
            os.replace(tmp_name, dest)
            return
        except (OSError, http.client.HTTPException) as exc:
            # OSError covers URLError, timeouts, dropped connections and
            # CorruptDataError; HTTPException covers truncated responses.
            failures.append((url, exc))
        finally:
            Path(tmp_name).unlink(missing_ok=True)
    reasons = "; ".join(f"{url}: {_reason(exc)}" for url, exc in failures)
    if any(isinstance(exc, CorruptDataError) for _, exc in failures):
        raise CorruptDataError(f"downloaded {dest.name} is corrupted ({reasons})")
    url, first = failures[0]
    raise DownloadFailedError(
        f"could not download {dest.name} ({reasons})", f"{url}: {_reason(first)}"
    )


def download_files(
    files: Sequence[File],
    folder: Path,
    *,
    mirrors: Sequence[str] = (),
    archive: Archive | None = None,
) -> None:
    """Fetch the ``files`` that ``folder`` lacks, from ``mirrors`` or ``archive``.

    Without an archive each file is fetched from the first mirror that gives it
    with the right checksum; with one, the archive is fetched once and every
    missing member of it is copied out after its checksum matched.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if archive is None:
        for file in files:
            if not (folder / file.name).is_file():
                urls = [mirror + file.name for mirror in mirrors]
                _download_to(urls, folder / file.name, file.algorithm, file.digest)
        return
    wanted = [f for f in archive.files if not (folder / f.name).is_file()]
    # The archive and the members being copied out live in a temporary folder
    # beside the data; a member is renamed into place once its checksum matched.
    with tempfile.TemporaryDirectory(prefix=".download.", dir=folder) as tmp:
        tar_path = Path(tmp) / "archive.tar.gz"
        _download_to([archive.url], tar_path, "md5", archive.md5)
        with tarfile.open(tar_path, "r:gz") as tar:
            for file in wanted:
                member = tar.extractfile(archive.prefix + file.name)
                if member is None:
                    raise CorruptDataError(f"{archive.url} has no file {file.name}")
                part = Path(tmp) / file.name
                with member, open(part, "wb") as out:
                    while chunk := member.read(1 << 20):
                        out.write(chunk)
                if _file_digest(part, file.algorithm) != file.digest:
                    raise CorruptDataError(f"{archive.url} holds a bad {file.name}")
                os.replace(part, folder / file.name)
