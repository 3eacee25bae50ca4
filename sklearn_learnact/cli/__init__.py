"""The ``learnact`` command: ``learnact compare ...``, ``learnact demo``,
``learnact export ...``, ``learnact report DIR``, ``learnact search ...`` and
``learnact cache info|clear``.

``main(argv=None)`` parses ``argv`` (default ``sys.argv[1:]``) and returns the
exit status, so it can be called from tests; errors in the input (a bad
option value, unknown dataset or activation, a CSV file that cannot be used,
unwritable output folder, a storage that cannot be opened, a full disk...)
print one line and exit with status 2, never a traceback.
Each subcommand lives in its own module with ``add_parser(subparsers)`` and
``run(args)``, imported only when that subcommand runs: ``learnact --help``
and ``learnact --version`` import neither torch nor scikit-learn.
"""

import sys
import time
import warnings
from collections.abc import Sequence

from ._parser import SUBCOMMANDS, UsageError, build_parser

__all__ = ["UsageError", "main"]


def _one_line(command: str):
    """``warnings.showwarning`` printing each warning as one line on stderr.

    ``learnact CMD: warning: MESSAGE``, as errors are printed, instead of
    Python's ``path:line: Category: message`` followed by the source line;
    a message already printed is not printed again.
    """
    shown = set()

    def showwarning(message, category, *args, **kwargs):
        if str(message) not in shown:
            shown.add(str(message))
            print(f"learnact {command}: warning: {message}", file=sys.stderr)

    return showwarning


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``learnact`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success (errors exit through :class:`SystemExit` with status 2).

    Examples
    --------
    >>> from sklearn_learnact.cli import main
    >>> main(["compare", "--dataset", "nope", "--out", "x"])  # doctest: +SKIP
    learnact compare: error: Unknown dataset 'nope': choose one of titanic, ...
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    args.argv = argv
    if not sys.stderr.isatty():  # a progress bar's redraws only clutter a log file
        args.no_progress = True
    from sklearn.exceptions import ConvergenceWarning

    from ..studies import StudyMismatchError

    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.showwarning = _one_line(args.command)
            paths = args.run(args)
    except (UsageError, OSError, StudyMismatchError) as exc:
        parser.exit(2, f"{parser.prog} {args.command}: error: {exc}\n")
    if paths:
        files = "1 file" if len(paths) == 1 else f"{len(paths)} files"
        print(
            f"Wrote {files} to {paths[-1].parent} in "
            f"{time.perf_counter() - start:.0f} s; see {paths[-1]}."
        )
    return 0
