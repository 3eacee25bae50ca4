"""Write a comparison's results: ``results.csv``, ``report.md`` and PNG figures.

Every file is written to a temporary file in the same folder and then moved
into place with :func:`os.replace`, so an interrupted run never leaves a
half-written file; the report only ever replaces the files it names and
deletes nothing else in the output folder.
"""

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .search import Comparison

__all__ = ["ReportSection", "check_output_dir", "markdown_table", "write_report"]


@dataclass
class ReportSection:
    """One dataset's part of a report.

    Attributes
    ----------
    name : str
        Short name, used in file names (``"titanic"``).
    comparison : Comparison
        From ``compare_activations(..., return_details=True)``.
    description : str, default=""
        Markdown shown under the section title (data, model, settings).
    score_name : str, default="score"
        What the score is, e.g. ``"accuracy"`` or ``"R²"``.
    extra_tables : dict of str to DataFrame
        More tables, each under its own heading (e.g. a compression report).
    """

    name: str
    comparison: Comparison
    description: str = ""
    score_name: str = "score"
    extra_tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def check_output_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` if needed and check that files can be written in it.

    Call it before any training, so that a bad folder fails at once.

    Raises
    ------
    OSError
        If the folder cannot be created or written to; the message says which
        folder and why.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_learnact.reports import check_output_dir
    >>> check_output_dir(tempfile.mkdtemp()).is_dir()
    True
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".learnact-check-"):
            pass
    except OSError as exc:
        raise OSError(
            f"Cannot write to the output folder {str(path)!r}: "
            f"{exc.strerror or exc}. Choose another folder with --out."
        ) from exc
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def _atomic(path: Path, write: Callable[[str], None]) -> Path:
    """Call ``write(temporary_path)``, then move the result to ``path``.

    An OS error (a full disk, a quota, a vanished folder) is raised again as
    an ``OSError`` (same ``errno``) whose message names ``path``.
    """
    try:
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix
        )
        os.close(fd)
        try:
            write(tmp)
            os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp's 0600 is for the temporary
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        error = OSError(f"Cannot write {path}: {exc.strerror or exc}.")
        error.errno = exc.errno
        raise error from exc
    return path


def _write_text(path: Path, text: str) -> Path:
    return _atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _save(fig, path: Path) -> Path:
    return _atomic(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))


def _cell(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return ""
        return f"{value:.3g}" if abs(value) < 1e-3 and value != 0 else f"{value:.4f}"
    return str(value).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame) -> str:
    """``frame`` as a GitHub-flavoured Markdown table (no extra dependency).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_learnact.reports import markdown_table
    >>> print(markdown_table(pd.DataFrame({"a": ["relu"], "b": [0.5]})))
    | a | b |
    |---|---|
    | relu | 0.5000 |
    """
    lines = [
        "| " + " | ".join(map(str, frame.columns)) + " |",
        "|" + "---|" * frame.shape[1],
    ]
    lines += [
        "| " + " | ".join(_cell(v) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines)


def _summary(table: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "rank": table["rank"],
            "activation": table["activation"],
            "kind": table["kind"],
            "mean ± std": [
                f"{m:.4f} ± {s:.4f}"
                for m, s in zip(table["mean_score"], table["std_score"])
            ],
            "95% CI": [
                f"[{lo:.3f}, {hi:.3f}]"
                for lo, hi in zip(table["ci_low"], table["ci_high"])
            ],
            "diff vs baseline": table["diff_vs_baseline"],
            "p (Holm)": table["p_value_holm"],
            "significant": table["significant"],
            "fit s": table["fit_time"],
            "predict s": table["predict_time"],
        }
    )
    if "n_parameters" in table:
        out["parameters"] = table["n_parameters"]
    return out


_TEST_NOTE = (
    "Every activation was trained and scored on the same cross-validation "
    "splits. *diff vs baseline*, *p (Holm)* and *significant* compare each "
    "activation with the baseline **{baseline}** by the Nadeau–Bengio corrected "
    "resampled t-test over the folds, Holm-adjusted for the number of "
    "comparisons (significant: p < 0.05). The 95% CI uses the same corrected "
    "variance."
)


def _section(section: ReportSection, figures: Path, out: Path) -> tuple[str, list]:
    from .plotting import (
        ActivationDisplay,
        plot_robustness,
        plot_scores,
        plot_training_curves,
    )

    table, name = section.comparison.table, section.name
    written = []

    def figure(fig, stem: str) -> str:
        path = _save(fig, figures / f"{name}_{stem}.png")
        written.append(path)
        return path.relative_to(out).as_posix()

    md = [f"## {name}", ""]
    if section.description:
        md += [section.description, ""]
    md += [
        markdown_table(_summary(table)),
        "",
        _TEST_NOTE.format(baseline=table["baseline"].iloc[0]),
        "",
    ]
    scores = figure(
        plot_scores(
            table,
            title=f"{name}: cross-validated {section.score_name}",
            score_name=section.score_name,
        ),
        "scores",
    )
    md += [f"![{name} scores]({scores})", ""]
    learned = (
        table.loc[table["kind"] != "fixed", ["activation", "learned_parameters"]]
        if "learned_parameters" in table
        else table.iloc[:0]
    )
    if len(learned):
        md += [
            "### Learned parameters (model refitted on all the data)",
            "",
            markdown_table(learned),
            "",
        ]
    if "dirty_score" in table:
        cols = [
            "activation",
            "clean_score",
            "dirty_score",
            "dirty_minus_clean",
            "dirty_minus_clean_ci_low",
            "dirty_minus_clean_ci_high",
        ]
        md += [
            "### Robustness: clean vs dirty training data",
            "",
            "Each activation was also trained on corrupted training folds and "
            "scored on the same clean test folds; a robust activation has "
            "*dirty_minus_clean* close to 0.",
            "",
            markdown_table(table[cols]),
            "",
        ]
        path = figure(
            plot_robustness(
                table, title=f"{name}: robustness", score_name=section.score_name
            ),
            "robustness",
        )
        md += [f"![{name} robustness]({path})", ""]
    estimators = section.comparison.estimators
    if estimators:
        histories = {a: _history(e) for a, e in estimators.items()}
        path = figure(
            plot_training_curves(
                histories, title=f"{name}: training curves (model refitted on all data)"
            ),
            "curves",
        )
        md += ["### Training curves", "", f"![{name} training curves]({path})", ""]
        shapes = [a for a in table["activation"] if a in set(learned["activation"])]
        if shapes:
            md += ["### Learned activation shapes", ""]
        for activation in shapes:
            disp = ActivationDisplay.from_estimator(
                estimators[activation],
                title=f"{name}: learned '{activation}' activation per hidden layer",
            )
            path = figure(disp.figure_, f"shapes_{activation}")
            md += [f"![{name} {activation} shapes]({path})", ""]
    for heading, extra in section.extra_tables.items():
        md += [f"### {heading}", "", markdown_table(extra), ""]
    return "\n".join(md), written


def _history(estimator) -> pd.DataFrame:
    """The ``history_`` of a fitted estimator or of a pipeline's last step."""
    from .estimators import learnact_step

    return learnact_step(estimator)[1].history_


def write_report(
    out: str | os.PathLike,
    sections: Sequence[ReportSection],
    *,
    title: str = "Learned vs fixed activations",
    settings: Mapping[str, object] | None = None,
) -> list[Path]:
    """Write ``results.csv``, ``fold_scores.csv``, ``report.md`` and figures.

    Parameters
    ----------
    out : path-like
        Output folder (created if needed).
    sections : sequence of ReportSection
        One per dataset.
    title : str
        Title of the Markdown report.
    settings : mapping, optional
        Listed at the top of the report (command, budgets, seeds...).

    Returns
    -------
    paths : list of Path
        Every file written.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.reports import ReportSection, write_report
    >>> from sklearn_learnact.search import compare_activations
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LearnedActivationClassifier((8,), max_iter=3, random_state=0)
    >>> _, comp = compare_activations(clf, X, y, "relu,affine", cv=2,
    ...                               return_details=True)
    >>> paths = write_report(tempfile.mkdtemp(), [ReportSection("iris", comp)])
    >>> sorted(p.name for p in paths)[-3:]
    ['iris_shapes_affine.png', 'report.md', 'results.csv']
    """
    out = check_output_dir(out)
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    md = [f"# {title}", ""]
    if settings:
        md += [f"- **{k}**: {v}" for k, v in settings.items()] + [""]
    written = []
    for section in sections:
        text, paths = _section(section, figures, out)
        md.append(text)
        written += paths
    results = pd.concat(
        [s.comparison.table.assign(dataset=s.name) for s in sections], ignore_index=True
    )
    folds = pd.concat(
        [s.comparison.fold_scores.assign(dataset=s.name) for s in sections],
        ignore_index=True,
    )
    written.append(_write_text(out / "results.csv", results.to_csv(index=False)))
    written.append(_write_text(out / "fold_scores.csv", folds.to_csv(index=False)))
    written.append(_write_text(out / "report.md", "\n".join(md)))
    return written
