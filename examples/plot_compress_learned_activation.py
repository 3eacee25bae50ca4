"""
Compress a learned activation
=============================

Learn the activation with a tiny subnetwork, then make it cheap: a spline
replaces it exactly. This reproduces the research document 000 of the
project: Aaron Davis, *Project proposal: training and compressing better
activation functions* (STAT 5600 Methods in Statistical Learning, 23 October
2022).

The proposal learns the activation with a tiny 1-in-1-out
network inside every hidden layer, approximates it by splines, and checks
whether the learned activation reaches "the same accuracy with fewer
parameters and fewer computations at inference time" than assumed ones (ReLU,
sigmoid) "over the same number of training epochs". It names Titanic, MNIST
and CIFAR-10, Adam, a softmax output and cross-entropy; it fixes no
architecture, epoch count or learning rate and reports no numbers.

The protocol here, every hyperparameter set explicitly: the library's
reference net with two hidden layers of 128 and 64 units, Adam at 1e-3 for the
weights and the activations (``activation_lr=1e-3``), no weight decay; on
each dataset the three activations get the same epochs and batch size
(Titanic: 50 epochs at batch 32 on 80% of the 1309 passengers, a new
stratified split per seed, the other 20% for testing; MNIST: 10 epochs at
batch 128, the official split; CIFAR-10: the 3805-image training subset and
761-image test subset in the shared data folder, 20 epochs at batch 128). The
learned activation is ``"mlp"``: a 1-16-1 ReLU subnetwork per layer, which is
exactly piecewise linear, so
:class:`~sklearn_learnact.SplineActivationCompressor` replaces it exactly
(knots at its kinks). We report, per dataset and activation, test accuracy
(mean and 95% t-interval over seeds), stored numbers (parameters plus
buffers), multiply-adds per sample (matrix products plus the activations'
cost model, :func:`~sklearn_learnact.compression.activation_madds`) and the
measured inference time of a batch of 4096 rows, before and after
compression. The networks are timed side by side in rotation (medians), and
the time is also given as a ratio to the ReLU net of the same seed.

By default this runs a quick version (2 seeds, 5000 MNIST images, fewer
epochs, eager splines). Measured: 26 s of CPU time (user + system) on one
torch thread, 1.7 minutes of wall time on our 2-core machine shared with other
jobs (load average 7).
``python examples/plot_compress_learned_activation.py --full`` runs the
protocol above over 5 seeds (random seeds) with compiled splines and writes
``docs/results/seed000_*.csv``; rerun it to resume. The committed full
results are shown at the end and on the docs page "Reproducing the research".

MNIST and the CIFAR-10 images are read from the data folder
(``SKLEARN_LEARNACT_DATA``, else ``~/sklearn_learnact_data``) and downloaded
there on first use, checksums checked (``SKLEARN_LEARNACT_MIRROR`` names a
mirror); without them and without network, one line says how to provide them.
"""

import datetime
import statistics
import time
import warnings

import _reproduce as rep
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_learnact import LearnedActivationClassifier, SplineActivationCompressor
from sklearn_learnact.compression import activation_madds
from sklearn_learnact.datasets import (
    load_cifar10,
    load_mnist,
    load_titanic,
    make_titanic_preprocessor,
)
from sklearn_learnact.plotting import CompressionDisplay

warnings.filterwarnings("ignore", category=ConvergenceWarning)

args = rep.parse_args("A learned subnetwork activation, compressed.", (2, 5))
if args.fit:
    rep.fetch_data(load_mnist, load_cifar10)
STARTED = datetime.datetime.now()
ACTIVATIONS = ("relu", "sigmoid", "mlp")
if args.full:
    DATASETS = {
        "Titanic": {"epochs": 50, "batch_size": 32, "n_train": None},
        "MNIST": {"epochs": 10, "batch_size": 128, "n_train": None},
        "CIFAR-10 subset": {"epochs": 20, "batch_size": 128, "n_train": None},
    }
    COMPILE = True
else:
    DATASETS = {
        "Titanic": {"epochs": 20, "batch_size": 32, "n_train": None},
        "MNIST": {"epochs": 3, "batch_size": 128, "n_train": 5000},
        "CIFAR-10 subset": {"epochs": 5, "batch_size": 128, "n_train": None},
    }
    COMPILE = False
TIMING_BATCH, TIMING_ROUNDS = 4096, 15

runs = rep.RunLog(
    args.out / "seed000_runs.csv",
    ["dataset", "seed", "model", "test_accuracy", "n_stored", "madds_per_sample"]
    + ["ms_per_batch", "time_vs_relu", "agreement", "max_error", "fit_seconds"],
    key=["dataset", "seed", "model"],
)


def load(dataset: str, seed: int, n_train):
    """Float32 train and test arrays (Titanic: preprocessed, split per seed)."""
    if dataset == "Titanic":
        X, y = load_titanic(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.2, stratify=y, random_state=seed
        )
        pre = make_titanic_preprocessor().fit(X_train)
        return (
            pre.transform(X_train).astype(np.float32),
            y_train.to_numpy(),
            pre.transform(X_test).astype(np.float32),
            y_test.to_numpy(),
        )
    loader = load_mnist if dataset == "MNIST" else load_cifar10
    X_train, y_train = loader(
        split="train", n_samples=n_train, random_state=0, return_X_y=True
    )
    X_test, y_test = loader(split="test", return_X_y=True)
    return X_train, y_train, X_test, y_test


def n_stored(module: torch.nn.Module) -> int:
    """Parameters plus buffers: every number the network keeps."""
    return sum(t.numel() for t in module.state_dict().values())


def madds_per_sample(module: torch.nn.Module) -> float:
    """Matrix products plus each activation's cost per element times its width."""
    linear = [module.hidden[i] for i in range(len(module.hidden))] + [module.output]
    total = sum(layer.in_features * layer.out_features for layer in linear)
    widths = [layer.out_features for layer in module.hidden]
    return total + sum(
        w * activation_madds(a) for w, a in zip(widths, module.activations)
    )


def median_times(nets: dict, batch: torch.Tensor) -> dict:
    """Median seconds per forward pass, the nets run in rotation."""
    times = {name: [] for name in nets}
    with torch.inference_mode():
        for net in nets.values():
            net(batch)  # warm-up
        for _ in range(TIMING_ROUNDS):
            for name, net in nets.items():
                start = time.perf_counter()
                net(batch)
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def run(dataset: str, seed: int) -> tuple:
    """Fit the three activations, compress the learned one, time all four."""
    config = DATASETS[dataset]
    X_train, y_train, X_test, y_test = load(dataset, seed, config["n_train"])
    models, seconds = {}, {}
    for activation in ACTIVATIONS:
        start = time.perf_counter()
        models[activation] = LearnedActivationClassifier(
            hidden_layer_sizes=(128, 64),
            activation=activation,
            learning_rate_init=1e-3,
            activation_lr=1e-3,
            batch_size=config["batch_size"],
            max_iter=config["epochs"],
            n_iter_no_change=config["epochs"],  # never stop early
            alpha=0.0,
            random_state=seed,
        ).fit(X_train, y_train)
        seconds[activation] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    comp = SplineActivationCompressor(models["mlp"], compile=COMPILE).fit(X_train)
    seconds["mlp, compressed"] = round(time.perf_counter() - start, 1)
    evaluation = comp.evaluate(X_test, y_test)
    nets = {name: m.net_.module_.eval() for name, m in models.items()}
    nets["mlp, compressed"] = comp.compressed_estimator_.net_.module_.eval()
    rng = np.random.default_rng(seed)
    batch = torch.from_numpy(X_test[rng.integers(0, len(X_test), TIMING_BATCH)])
    medians = median_times(nets, batch)
    rows = []
    for name, net in nets.items():
        compressed = name == "mlp, compressed"
        rows.append(
            {
                "dataset": dataset,
                "seed": seed,
                "model": name,
                "test_accuracy": evaluation["score_after"]
                if compressed
                else models[name].score(X_test, y_test),
                "n_stored": n_stored(net),
                "madds_per_sample": madds_per_sample(net),
                "ms_per_batch": 1e3 * medians[name],
                "time_vs_relu": medians[name] / medians["relu"],
                "agreement": evaluation["agreement"] if compressed else np.nan,
                "max_error": comp.max_abs_error_ if compressed else np.nan,
                "fit_seconds": seconds[name],
            }
        )
    runs.add(rows)
    print(f"fitted {dataset}, seed {seed}: {sum(seconds.values()):.0f} s", flush=True)
    return comp


# %%
# Three activations, same epochs, on three datasets
# -------------------------------------------------
# One row per model in ``seed000_runs.csv`` after each (dataset, seed).
compressors = {}
for seed in range(args.seeds):
    for dataset in DATASETS:
        if args.fit and not runs.done(
            dataset=dataset, seed=seed, model="mlp, compressed"
        ):
            compressors[dataset] = run(dataset, seed)
done = runs.frame()

# %%
# Accuracy, size, cost and time, before and after compression
# -----------------------------------------------------------
# ``p_vs_relu``: paired t-test over seeds of the accuracy against the ReLU
# net's. Stored numbers and multiply-adds do not vary with the seed, except
# the compressed net's stored numbers (its number of kinks does).
# ``agreement``: share of test samples predicted the same class before and
# after compression; ``max_error``: the largest ``|spline - activation|`` on
# the recorded input range, over seeds.
MODELS = (*ACTIVATIONS, "mlp, compressed")
summary = []
for (dataset, model), rows in done.groupby(["dataset", "model"], sort=False):
    relu = done[(done["dataset"] == dataset) & (done["model"] == "relu")]
    paired = rows.merge(relu, on="seed", suffixes=("", "_relu"))
    acc, ratio = rep.mean_ci(rows["test_accuracy"]), rep.mean_ci(rows["time_vs_relu"])
    summary.append(
        {
            "dataset": dataset,
            "model": model,
            "n_seeds": acc["n"],
            "accuracy": acc["mean"],
            "ci_low": acc["ci_low"],
            "ci_high": acc["ci_high"],
            "p_vs_relu": np.nan
            if model == "relu"
            else rep.paired_test(paired["test_accuracy"], paired["test_accuracy_relu"]),
            "n_stored": rows["n_stored"].mean(),
            "madds_per_sample": rows["madds_per_sample"].mean(),
            "ms_per_batch": rows["ms_per_batch"].mean(),
            "time_vs_relu": ratio["mean"],
            "time_ci_low": ratio["ci_low"],
            "time_ci_high": ratio["ci_high"],
            "agreement": rows["agreement"].mean(),
            "max_error": rows["max_error"].max(),
        }
    )
summary = pd.DataFrame(summary)
summary.to_csv(args.out / "seed000_summary.csv", index=False, float_format="%.4g")
print(summary.to_string(index=False, float_format="%.4g", na_rep=""))
rep.write_provenance(
    args.out,
    "000",
    STARTED,
    runs,
    len(done) // len(MODELS),
    note=f"{args.seeds} seeds; epochs "
    + ", ".join(f"{d} {c['epochs']}" for d, c in DATASETS.items())
    + f"; splines {'compiled' if COMPILE else 'eager'}; timing batch {TIMING_BATCH}",
)

# %%
# A learned activation beside its spline
# --------------------------------------
# The last compressed model of this run (MNIST if it ran), each layer's
# subnetwork and its exact piecewise-linear replacement.
if compressors:
    name = "MNIST" if "MNIST" in compressors else next(iter(compressors))
    display = CompressionDisplay.from_compressor(compressors[name])
    display.figure_.savefig(args.out / "seed000_compression.png", dpi=80)
    plt.show()

# %%
# The committed full-protocol results
# -----------------------------------
full = rep.committed_results("seed000_summary.csv")
if full is not None:
    print(full.to_string(index=False, float_format="%.4g", na_rep=""))
