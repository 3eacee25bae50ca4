"""A user's own activations, registered with one call, work everywhere.

``tests/plugin_activations.py`` defines a learnable activation (with a
formula and a cost) and a fixed one (neither), one ``register_activation``
call each, as a user's module would. Each goes through what a built-in name
goes through: fit (and ``learned_activations_``), ``GridSearchCV``,
``compare_activations``, the compressor, pickling into a fresh process, the
plots and ONNX export (with a converter given, and without).
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV

from sklearn_learnact import LearnedActivationClassifier, SplineActivationCompressor
from sklearn_learnact.activations import (
    ACTIVATIONS,
    activation_cost,
    activation_spec,
    available_activations,
    fused_kernels,
    get_activation,
    register_activation,
)
from sklearn_learnact.search import compare_activations

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",
    "ignore:Each activation's configuration:UserWarning",
)
NAMES = ("scaled_tanh", "bent_identity")  # conftest.PLUGIN_NAMES


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((240, 5)).astype(np.float32)
    y = (X[:, 0] + np.tanh(2 * X[:, 1]) - X[:, 2] ** 2 > -0.5).astype(int)
    return X, y


def _classifier(name, **kwargs):
    kwargs = {"hidden_layer_sizes": (12,), "max_iter": 20, **kwargs}
    return LearnedActivationClassifier(
        activation=name, learning_rate_init=0.02, random_state=0, **kwargs
    )


def test_registered_names_are_listed_and_described(plugins):
    assert "scaled_tanh" in available_activations("learnable")
    assert "bent_identity" in available_activations("fixed")
    spec = activation_spec("scaled_tanh")
    assert spec.options == ("scale", "slope") and spec.per_neuron
    assert activation_spec(plugins.ScaledTanh()) is spec
    assert spec.describe()["formula"] and not spec.describe()["onnx"]
    assert activation_cost("scaled_tanh") == 12.0
    assert np.isnan(activation_cost("bent_identity"))  # no cost given
    with pytest.raises(ValueError, match="already registered"):
        register_activation("scaled_tanh", torch.nn.Tanh, learnable=False)
    with pytest.raises(ValueError, match="built-in activation"):
        register_activation("relu", torch.nn.Tanh, learnable=False)
    with pytest.raises(ValueError, match="no num_parameters"):
        register_activation(
            "x2", plugins.BentIdentity, learnable=False, per_neuron=True
        )


def test_unregistered_afterwards():
    assert not set(NAMES) & set(ACTIVATIONS)


def test_the_formula_trains_fused_as_it_does_eagerly(plugins):
    act = get_activation("scaled_tanh", num_features=3, per_neuron=True)
    with torch.no_grad():
        act.scale.add_(torch.tensor([0.1, -0.2, 0.3]))
    x, grad = torch.randn(8, 3, 4), torch.randn(8, 3, 4)

    def run(fused):
        with fused_kernels(fused):
            xr = x.clone().requires_grad_(True)
            out = act(xr)
            return [
                out.detach(),
                *torch.autograd.grad(out, [xr, act.scale, act.slope], grad),
            ]

    for got, want in zip(run(True), run(False)):
        torch.testing.assert_close(got, want, rtol=2e-5, atol=2e-5)
    x64 = torch.randn(7, 3, dtype=torch.float64, requires_grad=True)
    params = tuple(
        p.detach().double().requires_grad_(True) for p in (act.scale, act.slope)
    )
    assert torch.autograd.gradcheck(plugins.SCALED_TANH, (x64, *params))


@pytest.mark.parametrize("name", NAMES)
def test_fit_grid_search_and_learned_parameters(plugins, data, name):
    X, y = data
    clf = _classifier(name).fit(X, y)
    assert clf.score(X, y) > 0.7
    table = clf.learned_activations_
    if name == "scaled_tanh":
        assert set(table["parameter"]) == {"scale", "slope"}
        per_neuron = _classifier(name, activation_params={"per_neuron": True})
        assert len(per_neuron.fit(X, y).learned_activations_) == 2 * 12
    else:
        assert table.empty
    grid = GridSearchCV(
        _classifier("relu", max_iter=5), {"activation": ["relu", name]}, cv=2
    ).fit(X, y)
    assert list(grid.cv_results_["param_activation"]) == ["relu", name]


def test_compare_activations_and_plots(plugins, data):
    pytest.importorskip("matplotlib")
    from sklearn_learnact.plotting import ActivationDisplay, ScoreDisplay

    X, y = data
    table, comparison = compare_activations(
        _classifier("relu", max_iter=10),
        X,
        y,
        activations=("relu", *NAMES),
        cv=3,
        random_state=0,
        return_details=True,
    )
    table = table.set_index("activation")
    assert set(table.index) == {"relu", *NAMES}
    assert table.loc[list(NAMES), "mean_score"].notna().all()
    assert table.loc["scaled_tanh", "kind"] == "learned"
    ScoreDisplay.from_comparison(comparison).plot()
    clf = _classifier("scaled_tanh").fit(X, y)
    display = ActivationDisplay.from_estimator(clf, X=X).plot()
    assert display.figure_ is not None


def test_compressor(plugins, data):
    X, y = data
    clf = _classifier("scaled_tanh").fit(X[:160], y[:160])
    comp = SplineActivationCompressor(clf).fit(X[:160])
    assert comp.evaluate(X[160:], y[160:])["agreement"] >= 0.99
    assert comp.report_["madds_before"].iloc[0] == 12.0
    fixed = _classifier("bent_identity").fit(X, y)
    with pytest.raises(ValueError, match="'bent_identity' is fixed"):
        SplineActivationCompressor(fixed).fit(X)


def test_a_fitted_model_unpickles_in_a_fresh_process(plugins, data, tmp_path):
    # the fresh process imports the user's module (pickle does, to find its
    # classes), which registers the activations again
    X, y = data
    for name in NAMES:
        clf = _classifier(name).fit(X, y)
        path = tmp_path / f"{name}.joblib"
        joblib.dump(clf, path)
        np.save(tmp_path / "X.npy", X)
        code = textwrap.dedent(
            f"""
            import json, joblib, numpy as np
            from sklearn_learnact.activations import available_activations
            model = joblib.load({str(path)!r})
            X = np.load({str(tmp_path / "X.npy")!r})
            print(json.dumps({{
                "proba": model.predict_proba(X).tolist(),
                "registered": {name!r} in available_activations(),
            }}))
            """
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**_env(), "PYTHONPATH": str(HERE)},
            check=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["registered"]
        np.testing.assert_allclose(result["proba"], clf.predict_proba(X), atol=1e-6)


def _env():
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _tanh_converter(b, x, module):
    scale, slope = b.per_channel(module.scale), b.per_channel(module.slope)
    return b.op("Mul", b.op("Tanh", b.op("Mul", x, slope)), scale)


def _bent_converter(b, x, module):
    root = b.op("Sqrt", b.op("Add", b.op("Mul", x, x), b.const(1.0)))
    return b.op("Add", x, b.op("Div", b.op("Sub", root, b.const(1.0)), b.const(2.0)))


@pytest.mark.parametrize(
    ("name", "converter"),
    [("scaled_tanh", _tanh_converter), ("bent_identity", _bent_converter)],
)
def test_onnx_export_with_and_without_a_converter(plugins, data, name, converter):
    pytest.importorskip("onnxruntime")
    from sklearn_learnact.export import to_onnx, verify_onnx

    X, y = data
    clf = _classifier(name).fit(X, y)
    with pytest.raises(NotImplementedError) as error:
        to_onnx(clf, X[:1])
    message = str(error.value)
    assert f"'{name}' was registered without a converter" in message
    assert f"register_activation('{name}', ..., onnx=fn)" in message
    # the same module again, now with its converter
    spec = activation_spec(name)
    register_activation(
        name,
        spec.factory,
        learnable=spec.learnable,
        per_neuron=spec.per_neuron,
        summary=spec.summary,
        formula=spec.formula,
        cost=spec.cost,
        onnx=converter,
    )
    agreement = verify_onnx(clf, to_onnx(clf, X[:1], options={"zipmap": False}), X)
    assert agreement["label_agreement"] == 1.0
    assert agreement["proba_max_rel_error"] < 1e-5
