"""The Titanic passengers shipped with the package, and their preprocessor."""

from importlib import resources

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.utils import Bunch

from ._tabular import make_tabular_preprocessor

_TITANIC_NUMERIC = ["age", "sibsp", "parch", "fare"]
_TITANIC_CATEGORICAL = ["pclass", "sex", "embarked"]
_TITANIC_FEATURES = ["pclass", "sex", "age", "sibsp", "parch", "fare", "embarked"]

_TITANIC_DESCR = """\
Titanic passengers ("titanic3")
-------------------------------
The 1309 passengers of the RMS Titanic (crew excluded) and whether they survived
the sinking of 15 April 1912: 500 survived, 809 died.

Source: "titanic3", Titanic Dataset v3.5 by Thomas E. Cason and Frank E. Harrell
Jr. (Vanderbilt University, Department of Biostatistics), from the Encyclopedia
Titanica; the columns are those of OpenML's ``titanic``. The copy shipped here is
the Excel CSV export of ``titanic3.xls`` with its trailing all-empty row removed.
No license is stated by the source.

Columns of ``frame`` (missing values in brackets):

- pclass: ticket class, 1, 2 or 3 (a proxy for wealth); 323 / 277 / 709 passengers
- survived: the target, 1 = survived, 0 = died
- name: full name with title (Mr., Mrs., Master., ...)
- sex: "male" (843) or "female" (466)
- age: years; fractional below one year; estimated ages end in .5 (263 missing)
- sibsp: number of siblings or spouses aboard
- parch: number of parents or children aboard
- ticket: ticket number
- fare: ticket price in pounds sterling (1 missing)
- cabin: cabin number(s) (1014 missing, mostly in 2nd and 3rd class)
- embarked: port, C = Cherbourg, Q = Queenstown, S = Southampton (2 missing)
- boat: lifeboat number (823 missing)
- body: body identification number (1188 missing)
- home.dest: home and destination (564 missing)

Caveats:

- ``boat`` and ``body`` leak the target: they were recorded after the sinking.
  95% of survivors have a boat and 1% of the dead; only the dead have a body
  number. They are kept in ``frame`` but never in ``data`` / ``feature_names``.
- ``name``, ``ticket``, ``cabin`` and ``home.dest`` are free text with hundreds of
  distinct values; they are left out of ``feature_names`` (the default features
  used by ``make_titanic_preprocessor``) but kept in ``frame`` for feature
  engineering (titles, decks, family groups).
- Ages are missing for 20% of passengers, and many recorded ages are estimates.
- Rows are sorted by class, then by name: shuffle before any split (e.g.
  ``StratifiedKFold(shuffle=True)``), or the folds differ in class.
"""


def load_titanic(
    *, as_frame: bool = True, return_X_y: bool = False
) -> Bunch | tuple[pd.DataFrame | np.ndarray, pd.Series | np.ndarray]:
    """Load the 1309-passenger Titanic data ("titanic3"), shipped in the package.

    The default features are ``pclass, sex, age, sibsp, parch, fare, embarked``;
    the columns that leak the target (``boat``, ``body``) and the free-text ones
    (``name``, ``ticket``, ``cabin``, ``home.dest``) are only in ``frame``. See
    ``DESCR`` for the source, the columns and the caveats.

    Parameters
    ----------
    as_frame : bool, default=True
        Return ``data`` as a DataFrame, ``target`` as a Series and ``frame``;
        otherwise ``data`` is an object array (mixed types, missing values as
        NaN) in ``feature_names`` order, ``target`` an int64 array and ``frame``
        is None.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (1309 rows, the default features), ``target`` (int: 1 = survived),
        ``frame`` (all 14 columns, target included), ``feature_names``,
        ``target_names`` (``["died", "survived"]``) and ``DESCR``.
    (data, target) : tuple
        When ``return_X_y=True``.

    See Also
    --------
    make_titanic_preprocessor : Impute, one-hot encode and scale the features.

    Examples
    --------
    >>> from sklearn_learnact.datasets import load_titanic
    >>> titanic = load_titanic()
    >>> titanic.frame.shape, int(titanic.target.sum())
    ((1309, 14), 500)
    >>> titanic.feature_names
    ['pclass', 'sex', 'age', 'sibsp', 'parch', 'fare', 'embarked']
    """
    source = resources.files("sklearn_learnact").joinpath("data/titanic3.csv")
    with source.open("rb") as f:
        frame = pd.read_csv(
            f,
            encoding="utf-8-sig",
            dtype={
                **dict.fromkeys(["pclass", "survived", "sibsp", "parch"], "int64"),
                **dict.fromkeys(["name", "ticket", "boat"], "str"),
            },
        )
    data = frame[_TITANIC_FEATURES]
    target = frame["survived"]
    if not as_frame:
        data, target, frame = data.to_numpy(dtype=object), target.to_numpy(), None
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        feature_names=list(_TITANIC_FEATURES),
        target_names=np.array(["died", "survived"]),
        DESCR=_TITANIC_DESCR,
    )


def make_titanic_preprocessor() -> ColumnTransformer:
    """Return a transformer from :func:`load_titanic` features to dense floats.

    Numeric columns (``age, sibsp, parch, fare``) are median-imputed and
    standardised; categorical ones (``pclass, sex, embarked``) are imputed with
    their most frequent value and one-hot encoded (unknown categories give all
    zeros), as by :func:`make_tabular_preprocessor`. Other columns are dropped.
    The output is a dense float array of 12 columns (or a DataFrame after
    ``set_output(transform="pandas")``), so
    ``make_pipeline(make_titanic_preprocessor(), LearnedActivationClassifier())``
    is the canonical tabular model.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Unfitted; it selects columns by name, so fit it on a DataFrame such as
        ``load_titanic().data``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_learnact.datasets import load_titanic, make_titanic_preprocessor
    >>> X, y = load_titanic(return_X_y=True)
    >>> make_titanic_preprocessor().fit_transform(X).shape
    (1309, 12)
    >>> model = make_pipeline(make_titanic_preprocessor(), LogisticRegression())
    >>> bool(model.fit(X, y).score(X, y) > 0.75)
    True
    """
    return make_tabular_preprocessor(
        numeric=_TITANIC_NUMERIC, categorical=_TITANIC_CATEGORICAL
    )
