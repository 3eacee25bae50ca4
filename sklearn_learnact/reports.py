"""Write a comparison's results: ``results.csv``, ``report.md`` and PNG figures.

The report starts with the verdict in plain words (did a learned activation
beat the baseline significantly, and by how much) and what limits it: failed
fits, under-trained models, learned activations that barely moved from their
initialisation, selection bias of the tuning, low power. Then, per dataset,
the table, the tuned hyperparameters and the figures.

Every file is written to a temporary file in the same folder and then moved
into place with :func:`os.replace`, so an interrupted run never leaves a
half-written file; the report only ever replaces the files it names and
deletes nothing else in the output folder.
"""

import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .compare import Comparison
from .evaluation import BARELY_MOVED

__all__ = [
    "ReportSection",
    "check_output_dir",
    "console_summary",
    "markdown_table",
    "tuned_parameters",
    "write_report",
]


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
    extra_figures : dict of str to (Figure, str)
        More figures with a caption, each under its own heading (e.g. the
        compression figure).
    notes : list of str
        More lines for the verdict, after the comparison's caveats (e.g. that
        a compression made ``predict`` slower).
    """

    name: str
    comparison: Comparison
    description: str = ""
    score_name: str = "score"
    extra_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    extra_figures: dict[str, tuple] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


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


def _interval(low: float, high: float, sign: str = "") -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""
    return f"[{low:{sign}.3f}, {high:{sign}.3f}]"


def _significance(table: pd.DataFrame) -> list[str]:
    """``yes``, ``no``, or why there is no test (``too few folds``, ``no
    variance``)."""
    why = table["untested"] if "untested" in table else [""] * len(table)
    return [
        "yes" if sig else w if w in ("too few folds", "no variance") else "no"
        for sig, w in zip(table["significant"], why)
    ]


def _summary(table: pd.DataFrame) -> pd.DataFrame:
    failed = ~np.isfinite(table["mean_score"].to_numpy(float))
    out = pd.DataFrame(
        {
            "rank": table["rank"],
            "activation": table["activation"],
            "kind": table["kind"],
            "mean ± std": [
                "failed" if bad else f"{m:.4f} ± {s:.4f}"
                for m, s, bad in zip(table["mean_score"], table["std_score"], failed)
            ],
            "95% CI": [
                _interval(lo, hi) for lo, hi in zip(table["ci_low"], table["ci_high"])
            ],
            "diff vs baseline [95% CI]": [
                "(baseline)"
                if a == b
                else ""
                if not np.isfinite(d)
                else f"{d:+.4f} {_interval(lo, hi, '+')}"
                for a, b, d, lo, hi in zip(
                    table["activation"],
                    table["baseline"],
                    table["diff_vs_baseline"],
                    table["diff_ci_low"],
                    table["diff_ci_high"],
                )
            ],
            "p (Holm)": table["p_value_holm"],
            "significant": _significance(table),
            "under-trained": [
                f"{u}/{n}" for u, n in zip(table["n_under_trained"], table["n_fits"])
            ],
            "moved": [
                "" if not np.isfinite(m) else f"{m:.3f}" + (" (barely)" if b else "")
                for m, b in zip(table["movement"], table["barely_moved"])
            ],
            "fit s": table["fit_time"],
            "predict s": table["predict_time"],
        }
    )
    if "n_parameters" in table:
        out["parameters"] = table["n_parameters"].astype("Int64")
    return out


def _test_note(comparison: Comparison) -> str:
    table = comparison.table
    return (
        "Every activation was trained and scored on the same "
        f"{len(comparison.splits)} cross-validation splits. *diff vs baseline*, "
        "*p (Holm)* and *significant* compare each activation with the baseline "
        f"**{table['baseline'].iloc[0]}** by the Nadeau–Bengio corrected "
        "resampled t-test over the folds, Holm-adjusted for the number of "
        f"comparisons (significant: p < {comparison.alpha:g}). The 95% CIs use "
        f"the same corrected variance. {comparison.interval_note()} The intervals "
        "are per comparison, not adjusted for the number of comparisons as the "
        "p-values are: an interval of a difference that excludes 0 can still be "
        "not significant after Holm's adjustment. *too few folds* (fewer than 3 "
        "paired differences) and *no variance* (the same difference on every "
        "fold) are not tested: they cannot tell. "
        "*under-trained*: fits that ran all their epochs while still improving. "
        "*moved*: how far a learned activation moved from its initial shape "
        "(max |f_learned − f_init| over the inputs it saw in training, relative "
        "to the initial output's range; median over folds; *barely* below "
        f"{BARELY_MOVED:g}). *fit s*, *predict s*: median seconds per fold, "
        "after an untimed warm-up fit."
    )


def tuned_parameters(comparison: Comparison) -> pd.DataFrame:
    """Each activation's chosen hyperparameters, one column per parameter.

    One row per activation, or per activation and outer fold when the tuning
    was nested (each outer fold chose its own).

    Parameters
    ----------
    comparison : Comparison

    Returns
    -------
    table : DataFrame
        ``activation`` (and ``outer fold``), then the parameters.
    """
    folds = comparison.fold_scores
    folds = folds[folds["condition"] == "clean"]
    rows = []
    for activation in comparison.table["activation"]:
        mine = folds[folds["activation"] == activation]
        params = [json.loads(p) for p in mine["params"]]
        nested = comparison.selection == "nested"
        for fold, p in zip(mine["fold"], params if nested else params[:1]):
            row = {"activation": activation}
            if nested:
                row["outer fold"] = int(fold)
            row.update({k: _param_cell(v) for k, v in sorted(p.items())})
            rows.append(row)
    return pd.DataFrame(rows)


def _param_cell(value) -> object:
    if isinstance(value, list):
        return "(" + ", ".join(map(str, value)) + ")"
    if isinstance(value, float):
        return float(f"{value:.3g}")
    return value


def _verdict_lines(section: ReportSection) -> list[str]:
    comparison = section.comparison
    return [comparison.verdict(), *comparison.caveats(), *section.notes]


def console_summary(section: ReportSection) -> str:
    """What ``learnact`` prints: the verdict, the caveats, then the ranking.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.reports import ReportSection, console_summary
    >>> from sklearn_learnact.compare import compare_activations
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LearnedActivationClassifier((8,), max_iter=40, random_state=0)
    >>> _, comp = compare_activations(clf, X, y, "relu,affine", cv=5,
    ...                               return_details=True)
    >>> print(console_summary(ReportSection("iris", comp)))  # doctest: +ELLIPSIS
    iris: No learned activation beat relu significantly (5-fold CV, ...
    """
    verdict, *caveats = _verdict_lines(section)
    table = section.comparison.table
    baseline = table["baseline"].iloc[0]
    shown = _summary(table)[
        [
            "rank",
            "activation",
            "kind",
            "mean ± std",
            "95% CI",
            "diff vs baseline [95% CI]",
            "significant",
            "under-trained",
            "moved",
        ]
    ].rename(
        columns={
            "mean ± std": f"{section.score_name} mean ± std",
            "diff vs baseline [95% CI]": f"diff vs {baseline} [95% CI]",
        }
    )
    lines = [f"{section.name}: {verdict}"]
    lines += [f"  ! {c}" for c in caveats]
    lines += ["", shown.to_string(index=False)]
    return "\n".join(lines)


def _section(section: ReportSection, figures: Path, out: Path) -> tuple[str, list]:
    from .plotting import (
        ActivationDisplay,
        RobustnessDisplay,
        ScoreDisplay,
        TrainingCurveDisplay,
    )

    comparison = section.comparison
    table, name = comparison.table, section.name
    written = []

    def figure(fig, stem: str) -> str:
        path = _save(fig, figures / f"{name}_{stem}.png")
        written.append(path)
        return path.relative_to(out).as_posix()

    md = [f"## {name}", ""]
    if section.description:
        md += [section.description, ""]
    md += [f"**Tuning**: {comparison.selection_note()}", ""]
    md += [markdown_table(_summary(table)), "", _test_note(comparison), ""]
    scores = figure(
        ScoreDisplay(table, score_name=section.score_name)
        .plot(title=f"{name}: cross-validated {section.score_name}")
        .figure_,
        "scores",
    )
    md += [f"![{name} scores]({scores})", ""]
    if comparison.selection != "none":
        md += [
            "### Tuned hyperparameters",
            "",
            "The configuration each activation was scored with"
            + (
                " (chosen by the inner search of each outer fold)"
                if comparison.selection == "nested"
                else ""
            )
            + ".",
            "",
            markdown_table(tuned_parameters(comparison)),
            "",
        ]
    learned = table[table["kind"] != "fixed"]
    if len(learned):
        cols = {"activation": "activation", "movement": "moved (median)"}
        if "learned_parameters" in table:
            cols["learned_parameters"] = "learned parameters (refit on all data)"
        frame = learned[list(cols)].rename(columns=cols)
        md += ["### Learned activations", "", markdown_table(frame), ""]
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
            RobustnessDisplay(table, score_name=section.score_name)
            .plot(title=f"{name}: robustness")
            .figure_,
            "robustness",
        )
        md += [f"![{name} robustness]({path})", ""]
    if comparison.estimators:
        path = figure(
            TrainingCurveDisplay.from_comparison(
                comparison,
                title=f"{name}: training curves (models refitted on all data)",
            ).figure_,
            "curves",
        )
        md += ["### Training curves", "", f"![{name} training curves]({path})", ""]
        shapes = [
            a
            for a in learned["activation"]
            if a in comparison.estimators and a in comparison.initial_activations
        ]
        if shapes:
            md += [
                "### Learned activation shapes",
                "",
                "Each hidden layer's activation after training (solid) and "
                "before (dotted), with ReLU for reference (dashed); the shaded "
                "band and the bar at the bottom mark the inputs the layer "
                "received on the data. Outside it the curve is extrapolation.",
                "",
            ]
        for activation in shapes:
            disp = ActivationDisplay.from_comparison(
                comparison,
                activation,
                title=f"{name}: learned '{activation}' activation per hidden layer",
            )
            path = figure(disp.figure_, f"shapes_{activation}")
            md += [f"![{name} {activation} shapes]({path})", ""]
    for heading, extra in section.extra_tables.items():
        md += [f"### {heading}", "", markdown_table(extra), ""]
    for heading, (fig, caption) in section.extra_figures.items():
        stem = "".join(c if c.isalnum() else "_" for c in heading.lower()).strip("_")
        path = figure(fig, stem)
        md += [f"### {heading}", "", caption, "", f"![{name} {heading}]({path})", ""]
    return "\n".join(md), written


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
    >>> from sklearn_learnact.compare import compare_activations
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
    md = [f"# {title}", "", "## Verdict", ""]
    for section in sections:
        verdict, *caveats = _verdict_lines(section)
        lead = f"**{section.name}**: " if len(sections) > 1 else ""
        md += [f"{lead}{verdict}", ""]
        md += [f"- ⚠ {c}" for c in caveats] + ([""] if caveats else [])
    if settings:
        md += ["## Settings", ""]
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
