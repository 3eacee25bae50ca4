"""``learnact compare``: compare activations on one dataset and write a report."""

import argparse
from pathlib import Path

from ..activations import is_learnable
from ..compare import DEFAULT_ACTIVATIONS
from ..reports import check_output_dir, console_summary, write_report
from . import _runs
from ._common import (
    UsageError,
    activations,
    add_compression,
    add_dask_option,
    add_data_options,
    add_output_options,
    between,
    data_and_estimator,
    hidden,
    integer,
    on_dask,
    run_section,
    scoring,
)

#: The learning rate of ``--search grid`` when ``--lr`` is not given.
DEFAULT_LR = 1e-2
#: Options that only ``--search optuna`` uses, with their defaults.
_OPTUNA_ONLY = {
    "trials": 20,
    "storage": None,
    "study_name": None,
    "inner_cv": None,
}


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``compare`` subcommand to ``subparsers``."""
    compare = subparsers.add_parser(
        "compare",
        description="Compare fixed and learned activations on the same "
        "cross-validation folds; write report.md, results.csv and figures to "
        "--out, and print the results table.",
    )
    add_data_options(compare.add_argument_group("data"))
    study = compare.add_argument_group("comparison")
    study.add_argument(
        "--activations",
        type=activations,
        default=DEFAULT_ACTIVATIONS,
        help="comma-separated registry names, or fixed/learnable/all "
        f"(default: {','.join(DEFAULT_ACTIVATIONS)})",
    )
    study.add_argument(
        "--cv",
        type=integer(2),
        default=5,
        help="cross-validation folds, shared by every activation "
        "(default: %(default)s)",
    )
    study.add_argument(
        "--scoring",
        type=scoring,
        help="scikit-learn scorer name, e.g. balanced_accuracy, f1_macro, "
        "neg_mean_absolute_error (default: accuracy for classification, R² for "
        "regression)",
    )
    study.add_argument(
        "--corruption",
        type=between(0, 1),
        help="robustness mode: also train on this fraction of corrupted training "
        "rows, in (0, 1) (default: off)",
    )
    study.add_argument(
        "--compress",
        action="store_true",
        help="compress the best learned model with SplineActivationCompressor, "
        "scored on held-out rows, and add its table, figure and measured speed-up "
        "to the report (default: off)",
    )
    study.add_argument(
        "--n-jobs",
        type=integer(nonzero=True),
        help="parallel jobs (joblib); -1: all CPUs (default: 1)",
    )
    add_dask_option(study)
    study.add_argument(
        "--random-state",
        type=integer(0, 2**32 - 1),
        default=0,
        help="seeds the folds, the networks and the searches: with one worker the "
        "same command gives the same trials and results; with several workers on "
        "one storage only each trial is reproducible, not which trials are run "
        "(default: %(default)s)",
    )
    net = compare.add_argument_group("network")
    net.add_argument(
        "--hidden",
        type=hidden,
        default=(32,),
        help="hidden layer widths, e.g. 64,32; with --search optuna the number "
        "of layers, the width being tuned (default: 32)",
    )
    net.add_argument(
        "--max-iter",
        type=integer(1),
        default=60,
        help="maximum epochs, with early stopping (default: %(default)s)",
    )
    net.add_argument(
        "--lr",
        type=between(0),
        help=f"learning rate (default: {DEFAULT_LR:g}); with --search optuna the "
        "learning rate is tuned, unless --lr is given: then it is fixed and "
        "Optuna tunes only the width and the weight decay",
    )
    search = compare.add_argument_group("search")
    search.add_argument(
        "--search",
        choices=("grid", "optuna"),
        default="grid",
        help="grid: each activation with the network above; optuna: each "
        "activation gets the same number of Optuna trials (default: %(default)s)",
    )
    search.add_argument(
        "--trials",
        type=integer(1),
        help="Optuna trials per activation, with --search optuna (default: "
        f"{_OPTUNA_ONLY['trials']})",
    )
    search.add_argument(
        "--inner-cv",
        type=integer(2),
        help="nested cross-validation of the tuning, with --search optuna: these "
        "inner folds of each outer training fold choose the configuration, the "
        "outer test fold scores it (default: off: the same folds choose and "
        "score, which biases the scores upwards; the report says so)",
    )
    search.add_argument(
        "--storage",
        help="Optuna storage URL or journal file, with --search optuna; share one "
        "between workers (default: OUT/optuna.journal)",
    )
    search.add_argument(
        "--study-name",
        help="prefix of the Optuna study names, with --search optuna; a named "
        "study is resumed only by the same comparison (default: one study per "
        "comparison and activation, learnact.ACTIVATION.FINGERPRINT)",
    )
    add_output_options(compare.add_argument_group("output"))
    compare.set_defaults(run=run)
    return compare


def _check_options(args) -> None:
    """Refuse options that would be silently ignored."""
    if args.search != "optuna":
        given = [k for k in _OPTUNA_ONLY if getattr(args, k) is not None]
        if given:
            flag = "--" + given[0].replace("_", "-")
            raise UsageError(f"{flag} only applies with --search optuna.")
    if args.compress and not any(map(is_learnable, args.activations)):
        raise UsageError(
            "--compress needs a learned activation in --activations (e.g. "
            "relu,mixture,mlp): it compresses the best learned model."
        )


def _search_space(lr: float):
    """Optuna's default search space with the learning rate fixed at ``lr``."""
    from ..studies import default_search_space

    def space(trial, estimator):
        params = default_search_space(_FixedRate(trial, lr), estimator)
        params["learning_rate_init"] = lr
        return params

    return space


class _FixedRate:
    """An Optuna trial that answers ``learning_rate_init`` without sampling it."""

    def __init__(self, trial, lr: float):
        self._trial, self._lr = trial, lr

    def suggest_float(self, name: str, *args, **kwargs) -> float:
        if name == "learning_rate_init":
            return self._lr
        return self._trial.suggest_float(name, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._trial, name)


def run(args, *, new_trials: bool = True) -> list[Path]:
    """Run ``learnact compare``; return the files written.

    ``new_trials=False`` (``learnact report``) runs no Optuna trial: it reports
    the stored studies.
    """
    _check_options(args)
    with on_dask(args):
        return _run(args, new_trials)


def _run(args, new_trials: bool) -> list[Path]:
    out = check_output_dir(args.out)
    storage = None
    optuna_options = {}
    if args.search == "optuna":
        from ..studies import import_optuna, open_storage

        import_optuna().logging.set_verbosity(import_optuna().logging.WARNING)
        storage = args.storage or str(out / "optuna.journal")
        if "://" not in storage:  # the same file, wherever workers start from
            storage = str(Path(storage).absolute())
        try:
            open_storage(storage)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        if new_trials:
            _runs.record_run(out, args.argv, storage)
        optuna_options = {
            "n_trials": (args.trials or _OPTUNA_ONLY["trials"]) if new_trials else 0,
            "storage": storage,
            "study_name": args.study_name,
        }
        if args.lr is not None:
            optuna_options["search_space"] = _search_space(args.lr)
    lr = DEFAULT_LR if args.lr is None else args.lr
    data, estimator = data_and_estimator(args, lr=lr)
    section = run_section(
        Path(args.dataset).stem,
        data,
        estimator,
        activations=args.activations,
        cv=args.cv,
        inner_cv=args.inner_cv,
        scoring=args.scoring,
        search=args.search,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        corruption=args.corruption,
        verbose=int(not args.no_progress),
        **optuna_options,
    )
    if args.compress:
        add_compression(section, data, args.random_state)
    tuned = args.search == "optuna"
    settings = {
        "command": "learnact " + " ".join(args.argv),
        "search": args.search
        + (
            f" ({args.trials or _OPTUNA_ONLY['trials']} trials per activation)"
            if tuned
            else ""
        ),
        "cv folds": args.cv
        if args.inner_cv is None
        else f"{args.cv} outer x {args.inner_cv} inner (nested)",
        "scoring": section.score_name,
        "hidden layers": (
            f"{len(args.hidden)}, width and weight decay tuned per activation (see "
            "Tuned hyperparameters)"
            if tuned
            else args.hidden
        ),
        "max epochs": args.max_iter,
        "learning rate": _lr_setting(args),
    }
    if args.search != "optuna":
        paths = write_report(out, [section], settings=settings)
    else:
        settings["optuna trials"] = _runs.trial_counts(section.comparison.table)
        if not new_trials:
            settings["written by"] = f"learnact report {out} (no new trial)"
        paths = _runs.write_newest(out, [section], settings)
    print(console_summary(section))
    return paths


def _lr_setting(args) -> str:
    if args.lr is not None:
        return f"{args.lr:g}" + (" (fixed)" if args.search == "optuna" else "")
    return "tuned by Optuna" if args.search == "optuna" else f"{DEFAULT_LR:g}"
