"""Which default learning rate for the activation parameters (``activation_lr``)?

The experiment behind the default of ``activation_lr`` for ``schedule="joint"``
(see the user guide, "Choosing activation_lr"). Seed 002 trains its mixture
weights at 10x the network's learning rate; the estimators used the network's
rate (1x). On three real datasets, the learned activations are trained with
``activation_lr`` = 1x, 3x and 10x ``learning_rate_init``, everything else
equal, on the same folds, and for each multiplier the script prints

- the mean cross-validated score and its difference from 1x, with the 95%
  interval and the p-value of the Nadeau-Bengio corrected t-test over the
  ``--repeats`` x 5 paired folds (``compare.corrected_ttest``);
- the median movement of the activations from their initial shape
  (:mod:`sklearn_learnact.evaluation`: max |f_learned - f_init| over
  the training inputs' range, relative to the initial output's range) and the
  share of fits whose activations barely moved (< 0.05).

Data: Titanic (1309 passengers, the package's preprocessor), a Fashion-MNIST
subset (``--n-images`` training images, flattened) and scikit-learn's
diabetes data (442 rows, raw target, standardised features). Network: the
``learnact compare`` defaults (one hidden layer of 32, Adam at 1e-2, up to
60 epochs with early stopping), and with ``--lr 1e-3 --max-iter 200`` the
estimators' defaults.

Run (555 s on 2 busy CPU cores; 345 s with ``--lr 1e-3 --max-iter 200``)::

    nice -n 19 python benchmarks/bench_activation_lr.py --repeats 2 --out lr.csv
    python benchmarks/bench_activation_lr.py --summarise lr.csv  # again, no fits
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import stats
from sklearn.datasets import load_diabetes
from sklearn.metrics import check_scoring
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_learnact import LearnedActivationClassifier, LearnedActivationRegressor
from sklearn_learnact.compare import corrected_ttest
from sklearn_learnact.datasets import (
    load_fashion_mnist,
    load_titanic,
    make_titanic_preprocessor,
)
from sklearn_learnact.evaluation import BARELY_MOVED, fit_and_score

ACTIVATIONS = ("mixture", "rational", "spline", "mlp")
MULTIPLIERS = (1.0, 3.0, 10.0)


#: ``../shared/data`` beside the checkout, unless SKLEARN_LEARNACT_DATA is set.
DATA_HOME = os.environ.get("SKLEARN_LEARNACT_DATA") or str(
    Path(__file__).resolve().parents[2] / "shared" / "data"
)


def datasets(n_images: int):
    """(name, X, y, estimator factory) for the three datasets."""
    X, y = load_titanic(return_X_y=True)
    yield (
        "titanic",
        X,
        np.asarray(y),
        lambda **kw: make_pipeline(
            make_titanic_preprocessor(), LearnedActivationClassifier(**kw)
        ),
    )
    bunch = load_fashion_mnist(DATA_HOME, n_samples=n_images, random_state=0)
    yield (
        f"fashion_mnist ({n_images})",
        bunch.data,
        bunch.target,
        lambda **kw: LearnedActivationClassifier(**kw),
    )
    X, y = load_diabetes(return_X_y=True, scaled=False)
    yield (
        "diabetes",
        X,
        y,
        lambda **kw: make_pipeline(StandardScaler(), LearnedActivationRegressor(**kw)),
    )


def run(args) -> pd.DataFrame:
    rows = []
    for name, X, y, make in datasets(args.n_images):
        classifier = name != "diabetes"
        for repeat in range(args.repeats):
            cv = (StratifiedKFold if classifier else KFold)(
                5, shuffle=True, random_state=repeat
            )
            splits = list(cv.split(X, y))
            for activation in ACTIVATIONS:
                for mult in MULTIPLIERS:
                    est = make(
                        hidden_layer_sizes=(32,),
                        activation=activation,
                        learning_rate_init=args.lr,
                        activation_lr=mult * args.lr,
                        max_iter=args.max_iter,
                        early_stopping=True,
                        random_state=repeat,
                    )
                    scorer = check_scoring(est)
                    for fold, (train, test) in enumerate(splits):
                        result = fit_and_score(est, X, y, train, test, scorer)
                        rows.append(
                            {
                                "dataset": name,
                                "activation": activation,
                                "multiplier": mult,
                                "repeat": repeat,
                                "fold": fold,
                                "n_rows": len(y),
                                **{
                                    k: result[k]
                                    for k in (
                                        "score",
                                        "movement",
                                        "under_trained",
                                        "error",
                                        "n_iter",
                                    )
                                },
                            }
                        )
                print(
                    f"{time.strftime('%H:%M:%S')} {name} repeat {repeat} "
                    f"{activation} done",
                    file=sys.stderr,
                    flush=True,
                )
    return pd.DataFrame(rows)


def summarise(folds: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (name, activation), group in folds.groupby(
        ["dataset", "activation"], sort=False
    ):
        base = group[group.multiplier == 1.0].sort_values(["repeat", "fold"])
        for mult, sub in group.groupby("multiplier"):
            sub = sub.sort_values(["repeat", "fold"])
            diff = sub.score.to_numpy() - base.score.to_numpy()
            n_rows = group.n_rows.iloc[0]
            n_train, n_test = n_rows * 4 / 5, n_rows / 5
            k = len(diff)
            half = 0.0
            p = np.nan
            if mult != 1.0:
                _, p = corrected_ttest(sub.score, base.score, n_train, n_test)
                half = stats.t.ppf(0.975, k - 1) * np.sqrt(
                    (1 / k + n_test / n_train) * diff.var(ddof=1)
                )
            out.append(
                {
                    "dataset": name,
                    "activation": activation,
                    "activation_lr": f"{mult:g}x",
                    "score": sub.score.mean(),
                    "diff vs 1x": diff.mean(),
                    "95% CI": f"[{diff.mean() - half:+.4f}, {diff.mean() + half:+.4f}]",
                    "p": p,
                    "movement (median)": sub.movement.median(),
                    "barely moved": f"{(sub.movement < BARELY_MOVED).mean():.0%}",
                    "under-trained": f"{sub.under_trained.mean():.0%}",
                    "epochs (median)": sub.n_iter.median(),
                    "failed": int(sub.error.notna().sum()),
                }
            )
    return pd.DataFrame(out)


def pooled(folds: pd.DataFrame) -> pd.DataFrame:
    """Per multiplier: the mean difference from 1x over the dataset x activation
    cells, how many cells improved, and the share of fits that barely moved."""
    keys = ["dataset", "activation", "repeat", "fold"]
    base = folds[folds.multiplier == 1.0].set_index(keys).score
    rows = []
    for mult, sub in folds.groupby("multiplier"):
        cells = (sub.set_index(keys).score - base).groupby(["dataset", "activation"])
        means = cells.mean()
        rows.append(
            {
                "activation_lr": f"{mult:g}x",
                "mean diff vs 1x (cells)": means.mean(),
                "cells better": f"{int((means > 0).sum())}/{len(means)}",
                "barely moved": f"{(sub.movement < BARELY_MOVED).mean():.1%}",
            }
        )
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="5-fold CVs (default 2)")
    parser.add_argument("--n-images", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--max-iter", type=int, default=60)
    parser.add_argument("--out", help="CSV of the per-fold results")
    parser.add_argument(
        "--summarise", metavar="CSV", help="only summarise a CSV written by --out"
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)  # no thread stalls on a shared, busy CPU
    start = time.perf_counter()
    folds = pd.read_csv(args.summarise) if args.summarise else run(args)
    if args.out:
        folds.to_csv(args.out, index=False)
    table = summarise(folds)
    pd.set_option("display.width", 200)
    if args.summarise:
        print(f"activation_lr experiment: summary of {args.summarise}")
    else:
        print(
            f"activation_lr experiment: lr={args.lr:g}, max_iter={args.max_iter}, "
            f"{args.repeats} x 5-fold CV, {time.perf_counter() - start:.0f} s"
        )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(pooled(folds).to_string(index=False, float_format=lambda v: f"{v:+.4f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
