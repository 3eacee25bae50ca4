"""
Seed 000: learn an activation with a subnetwork, then make it cheap
===================================================================

Seed 000 asks whether a *learned* activation, a tiny 1-in-1-out network inside
every hidden layer, can match an assumed one (ReLU), and then be approximated
by splines so that inference needs fewer computations. Its protocol: Adam,
softmax output and cross-entropy on MNIST; it fixes no architecture or epoch
count, so this example uses the library's reference net, 784-128-64-10, five
epochs at batch 128 for both activations.

A 1-16-1 subnetwork with ReLU inside is exactly piecewise linear, so
:class:`~sklearn_learnact.SplineActivationCompressor` replaces it *exactly*
(knots at its kinks, error at float32 rounding), and with ``compile=True``
evaluates it as one fused loop. What this shows, honestly:

- the learned activation lands with ReLU on accuracy, not clearly above it;
- the compressed net predicts what the uncompressed one does;
- it runs close to the ReLU net (about 1.15x), and about 1.5x faster than the
  uncompressed subnetwork net; how much faster it can be is bounded by the
  matrix products, which the activation does not change (the ``identity``
  row): the library's uncompressed subnetwork is already fused (about 1.7x the
  ReLU net here, not seed 000's naive ``Linear(1, 16) -> ReLU -> Linear(16,
  1)``, which is about 4x).

Needs the MNIST files (``SKLEARN_LEARNACT_DATA`` or ``load_mnist(download=True)``).
About a minute on 2 CPU cores, plus about 10 s of compilation the first time
on a machine (without a C++ compiler the splines stay eager, with a warning).
"""

import copy
import statistics
import time
import warnings

import matplotlib.pyplot as plt
import pandas as pd
import torch
from sklearn.exceptions import ConvergenceWarning

from sklearn_learnact import LearnedActivationClassifier, SplineActivationCompressor
from sklearn_learnact.datasets import load_mnist
from sklearn_learnact.plotting import CompressionDisplay

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X_train, y_train = load_mnist(split="train", return_X_y=True)
X_test, y_test = load_mnist(split="test", return_X_y=True)

# %%
# A learned activation against ReLU, same budget
# ----------------------------------------------
models = {
    activation: LearnedActivationClassifier(
        hidden_layer_sizes=(128, 64),
        activation=activation,
        learning_rate_init=1e-3,
        batch_size=128,
        max_iter=5,
        random_state=0,
    ).fit(X_train, y_train)
    for activation in ("relu", "mlp")
}
print(
    pd.Series(
        {name: m.score(X_test, y_test) for name, m in models.items()},
        name="test accuracy",
    ).to_string(float_format="%.4f")
)

# %%
# Compress the learned activations
# --------------------------------
# Fitted on the training inputs: the spline covers the range each activation
# actually sees. The report gives, per layer, the errors on the recorded inputs
# (inside the recorded range, and in the tails beyond it), the numbers stored
# (an exact table stores *more* numbers than the 49 of the subnetwork: it is
# made for speed, not size), multiply-adds per element and the measured time
# of the activation alone. ``evaluate`` on the (held-out) test set gives the
# cost in accuracy and the measured time of ``predict``.
comp = SplineActivationCompressor(models["mlp"], compile=True).fit(X_train)
columns = ["layer", "n_knots", "n_cells", "max_error", "rms_error", "tail_share"]
columns += ["stored_before", "stored_after", "madds_before", "madds_after"]
columns += ["ns_before", "ns_after", "speedup"]
print(comp.report_[columns].to_string(index=False))
print(comp.summary())
print(comp.evaluate(X_test, y_test))

# %%
# Each learned activation beside its spline
# -----------------------------------------
# The histogram is that of the recorded inputs (kept by the compressor), the
# shaded band their recorded range.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
CompressionDisplay.from_compressor(comp, ax=axes)
plt.show()

# %%
# Inference time at batch 4096
# ----------------------------
# The networks run side by side, in rotation, on the same batch; medians.
mlp_net = models["mlp"].net_.module_.eval()
identity_net = copy.deepcopy(mlp_net)
identity_net.activations = torch.nn.ModuleList(torch.nn.Identity() for _ in range(2))
nets = {
    "identity (matrix products only)": identity_net,
    "relu": models["relu"].net_.module_.eval(),
    "mlp, uncompressed": mlp_net,
    "mlp, compressed": comp.compressed_estimator_.net_.module_.eval(),
}
batch = torch.from_numpy(X_test[:4096])
times = {name: [] for name in nets}
with torch.inference_mode():
    for net in nets.values():
        net(batch)  # warm-up
    for _ in range(20):
        for name, net in nets.items():
            start = time.perf_counter()
            net(batch)
            times[name].append(time.perf_counter() - start)
median = pd.Series({name: statistics.median(t) for name, t in times.items()})
print(
    pd.DataFrame(
        {
            "ms": 1e3 * median,
            "vs relu": median / median["relu"],
            "uncompressed /": median["mlp, uncompressed"] / median,
        }
    ).to_string(float_format="%.2f")
)
