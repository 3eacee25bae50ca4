"""ONNX export: onnxruntime predicts what the estimator predicts, for every
activation kind, both architectures, compressed models and whole Pipelines."""

import importlib
import sys

import joblib
import numpy as np
import onnx
import onnxruntime
import pandas as pd
import pytest
import skl2onnx
import torch
from sklearn.base import is_classifier
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from torch import nn

from sklearn_learnact import (
    LearnedActivationClassifier,
    LearnedActivationRegressor,
    SplineActivationCompressor,
    save_model,
)
from sklearn_learnact.activations import (
    ACTIVATIONS,
    available_activations,
)
from sklearn_learnact.cli import main
from sklearn_learnact.compression import SplineActivation, SymbolicActivation
from sklearn_learnact.datasets import load_titanic, make_titanic_preprocessor
from sklearn_learnact.export import (
    ACTIVATION_CONVERTERS,
    onnx_inputs,
    to_onnx,
    verify_onnx,
)

#: The acceptance tolerance: probabilities and values within 1e-5 relative.
RTOL = 1e-5
#: Every registered activation, and per neuron where the registry allows it.
KINDS = [(name, False) for name in available_activations()] + [
    (name, True) for name in available_activations() if ACTIVATIONS[name].per_neuron
]


# the tests train for a few epochs only
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((96, 6)).astype(np.float32)
    score = X[:, 0] + X[:, 1] ** 2 - np.abs(X[:, 2])
    y = np.array(["low", "mid", "high"])[np.digitize(score, [0.0, 1.0])]
    return X, y


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(1)
    X = rng.random((40, 64), dtype=np.float32)
    return X, (X[:, :32].sum(axis=1) > 16).astype(int) + (X[:, 0] > 0.5)


def _perturb(estimator, scale: float = 0.3) -> None:
    """Move every learned activation parameter away from its initial value, so
    that a wrong formula cannot hide behind a symmetric start."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for act in estimator.activations_:
            for p in act.parameters():
                p.add_(scale * torch.randn(p.shape, generator=generator))


def _check(estimator, X, **kwargs) -> dict:
    """Export, run in onnxruntime, and assert the acceptance criteria."""
    options = {"zipmap": False} if is_classifier(estimator) else None
    model = to_onnx(estimator, X[:1], options=options, **kwargs)
    agreement = verify_onnx(estimator, model, X)
    assert agreement["n_samples"] == len(X)
    if "label_agreement" in agreement:
        assert agreement["label_agreement"] == 1.0
        assert agreement["proba_max_rel_error"] <= RTOL, agreement
    else:
        assert agreement["max_rel_error"] <= RTOL, agreement
    return agreement


def _classifier(name, per_neuron=False, **kwargs):
    kwargs = {
        "hidden_layer_sizes": (8, 5),
        "max_iter": 3,
        "activation_params": {"per_neuron": True} if per_neuron else None,
        **kwargs,
    }
    return LearnedActivationClassifier(
        activation=name, learning_rate_init=0.05, random_state=0, **kwargs
    )


# ------------------------------------------------------------- activations
def test_every_builtin_activation_declares_its_converter():
    for name, spec in ACTIVATIONS.items():
        assert spec.onnx is not None, name


@pytest.mark.parametrize("name, per_neuron", KINDS)
def test_mlp_every_activation(data, name, per_neuron):
    X, y = data
    clf = _classifier(name, per_neuron).fit(X, y)
    _perturb(clf)
    _check(clf, X)


@pytest.mark.parametrize("name, per_neuron", KINDS)
def test_cnn_every_activation(images, name, per_neuron):
    X, y = images
    clf = _classifier(
        name,
        per_neuron,
        hidden_layer_sizes=(6,),
        max_iter=1,
        architecture="cnn",
        image_shape=(1, 8, 8),
    ).fit(X, y)
    _perturb(clf, scale=0.1)
    _check(clf, X)


@pytest.mark.parametrize(
    "name, params",
    [
        ("leaky_relu", {"negative_slope": 0.3}),
        ("elu", {"alpha": 0.5}),
        ("gelu", {"approximate": "tanh"}),
        ("softplus", {"beta": 2.0, "threshold": 0.5}),  # the linear branch is used
        ("mixture", {"basis": ("gelu", "silu", "elu", "softplus")}),
        ("mixture", {"basis": ("prelu", "tanh"), "per_neuron": True}),
        ("rational", {"degrees": (3, 1), "init": "tanh"}),
        ("spline", {"n_knots": 5, "bound": 1.0, "per_neuron": True}),
        ("mlp", {"hidden_size": 4, "hidden_activation": "tanh"}),
        ("mlp", {"hidden_size": 6, "hidden_activation": "elu", "init": "tanh"}),
    ],
)
def test_activation_options(data, name, params):
    X, y = data
    clf = _classifier(name, activation_params=params).fit(X * 3, y)
    _perturb(clf)
    _check(clf, X * 3)


@pytest.mark.parametrize(
    "name, params",
    [
        ("gelu", {}),
        ("gelu", {"approximate": "tanh"}),
        ("mish", {}),
        ("hardswish", {}),
    ],
)
def test_older_opsets_use_equivalent_formulas(data, name, params):
    # Gelu (opset 20), Mish (18) and HardSwish (14) are not in opset 11
    X, y = data
    clf = _classifier(name, activation_params=params).fit(X, y)
    model = to_onnx(clf, X[:1], target_opset=11, options={"zipmap": False})
    ops = {node.op_type for node in model.graph.node}
    assert not ops & {"Gelu", "Mish", "HardSwish"}
    assert verify_onnx(clf, model, X)["proba_max_rel_error"] <= RTOL


def test_a_too_old_opset_is_refused(data):
    X, y = data
    clf = _classifier("relu").fit(X, y)
    with pytest.raises(ValueError, match="opset >= 11"):
        to_onnx(clf, X[:1], target_opset=10)


class _Cube(nn.Module):
    def forward(self, x):
        return x**3


def test_an_activation_without_converter_fails_at_export_naming_it(data):
    X, y = data
    clf = _classifier("relu").fit(X, y)
    clf.net_.module_.activations[1] = _Cube()
    with pytest.raises(NotImplementedError, match=r"hidden layer 2, _Cube \(_Cube"):
        to_onnx(clf, X[:1])


def test_a_registered_converter_makes_it_exportable(data, monkeypatch):
    from sklearn_learnact.export import register_activation_converter

    X, y = data
    clf = _classifier("relu").fit(X, y)
    clf.net_.module_.activations[1] = _Cube()
    monkeypatch.setitem(ACTIVATION_CONVERTERS, _Cube, None)  # removed afterwards
    register_activation_converter(_Cube)(
        lambda b, x, m: b.op("Mul", b.op("Mul", x, x), x)
    )
    _check(clf, X)


# -------------------------------------------------------------- compressed
@pytest.fixture(scope="module")
def mlp_model(data):
    X, y = data
    return _classifier("mlp", hidden_layer_sizes=(16, 8), max_iter=20).fit(X, y)


@pytest.mark.parametrize("form", ["auto", "power", "nested", "table"])
def test_compressed_mlp_exact_every_spline_form(data, mlp_model, form):
    X, _ = data
    comp = SplineActivationCompressor(mlp_model).fit(X)
    splines = comp.compressed_estimator_.activations_
    assert all(s.kinks is not None and s.power_d is not None for s in splines)
    _check(comp, X, spline_form=form)


def _random_spline(channels: int, monotone: bool, seed: int) -> SplineActivation:
    """A continuous piecewise-linear SplineActivation through random values on
    [-3, 3] (14 cells, linear tails): its power form has up to 13 kinks."""
    rng = np.random.default_rng(seed)
    steps = (
        rng.uniform(0.1, 1.0, (channels, 14))
        if monotone
        else rng.normal(0, 1, (channels, 14))
    )
    knots = np.linspace(-3.5, 3.5, 15)
    values = np.cumsum(steps, axis=1) - 3.0
    values = np.concatenate([values[:, :1] - steps[:, :1], values], axis=1)[:, :15]
    slope = np.diff(values, axis=1) / 0.5
    intercept = values[:, :-1] - slope * knots[:-1]
    table = torch.tensor(np.stack([intercept, slope]), dtype=torch.float32)
    lo, step = torch.full((channels,), -3.5), torch.full((channels,), 0.5)
    if channels == 1:
        table, lo, step = table[:, 0], lo[0], step[0]
    return SplineActivation(lo, step, table)


@pytest.mark.parametrize("form", ["auto", "power", "nested", "table"])
@pytest.mark.parametrize("monotone", [True, False], ids=["monotone", "any"])
def test_spline_forms_on_random_piecewise_linear(data, form, monotone):
    X, y = data
    clf = _classifier("relu").fit(X, y)
    for layer, seed in ((0, 1), (1, 2)):
        spline = _random_spline(1, monotone, seed)
        assert spline.power_d is not None
        clf.net_.module_.activations[layer] = spline
    _check(clf, 3 * X, spline_form=form)


@pytest.mark.parametrize("form", ["auto", "power", "table"])
def test_spline_forms_per_channel(data, form):
    X, y = data
    clf = _classifier("relu").fit(X, y)
    clf.net_.module_.activations[0] = _random_spline(8, False, 3)
    _check(clf, 3 * X, spline_form=form)
    with pytest.raises(ValueError, match="only layer-wide ones a nested form"):
        to_onnx(clf, X[:1], spline_form="nested")


@pytest.mark.parametrize(
    "params", [{"n_knots": 40}, {"n_knots": 12, "degree": 3}, {"n_knots": 12}]
)
def test_compressed_table_only_splines(data, mlp_model, params):
    X, _ = data
    comp = SplineActivationCompressor(mlp_model, **params).fit(X)
    _check(comp, X)
    _check(comp, X, spline_form="table")


def test_spline_form_power_without_power_form_names_the_layer(data, mlp_model):
    X, _ = data
    comp = SplineActivationCompressor(mlp_model, n_knots=8, degree=3).fit(X)
    for form in ("power", "nested"):
        with pytest.raises(ValueError, match="hidden layer 1 has no such form"):
            to_onnx(comp, X[:1], spline_form=form)
    with pytest.raises(ValueError, match="spline_form must be one of"):
        to_onnx(comp, X[:1], spline_form="fast")


@pytest.mark.parametrize("degree", [1, 3])
def test_compressed_per_neuron(data, degree):
    X, y = data
    clf = _classifier("rational", per_neuron=True).fit(X, y)
    _perturb(clf)
    comp = SplineActivationCompressor(clf, n_knots=16, degree=degree).fit(X)
    assert comp.compressed_estimator_.activations_[0].num_channels == 8
    _check(comp, X)


@pytest.mark.parametrize("name", ["tanh", "softplus", "sin"])
def test_symbolic_activation(data, name):
    # what SplineActivationCompressor(symbolic=True) puts in: a * f(b * x + c) + d
    X, y = data
    clf = _classifier("relu").fit(X, y)
    clf.net_.module_.activations[0] = SymbolicActivation(name, 1.5, 0.7, 0.1, -0.2)
    _check(clf, X)


@pytest.mark.parametrize("form", ["power", "table"])
def test_compressed_cnn_per_channel(images, form):
    X, y = images
    clf = _classifier(
        "prelu",
        per_neuron=True,
        hidden_layer_sizes=(6,),
        max_iter=1,
        architecture="cnn",
        image_shape=(1, 8, 8),
    ).fit(X, y)
    _perturb(clf)
    comp = SplineActivationCompressor(clf).fit(X)
    conv_spline = comp.compressed_estimator_.activations_[0]
    assert isinstance(conv_spline, SplineActivation) and conv_spline.num_channels == 32
    _check(comp, X, spline_form=form)


# ------------------------------------------------------------- conventions
@pytest.mark.parametrize(
    "labels", [["low", "mid", "high"], [3, 7, 11], [False, True]], ids=str
)
def test_labels_keep_their_type(data, labels):
    X, y = data
    y = np.array(labels, dtype=object if isinstance(labels[0], str) else None)[
        np.unique(y, return_inverse=True)[1] % len(labels)
    ]
    clf = _classifier("tanh").fit(X, y)
    model = to_onnx(clf, X[:1], options={"zipmap": False})
    label_type = model.graph.output[0].type.tensor_type.elem_type
    string = isinstance(labels[0], str)
    assert label_type == (onnx.TensorProto.STRING if string else onnx.TensorProto.INT64)
    session = onnxruntime.InferenceSession(model.SerializeToString())
    onnx_labels, proba = session.run(None, onnx_inputs(session, X))
    np.testing.assert_array_equal(onnx_labels, clf.predict(X))
    assert proba.shape == (len(X), len(labels))


def test_zipmap_and_nocl_options(data):
    X, y = data
    clf = _classifier("mixture").fit(X, y)
    model = to_onnx(clf, X[:1])  # skl2onnx's default: a ZipMap
    names = [o.name for o in model.graph.output]
    assert names == ["output_label", "output_probability"]
    assert verify_onnx(clf, model, X)["proba_max_rel_error"] <= RTOL
    labelled = {"zipmap": False, "output_class_labels": True}
    for options in ({"zipmap": "columns"}, labelled):
        model = to_onnx(clf, X[:1], options=options)
        assert verify_onnx(clf, model, X)["proba_max_rel_error"] <= RTOL
    model = to_onnx(clf, X[:1], options={"zipmap": False, "nocl": True})
    session = onnxruntime.InferenceSession(model.SerializeToString())
    index, _ = session.run(None, {"X": X})
    np.testing.assert_array_equal(clf.classes_[index], clf.predict(X))


def test_float64_input_gives_float64_outputs(data):
    X, y = data
    clf = _classifier("swish").fit(X, y)
    X64 = X.astype(np.float64)
    model = to_onnx(clf, X64[:1], options={"zipmap": False})
    assert model.graph.output[1].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    _check(clf, X64)


def test_regressor_multi_output_and_float64(data):
    X, _ = data
    Y = np.column_stack([3 * X[:, 0] + 10, np.sin(X[:, 1])])
    reg = LearnedActivationRegressor((8,), "rational", max_iter=5, random_state=0)
    reg.fit(X, Y)
    model = to_onnx(reg, X[:1])
    assert [o.name for o in model.graph.output] == ["variable"]
    _check(reg, X)
    _check(reg, X.astype(np.float64))


def test_regressor_target_scaling_is_in_the_graph(data):
    X, _ = data
    y = 50.0 * X[:, 0] - 20.0 * np.tanh(X[:, 1]) + 300.0
    reg = LearnedActivationRegressor((8,), "mlp", max_iter=5, random_state=0)
    reg.fit(X, y)
    if not hasattr(reg, "target_scale_"):
        # before standardize_target: give the fitted model the attributes and
        # the predictions they stand for
        raw = reg.predict(X)
        reg.target_mean_, reg.target_scale_ = np.array([300.0]), np.array([40.0])
        model = to_onnx(reg, X[:1])
        session = onnxruntime.InferenceSession(model.SerializeToString())
        (values,) = session.run(None, {"X": X})
        np.testing.assert_allclose(values[:, 0], raw * 40.0 + 300.0, rtol=RTOL)
        return
    assert abs(reg.target_mean_[0] - y.mean()) < 1.0
    _check(reg, X)
    comp = SplineActivationCompressor(reg).fit(X)
    _check(comp, X)


def test_compressed_regressor(data):
    X, _ = data
    reg = LearnedActivationRegressor((8,), "mlp", max_iter=5, random_state=0)
    comp = SplineActivationCompressor(reg).fit(X, np.sin(X[:, 0]) + X[:, 1])
    _check(comp, X)


def test_estimator_fitted_on_a_dataframe(data):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = _classifier("prelu").fit(frame, y)
    model = to_onnx(clf, frame[:1])
    assert [i.name for i in model.graph.input] == list(frame.columns)
    agreement = verify_onnx(clf, model, frame)
    assert agreement["label_agreement"] == 1.0
    assert agreement["proba_max_rel_error"] <= RTOL


def test_unfitted_models_are_refused(data):
    X, _ = data
    with pytest.raises(NotFittedError):
        to_onnx(_classifier("relu"), X[:1])
    with pytest.raises(NotFittedError):
        to_onnx(SplineActivationCompressor(_classifier("mlp")), X[:1])


def test_written_to_path(data, tmp_path):
    X, y = data
    clf = _classifier("spline").fit(X, y)
    model = to_onnx(clf, X[:1], tmp_path / "m.onnx")
    assert onnx.load(tmp_path / "m.onnx") == model
    assert verify_onnx(clf, tmp_path / "m.onnx", X)["label_agreement"] == 1.0


def test_missing_extra_gives_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "sklearn_learnact.export")
    with pytest.raises(ImportError, match=r"sklearn-learnact\[onnx\]"):
        importlib.import_module("sklearn_learnact.export")


# ------------------------------------------------------------------ Titanic
#: Titanic's columns as a deployable Pipeline sees them: ONNX string tensors
#: hold no NaN, and skl2onnx imputes one type per branch, so categories are
#: text (pclass too) with missing ones as "".
NUMERIC = ["age", "sibsp", "parch", "fare"]
CATEGORICAL = ["pclass", "sex", "embarked"]


def _titanic_frame():
    X, y = load_titanic(return_X_y=True)
    X = X.astype({**dict.fromkeys(NUMERIC, "float32"), "pclass": "str"})
    return X.fillna(dict.fromkeys(CATEGORICAL, "")), np.where(y == 1, "yes", "no")


def _titanic_preprocessor():
    return ColumnTransformer(
        [
            (
                "num",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                NUMERIC,
            ),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent", missing_values=""),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                CATEGORICAL,
            ),
        ]
    )


@pytest.fixture(scope="module")
def titanic():
    X, y = _titanic_frame()
    clf = LearnedActivationClassifier((16,), "mlp", max_iter=10, random_state=0)
    return X, y, make_pipeline(_titanic_preprocessor(), clf).fit(X, y)


def test_titanic_pipeline_with_skl2onnx_directly(titanic):
    X, y, pipe = titanic
    model = skl2onnx.to_onnx(pipe, X[:1])  # skl2onnx's own entry point
    assert [i.name for i in model.graph.input] == list(X.columns)
    agreement = verify_onnx(pipe, model, X)
    assert agreement["n_samples"] == 1309
    assert agreement["label_agreement"] == 1.0
    assert agreement["proba_max_rel_error"] <= RTOL


def test_titanic_pipeline_compressed_mlp(titanic):
    X, y, pipe = titanic
    # the compressor at the end of a pipeline, and a compressed pipeline
    compressed = make_pipeline(pipe[0], SplineActivationCompressor(pipe[-1]))
    for model in (compressed.fit(X, y), SplineActivationCompressor(pipe).fit(X)):
        agreement = _check(model, X)
        assert agreement["n_samples"] == 1309


def test_make_titanic_preprocessor_gets_clear_errors_about_what_skl2onnx_lacks():
    X, y = load_titanic(return_X_y=True)
    clf = LearnedActivationClassifier((4,), "relu", max_iter=1, random_state=0)
    steps = [
        (X, r"branch 'num' takes columns of several ONNX types .*'sibsp': 'int64'"),
        (X.astype(dict.fromkeys(NUMERIC, "float32")), r"branch 'cat' .*'pclass'"),
        (
            X.astype({**dict.fromkeys(NUMERIC, "float32"), "pclass": "str"}),
            r"branch 'cat' imputes NaN in text columns",
        ),
    ]
    for frame, message in steps:
        pipe = make_pipeline(make_titanic_preprocessor(), clf).fit(frame, y)
        with pytest.raises(ValueError, match=message):
            to_onnx(pipe, frame[:1])


def test_onnx_inputs_errors(titanic):
    X, _, pipe = titanic
    model = to_onnx(pipe, X[:1])
    with pytest.raises(ValueError, match=r"lacks the model's input column.*'sex'"):
        onnx_inputs(model, X.drop(columns="sex"))
    with pytest.raises(ValueError, match="'embarked' has missing values"):
        onnx_inputs(model, X.replace({"embarked": {"": None}}))
    with pytest.raises(ValueError, match="pass a pandas DataFrame"):
        onnx_inputs(model, X.to_numpy())


# ------------------------------------------------------------ learnact export
def test_cli_export_titanic_pipeline(titanic, tmp_path, capsys):
    X, y, pipe = titanic
    save_model(pipe, tmp_path / "model.safetensors")
    X.assign(survived=y).to_csv(tmp_path / "sample.csv", index=False)
    argv = [
        "export",
        str(tmp_path / "model.safetensors"),
        "--out",
        str(tmp_path / "model.onnx"),
        "--sample",
        str(tmp_path / "sample.csv"),
        "--target",
        "survived",
        "--no-zipmap",
    ]
    # pclass is fitted as text; the CSV holds its numbers
    with pytest.raises(SystemExit):
        main(argv)
    err = capsys.readouterr().err
    assert "branch 'cat' takes columns of several ONNX types" in err
    assert "--text COLUMNS reads columns as text" in err
    assert main([*argv, "--text", "pclass"]) == 0
    out = capsys.readouterr().out
    assert "labels identical on 100.00% of the rows (1309/1309)" in out
    assert "outputs: label, probabilities" in out
    agreement = verify_onnx(pipe, tmp_path / "model.onnx", X)
    assert agreement["proba_max_rel_error"] <= RTOL


def test_cli_export_array_model_with_target_column(data, tmp_path, capsys):
    X, _ = data
    reg = LearnedActivationRegressor((8,), "mlp", max_iter=5, random_state=0)
    comp = SplineActivationCompressor(reg).fit(X, X[:, 0] - X[:, 1])
    save_model(comp, tmp_path / "comp.safetensors")
    frame = pd.DataFrame(X, columns=list("abcdef")).assign(y=X[:, 0] - X[:, 1])
    frame.to_csv(tmp_path / "sample.csv", index=False)
    argv = ["export", str(tmp_path / "comp.safetensors"), "--out"]
    argv += [str(tmp_path / "m.onnx"), "--sample", str(tmp_path / "sample.csv")]
    assert main([*argv, "--target", "y", "--spline-form", "table"]) == 0
    out = capsys.readouterr().out
    assert "Verified with onnxruntime on the 96 rows of sample.csv" in out
    rel = float(out.split("max relative difference ")[1].split()[0])
    assert rel <= RTOL


def test_cli_export_errors(data, tmp_path, capsys):
    X, y = data
    save_model(_classifier("relu").fit(X, y), tmp_path / "m.safetensors")
    pd.DataFrame(X).to_csv(tmp_path / "ok.csv", index=False)
    pd.DataFrame(X[:, :3]).to_csv(tmp_path / "narrow.csv", index=False)
    (tmp_path / "junk.joblib").write_text("not a pickle")
    joblib.dump({"a": 1}, tmp_path / "dict.joblib")

    def error(model, sample, *extra) -> str:
        argv = ["export", str(tmp_path / model), "--out", str(tmp_path / "o.onnx")]
        with pytest.raises(SystemExit) as exc:
            main([*argv, "--sample", str(tmp_path / sample), *extra])
        assert exc.value.code == 2
        return capsys.readouterr().err

    assert "Model file" in error("missing.joblib", "ok.csv")
    assert "is not a model file written by" in error("junk.joblib", "ok.csv")
    assert "Cannot load" in error("junk.joblib", "ok.csv", "--trust-pickle")
    assert "not a fitted estimator" in error("dict.joblib", "ok.csv", "--trust-pickle")
    assert "CSV file" in error("m.safetensors", "missing.csv")
    assert "takes 6 features, narrow.csv has 3" in error("m.safetensors", "narrow.csv")
    assert "--target column 'z'" in error("m.safetensors", "ok.csv", "--target", "z")
    assert "--text column(s) ['z']" in error("m.safetensors", "ok.csv", "--text", "z")
    assert "spline_form must be one of" in error(
        "m.safetensors", "ok.csv", "--spline-form", "fast"
    )
    assert "--out must name the ONNX file" in error(
        "m.safetensors", "ok.csv", "--out", ""
    )


# --------------------------------------------------- expression activations
def _expression_cases() -> list[str]:
    """Every operator of the expression grammar, each in one expression."""
    from sklearn_learnact.activations.expression import BINARY, UNARY

    unary = [f"{name}(x)" for name in UNARY if name not in ("zero", "one", "identity")]
    binary = [f"{name}(x, tanh(x))" for name in BINARY]
    # the guarded branches of the safe division and pow, and constants
    guarded = ["x / (x - x)", "pow(x - x, sigmoid(x))", "tanh(pow(exp(x), 40))"]
    return [*unary, *binary, *guarded, "1", "0.5 * x - 2"]


@pytest.mark.parametrize("expr", _expression_cases())
def test_expression_activations(data, expr):
    X, y = data
    clf = _classifier("expr", activation_params={"expr": expr}).fit(X, y)
    _check(clf, X)


def test_expression_converter_covers_the_grammar():
    from sklearn_learnact.activations.expression import _ONNX_OPS, BINARY, UNARY

    grammar = (set(UNARY) | set(BINARY)) - {"zero", "one", "identity"}
    assert set(_ONNX_OPS) == grammar


def test_a_classifier_exports_from_float64_rows(data):
    # ONNX's ZipMap takes float32 probabilities: from float64 rows the
    # probabilities are a tensor (zipmap off by default), and asking for the
    # ZipMap says why it cannot be
    X, y = data
    X64 = X.astype(np.float64)
    clf = _classifier("relu").fit(X64, y)
    model = to_onnx(clf, X64[:1])
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    agreement = verify_onnx(clf, model, X64)
    assert agreement["label_agreement"] == 1.0
    with pytest.raises(ValueError, match="ZipMap takes float32 probabilities"):
        to_onnx(clf, X64[:1], options={"zipmap": True})
    # the same from a frame of float64 columns (one ONNX input per column)
    frame = pd.DataFrame(X64, columns=[f"x{i}" for i in range(X64.shape[1])])
    clf = _classifier("relu").fit(frame, y)
    model = to_onnx(clf, frame[:1])
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    assert verify_onnx(clf, model, frame)["label_agreement"] == 1.0
