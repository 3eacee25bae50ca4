"""
Quickstart: fixed or learned activation?
========================================

Fits one small network per activation on scikit-learn's handwritten digits,
with the same architecture, budget and 5-fold cross-validation for every one,
and prints a comparison table: the CV accuracy (mean and standard deviation),
the fit time and, for learned activations, what they learned.

Runs in about a minute on 2 CPU cores: ``python examples/quickstart.py``.
"""

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_learnact import LearnedActivationClassifier
from sklearn_learnact.activations import is_learnable

warnings.filterwarnings("ignore", category=ConvergenceWarning)

# %%
# The data and one budget for every activation
# --------------------------------------------
X, y = load_digits(return_X_y=True)
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
ACTIVATIONS = [
    "relu",
    "tanh",
    "sigmoid",
    "affine",
    "prelu",
    "mixture",
    "rational",
    "mlp",
]


def make_model(activation):
    return make_pipeline(
        StandardScaler(),
        LearnedActivationClassifier(
            hidden_layer_sizes=(64,),
            activation=activation,
            max_iter=40,
            batch_size=64,
            learning_rate_init=3e-3,
            random_state=0,
        ),
    )


# %%
# Cross-validate each activation on the same folds
# ------------------------------------------------
rows = []
for activation in ACTIVATIONS:
    start = time.perf_counter()
    scores = cross_validate(make_model(activation), X, y, cv=cv, n_jobs=None)
    fitted = make_model(activation).fit(X, y)[-1]
    learned = fitted.learned_activations_
    summary = ""
    if not learned.empty:  # what the layer learned, e.g. the mixture's P_i
        values = learned.groupby("parameter", sort=False).value.mean()
        summary = ", ".join(f"{k}={v:.2f}" for k, v in values.head(4).items())
    rows.append(
        {
            "activation": activation,
            "learned": is_learnable(activation),
            "cv_accuracy": np.mean(scores["test_score"]),
            "std": np.std(scores["test_score"]),
            "fit_s": np.mean(scores["fit_time"]),
            "learned_parameters": summary,
        }
    )
    print(f"{activation:>9s}: {rows[-1]['cv_accuracy']:.4f}  "
          f"({time.perf_counter() - start:.1f} s)")  # fmt: skip

table = pd.DataFrame(rows).sort_values("cv_accuracy", ascending=False)
with pd.option_context("display.width", 140, "display.max_colwidth", 60):
    print(table.to_string(index=False, float_format="%.4f"))

# %%
# ``affine`` makes the whole network affine (a composition of affine maps is
# affine): it scores like a logistic regression, not like a nonlinear net.
