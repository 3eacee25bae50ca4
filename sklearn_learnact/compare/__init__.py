"""Which activation is best for my data, learned or fixed? A fair comparison.

Every activation is trained and scored on the same cross-validation splits,
with the same tuning budget, so the per-fold scores are paired and the
differences between activations can be tested. Every fold is trained and
scored by one function, :func:`~sklearn_learnact.evaluation.fit_and_score`.

Significance test
-----------------
Each activation is compared with a baseline (``"relu"`` by default) by the
corrected resampled t-test of Nadeau and Bengio (2003, *Inference for the
Generalization Error*, Machine Learning 52): the k per-fold differences
``d_j`` give ``t = mean(d) / sqrt((1/k + n_test/n_train) * var(d))`` with
k - 1 degrees of freedom. The correction ``n_test/n_train`` accounts for the
overlap of the training sets across folds, which makes the plain paired t-test
far too optimistic. The p-values are then adjusted for the number of
comparisons by Holm's method; ``significant`` is ``p_value_holm < alpha``.
With few folds the test has little power: the verdict says so below 5 folds.

No test is run, and nothing is significant, where the differences cannot
carry evidence (:func:`untestable`): fewer than :data:`MIN_PAIRED_FOLDS` of
them (``"too few folds"``), or the same difference on every fold (``"no
variance"``, e.g. two folds of a tiny dataset where both models score the
same on each); ``untested`` says why, the p-values and the interval of the
difference are NaN, and the verdict says it cannot tell.

Confidence intervals
--------------------
The 95% intervals of the mean score (``ci_low``, ``ci_high``) and of the
difference from the baseline (``diff_ci_low``, ``diff_ci_high``) are Student
t intervals with the same corrected variance, **clipped to the range the
metric can take** (e.g. [0, 1] for accuracy, at most 1 for R^2, at most 0 for
the ``neg_*`` scorers; a difference of two [0, 1] scores to [-1, 1]). A
clipped bound means the interval reached past what is possible, a sign of
few folds or a large spread. ``score_bounds`` of :class:`Comparison` gives
the range used.

Failures
--------
A fold whose fit diverges or raises is recorded with score NaN and the reason
(``n_failed_folds``, ``failure``; the per-fold reasons are in
``fold_scores``), as scikit-learn's ``error_score=np.nan``; the comparison goes
on. An activation with a failed fold has no mean score (NaN): it is ranked
last and left out of the tests, as a failed candidate of ``GridSearchCV``.

Tuning and selection bias
-------------------------
When several configurations are tried per activation (``search="optuna"``, or
a ``param_grid`` with several candidates) and the best one's fold scores are
reported, the same folds choose and score it: the reported score is
optimistically biased, the more so the more configurations are tried.
``inner_cv`` gives nested cross-validation instead: in each outer training
fold, the configuration is chosen on the inner splits only, then refitted on
the whole outer training fold and scored on the outer test fold, which it has
never seen. The table's ``selection`` column says which was used.

Training diagnostics
--------------------
``n_under_trained`` counts the fits (of the reported folds) that ran all their
epochs while still improving, and ``movement`` is the median over the folds of
how far a learned activation moved from its initial shape (see
:func:`~sklearn_learnact.evaluation.activation_movement`); ``barely_moved`` flags
movements below :data:`~sklearn_learnact.evaluation.BARELY_MOVED`.

Timing
------
``fit_time`` and ``predict_time`` are medians over the reported folds, after
an untimed warm-up fit per activation and process, so the first activation
fitted does not absorb torch's one-off start-up costs.
"""

from ._compare import DEFAULT_ACTIVATIONS, compare_activations
from ._comparison import Comparison
from ._grids import activation_grid, parse_activations
from ._stats import MIN_PAIRED_FOLDS, corrected_ttest, score_bounds, untestable

__all__ = [
    "DEFAULT_ACTIVATIONS",
    "MIN_PAIRED_FOLDS",
    "Comparison",
    "activation_grid",
    "compare_activations",
    "corrected_ttest",
    "parse_activations",
    "score_bounds",
    "untestable",
]
