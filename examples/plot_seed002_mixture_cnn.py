"""
Seed 002: which activation does each layer of a CNN prefer?
===========================================================

Seed 002 learns, per layer, a normalised mixture ``P1 relu + P2 tanh + P3 sin``
(``P_i = w_i / sum w``, ``w_i >= 0``) in a CNN of two convolutions and two dense
layers, trained in three cycles with Adam: 10 epochs of the network with the
mixture weights frozen (lr 1e-3), 10 epochs of only the mixture weights (lr
1e-2), 10 epochs of the network again. Its Table 1 lists the learned P_i per
layer on MNIST, Fashion-MNIST and KMNIST.

This example runs that protocol: ``activation="mixture"``,
``architecture="cnn"``, ``schedule="alternating"``. On a CPU it uses a
subsample and shorter cycles by default (about a minute); set ``FULL = True``
for seed 002's 10/10/10 epochs on the full training sets (a GPU helps:
``device="auto"`` uses it). KMNIST's training images are a 7011-image subset in
the shared data folder.

Needs the image files (``SKLEARN_LEARNACT_DATA`` or ``download=True``).
"""

import warnings

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from sklearn_learnact import LearnedActivationClassifier
from sklearn_learnact.datasets import load_fashion_mnist, load_kmnist, load_mnist
from sklearn_learnact.plotting import ActivationDisplay

warnings.filterwarnings("ignore", category=ConvergenceWarning)

FULL = False
N_TRAIN = None if FULL else 2000
CYCLES = (10, 10, 10) if FULL else (2, 2, 2)
LOADERS = {
    "MNIST": load_mnist,
    "FashionMNIST": load_fashion_mnist,
    "KMNIST": load_kmnist,
}

# %%
# Train one mixture CNN per dataset with seed 002's three cycles
# --------------------------------------------------------------
rows, models = [], {}
for name, load in LOADERS.items():
    train = load(split="train", n_samples=N_TRAIN, random_state=0)
    X_test, y_test = load(split="test", return_X_y=True)
    clf = LearnedActivationClassifier(
        hidden_layer_sizes=(128,),
        activation="mixture",
        activation_params={"basis": ("relu", "tanh", "sin")},
        architecture="cnn",
        image_shape=train.image_shape,
        schedule="alternating",
        cycle_epochs=CYCLES,
        learning_rate_init=1e-3,  # the network's cycles
        activation_lr=1e-2,  # the activation cycle
        batch_size=128,
        alpha=0.0,
        random_state=0,
    ).fit(train.data, train.target)
    models[name] = clf
    table = clf.learned_activations_.pivot(
        index="layer", columns="parameter", values="value"
    )
    for layer, p in table.iterrows():
        rows.append(
            {
                "dataset": name,
                "layer": f"LAYER {layer}",
                "P_1 (relu)": p["P_relu"],
                "P_2 (tanh)": p["P_tanh"],
                "P_3 (sin)": p["P_sin"],
                "test accuracy": clf.score(X_test, y_test) if layer == 1 else None,
            }
        )

# %%
# Table 1, recomputed
# -------------------
# Seed 002 reads its table as "the first layer prefers ReLU, deeper layers prefer
# more convergent functions". With the default short run (2000 images, 2/2/2
# epochs) we see the opposite on all three datasets: the two convolutional layers
# move away from ReLU (P_1 about 0.26-0.32) and the dense layer towards it (about
# 0.41). Run ``FULL = True`` to check at seed 002's budget before reading much
# into either.
print(pd.DataFrame(rows).to_string(index=False, float_format="%.4f", na_rep=""))

# %%
# The learned activations over seed 002's three ranges
# ----------------------------------------------------
display = ActivationDisplay.from_estimator(models["MNIST"])
plt.show()
