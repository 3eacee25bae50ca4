"""The ``learnact`` command: ``learnact compare ...`` and ``learnact demo``.

``main(argv=None)`` parses ``argv`` (default ``sys.argv[1:]``) and returns the
exit status, so it can be called from tests; errors in the input (unknown
dataset or activation, missing target column, unwritable output folder, a
storage that cannot be opened...) print one line and exit with status 2.
"""

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from . import LearnedActivationClassifier, LearnedActivationRegressor
from .reports import ReportSection, check_output_dir, write_report
from .search import DEFAULT_ACTIVATIONS, compare_activations, parse_activations

__all__ = ["DATASETS", "main"]

#: Built-in datasets of ``--dataset`` (a path ending in ``.csv`` also works).
DATASETS = ("titanic", "synthetic", "mnist", "fashion_mnist", "kmnist", "cifar10")


class UsageError(ValueError):
    """Bad command-line input; reported as one line, exit status 2."""


@dataclass
class Data:
    """A dataset ready for :func:`compare_activations`."""

    X: object
    y: np.ndarray
    task: str  # "classification" or "regression"
    preprocessor: object | None
    description: str


def load_dataset(
    name: str,
    *,
    target: str | None = None,
    task: str = "auto",
    n_samples: int | None = None,
    data_home: str | None = None,
    download: bool = False,
    random_state: int = 0,
) -> Data:
    """Load ``name`` (one of :data:`DATASETS` or a CSV file) for a comparison.

    Raises
    ------
    UsageError
        Unknown dataset, missing file, missing ``target`` column, or a
        non-numeric target with ``task="regression"``.
    """
    from . import datasets

    if name == "titanic":
        X, y = datasets.load_titanic(return_X_y=True)
        return Data(
            X,
            np.asarray(y),
            "classification",
            datasets.make_titanic_preprocessor(),
            f"Titanic passengers ({len(y)}), target: survived.",
        )
    if name == "synthetic":
        n = n_samples or 5000
        X, y = datasets.make_infinite_regression(n, random_state=random_state)
        y = (y - y.mean()) / y.std()
        return Data(
            X,
            y,
            "regression",
            StandardScaler(),
            f"Seed 004's infinite multivariate regression ({n} samples, "
            "10 features, standardised target).",
        )
    if name in DATASETS:
        n = n_samples or 2000
        bunch = getattr(datasets, f"load_{name}")(
            data_home, n_samples=n, random_state=random_state, download=download
        )
        return Data(
            bunch.data,
            bunch.target,
            "classification",
            None,
            f"{name} training images ({n}, flattened pixels, MLP).",
        )
    if not name.lower().endswith(".csv"):
        raise UsageError(
            f"Unknown dataset {name!r}: choose one of {', '.join(DATASETS)} or give "
            "a path ending in .csv."
        )
    return _load_csv(Path(name), target, task)


def _load_csv(path: Path, target: str | None, task: str) -> Data:
    if not path.is_file():
        raise UsageError(f"CSV file {str(path)!r} not found.")
    if target is None:
        raise UsageError("--target COLUMN is required with a CSV file.")
    frame = pd.read_csv(path)
    if target not in frame.columns:
        raise UsageError(
            f"Column {target!r} is not in {path.name}; its columns are: "
            f"{', '.join(map(str, frame.columns))}."
        )
    frame = frame.dropna(subset=[target])
    y, X = frame[target], frame.drop(columns=[target])
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if task == "regression" and not numeric:
        raise UsageError(
            f"Target column {target!r} is not numeric (e.g. {y.iloc[0]!r}), so it "
            "cannot be a regression target; use --task classification."
        )
    if task == "auto":
        integral = numeric and np.allclose(y, np.round(y))
        task = (
            "regression"
            if numeric and not (integral and y.nunique() <= 20)
            else "classification"
        )
    preprocessor = make_column_transformer(
        (
            make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
            make_column_selector(dtype_include="number"),
        ),
        (
            make_pipeline(
                SimpleImputer(strategy="most_frequent"),
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
            ),
            make_column_selector(dtype_exclude="number"),
        ),
    )
    y = y.to_numpy(dtype=float) if task == "regression" else y.to_numpy()
    return Data(
        X,
        y,
        task,
        preprocessor,
        f"{path.name} ({len(y)} rows), target: {target} ({task}).",
    )


def make_estimator(data: Data, *, hidden=(32,), max_iter=60, lr=1e-2, random_state=0):
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


def _activations(text: str) -> tuple[str, ...]:
    try:
        return parse_activations(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected widths like 32 or 64,32, got {text!r}"
        )
    return sizes


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="learnact",
        description="Which activation is best for my data, learned or fixed?",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    compare = sub.add_parser(
        "compare", help="compare activations on one dataset and write a report"
    )
    compare.add_argument(
        "--dataset", required=True, help=f"{', '.join(DATASETS)} or FILE.csv"
    )
    compare.add_argument("--target", help="target column of a CSV file")
    compare.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="for a CSV file (default: guess)",
    )
    compare.add_argument(
        "--activations",
        type=_activations,
        default=DEFAULT_ACTIVATIONS,
        help="comma-separated registry names, or fixed/learnable/all "
        f"(default: {','.join(DEFAULT_ACTIVATIONS)})",
    )
    compare.add_argument("--search", choices=("grid", "optuna"), default="grid")
    compare.add_argument(
        "--trials",
        type=int,
        default=20,
        help="Optuna trials per activation (default: 20)",
    )
    compare.add_argument("--cv", type=int, default=5, help="folds (default: 5)")
    compare.add_argument(
        "--corruption",
        type=_fraction,
        help="robustness mode: fraction of corrupted training data",
    )
    compare.add_argument(
        "--hidden",
        type=_hidden,
        default=(32,),
        help="hidden layer widths, e.g. 64,32 (default: 32)",
    )
    compare.add_argument("--max-iter", type=int, default=60, help="epochs (max)")
    compare.add_argument("--lr", type=float, default=1e-2, help="learning rate")
    compare.add_argument(
        "--n-samples", type=int, help="subsample of an image or the synthetic dataset"
    )
    compare.add_argument("--data-home", help="folder of the image datasets")
    compare.add_argument(
        "--download", action="store_true", help="download a missing image dataset"
    )
    compare.add_argument(
        "--storage",
        help="Optuna storage URL or journal file (default: "
        "OUT/optuna.journal); share one between workers",
    )
    compare.add_argument("--study-name", default="learnact")
    compare.add_argument("--n-jobs", type=int, help="parallel jobs (joblib)")
    compare.add_argument("--random-state", type=int, default=0)
    compare.add_argument("--out", default="learnact-out", help="output folder")
    compare.add_argument("--no-progress", action="store_true")
    demo = sub.add_parser(
        "demo",
        help="the main job: Titanic and the synthetic regression, fixed "
        "vs learned, compression of the best learned model",
    )
    demo.add_argument("--out", default="learnact-out", help="output folder")
    demo.add_argument("--no-progress", action="store_true")
    return parser


def _section(name: str, data: Data, estimator, **kwargs) -> ReportSection:
    _, comparison = compare_activations(
        estimator, data.X, data.y, return_details=True, **kwargs
    )
    score = "accuracy" if data.task == "classification" else "R²"
    return ReportSection(name, comparison, data.description, score)


def _run_compare(args) -> list[Path]:
    out = check_output_dir(args.out)
    storage = None
    if args.search == "optuna":
        from .search.optuna import import_optuna, open_storage

        import_optuna().logging.set_verbosity(import_optuna().logging.WARNING)
        storage = args.storage or str(out / "optuna.journal")
        try:
            open_storage(storage)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    data = load_dataset(
        args.dataset,
        target=args.target,
        task=args.task,
        n_samples=args.n_samples,
        data_home=args.data_home,
        download=args.download,
        random_state=args.random_state,
    )
    estimator = make_estimator(
        data,
        hidden=args.hidden,
        max_iter=args.max_iter,
        lr=args.lr,
        random_state=args.random_state,
    )
    section = _section(
        Path(args.dataset).stem,
        data,
        estimator,
        activations=args.activations,
        cv=args.cv,
        search=args.search,
        n_trials=args.trials,
        storage=storage,
        study_name=args.study_name,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        corruption=args.corruption,
        verbose=int(not args.no_progress),
    )
    settings = {
        "command": "learnact " + " ".join(args.argv),
        "search": args.search,
        "cv folds": args.cv,
        "hidden layers": args.hidden,
        "max epochs": args.max_iter,
    }
    return write_report(out, [section], settings=settings)


def _compress(section: ReportSection, data: Data) -> pd.DataFrame:
    """Compress the best learned model of ``section``; its report as a table."""
    from .compression import SplineActivationCompressor

    table = section.comparison.table
    best = table.loc[table["kind"] == "learned", "activation"].iloc[0]
    pipe = section.comparison.estimators[best]
    Xt = pipe[:-1].transform(data.X)
    comp = SplineActivationCompressor(pipe[-1]).fit(Xt, data.y)
    evaluation = comp.evaluate(Xt, data.y)
    report = comp.report_.assign(activation=best)
    for key, value in evaluation.items():
        report[key] = value
    return report


def _run_demo(args) -> list[Path]:
    out = check_output_dir(args.out)
    verbose = int(not args.no_progress)
    sections = []
    titanic = load_dataset("titanic")
    sections.append(
        _section(
            "titanic",
            titanic,
            make_estimator(titanic, max_iter=60),
            cv=5,
            random_state=0,
            verbose=verbose,
        )
    )
    synthetic = load_dataset("synthetic", n_samples=5000)
    sections.append(
        _section(
            "synthetic",
            synthetic,
            make_estimator(synthetic, max_iter=40),
            cv=3,
            corruption=0.1,
            random_state=0,
            verbose=verbose,
        )
    )
    for section, data in zip(sections, (titanic, synthetic)):
        section.extra_tables[
            "Compression of the best learned model (scored on all the data)"
        ] = _compress(section, data)
    settings = {
        "command": "learnact demo",
        "titanic": "5-fold CV, MLP (32,), up to 60 epochs, early stopping",
        "synthetic": "3-fold CV, MLP (32,), up to 40 epochs, early stopping, "
        "10% corrupted training rows (robustness)",
        "compression": "spline compression of the best learned model",
    }
    return write_report(
        out,
        sections,
        title="learnact demo: learned vs fixed activations",
        settings=settings,
    )


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
    learnact: error: Unknown dataset 'nope': choose one of titanic, ...
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(argv)
    args.argv = argv
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            paths = (_run_demo if args.command == "demo" else _run_compare)(args)
    except (UsageError, OSError) as exc:
        parser.error(str(exc))
    print(
        f"Wrote {len(paths)} files to {paths[-1].parent} in "
        f"{time.perf_counter() - start:.0f} s; see {paths[-1]}."
    )
    return 0
