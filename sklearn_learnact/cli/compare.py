"""``learnact compare``: compare activations on one dataset and write a report."""

import argparse
from pathlib import Path

from ..reports import check_output_dir, console_summary, write_report
from ..search import DEFAULT_ACTIVATIONS
from ._common import UsageError, _activations, _fraction, _hidden, run_section
from ._data import DATASETS, load_dataset, make_estimator


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``compare`` subcommand to ``subparsers``."""
    compare = subparsers.add_parser(
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
        "--inner-cv",
        type=int,
        help="nested cross-validation of the tuning (--search optuna): inner "
        "folds of each outer training fold choose the configuration, the outer "
        "test fold scores it (default: off; then the same folds choose and "
        "score, which biases the scores upwards)",
    )
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
    compare.set_defaults(run=run)
    return compare


def run(args) -> list[Path]:
    """Run ``learnact compare``; return the files written."""
    if args.inner_cv is not None:
        if args.search != "optuna":
            raise UsageError(
                "--inner-cv only applies with --search optuna: the grid search "
                "trains one configuration per activation, there is nothing to tune."
            )
        if args.inner_cv < 2:
            raise UsageError(f"--inner-cv must be at least 2, got {args.inner_cv}.")
    out = check_output_dir(args.out)
    storage = None
    if args.search == "optuna":
        from ..search.optuna import import_optuna, open_storage

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
    section = run_section(
        Path(args.dataset).stem,
        data,
        estimator,
        activations=args.activations,
        cv=args.cv,
        inner_cv=args.inner_cv,
        search=args.search,
        n_trials=args.trials,
        storage=storage,
        study_name=args.study_name,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        corruption=args.corruption,
        verbose=int(not args.no_progress),
    )
    tuned = args.search == "optuna"
    settings = {
        "command": "learnact " + " ".join(args.argv),
        "search": args.search
        + (f" ({args.trials} trials per activation)" if tuned else ""),
        "cv folds": args.cv
        if args.inner_cv is None
        else f"{args.cv} outer x {args.inner_cv} inner (nested)",
        "hidden layers": (
            f"{len(args.hidden)}, width, learning rate and weight decay tuned per "
            "activation (see Tuned hyperparameters)"
            if tuned
            else f"{args.hidden}, learning rate {args.lr:g}"
        ),
        "max epochs": args.max_iter,
    }
    paths = write_report(out, [section], settings=settings)
    print(console_summary(section))
    return paths
