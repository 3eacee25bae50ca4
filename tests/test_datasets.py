"""Tests for sklearn_learnact.datasets."""

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

from sklearn_learnact.datasets import (
    load_titanic,
    make_titanic_preprocessor,
)

# %% Titanic


def test_load_titanic():
    titanic = load_titanic()
    frame = titanic.frame
    assert frame.shape == (1309, 14)
    assert list(frame.columns[:4]) == ["pclass", "survived", "name", "sex"]
    assert "boat" in frame and "body" in frame and "home.dest" in frame
    assert int(titanic.target.sum()) == 500
    assert titanic.target.dtype == np.int64
    assert frame["pclass"].value_counts().sort_index().tolist() == [323, 277, 709]
    assert titanic.feature_names == list(titanic.data.columns)
    leaks_and_text = {"survived", "boat", "body", "name", "ticket", "cabin"}
    assert not leaks_and_text & set(titanic.feature_names)
    assert "boat" in titanic.DESCR and "leak" in titanic.DESCR
    assert titanic.data["age"].isna().sum() == 263


def test_load_titanic_return_X_y_and_arrays():
    X, y = load_titanic(return_X_y=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    X_arr, y_arr = load_titanic(as_frame=False, return_X_y=True)
    assert X_arr.shape == (1309, 7) and X_arr.dtype == object
    np.testing.assert_array_equal(y_arr, y.to_numpy())
    assert load_titanic(as_frame=False).frame is None


def test_titanic_preprocessor_pipeline():
    X, y = load_titanic(return_X_y=True)
    Xt = make_titanic_preprocessor().fit_transform(X)
    assert isinstance(Xt, np.ndarray) and Xt.dtype.kind == "f"
    assert Xt.shape == (1309, 12) and np.isfinite(Xt).all()
    model = make_pipeline(make_titanic_preprocessor(), LogisticRegression())
    cv = StratifiedKFold(3, shuffle=True, random_state=0)  # rows are sorted
    assert cross_val_score(model, X, y, cv=cv).mean() > 0.75
    pandas_out = make_titanic_preprocessor().set_output(transform="pandas")
    assert list(pandas_out.fit_transform(X).columns[:2]) == ["num__age", "num__sibsp"]
