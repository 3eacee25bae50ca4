"""
Which activation does each layer of a CNN prefer?
=================================================

A learned mixture of relu, tanh and sin per layer. This reproduces the
research document 002 of the project: Vipul Bansal, *Activation Functions:
Dive into an Optimal Activation Function* (preprint, 25 February 2022).

The preprint learns, per layer, a normalised mixture
``A(x) = P1 relu(x) + P2 tanh(x) + P3 sin(x)`` (``P_i = w_i / sum w``,
``w_i >= 0``) in a CNN of two convolutions and two dense layers, trained with
Adam in three cycles: 10 epochs of the network with the mixture weights frozen
(lr 1e-3), 10 epochs of only the mixture weights (lr 1e-2), 10 epochs of the
network again (lr 1e-3). Its Table 1 lists the learned P_i of the three
activation layers on MNIST, Fashion-MNIST and KMNIST, and it reads them as:
the first layer is ReLU-dominated, deeper layers prefer "more convergent"
functions (tanh, sin).

This example runs that protocol with the library's public API
(``architecture="cnn"``, ``activation="mixture"``, ``schedule="alternating"``,
``cycle_epochs=(10, 10, 10)``, ``learning_rate_init=1e-3``,
``activation_lr=1e-2``), every hyperparameter set explicitly: two 5x5
convolutions (32 and 64 channels) with max-pooling, a dense layer of 128,
batch 128 (the preprint does not give its batch size), no weight decay. Beside
each mixture net it trains a ReLU net on the same schedule (its activation
cycle has nothing to train, so it gets the same 20 epochs of network
training) and compares their test accuracy. Table 1 is recomputed as mean and
standard deviation over seeds, and the preprint's Figures 1 and 2 (each layer's
learned activation on [-3, 3], then on [-1, 1], [-10, 10] and [-100, 100])
are drawn from the mean weights.

KMNIST's training set here is the 7011-image subset in the shared data folder
(the full 60,000 images could not be obtained offline); MNIST and
Fashion-MNIST use their full 60,000 training images, all three the full
10,000-image test sets.

By default this runs a quick version (1000 training and 2000 test images per
dataset, cycles of 2 epochs, one seed). Measured: 30 s of CPU time (user +
system) on one torch thread, 2.0 minutes of wall time on our 2-core machine
shared with other jobs (load average 7).
``python examples/plot_mixture_per_layer.py --full`` runs the protocol above
(about 90 CNN epochs per random seed; hours on a CPU) and writes
``docs/results/seed002_*.csv``; rerun it to resume. The committed full results
are shown at the end and on the docs page "Reproducing the research".

The images are read from the data folder (``SKLEARN_LEARNACT_DATA``, else
``~/sklearn_learnact_data``) and downloaded there on first use, checksums
checked (``SKLEARN_LEARNACT_MIRROR`` names a mirror); without them and without
network, one line says how to provide them.
"""

import datetime
import time
import warnings

import _reproduce as rep
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.exceptions import ConvergenceWarning

from sklearn_learnact import LearnedActivationClassifier
from sklearn_learnact.activations import get_activation
from sklearn_learnact.datasets import load_fashion_mnist, load_kmnist, load_mnist
from sklearn_learnact.plotting import ActivationDisplay

warnings.filterwarnings("ignore", category=ConvergenceWarning)

# KMNIST first: its 7011-image subset is the cheapest full-protocol run
LOADERS = {
    "KMNIST": load_kmnist,
    "MNIST": load_mnist,
    "FashionMNIST": load_fashion_mnist,
}


def datasets_option(parser) -> None:
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=list(LOADERS),
        default=list(LOADERS),
        help="train on these datasets only (the tables show every recorded run)",
    )


args = rep.parse_args(
    "Per-layer mixtures of relu, tanh and sin in a CNN.", (1, 3), datasets_option
)
if args.fit:
    rep.fetch_data(*(LOADERS[name] for name in args.datasets))
STARTED = datetime.datetime.now()
BASIS = ("relu", "tanh", "sin")
P_COLUMNS = [f"P_{name}" for name in BASIS]
if args.full:
    N_TRAIN, N_TEST, CYCLES = None, None, (10, 10, 10)
else:
    N_TRAIN, N_TEST, CYCLES = 1000, 2000, (2, 2, 2)
#: The preprint's Table 1.
SEED_TABLE1 = pd.DataFrame(
    [
        ("MNIST", 1, 0.4848, 0.4437, 0.0715),
        ("MNIST", 2, 0.0276, 0.4923, 0.4800),
        ("MNIST", 3, 0.2840, 0.0877, 0.6283),
        ("FashionMNIST", 1, 0.5178, 0.1470, 0.3352),
        ("FashionMNIST", 2, 0.2907, 0.7001, 0.0091),
        ("FashionMNIST", 3, 0.1221, 0.0410, 0.8369),
        ("KMNIST", 1, 0.5590, 0.0101, 0.4309),
        ("KMNIST", 2, 0.3754, 0.1167, 0.5079),
        ("KMNIST", 3, 0.0679, 0.0156, 0.9165),
    ],
    columns=["dataset", "layer", *(f"seed_{c}" for c in P_COLUMNS)],
)

runs = rep.RunLog(
    args.out / "seed002_runs.csv",
    [
        "dataset",
        "seed",
        "activation",
        "test_accuracy",
        "n_train",
        "epochs",
        "fit_seconds",
    ],
    key=["dataset", "seed", "activation"],
)
weights = rep.RunLog(
    args.out / "seed002_weights.csv",
    ["dataset", "seed", "layer", *P_COLUMNS],
    key=["dataset", "seed", "layer"],
)


def make_cnn(activation: str, image_shape, seed: int) -> LearnedActivationClassifier:
    return LearnedActivationClassifier(
        hidden_layer_sizes=(128,),
        activation=activation,
        activation_params={"basis": BASIS} if activation == "mixture" else None,
        architecture="cnn",
        image_shape=image_shape,
        schedule="alternating",
        cycle_epochs=CYCLES,
        learning_rate_init=1e-3,  # the network's cycles
        activation_lr=1e-2,  # the activation cycle
        batch_size=128,
        alpha=0.0,
        n_iter_no_change=sum(CYCLES),  # never stop a cycle early
        random_state=seed,
    )


def run(dataset: str, seed: int, activation: str) -> None:
    load = LOADERS[dataset]
    train = load(split="train", n_samples=N_TRAIN, random_state=seed)
    X_test, y_test = load(
        split="test", n_samples=N_TEST, random_state=0, return_X_y=True
    )
    start = time.perf_counter()
    clf = make_cnn(activation, train.image_shape, seed).fit(train.data, train.target)
    seconds = round(time.perf_counter() - start, 1)
    if activation == "mixture":
        table = clf.learned_activations_.pivot(
            index="layer", columns="parameter", values="value"
        )
        weights.add(
            {"dataset": dataset, "seed": seed, "layer": layer, **p[P_COLUMNS].to_dict()}
            for layer, p in table.iterrows()
        )
    runs.add(
        {
            "dataset": dataset,
            "seed": seed,
            "activation": activation,
            "test_accuracy": clf.score(X_test, y_test),
            "n_train": len(train.target),
            "epochs": clf.n_iter_,
            "fit_seconds": seconds,
        }
    )
    print(f"fitted {dataset}, seed {seed}, {activation}: {seconds:.0f} s", flush=True)


# %%
# Train the mixture and the ReLU CNNs with the preprint's three cycles
# --------------------------------------------------------------------
# Mixture nets of every dataset first (they make Table 1), then the ReLU nets,
# seed after seed; each finished fit is one row of ``seed002_runs.csv``.
for seed in range(args.seeds):
    for activation in ("mixture", "relu"):
        for dataset in args.datasets:
            if args.fit and not runs.done(
                dataset=dataset, seed=seed, activation=activation
            ):
                run(dataset, seed, activation)

# %%
# Table 1, recomputed
# -------------------
# Mean and standard deviation over seeds (sd is empty with one seed), beside
# the preprint's single run.
done = runs.frame()
learned = weights.frame().drop_duplicates(["dataset", "seed", "layer"], keep="last")
learned = learned.merge(
    done.loc[done["activation"] == "mixture", ["dataset", "seed"]]
)  # only finished runs
grouped = learned.groupby(["dataset", "layer"])[P_COLUMNS]
table1 = (
    grouped.mean()
    .join(grouped.std().add_suffix("_sd"))
    .join(grouped.size().rename("n_seeds"))
)
table1 = table1.reset_index().merge(SEED_TABLE1, on=["dataset", "layer"], how="left")
n_train = done.groupby("dataset")["n_train"].first()
table1["n_train"] = table1["dataset"].map(n_train)
order = {name: i for i, name in enumerate(("MNIST", "FashionMNIST", "KMNIST"))}
table1 = table1.sort_values(["dataset", "layer"], key=lambda c: c.map(order).fillna(c))
table1.to_csv(args.out / "seed002_table1.csv", index=False, float_format="%.4f")
print(table1.to_string(index=False, float_format="%.4f"))

# %%
# Which of the preprint's readings hold?
# --------------------------------------
# "Layer 1 is ReLU-dominated": ReLU has the largest mean P in layer 1.
# "Deeper layers prefer convergent functions": P_relu falls from layer 1 to
# layer 3 (so tanh + sin rise).
readings = []
for dataset, rows in table1.groupby("dataset", sort=False):
    rows = rows.set_index("layer")
    first = rows.loc[1, P_COLUMNS].astype(float)
    readings.append(
        {
            "dataset": dataset,
            "layer 1 largest": first.idxmax().removeprefix("P_"),
            "P_relu layer 1 -> 3": f"{rows.loc[1, 'P_relu']:.3f} -> "
            f"{rows.loc[3, 'P_relu']:.3f}",
            "layer 1 ReLU-dominated": first.idxmax() == "P_relu",
            "deeper layers less ReLU": rows.loc[3, "P_relu"] < rows.loc[1, "P_relu"],
        }
    )
print(pd.DataFrame(readings).to_string(index=False))

# %%
# Test accuracy: mixture net beside the ReLU net
# ----------------------------------------------
accuracy = []
for (dataset, activation), rows in done.groupby(["dataset", "activation"]):
    ci = rep.mean_ci(rows["test_accuracy"])
    accuracy.append(
        {"dataset": dataset, "activation": activation, "n_seeds": ci["n"]}
        | {k: ci[k] for k in ("mean", "sd", "ci_low", "ci_high")}
        | {"n_train": int(rows["n_train"].iloc[0])}
    )
accuracy = pd.DataFrame(accuracy)
accuracy.to_csv(args.out / "seed002_accuracy.csv", index=False, float_format="%.4f")
print(accuracy.to_string(index=False, float_format="%.4f"))
rep.write_provenance(
    args.out,
    "002",
    STARTED,
    runs,
    len(done),
    note=f"{args.seeds} seed(s) requested; cycles {CYCLES}; training images per "
    f"dataset: {n_train.to_dict()}",
)


# %%
# Figures 1 and 2: each layer's mean learned activation
# -----------------------------------------------------
# The preprint's Figure 1 is the [-3, 3] panel, its Figure 2 the other three. The
# curves are the library's mixture module with each layer's mean P.
def mixture_display(rows: pd.DataFrame, title: str) -> ActivationDisplay:
    ranges = ((-3, 3), (-1, 1), (-10, 10), (-100, 100))
    modules = []
    for p in rows.sort_values("layer")[P_COLUMNS].to_numpy(dtype=float):
        module = get_activation("mixture", basis=BASIS)
        with torch.no_grad():  # w = softplus(v) proportional to P
            module.weight.copy_(
                torch.log(torch.expm1(torch.tensor(np.maximum(p, 1e-9))))
            )
        modules.append(module)
    inputs = [np.linspace(low, high, 401, dtype=np.float32) for low, high in ranges]
    with torch.no_grad():
        outputs = [
            [m(torch.from_numpy(x)[:, None]).numpy().astype(float) for m in modules]
            for x in inputs
        ]
    return ActivationDisplay(inputs, outputs, "mixture").plot(title=title)


for dataset, rows in table1.groupby("dataset", sort=False):
    ours = mixture_display(
        rows, f"{dataset}: our mean learned P relu + P tanh + P sin per layer"
    )
    ours.figure_.savefig(args.out / f"seed002_activations_{dataset}.png", dpi=80)
    theirs = mixture_display(
        rows.drop(columns=P_COLUMNS).rename(columns=lambda c: c.removeprefix("seed_")),
        f"{dataset}: the preprint's Table 1 weights, for comparison",
    )
    theirs.figure_.savefig(args.out / f"seed002_activations_{dataset}_seed.png", dpi=80)
plt.show()

# %%
# The committed full-protocol results
# -----------------------------------
# ``docs/results/seed002_table1.csv``, written by ``--full``.
full = rep.committed_results("seed002_table1.csv")
if full is not None:
    print(full.to_string(index=False, float_format="%.4f"))
