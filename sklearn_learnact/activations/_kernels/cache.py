"""The kernel cache on disk: where it lives, what identifies a formula, cleaning.

Compiled kernels (``*.bin``) and the native library (``native-*.so``) are
cached in one folder, ``$SKLEARN_LEARNACT_CACHE_DIR``, else
``$XDG_CACHE_HOME/sklearn_learnact/kernels`` or
``~/.cache/sklearn_learnact/kernels``. Nothing evicts old entries by itself
(a new torch, a changed formula or another CPU leave the old ones behind):
:func:`cache_info` says how big the folder is, :func:`clear_cache` empties
it (``learnact cache info`` / ``learnact cache clear``).
"""

import hashlib
import inspect
import os
import types
from collections.abc import Callable
from pathlib import Path

__all__ = ["ENV_CACHE_DIR", "cache_dir", "cache_info", "clear_cache", "formula_digest"]

#: Environment variable: where compiled kernels are cached.
ENV_CACHE_DIR = "SKLEARN_LEARNACT_CACHE_DIR"
#: What the cache holds, by file pattern.
_KINDS = {"compiled kernels": "*.bin", "native library": "native-*.so"}


def cache_dir() -> Path:
    """Where compiled kernels are cached (``$SKLEARN_LEARNACT_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/sklearn_learnact/kernels`` or ``~/.cache/...``)."""
    if os.environ.get(ENV_CACHE_DIR):
        return Path(os.environ[ENV_CACHE_DIR])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sklearn_learnact" / "kernels"


def _entries() -> dict[str, list[Path]]:
    folder = cache_dir()
    if not folder.is_dir():
        return {kind: [] for kind in _KINDS}
    return {kind: sorted(folder.glob(pattern)) for kind, pattern in _KINDS.items()}


def cache_info() -> dict:
    """Where the kernel cache is and what it holds.

    Returns
    -------
    info : dict
        ``path`` (str), ``exists`` (bool), and per kind of entry
        (``"compiled kernels"``, ``"native library"``) a dict with ``files``
        and ``bytes``; ``total_bytes``.

    Examples
    --------
    >>> from sklearn_learnact.activations import kernel_cache_info
    >>> info = kernel_cache_info()
    >>> sorted(info["kinds"])
    ['compiled kernels', 'native library']
    """
    kinds = {
        kind: {"files": len(paths), "bytes": sum(_size(p) for p in paths)}
        for kind, paths in _entries().items()
    }
    return {
        "path": str(cache_dir()),
        "exists": cache_dir().is_dir(),
        "kinds": kinds,
        "total_bytes": sum(k["bytes"] for k in kinds.values()),
    }


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # removed meanwhile by another process
        return 0


def clear_cache() -> dict:
    """Remove every cached kernel and native library (they are rebuilt on use).

    Only the cache's own entries are removed (compiled kernels and native
    libraries), never other files that may share the folder. Kernels already
    loaded in running processes keep working.

    Returns
    -------
    removed : dict
        ``files`` and ``bytes`` removed, and ``path``.
    """
    files = removed = 0
    for paths in _entries().values():
        for path in paths:
            size = _size(path)
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            files, removed = files + 1, removed + size
    return {"path": str(cache_dir()), "files": files, "bytes": removed}


def formula_digest(fn: Callable) -> str:
    """Digest of a formula: its source and that of the library functions and
    constants it uses, followed through its globals.

    The compiled kernels' disk cache is keyed by it, so that a kernel is
    compiled again when its formula (or a helper it calls) changes, and not
    when something else in its file does.
    """
    digest = hashlib.sha256()
    for part in _formula_parts(fn, set()):
        digest.update(part.encode())
    return digest.hexdigest()


def _formula_parts(fn: Callable, seen: set):
    fn = inspect.unwrap(fn)
    if id(fn) in seen:
        return
    seen.add(id(fn))
    try:
        yield inspect.getsource(fn)
    except (OSError, TypeError):  # no source (built at run time): its code
        yield repr(getattr(fn, "__code__", fn))
    namespace = getattr(fn, "__globals__", {})
    for name in sorted(_names(fn.__code__)):
        value = namespace.get(name)
        if isinstance(value, types.FunctionType) and _is_own(value):
            yield from _formula_parts(value, seen)
        elif isinstance(value, (bool, int, float, str, tuple, frozenset)):
            yield f"{name}={value!r}"
        elif isinstance(value, dict) and _plain(value):
            yield f"{name}={sorted(value.items(), key=repr)!r}"


def _names(code: types.CodeType) -> set[str]:
    """The global names ``code`` and the functions defined inside it use."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _is_own(fn: types.FunctionType) -> bool:
    """Whether ``fn`` is a function of the same package tree as the formulas'
    caller: the library's or the user's module, not torch's."""
    module = fn.__module__ or ""
    return not module.startswith(("torch", "numpy", "builtins"))


def _plain(mapping: dict) -> bool:
    return all(
        isinstance(v, (bool, int, float, str, tuple, type)) for v in mapping.values()
    )
