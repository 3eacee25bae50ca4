""" "Dirty" copies of a dataset: corrupted labels and noisy rows."""

import numbers
from collections.abc import Sequence

import numpy as np
from sklearn.utils import check_array, check_random_state

from .._validation import Interval, validate_call

_FRACTION = [Interval(numbers.Real, 0.0, 1.0)]


@validate_call(
    {"fraction": _FRACTION, "n_classes": [None, Interval(numbers.Integral, 2, None)]}
)
def corrupt_labels(
    y: np.ndarray | Sequence,
    fraction: float,
    *,
    random_state: int | np.random.RandomState | None = None,
    n_classes: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Change a fraction of the labels to a different class.

    Exactly ``round(fraction * len(y))`` rows, drawn at random, get a new label
    drawn uniformly from the *other* classes. ``y`` itself is not modified.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels: integers, strings or any sortable values.
    fraction : float
        Fraction of rows to change, in [0, 1].
    random_state : int, RandomState instance or None, default=None
        Seed; the same int gives the same corruption.
    n_classes : int, default=None
        With integer labels ``0 .. n_classes - 1``, draw the new labels from all
        of them, also from classes absent in ``y``. By default the classes are
        those present in ``y``.

    Returns
    -------
    y_corrupt : ndarray of shape (n_samples,)
        A copy of ``y`` with the changed labels.
    mask : ndarray of shape (n_samples,), bool
        True for the changed rows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_learnact.datasets import corrupt_labels
    >>> y = np.repeat([0, 1, 2], 10)
    >>> y_dirty, mask = corrupt_labels(y, 0.1, random_state=0)
    >>> int(mask.sum()), bool(np.all(y_dirty[mask] != y[mask]))
    (3, True)
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D; got shape {y.shape}")
    if n_classes is None:
        classes = np.unique(y)
    else:
        classes = np.arange(n_classes)
        if not np.isin(y, classes).all():
            raise ValueError(
                f"with n_classes={n_classes}, y must hold 0..{n_classes - 1}"
            )
    if len(classes) < 2:
        raise ValueError(f"y needs at least two classes; got {classes.tolist()}")
    rng = check_random_state(random_state)
    rows = rng.choice(len(y), size=round(fraction * len(y)), replace=False)
    # A shift of 1 .. n_classes - 1 positions reaches every other class once.
    shift = rng.randint(1, len(classes), size=len(rows))
    y_corrupt = y.copy()
    y_corrupt[rows] = classes[
        (np.searchsorted(classes, y[rows]) + shift) % len(classes)
    ]
    mask = np.zeros(len(y), dtype=bool)
    mask[rows] = True
    return y_corrupt, mask


@validate_call(
    {"fraction": _FRACTION, "noise_std": [Interval(numbers.Real, 0.0, None)]}
)
def corrupt_regression(
    X: np.ndarray,
    y: np.ndarray,
    fraction: float,
    *,
    noise_std: float = 1.0,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add Gaussian noise to the inputs and the target of a fraction of the rows.

    Exactly ``round(fraction * n_samples)`` rows, drawn at random, get independent
    Gaussian noise of std ``noise_std`` added to every feature and to the target
    ("dirty" regression data). The noise is in the units of ``X`` and
    ``y``: standardise them first if their scales differ. ``X`` and ``y`` are not
    modified.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Inputs; float32 stays float32, anything else becomes float64.
    y : array-like of shape (n_samples,)
        Target; same dtype rule.
    fraction : float
        Fraction of rows to corrupt, in [0, 1].
    noise_std : float, default=1.0
        Standard deviation of the noise.
    random_state : int, RandomState instance or None, default=None
        Seed; the same int gives the same corruption.

    Returns
    -------
    X_corrupt : ndarray of shape (n_samples, n_features)
    y_corrupt : ndarray of shape (n_samples,)
    mask : ndarray of shape (n_samples,), bool
        True for the corrupted rows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_learnact.datasets import corrupt_regression
    >>> X, y = np.zeros((100, 3)), np.zeros(100)
    >>> X_dirty, y_dirty, mask = corrupt_regression(X, y, 0.1, random_state=0)
    >>> int(mask.sum()), bool((X_dirty[~mask] == X[~mask]).all())
    (10, True)
    """
    X_corrupt = check_array(X, dtype=[np.float64, np.float32], copy=True)
    y_corrupt = check_array(
        y, dtype=[np.float64, np.float32], copy=True, ensure_2d=False
    )
    if y_corrupt.ndim != 1 or len(y_corrupt) != len(X_corrupt):
        raise ValueError(
            f"y must be 1-D with one value per row of X ({len(X_corrupt)}); "
            f"got shape {y_corrupt.shape}"
        )
    rng = check_random_state(random_state)
    rows = rng.choice(
        len(y_corrupt), size=round(fraction * len(y_corrupt)), replace=False
    )
    X_corrupt[rows] += rng.normal(0.0, noise_std, (len(rows), X_corrupt.shape[1]))
    y_corrupt[rows] += rng.normal(0.0, noise_std, len(rows))
    mask = np.zeros(len(y_corrupt), dtype=bool)
    mask[rows] = True
    return X_corrupt, y_corrupt, mask
