"""``learnact cache info|clear``: the compiled kernel cache on disk."""

import argparse
from pathlib import Path


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``cache`` subcommand to ``subparsers``."""
    cache = subparsers.add_parser(
        "cache",
        description="The learnable activations' kernels (compiled by torch's "
        "compiler, and the native C++ library) are built on first use and kept "
        "on disk, so that later processes load them in milliseconds. Nothing "
        "evicts old entries by itself (a new torch or a changed formula leaves "
        "the old ones behind): 'info' says where the cache is and how big, "
        "'clear' empties it (kernels are rebuilt when next needed). The folder "
        "is $SKLEARN_LEARNACT_CACHE_DIR, else "
        "$XDG_CACHE_HOME/sklearn_learnact/kernels or "
        "~/.cache/sklearn_learnact/kernels.",
    )
    cache.add_argument("action", choices=("info", "clear"), help="what to do")
    cache.set_defaults(run=run)
    return cache


def _size(n_bytes: int) -> str:
    for unit in ("bytes", "KiB", "MiB"):
        if n_bytes < 1024 or unit == "MiB":
            return (
                f"{n_bytes:.0f} {unit}" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
            )
        n_bytes /= 1024
    return ""


def run(args) -> list[Path]:
    """Run ``learnact cache``; print what it found or removed."""
    from ..activations import clear_kernel_cache, kernel_cache_info

    if args.action == "clear":
        removed = clear_kernel_cache()
        print(
            f"Removed {removed['files']} file(s), {_size(removed['bytes'])}, from "
            f"{removed['path']}."
        )
        return []
    info = kernel_cache_info()
    if not info["exists"]:
        print(f"Kernel cache: {info['path']} (empty: nothing built yet).")
        return []
    print(f"Kernel cache: {info['path']}, {_size(info['total_bytes'])} in all")
    for kind, entry in info["kinds"].items():
        print(f"  {kind}: {entry['files']} file(s), {_size(entry['bytes'])}")
    return []
