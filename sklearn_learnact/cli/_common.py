"""What the subcommands share: the usage error, argument types, data, networks,
the Dask cluster of ``--dask``, the compression of the best model with its
measured speed-up."""

import argparse
import contextlib
import math
import warnings

import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.metrics import get_scorer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.utils import Bunch

from ..activations import available_activations
from ..compare import compare_activations, parse_activations
from ..datasets import DATASET_NAMES, DatasetNotFoundError, load_dataset
from ..estimators import LearnedActivationClassifier, LearnedActivationRegressor
from ..reports import ReportSection
from ._parser import UsageError

#: How the loaders' messages name their options under ``learnact``.
_FLAGS = {
    "target": "--target",
    "task": "--task",
    "encoding": "--encoding",
    "sep": "--sep",
    "n_samples": "--n-samples",
    "data_home": "--data-home",
    "download": "--download",
}
#: Seconds to wait for the Dask scheduler of ``--dask`` to answer.
DASK_TIMEOUT = 30
#: Share of the rows held out to score the compressed model.
HOLDOUT = 0.2
_SCORER_HINT = (
    "any scikit-learn scorer name, e.g. accuracy, balanced_accuracy, f1_macro, "
    'roc_auc, r2, neg_mean_absolute_error; python -c "import sklearn.metrics; '
    'print(sklearn.metrics.get_scorer_names())" lists them all'
)


# %% Argument types (argparse reports their errors as one line, status 2)


def integer(low: int | None = None, high: int | None = None, *, nonzero=False):
    """An argparse type: an integer in [low, high] (and not 0 if ``nonzero``)."""
    bounds = []
    if low is not None:
        bounds.append(f">= {low}")
    if high is not None:
        bounds.append(f"<= {high}")
    if nonzero:
        bounds.append("other than 0")
    wanted = "an integer" + (f" {' and '.join(bounds)}" if bounds else "")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if (
            value is None
            or (low is not None and value < low)
            or (high is not None and value > high)
            or (nonzero and value == 0)
        ):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
        return value

    return parse


def between(low: float, high: float = math.inf):
    """An argparse type: a number strictly between ``low`` and ``high``."""
    wanted = f"> {low:g}" if high == math.inf else f"in ({low:g}, {high:g})"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not low < value < high:  # False for NaN too
            raise argparse.ArgumentTypeError(f"must be a number {wanted}, got {text!r}")
        return value

    return parse


def folder(text: str) -> str:
    """An argparse type: a folder name (not empty, which means none)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"must name a folder, got {text!r}")
    return text


def activations(text: str) -> tuple[str, ...]:
    """An argparse type: comma-separated activation names (or groups)."""
    try:
        names = parse_activations(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    needs_option = [n for n in names if n in available_activations("expression")]
    if needs_option:
        raise argparse.ArgumentTypeError(
            f"{needs_option[0]!r} needs an expression, which --activations cannot "
            "give: search expressions with `learnact search`, or compare one from "
            'Python with activation_params={"expr": ...}'
        )
    return names


def hidden(text: str) -> tuple[int, ...]:
    """An argparse type: hidden layer widths, ``64,32``."""
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected widths like 32 or 64,32, got {text!r}"
        )
    return sizes


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """``--dataset`` and the options of :func:`load_data`, shared by subcommands."""
    parser.add_argument(
        "--dataset",
        required=True,
        help=f"one of {', '.join(DATASET_NAMES)}, or a CSV file (required)",
    )
    parser.add_argument(
        "--target", help="target column of a CSV file (required with a CSV file)"
    )
    parser.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="task of a CSV file; auto: regression for a numeric target unless it "
        "holds at most 20 distinct integers (default: %(default)s)",
    )
    parser.add_argument(
        "--encoding",
        help="text encoding of a CSV file, e.g. cp1252 or latin-1 (default: UTF-8)",
    )
    parser.add_argument(
        "--sep",
        help="column separator of a CSV file (default: detected among , ; tab |)",
    )
    parser.add_argument(
        "--n-samples",
        type=integer(1),
        help="rows of the synthetic dataset or of an image subsample (default: "
        "5000 synthetic, 2000 images)",
    )
    parser.add_argument(
        "--data-home",
        help="folder of the image datasets (default: $SKLEARN_LEARNACT_DATA, "
        "else ~/sklearn_learnact_data)",
    )
    parser.add_argument(
        "--download",
        dest="download",
        action="store_const",
        const=True,
        default="if_missing",
        help="also replace a partial copy of an image dataset by the full set "
        "(default: only a missing dataset is fetched, on first use, from its "
        "canonical source or from $SKLEARN_LEARNACT_MIRROR, checksums checked)",
    )
    parser.add_argument(
        "--no-download",
        dest="download",
        action="store_const",
        const=False,
        help="never download: use only the files in the data folder (default: "
        "download a missing dataset)",
    )


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--out`` and ``--no-progress``, as every subcommand has them."""
    parser.add_argument(
        "--out",
        type=folder,
        default="learnact-out",
        help="output folder (default: %(default)s)",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="hide the progress bars (default: shown on a terminal, hidden when "
        "stderr goes to a file or a pipe)",
    )


def add_dask_option(parser: argparse.ArgumentParser) -> None:
    """``--dask SCHEDULER``: run the fits on a Dask cluster (:func:`on_dask`)."""
    parser.add_argument(
        "--dask",
        metavar="SCHEDULER",
        help="run the fits on the Dask cluster whose scheduler is at SCHEDULER, "
        "e.g. tcp://host:8786, through joblib's Dask backend (pip install "
        '"sklearn-learnact[dask]"): every worker thread of the cluster works, in '
        "place of --n-jobs (default: this machine only)",
    )


@contextlib.contextmanager
def on_dask(args):
    """Send the joblib work of the block to the cluster of ``--dask``, if given."""
    if args.dask is None:
        yield
        return
    if args.n_jobs is not None:
        raise UsageError(
            "--n-jobs does not apply with --dask: every worker thread of the "
            "cluster works."
        )
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(
            '--dask needs Dask: pip install "sklearn-learnact[dask]".'
        ) from None
    try:
        client = Client(args.dask, timeout=DASK_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(
            f"Cannot reach the Dask scheduler at {args.dask}: {exc}"
        ) from None
    with client, joblib.parallel_config(backend="dask", client=client):
        yield


def scoring(text: str) -> str:
    """An argparse type: a scikit-learn scorer name."""
    try:
        get_scorer(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown scorer {text!r}: give {_SCORER_HINT}"
        ) from None
    return text


# %% Data and the network every activation gets


def load_data(name: str, **kwargs) -> Bunch:
    """:func:`~sklearn_learnact.datasets.load_dataset`, errors naming CLI flags;
    a missing dataset is reported in one line (what is missing, how to get it)."""
    try:
        return load_dataset(name, option_flags=_FLAGS, **kwargs)
    except DatasetNotFoundError as exc:
        raise UsageError(exc.summary) from exc
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def check_scoring(name: str, data: Bunch) -> None:
    """Fail early if scorer ``name`` cannot score ``data``'s target.

    A constant model (:class:`~sklearn.dummy.DummyClassifier` or
    ``DummyRegressor``) is scored on the target: a scorer that does not apply
    (``r2`` on classes, ``accuracy`` on a continuous target, ``roc_auc`` on
    more than two classes, ``f1`` on labels without 1) raises there.
    """
    dummy = DummyClassifier() if data.task == "classification" else DummyRegressor()
    X = np.zeros((len(data.target), 1))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            get_scorer(name)(dummy.fit(X, data.target), X, data.target)
    except (ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split())
        raise UsageError(
            f"--scoring {name} does not apply to this {data.task} target: "
            f"{reason} Give {_SCORER_HINT}."
        ) from None


def check_folds(data: Bunch, cv: int) -> None:
    """Fail early if ``data`` cannot be split into ``cv`` folds."""
    n_rows = len(data.target)
    if cv > n_rows:
        raise UsageError(f"--cv {cv} needs at least {cv} rows; the data has {n_rows}.")
    if data.task == "classification":
        classes, counts = np.unique(data.target.astype(str), return_counts=True)
        single = classes[counts < 2]
        if len(single):
            raise UsageError(
                f"Class {single[0]} of the target has a single row: every "
                "training fold needs each class at least once, so each class "
                "needs 2 rows or more; remove or merge the rare classes."
            )


def make_estimator(data: Bunch, *, hidden=(32,), max_iter=60, lr=1e-2, random_state=0):
    """The network (behind the dataset's preprocessor) that every activation gets."""
    cls = (
        LearnedActivationClassifier
        if data.task == "classification"
        else LearnedActivationRegressor
    )
    net = cls(
        hidden,
        learning_rate_init=lr,
        max_iter=max_iter,
        early_stopping=True,
        random_state=random_state,
    )
    return net if data.preprocessor is None else make_pipeline(data.preprocessor, net)


def data_and_estimator(args, *, lr: float) -> tuple[Bunch, object]:
    """Load ``--dataset`` with the data options (:func:`add_data_options`), check
    ``--cv`` and ``--scoring`` against it, and build the network of ``--hidden``
    and ``--max-iter`` (:func:`make_estimator`) with learning rate ``lr``."""
    data = load_data(
        args.dataset,
        target=args.target,
        task=args.task,
        encoding=args.encoding,
        sep=args.sep,
        n_samples=args.n_samples,
        data_home=args.data_home,
        download=args.download,
        random_state=args.random_state,
    )
    check_folds(data, args.cv)
    if args.scoring:
        check_scoring(args.scoring, data)
    estimator = make_estimator(
        data,
        hidden=args.hidden,
        max_iter=args.max_iter,
        lr=lr,
        random_state=args.random_state,
    )
    return data, estimator


def run_section(
    name: str, data: Bunch, estimator, *, scoring: str | None = None, **kwargs
) -> ReportSection:
    """Compare activations on ``data`` (from :func:`load_data`); its section."""
    _, comparison = compare_activations(
        estimator,
        data.data,
        data.target,
        scoring=scoring,
        return_details=True,
        **kwargs,
    )
    score = scoring or ("accuracy" if data.task == "classification" else "R²")
    return ReportSection(name, comparison, data.description, score)


# %% After the comparison


#: Side-by-side timed ``predict`` calls of each model for the speed-up.
_REPEATS = 15


def add_compression(section: ReportSection, data: Bunch, random_state=0) -> None:
    """Compress the best learned model of ``section``, scored on held-out rows;
    add its table, the measured speed-up and its figure to ``section``.

    The best learned activation's configuration is refitted on a split of
    ``1 - HOLDOUT`` of the rows (stratified for classification), compressed by
    :class:`~sklearn_learnact.SplineActivationCompressor` from those rows, and
    both models are scored and their ``predict`` timed side by side on the
    ``HOLDOUT`` rows held out (:meth:`SplineActivationCompressor.evaluate`).
    """
    from ..compression import SplineActivationCompressor
    from ..plotting import CompressionDisplay

    table = section.comparison.table
    learned = table[(table["kind"] == "learned") & table["mean_score"].notna()]
    learned = learned[learned["activation"].isin(section.comparison.estimators)]
    if learned.empty:
        raise UsageError(
            "No learned activation was fitted successfully: nothing to compress."
        )
    best = learned["activation"].iloc[0]
    model = clone(section.comparison.estimators[best])
    X_train, X_test, y_train, y_test = train_test_split(
        data.data,
        data.target,
        test_size=HOLDOUT,
        random_state=random_state,
        stratify=data.target if data.task == "classification" else None,
    )
    model.fit(X_train, y_train)
    comp = SplineActivationCompressor(model).fit(X_train)  # a pipeline: raw rows
    evaluation = comp.evaluate(X_test, y_test, n_repeats=_REPEATS)
    report = comp.report_.assign(activation=best)
    for key, value in evaluation.items():
        report[key] = value
    report["held_out_rows"] = len(y_test)
    section.extra_tables[
        f"Compression of the best learned model (refitted on {1 - HOLDOUT:.0%} of "
        f"the rows, scored on the {HOLDOUT:.0%} held out)"
    ] = report
    section.extra_tables[f"Measured speed-up of the compressed {best} model"] = (
        pd.DataFrame(
            {
                "held-out rows": [evaluation["n_samples"]],
                "predict before (ms)": [1e3 * evaluation["predict_seconds_before"]],
                "predict after (ms)": [1e3 * evaluation["predict_seconds_after"]],
                "speed-up": [f"{evaluation['predict_speedup']:.2f}x"],
                "measured": [
                    f"predict of the whole {type(model).__name__}, median of "
                    f"{_REPEATS} side-by-side calls each"
                ],
            }
        )
    )
    section.notes += compression_notes(best, comp.report_, evaluation)
    section.extra_figures[f"Compressed {best} activations"] = (
        CompressionDisplay.from_compressor(comp).figure_,
        f"Each hidden layer's learned {best} activation (solid) and the spline "
        "that replaces it (dashed) over the range of its recorded inputs "
        "(shaded; histogram in grey).",
    )


def compression_notes(best: str, report: pd.DataFrame, evaluation: dict) -> list[str]:
    """Verdict lines for a compression that did not make the model cheaper:
    ``predict`` slower, or more numbers stored, than before."""
    notes = []
    speedup = evaluation["predict_speedup"]
    if speedup < 1:
        notes.append(
            f"The compressed {best} model predicts no faster than the "
            f"uncompressed one: {speedup:.2f}x its speed "
            f"({1e3 * evaluation['predict_seconds_after']:.2f} ms against "
            f"{1e3 * evaluation['predict_seconds_before']:.2f} ms on "
            f"{evaluation['n_samples']} held-out rows)."
        )
    before, after = report["stored_before"].sum(), report["stored_after"].sum()
    if after > before:
        notes.append(
            f"The compressed {best} activations store more numbers than the "
            f"learned ones ({before} -> {after}): the splines buy speed, not size."
        )
    return notes
