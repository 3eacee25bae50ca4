"""
Search new activation functions with a surrogate
================================================

Among thousands of possible activation functions, which few are worth
training on *my* data? This reproduces the research document 003 of the
project: Garrett Bingham and Risto Miikkulainen, *Efficient Activation
Function Optimization through Surrogate Modeling* (arXiv:2301.05785, 2023).

Its answer, reimplemented here: describe every candidate by features that
cost no training (its outputs on fixed points, and the spectrum of the Fisher
information of *your* network at initialisation on a batch of *your* data),
embed the candidates in 2-D with UMAP, and let a 3-nearest-neighbour
regression on that map choose the next function to train, after a few
baselines. This example runs
:class:`~sklearn_learnact.surrogate.SurrogateActivationSearch` on a
Fashion-MNIST subset, then retests the best functions it found against ReLU on
new cross-validation folds with the corrected paired t-test.

Fashion-MNIST is read from the data folder (``SKLEARN_LEARNACT_DATA``, else
``~/sklearn_learnact_data``) and downloaded there on first use, checksums
checked (``SKLEARN_LEARNACT_MIRROR`` names a mirror); without it and without
network, one line says how to provide it. Needs ``pip install
"sklearn-learnact[search]"`` (umap-learn). Measured runtime: 4 min 38 s on 2
CPU cores shared with other jobs (177 s of CPU time: the Fisher feature of the
2,591 candidates 14 s, UMAP 36 s, then 24 functions x 3 folds of a
784-64-64-10 network on 3,000 images, and the 12 fits of the retest).
"""

import time
import warnings

import _reproduce as rep
import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning

from sklearn_learnact import LearnedActivationClassifier
from sklearn_learnact.datasets import load_fashion_mnist
from sklearn_learnact.plotting import ActivationShapesDisplay, SearchEmbeddingDisplay
from sklearn_learnact.surrogate import SurrogateActivationSearch, build_space

warnings.filterwarnings("ignore", category=ConvergenceWarning)
start = time.perf_counter()

rep.fetch_data(load_fashion_mnist, splits=("train",))
X, y = load_fashion_mnist(
    split="train", n_samples=3000, random_state=0, return_X_y=True
)

# %%
# The candidate space
# -------------------
# Two schemas, ``unary(unary(x))`` and ``binary(unary(x), unary(x))``, over
# 24 unary and 7 binary operators; functions that are non-finite or constant
# on 1000 N(0, 1) points are dropped, and one is kept per group of identical
# outputs.
space = build_space()
print(space.summary())
print(space.expressions[:8], "...")

# %%
# The search
# ----------
# Eight baselines first (elu, relu, selu, sigmoid, softplus, softsign, swish,
# tanh), then 16 functions chosen by the surrogate, each scored by 3-fold
# cross-validation of the same 784-64-64-10 network.
search = SurrogateActivationSearch(
    LearnedActivationClassifier((64, 64), max_iter=15, random_state=0),
    n_iter=24,
    cv=3,
    space=space,
    refit=False,
    random_state=0,
).fit(X, y)
times = search.feature_times_
print(
    f"features: Fisher {times['fisher']:.1f} s "
    f"({1000 * times['fisher'] / len(space):.1f} ms per candidate), "
    f"UMAP {times['embedding']:.1f} s"
)
columns = ["rank", "expression", "cv_score", "predicted_score", "baseline"]
print(search.results_[columns].head(10).to_string(index=False))

# %%
# Where the search looked
# -----------------------
# Every candidate on the 2-D map; the evaluated ones coloured by accuracy.
fig, ax = plt.subplots(figsize=(7, 5.5), layout="constrained")
SearchEmbeddingDisplay.from_search(search, ax=ax)

# %%
# The best functions found, against ReLU
# --------------------------------------
# The best were chosen on the same folds that score them, which flatters them:
# retest the three best and ReLU on new folds, with the corrected resampled
# paired t-test (Nadeau and Bengio 2003) that ``compare_activations`` uses.
retest = search.confirm(X, y, top=3)
print(retest.drop(columns="fold_scores").to_string(index=False))
fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
ActivationShapesDisplay.from_expressions(retest["expression"].iloc[:-1].tolist(), ax=ax)
ax.set_title("Best functions found (relu dashed)")

# %%
# Any of them is an ordinary activation for the estimators:
best = LearnedActivationClassifier(
    (64, 64),
    activation="expr",
    activation_params={"expr": search.best_activation_},
    max_iter=15,
    random_state=0,
)
print(best)
print(f"total {time.perf_counter() - start:.0f} s")
plt.show()
