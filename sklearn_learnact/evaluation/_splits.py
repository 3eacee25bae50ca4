"""The cross-validation splits of every comparison and search, drawn once."""

import numbers

from sklearn.model_selection import KFold, StratifiedKFold, check_cv

__all__ = ["cv_splits"]


def cv_splits(cv, X, y, *, classifier: bool, random_state=None) -> list:
    """The (train, test) index pairs of ``cv`` on ``X, y``, as a list.

    Every activation or candidate is scored on the same list, which makes
    their fold scores paired.

    Parameters
    ----------
    cv : int, cross-validation splitter or iterable of (train, test)
        An int builds a shuffled K-fold, stratified for a classifier, seeded
        by ``random_state``; anything else goes through
        :func:`~sklearn.model_selection.check_cv`.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    classifier : bool
        Whether the estimator is a classifier (stratified splits).
    random_state : int, RandomState instance or None, default=None
        Seeds the K-fold of an int ``cv``.

    Returns
    -------
    splits : list of (ndarray, ndarray)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_learnact.evaluation import cv_splits
    >>> X, y = np.zeros((6, 1)), np.array([0, 0, 0, 1, 1, 1])
    >>> splits = cv_splits(3, X, y, classifier=True, random_state=0)
    >>> len(splits), [np.bincount(y[test]).tolist() for _, test in splits]
    (3, [[1, 1], [1, 1], [1, 1]])
    """
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        splitter = StratifiedKFold if classifier else KFold
        cv = splitter(n_splits=int(cv), shuffle=True, random_state=random_state)
    return list(check_cv(cv, y, classifier=classifier).split(X, y))
