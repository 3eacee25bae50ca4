"""``learnact demo``: the main job (Titanic, synthetic regression, compression)."""

import argparse
from pathlib import Path

import pandas as pd

from ..reports import ReportSection, check_output_dir, write_report
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


def _compress(section: ReportSection, data: Data) -> pd.DataFrame:
    """Compress the best learned model of ``section``; its report as a table."""
    from ..compression import SplineActivationCompressor

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
