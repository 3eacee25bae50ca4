"""``learnact search``: find new activation functions with a surrogate (Bingham &
Miikkulainen, 2023).

Runs :class:`~sklearn_learnact.surrogate.SurrogateActivationSearch` on one dataset
and writes ``report.md`` (the verdict first: the best found against relu,
retested on new folds with the corrected paired t-test), ``results.csv``
(every evaluation), ``retest.csv``, and figures: the shapes of the top
functions, and a 2-D map of the candidate space coloured by score.
The evaluations are kept in an Optuna journal (default ``OUT/surrogate.journal``):
rerunning the same command resumes a killed search, and several processes
started with the same command share the work. A folder that holds another
command's report (``learnact compare``) is refused: the search would
overwrite it.
"""

import argparse
import time
from pathlib import Path

from ..reports import check_output_dir, markdown_table
from ._common import (
    UsageError,
    add_dask_option,
    add_data_options,
    add_output_options,
    between,
    data_and_estimator,
    hidden,
    integer,
    on_dask,
    scoring,
)


def _names(text: str) -> tuple[str, ...]:
    names = tuple(s.strip() for s in text.split(",") if s.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"expected names like a,b; got {text!r}")
    return names


def _operators(kind: str):
    """An argparse type: comma-separated operators of the grammar, checked now
    (not after loading the data and the embedding's libraries)."""

    def parse(text: str) -> tuple[str, ...]:
        from ..activations.expression import BINARY, UNARY

        table = UNARY if kind == "unary" else BINARY
        names = _names(text)
        unknown = [n for n in names if n not in table]
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown {kind} operator {unknown[0]!r}; the {kind} operators are: "
                f"{', '.join(table)}"
            )
        return names

    return parse


def _schemas(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(";") if s.strip())


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``search`` subcommand to ``subparsers``."""
    from ..surrogate import DEFAULT_BINARY, DEFAULT_SCHEMAS, DEFAULT_UNARY

    search = subparsers.add_parser(
        "search",
        description="Search expression activations with Bingham & "
        "Miikkulainen's surrogate: train --budget of the candidates, chosen by a "
        "nearest-neighbour regression on a UMAP map of features computed without "
        "training (candidates that fail at initialisation are removed first); write "
        "report.md, results.csv, retest.csv and figures to --out. "
        'Needs pip install "sklearn-learnact[search]".',
    )
    add_data_options(search.add_argument_group("data"))
    study = search.add_argument_group("search")
    study.add_argument(
        "--budget",
        type=integer(1),
        default=40,
        help="functions to train and score, the 8 baselines included "
        "(default: %(default)s)",
    )
    study.add_argument(
        "--cv",
        type=integer(2),
        default=3,
        help="cross-validation folds of each evaluation (default: %(default)s)",
    )
    study.add_argument(
        "--scoring",
        type=scoring,
        help="scikit-learn scorer name (default: accuracy or R²)",
    )
    study.add_argument(
        "--features",
        choices=("both", "outputs", "fisher"),
        default="both",
        help="features of the surrogate's distance (default: %(default)s)",
    )
    study.add_argument(
        "--embedding",
        choices=("umap", "union"),
        default="umap",
        help="umap: a UMAP of the features' combined distance; union: the paper's "
        "union of a UMAP per feature (default: %(default)s)",
    )
    study.add_argument(
        "--schemas",
        type=_schemas,
        default=DEFAULT_SCHEMAS,
        help="';'-separated schemas (default: " + "; ".join(DEFAULT_SCHEMAS) + ")",
    )
    study.add_argument(
        "--unary",
        type=_operators("unary"),
        default=DEFAULT_UNARY,
        help="unary operators of the space, comma-separated (default: all)",
    )
    study.add_argument(
        "--binary",
        type=_operators("binary"),
        default=DEFAULT_BINARY,
        help="binary operators of the space, comma-separated (default: all)",
    )
    study.add_argument(
        "--top",
        type=integer(1),
        default=3,
        help="best functions retested against relu on new folds (default: %(default)s)",
    )
    study.add_argument(
        "--storage",
        help="Optuna storage URL or journal file; share one between workers "
        "(default: OUT/surrogate.journal)",
    )
    study.add_argument(
        "--study-name",
        help="Optuna study name (default: derived from what defines the search)",
    )
    study.add_argument(
        "--n-jobs",
        type=integer(nonzero=True),
        help="folds fitted in parallel (joblib); -1: all CPUs (default: 1)",
    )
    add_dask_option(study)
    study.add_argument(
        "--random-state",
        type=integer(0, 2**32 - 1),
        default=0,
        help="seeds the folds, the networks, the features and the embedding "
        "(default: %(default)s)",
    )
    net = search.add_argument_group("network")
    net.add_argument(
        "--hidden",
        type=hidden,
        default=(64, 64),
        help="hidden layer widths (default: 64,64)",
    )
    net.add_argument(
        "--max-iter",
        type=integer(1),
        default=20,
        help="maximum epochs, with early stopping (default: %(default)s)",
    )
    net.add_argument(
        "--lr",
        type=between(0),
        default=1e-3,
        help="learning rate (default: %(default)g)",
    )
    add_output_options(search.add_argument_group("output"))
    search.set_defaults(run=run)
    return search


def run(args) -> list[Path]:
    """Run ``learnact search``; return the files written."""
    from ..plotting import ActivationShapesDisplay, SearchEmbeddingDisplay
    from ..studies import open_storage
    from ..surrogate import SurrogateActivationSearch, build_space, import_umap

    out = check_output_dir(args.out)
    _refuse_foreign_report(out)
    try:
        import_umap()
        storage = open_storage(args.storage or str(out / "surrogate.journal"))
        space = build_space(args.schemas, args.unary, args.binary)
    except (ImportError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    data, estimator = data_and_estimator(args, lr=args.lr)
    search = SurrogateActivationSearch(
        estimator,
        n_iter=args.budget,
        cv=args.cv,
        scoring=args.scoring,
        space=space,
        features=args.features,
        embedding=args.embedding,
        storage=storage,
        study_name=args.study_name,
        refit=False,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        verbose=int(not args.no_progress),
    )
    start = time.perf_counter()
    with on_dask(args):
        try:
            search.fit(data.data, data.target)
        except ValueError as exc:  # budget too large, another search's study
            raise UsageError(str(exc)) from exc
        search_time = time.perf_counter() - start
        retest = search.confirm(data.data, data.target, top=args.top)

    paths = []
    results = out / "results.csv"
    search.results_.to_csv(results, index=False)
    retest_path = out / "retest.csv"
    retest.to_csv(retest_path, index=False)
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    top = search.results_["expression"].head(5).tolist()
    shapes = ActivationShapesDisplay.from_expressions(
        top, title="The best functions found, and relu (dashed)"
    )
    shapes.figure_.savefig(figures / "top_shapes.png", dpi=110)
    embedding = SearchEmbeddingDisplay.from_search(search)
    embedding.figure_.savefig(figures / "embedding.png", dpi=110)
    paths += [results, retest_path, figures / "top_shapes.png"]
    paths.append(figures / "embedding.png")
    report = out / "report.md"
    report.write_text(_report(args, data, search, retest, search_time), "utf-8")
    paths.append(report)
    return paths


#: How a search's own files begin: what it may overwrite in --out.
_OWN = {"report.md": "# Surrogate activation search:", "results.csv": "expression,"}
#: Files of other commands' reports (``learnact compare``) a search never writes.
_FOREIGN = ("fold_scores.csv", "run.json")


def _refuse_foreign_report(out: Path) -> None:
    """Stop before any work if ``out`` holds another command's report.

    The search writes ``report.md`` and ``results.csv``; a comparison writes
    files of the same names, which a search would overwrite (a grid
    comparison's report cannot be rebuilt without running it again).
    """
    found = [name for name in _FOREIGN if (out / name).exists()]
    for name, start in _OWN.items():
        path = out / name
        if path.exists():
            with path.open(encoding="utf-8", errors="replace") as f:
                if f.read(len(start)) != start:
                    found.append(name)
    if found:
        raise UsageError(
            f"--out {str(out)!r} holds another command's report ({', '.join(found)}"
            "), which the search would overwrite; choose another folder for --out."
        )


def _report(args, data, search, retest, search_time: float) -> str:
    score = args.scoring or ("accuracy" if data.task == "classification" else "R²")
    res = search.results_
    best = retest.iloc[0]
    relu = retest.iloc[-1]
    p = best["p_value"]
    test = (
        "no test: too few folds or no variance, so it cannot tell"
        if p != p  # NaN: see sklearn_learnact.compare.untestable
        else f"corrected paired t-test p = {p:.3g}: "
        f"{'significant' if p < 0.05 else 'not significant'} at 0.05"
    )
    baselines_only = bool(res["baseline"].all())
    found = "Best baseline" if baselines_only else "Best found"
    verdict = (
        f"**{found}: `{best['expression']}`**, {score} "
        f"{best['mean_score']:.4f} against relu's {relu['mean_score']:.4f} on "
        f"{len(best['fold_scores'])} new folds (difference "
        f"{best['diff_vs_reference']:+.4f}, {test})."
    )
    if baselines_only:
        verdict = (
            f"**Baselines only**: a budget of {args.budget} does not go beyond "
            f"the {len(search.baselines)} baselines, which are evaluated first, so "
            "the surrogate never chose a function; raise --budget above "
            f"{len(search.baselines)} for it to act.\n\n{verdict}"
        )
    times = search.feature_times_
    n = len(search.space_)
    counts = search.filter_counts_
    settings = {
        "command": "learnact " + " ".join(args.argv),
        "data": data.description,
        "network": f"hidden layers {args.hidden}, up to {args.max_iter} epochs, "
        f"lr {args.lr}, early stopping",
        "budget": f"{len(res)} functions trained and scored with {args.cv}-fold CV "
        f"({search_time:.0f} s)",
        "candidate space": search.space_.summary(),
        "failure filter": f"{counts['removed']} of {n} candidates removed before "
        f"any training ({counts['non-finite Fisher spectrum']} with a non-finite "
        f"Fisher spectrum, {counts['output above 100']} with outputs above 100 in "
        f"magnitude on [-5, 5]; the baselines are kept)",
        "features": f"{search.features} ({search.embedding} embedding); output "
        f"feature {times['outputs']:.2f} s, Fisher feature {times['fisher']:.1f} s "
        f"({1000 * times['fisher'] / n:.1f} ms per candidate), filter and UMAP "
        f"{times['embedding']:.1f} s (0 when resumed from the study)",
        "study": f"{search.study_name_} (rerun the same command to resume)",
    }
    columns = ["rank", "expression", "cv_score", "std_score", "predicted_score"]
    columns += [c for c in ("diff_vs_relu", "p_value_vs_relu") if c in res]
    retest_table = retest.drop(columns=["fold_scores"])
    lines = [
        f"# Surrogate activation search: {Path(args.dataset).stem}",
        "",
        verdict,
        "",
        *(f"- **{k}**: {v}" for k, v in settings.items()),
        "",
        f"## The {min(10, len(res))} best of {len(res)} evaluated functions",
        "",
        f"Cross-validated {score} on the search's folds. `predicted_score` is "
        "the surrogate's prediction when it chose the function (empty for "
        "the baselines, evaluated first). The p-values against relu use the "
        "same folds that chose the best, so they are optimistic; the retest "
        "below uses new folds.",
        "",
        markdown_table(res[columns].head(10)),
        "",
        "## Retest against relu on new folds",
        "",
        "Corrected resampled paired t-test (Nadeau and Bengio 2003); "
        "`p_value_bonferroni` multiplies by the number of functions tested.",
        "",
        markdown_table(retest_table),
        "",
        "## Shapes",
        "",
        "![top functions](figures/top_shapes.png)",
        "",
        "## The candidate space",
        "",
        f"UMAP embedding of the {n - counts['removed']} candidates kept by the "
        f"failure filter; the evaluated ones coloured by {score}.",
        "",
        "![embedding](figures/embedding.png)",
        "",
        "Every evaluation: `results.csv`; the retest: `retest.csv`.",
        "",
    ]
    return "\n".join(lines)
