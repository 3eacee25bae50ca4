"""``learnact demo``: the main job (Titanic, synthetic regression, compression)."""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..reports import ReportSection, check_output_dir, console_summary, write_report
from ._common import run_section
from ._data import Data, load_dataset, make_estimator


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``demo`` subcommand to ``subparsers``."""
    demo = subparsers.add_parser(
        "demo",
        help="the main job: Titanic and the synthetic regression, fixed "
        "vs learned, compression of the best learned model",
    )
    demo.add_argument("--out", default="learnact-out", help="output folder")
    demo.add_argument("--no-progress", action="store_true")
    demo.set_defaults(run=run)
    return demo


#: Interleaved timed calls of each model's ``predict`` for the speed-up.
_REPEATS = 15


def _speed_up(before, after, X) -> pd.DataFrame:
    """``predict`` time of the model before and after compression, measured
    side by side: interleaved calls after one untimed call each, medians."""
    times = {"before": [], "after": []}
    for model in (before, after):
        model.predict(X)
    for _ in range(_REPEATS):
        for key, model in (("before", before), ("after", after)):
            start = time.perf_counter()
            model.predict(X)
            times[key].append(time.perf_counter() - start)
    before_ms, after_ms = (1e3 * float(np.median(times[k])) for k in times)
    return pd.DataFrame(
        {
            "rows (preprocessed)": [len(X)],
            "predict before (ms)": [before_ms],
            "predict after (ms)": [after_ms],
            "speed-up": [f"{before_ms / after_ms:.2f}x"],
            "measured": [
                f"network predict only, median of {_REPEATS} interleaved calls each"
            ],
        }
    )


def _compress(section: ReportSection, data: Data) -> None:
    """Compress the best learned model of ``section``; add its table, its
    figure and the measured speed-up to the section."""
    from ..compression import SplineActivationCompressor, plot_compression

    table = section.comparison.table
    learned = table[(table["kind"] == "learned") & table["mean_score"].notna()]
    if learned.empty or learned["activation"].iloc[0] not in (
        section.comparison.estimators
    ):
        return
    best = learned["activation"].iloc[0]
    pipe = section.comparison.estimators[best]
    Xt = pipe[:-1].transform(data.X)
    comp = SplineActivationCompressor(pipe[-1]).fit(Xt, data.y)
    evaluation = comp.evaluate(Xt, data.y)
    report = comp.report_.assign(activation=best)
    for key, value in evaluation.items():
        report[key] = value
    section.extra_tables[
        f"Compression of the best learned model ({best}; scored on all the data)"
    ] = report
    section.extra_tables[f"Measured speed-up of the compressed {best} model"] = (
        _speed_up(comp.estimator_, comp.compressed_estimator_, Xt)
    )
    section.extra_figures[f"Compressed {best} activations"] = (
        plot_compression(comp),
        f"Each hidden layer's learned {best} activation (solid) and the spline "
        "that replaces it (dashed) over the range of its recorded inputs "
        "(shaded; histogram in grey).",
    )


def run(args) -> list[Path]:
    """Run ``learnact demo``; return the files written."""
    out = check_output_dir(args.out)
    verbose = int(not args.no_progress)
    sections = []
    titanic = load_dataset("titanic")
    sections.append(
        run_section(
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
        run_section(
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
        _compress(section, data)
    settings = {
        "command": "learnact demo",
        "titanic": "5-fold CV, MLP (32,), up to 60 epochs, early stopping",
        "synthetic": "3-fold CV, MLP (32,), up to 40 epochs, early stopping, "
        "10% corrupted training rows (robustness)",
        "compression": "spline compression of the best learned model, with its "
        "figure and the measured speed-up of predict",
    }
    paths = write_report(
        out,
        sections,
        title="learnact demo: learned vs fixed activations",
        settings=settings,
    )
    print("\n\n".join(console_summary(section) for section in sections))
    return paths
