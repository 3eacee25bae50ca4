"""SplineActivationCompressor: every learnable kind, errors, pickling, MNIST."""

import gzip
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression

import sklearn_learnact.compression._spline as spline_module
from sklearn_learnact import (
    LearnedActivationClassifier,
    LearnedActivationRegressor,
    SplineActivationCompressor,
)
from sklearn_learnact.activations import (
    Mixture,
    Subnet,
    _fused,
    available_activations,
    compiled_kernels,
    fused_kernels,
    fused_kernels_available,
    get_activation,
)
from sklearn_learnact.compression import (
    FIXED_MADDS,
    SplineActivation,
    SymbolicActivation,
    activation_madds,
    plot_compression,
)

LEARNABLE = available_activations("learnable")
REPORT_COLUMNS = [
    "layer",
    "kind",
    "channels",
    "range_low",
    "range_high",
    "n_knots",
    "n_cells",
    "degree",
    "exact",
    "max_error",
    "rms_error",
    "params_before",
    "params_after",
    "madds_before",
    "madds_after",
    "symbolic",
    "symbolic_r2",
    "replaced_by",
]


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def _clf(activation, per_neuron=False, **kw):
    params = {"per_neuron": True} if per_neuron else None
    kw = {"max_iter": 5, "learning_rate_init": 1e-2, "random_state": 0, **kw}
    return LearnedActivationClassifier(
        (8, 6), activation, activation_params=params, **kw
    )


@pytest.fixture(scope="module")
def fitted_mlp(tiny_classification):
    X, y = tiny_classification
    return _fit(_clf("mlp"), X, y)


@pytest.mark.parametrize("degree", [1, 3])
@pytest.mark.parametrize(
    "kind, per_neuron",
    [(k, False) for k in LEARNABLE] + [(k, True) for k in ("prelu", "rational")],
)
def test_every_learnable_kind_compressed_within_tol(
    tiny_classification, kind, per_neuron, degree
):
    X, y = tiny_classification
    clf = _fit(_clf(kind, per_neuron), X, y)
    tol = 2e-3
    comp = SplineActivationCompressor(clf, degree=degree, tol=tol).fit(X)
    report = comp.report_
    assert report.columns.tolist() == REPORT_COLUMNS
    assert report["layer"].tolist() == [1, 2]
    assert (report["kind"] == kind).all()
    assert (report["max_error"] < tol).all()
    assert comp.max_abs_error_ == report["max_error"].max()
    assert (report["channels"] == ([8, 6] if per_neuron else [1, 1])).all()
    acts = comp.compressed_estimator_.activations_
    assert all(isinstance(a, SplineActivation) for a in acts)
    piecewise_linear = kind in ("mlp", "prelu")  # compressed exactly
    assert (report["exact"] == piecewise_linear).all()
    assert all(a.degree == (1 if piecewise_linear else degree) for a in acts)
    if piecewise_linear:
        assert (report["max_error"] < 1e-5).all()
    # the user's estimator is untouched
    assert comp.estimator_ is clf
    assert not any(isinstance(a, SplineActivation) for a in clf.activations_)
    proba = comp.predict_proba(X)
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=0.02)


def test_spline_matches_activation_on_recorded_values(tiny_classification):
    X, y = tiny_classification
    clf = _fit(_clf("rational"), X, y)
    comp = SplineActivationCompressor(clf, tol=1e-4).fit(X)
    module = clf.net_.module_
    x = module.hidden[0](torch.as_tensor(X)).detach()
    lo, hi = comp.report_.loc[0, ["range_low", "range_high"]]
    x = x[(x >= lo) & (x <= hi)]
    with torch.no_grad():
        diff = comp.compressed_estimator_.activations_[0](x) - module.activations[0](x)
    assert diff.abs().max() < 1e-4


def test_linear_extrapolation_with_end_slopes():
    # tanh on [-1, 1]: beyond it, straight lines with slopes 1 - tanh(1)^2
    act = torch.nn.Tanh()
    from sklearn_learnact.compression._fit import _spline_for

    lo, hi = np.array([-1.0]), np.array([1.0])
    spline, err = _spline_for(act, lo, hi, 64, 1)
    assert err < 1e-3
    slope = 1 - np.tanh(1.0) ** 2
    y = spline(torch.tensor([1.0, 3.0, 11.0, -1.0, -11.0])).double().numpy()
    np.testing.assert_allclose(y[2] - y[1], 8 * slope, rtol=1e-4)
    np.testing.assert_allclose(y[1] - y[0], 2 * slope, rtol=1e-4)
    np.testing.assert_allclose(y[3] - y[4], 10 * slope, rtol=1e-4)


def test_spline_activation_per_channel_follows_to_and_state_dict():
    lo, step = torch.tensor([-1.0, -2.0]), torch.tensor([1.0, 2.0])
    table = torch.zeros(2, 2, 3)
    table[1, 0] = 1.0  # channel 0: y = x
    table[0, 1] = 5.0  # channel 1: y = 5
    act = SplineActivation(lo, step, table).to(torch.float64)
    x = torch.tensor([[3.0, 3.0], [-7.0, -7.0]], dtype=torch.float64)
    assert act(x).tolist() == [[3.0, 5.0], [-7.0, 5.0]]
    assert set(act.state_dict()) == {"scale", "shift", "table", "offset"}
    with pytest.raises(ValueError, match="2 channels"):
        act(torch.zeros(3, 4, dtype=torch.float64))
    assert list(act.parameters()) == []


def test_relu_subnet_is_piecewise_linear_and_compressed_closely():
    act = Subnet(hidden_size=16).requires_grad_(False)
    from sklearn_learnact.compression._fit import _search_knots

    lo, hi = np.array([-3.0]), np.array([3.0])
    n_knots, spline, err = _search_knots(act, lo, hi, 1, 1e-3, 4096)
    assert err < 1e-3
    x = torch.linspace(-10, 10, 20001)
    assert (spline(x) - act(x)).abs().max() < 1e-3  # tails too: it is relu
    with pytest.warns(UserWarning, match="above tol"):
        _search_knots(act, lo, hi, 1, 1e-5, 64)


def test_spline_activation_kinks_per_channel():
    # channel 0: relu(x) (kink at 0), channel 1: 2 - 3 * relu(x - 1)
    lo, step = torch.tensor([-1.0, 0.0]), torch.tensor([2.0, 2.0])
    table = torch.tensor([[[0.0], [2.0 + 3.0]], [[0.0], [0.0]]])
    kinks = torch.tensor([[[1.0], [-3.0]], [[0.0], [1.0]]])
    act = SplineActivation(lo, step, table, kinks)
    x = torch.tensor([[-4.0, -4.0], [0.5, 0.5], [9.0, 9.0]])
    expected = torch.stack([x[:, 0].relu(), 2 - 3 * (x[:, 1] - 1).relu()], 1)
    torch.testing.assert_close(act(x), expected)
    assert act.n_stored() == 4 * 2 + 2 * 2
    assert "kinks" in act.state_dict()
    restored = pickle.loads(pickle.dumps(act))
    torch.testing.assert_close(restored(x), expected)
    with pytest.raises(ValueError, match="kinks needs degree 1"):
        SplineActivation(lo, step, torch.zeros(4, 2, 1), kinks)


def _spread_subnet(seed=0):
    """A ReLU subnet with its kinks moved off the initial even spread."""
    act = Subnet(hidden_size=16).requires_grad_(False)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        act.w2.add_(0.3 * torch.randn(16, generator=gen))
        act.b1.add_(0.2 * torch.randn(16, generator=gen))
    return act


def test_relu_subnet_compressed_exactly_with_few_cells():
    act = _spread_subnet()
    values = np.random.default_rng(0).normal(0.0, 2.0, (20000, 1))
    new, row, _ = SplineActivationCompressor(None)._compress_one(act, values)
    assert row["exact"] and row["max_error"] < 1e-5
    n_kinks = row["n_knots"] - 2
    assert n_kinks == 16  # every kink is inside [-3.3, 3.3] and reached
    assert row["n_cells"] <= 4 * (n_kinks + 2)
    assert row["params_after"] == 4 * row["n_cells"] + 2
    # beyond the recorded range: linear, as the subnet is beyond its kinks
    x = torch.linspace(-30, 30, 200001)
    assert (new(x) - act(x)).abs().max() < 1e-5 * 30


def test_near_duplicate_kinks_are_merged_within_tol():
    act = _spread_subnet()
    with torch.no_grad():  # unit 1 gets a kink 1e-7 from unit 0's
        act.w1[1], act.b1[1] = act.w1[0], act.b1[0] + 1e-7 * act.w1[0]
    values = np.random.default_rng(0).normal(0.0, 2.0, (20000, 1))
    _, row, _ = SplineActivationCompressor(None)._compress_one(act, values)
    assert row["exact"] and row["max_error"] < 1e-5
    assert row["n_knots"] - 2 == 15
    assert row["n_cells"] <= 4 * 17


def test_unreached_kinks_fold_into_the_tails():
    act = _spread_subnet()
    values = np.random.default_rng(0).uniform(-1.0, 1.0, (20000, 1))
    new, row, _ = SplineActivationCompressor(None)._compress_one(act, values)
    assert row["max_error"] < 1e-5
    assert row["n_knots"] - 2 < 16
    # the tails continue with the activation's own slopes near the range
    x = torch.tensor([1.0, 1.5, -1.0, -1.5])
    eps = 1e-3
    slope = (act(x + eps) - act(x - eps)) / (2 * eps)
    y = new(x)
    assert abs((y[1] - y[0]) / 0.5 - slope[0]) < 1e-3
    assert abs((y[3] - y[2]) / -0.5 - slope[2]) < 1e-3


def test_exact_false_gives_the_uniform_spline():
    act = _spread_subnet()
    values = np.random.default_rng(0).normal(0.0, 2.0, (20000, 1))
    new, row, _ = SplineActivationCompressor(None, exact=False)._compress_one(
        act, values
    )
    assert not row["exact"] and new.kinks is None and row["max_error"] < 1e-3


def test_fixed_activations_untouched_and_costed(tiny_classification):
    X, y = tiny_classification
    assert set(FIXED_MADDS) == set(available_activations("fixed"))
    clf = _fit(
        LearnedActivationClassifier(
            (8,), "relu", architecture="mlp", max_iter=2, random_state=0
        ),
        X,
        y,
    )
    with pytest.raises(ValueError, match="'relu' is fixed"):
        SplineActivationCompressor(clf).fit(X)
    assert activation_madds(torch.nn.ReLU()) == FIXED_MADDS["relu"]
    assert activation_madds(Subnet(hidden_size=16)) == 16 * 3 + 1


def test_unfitted_estimator_without_y_is_a_clear_error(tiny_classification):
    X, y = tiny_classification
    with pytest.raises(NotFittedError, match="pass y so that it can be fitted"):
        SplineActivationCompressor(_clf("mlp")).fit(X)
    with pytest.raises(TypeError, match="compresses LearnedActivationClassifier"):
        SplineActivationCompressor(LogisticRegression()).fit(X, y)
    with pytest.raises(NotFittedError):
        SplineActivationCompressor(_clf("mlp")).predict(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"degree": 2}, "degree"),
        ({"tol": 0}, "tol"),
        ({"n_knots": 1}, "n_knots"),
        ({"quantiles": (0.9, 0.1)}, "quantiles"),
        ({"max_knots": 1}, "max_knots"),
        ({"exact": "yes"}, "exact"),
        ({"compile": 1}, "compile must be True or False"),
    ],
)
def test_bad_parameters(fitted_mlp, tiny_classification, params, match):
    X, _ = tiny_classification
    with pytest.raises(ValueError, match=match):
        SplineActivationCompressor(fitted_mlp, **params).fit(X)


def test_unfitted_estimator_is_fitted_on_X_y(tiny_classification):
    X, y = tiny_classification
    clf = _clf("swish")
    with pytest.warns(ConvergenceWarning):  # max_iter=5: fitted as told, it warns
        comp = SplineActivationCompressor(clf, n_knots=40).fit(X, y)
    assert not hasattr(clf, "net_")
    assert comp.estimator_ is not clf
    assert (comp.report_["n_knots"] == 40).all()
    assert comp.classes_.tolist() == [0, 1, 2]
    assert comp.n_features_in_ == X.shape[1]
    result = comp.evaluate(X, y)
    assert result["metric"] == "accuracy"
    assert result["agreement"] == 1.0
    assert result["score_after"] == comp.score(X, y)


def test_pickle_and_clone(fitted_mlp, tiny_classification):
    X, _ = tiny_classification
    comp = SplineActivationCompressor(fitted_mlp, degree=3, tol=1e-2).fit(X)
    restored = pickle.loads(pickle.dumps(comp.compressed_estimator_))
    np.testing.assert_array_equal(restored.predict(X), comp.predict(X))
    np.testing.assert_allclose(restored.predict_proba(X), comp.predict_proba(X))
    whole = pickle.loads(pickle.dumps(comp))
    np.testing.assert_array_equal(whole.predict(X), comp.predict(X))
    cloned = clone(comp)
    assert cloned.get_params()["degree"] == 3
    assert not hasattr(cloned, "report_")
    assert cloned.estimator is not fitted_mlp


def test_regressor_and_no_predict_proba(tiny_regression):
    X, y = tiny_regression
    reg = _fit(
        LearnedActivationRegressor((8,), "mixture", max_iter=5, random_state=0), X, y
    )
    comp = SplineActivationCompressor(reg).fit(X)
    assert not hasattr(comp, "predict_proba")
    result = comp.evaluate(X, y)
    assert result["metric"] == "r2"
    assert result["agreement"] > 0.999
    assert comp.score(X, y) == pytest.approx(result["score_after"])


def _symbolic_fit(act, lo=-3.0, hi=3.0, tol=1e-3):
    """Compress one activation module on its own, symbolic on."""
    comp = SplineActivationCompressor(None, symbolic=True, tol=tol)
    values = np.linspace(lo, hi, 5001)[:, None]
    return comp._compress_one(act.requires_grad_(False), values)


def test_symbolic_finds_tanh_for_a_tanh_rational():
    act = get_activation("rational", init="tanh")
    new, row, _ = _symbolic_fit(act, tol=2e-2)
    assert row["symbolic"] == "tanh"
    assert row["symbolic_r2"] > 0.999
    assert isinstance(new, SymbolicActivation)
    assert row["replaced_by"] == "symbolic:tanh"
    assert row["max_error"] < 2e-2


def test_symbolic_finds_relu_for_a_relu_mixture():
    act = Mixture()  # relu, tanh, sin
    with torch.no_grad():
        act.weight.copy_(torch.tensor([20.0, -20.0, -20.0]))  # P_relu ~ 1
    new, row, _ = _symbolic_fit(act)
    assert row["symbolic"] == "relu"
    assert row["replaced_by"] == "symbolic:relu"
    x = torch.linspace(-5, 5, 101)
    assert (new(x) - act(x)).abs().max() < 1e-3


def test_symbolic_not_used_above_tol():
    # a bumpy piecewise-linear curve
    act = get_activation("mlp", hidden_size=4, init="sin")
    _, row, _ = _symbolic_fit(act, tol=1e-6)
    assert row["replaced_by"] == "spline"
    assert row["symbolic"] in available_activations("fixed")


def test_plot_compression(fitted_mlp, tiny_classification):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    X, _ = tiny_classification
    comp = SplineActivationCompressor(fitted_mlp, tol=1e-2).fit(X)
    fig = plot_compression(comp)
    assert len(fig.axes) == 4  # two panels, each with a histogram twin
    assert "layer 1" in fig.axes[0].get_title()
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["learned", "spline", "recorded range"]
    matplotlib.pyplot.close(fig)


def _load_mnist(folder):
    def images(name):
        with gzip.open(folder / name) as f:
            data = np.frombuffer(f.read(), np.uint8, offset=16)
        return (data.reshape(-1, 784) / np.float32(255.0)).astype(np.float32)

    def labels(name):
        with gzip.open(folder / name) as f:
            return np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)

    return (
        images("train-images-idx3-ubyte.gz"),
        labels("train-labels-idx1-ubyte.gz"),
        images("t10k-images-idx3-ubyte.gz"),
        labels("t10k-labels-idx1-ubyte.gz"),
    )


@pytest.mark.slow
def test_mnist_mlp_activation_compressed_keeps_accuracy(shared_data):
    X, y, X_test, y_test = _load_mnist(shared_data / "mnist")
    clf = LearnedActivationClassifier(
        (128, 64),
        "mlp",
        batch_size=128,
        max_iter=3,
        learning_rate_init=1e-3,
        device="cpu",
        random_state=0,
    )
    _fit(clf, X, y)
    comp = SplineActivationCompressor(clf, compile=False).fit(X)
    result = comp.evaluate(X_test, y_test)
    print(result, comp.report_.to_string(), sep="\n")
    assert result["score_before"] > 0.95
    assert abs(result["score_after"] - result["score_before"]) <= 0.002
    assert result["agreement"] >= 0.995
    assert (comp.report_["max_error"] < comp.tol).all()
    # the compiled evaluation (the fast one, the default) predicts the same
    with fused_kernels(True):
        compiled = SplineActivationCompressor(clf).fit(X)
        agree = np.mean(compiled.predict(X_test) == comp.predict(X_test))
    print("compiled vs eager agreement", agree)
    assert agree >= 0.9995


# ------------------------------------------------- truncated-power form, compiled
def _uniform_table(slopes, lo=-2.0, step=1.0, y0=0.5):
    """Continuous degree-1 table (tails included) with these slopes per cell."""
    edges = lo + step * np.arange(len(slopes))
    values = y0 + np.r_[0.0, np.cumsum(np.diff(edges) * slopes[:-1])]
    return torch.tensor(
        np.stack([values - slopes * edges, slopes]), dtype=torch.float32
    )


def test_power_form_is_the_table_function():
    slopes = np.array([0.5, 0.5, -1.0, 2.0, 2.0, 0.25])  # 3 slope changes
    act = SplineActivation(
        torch.tensor(-2.0), torch.tensor(1.0), _uniform_table(slopes)
    )
    assert act.power_d.shape == (4,)  # 3 padded to a power of two
    assert (act.power_d != 0).sum() == 3
    x = torch.linspace(-50, 50, 10001)
    c, d, t = act.power_c, act.power_d, act.power_t
    torch.testing.assert_close(
        spline_module._power_kernel(x, c, d, t),
        act._forward_table(x),
        atol=2e-5,
        rtol=0,
    )
    # a discontinuous table has no truncated-power form: the table is used
    table = _uniform_table(slopes)
    table[0, 3] += 0.1
    jump = SplineActivation(torch.tensor(-2.0), torch.tensor(1.0), table)
    assert jump.power_d is None
    # derived again after load_state_dict, never saved
    jump.load_state_dict(act.state_dict())
    assert "power_d" not in act.state_dict()
    torch.testing.assert_close(jump.power_d, act.power_d)


def test_eager_power_form_for_few_kinks_per_channel():
    # PReLU per neuron compressed exactly: one kink per channel, 3 ops not 10
    from sklearn_learnact.activations import PReLU

    act = PReLU(num_parameters=3).requires_grad_(False)
    act.weight.copy_(torch.tensor([0.1, -0.5, 2.0]))
    values = np.random.default_rng(0).normal(size=(5000, 3))
    new, row, _ = SplineActivationCompressor(None)._compress_one(act, values)
    assert row["exact"] and new.power_d.shape == (1, 3)
    assert row["madds_after"] == 3.0
    x = 5 * torch.randn(6, 3, 4, 2)
    torch.testing.assert_close(new(x), act(x))
    torch.testing.assert_close(new._forward_table(x), act(x))


@pytest.mark.parametrize(
    "kind, degree, exact",
    [("mlp", 1, True), ("prelu", 1, True), ("mlp", 1, False), ("rational", 3, False)],
)
def test_compiled_matches_eager_and_pickles(tiny_classification, kind, degree, exact):
    X, y = tiny_classification
    est = _fit(_clf(kind, per_neuron=kind == "prelu"), X, y)
    eager = SplineActivationCompressor(
        est, degree=degree, exact=exact, compile=False
    ).fit(X)
    with fused_kernels(True):
        comp = SplineActivationCompressor(est, degree=degree, exact=exact).fit(X)
        assert fused_kernels_available()
        splines = [a for a in comp.compressed_estimator_.activations_ if a.compiled]
        assert len(splines) == 2
        assert (comp.report_["max_error"] < comp.tol).all()
        seen = len(compiled_kernels())
        np.testing.assert_allclose(
            comp.predict_proba(X), eager.predict_proba(X), atol=1e-5, rtol=0
        )
        # fit compiled what predict runs: nothing new to compile
        assert len(compiled_kernels()) == seen
        for a in splines:  # other batch sizes, the same function
            x = torch.randn(37, a.num_channels if a.num_channels > 1 else 5)
            a.compiled = False
            expected = a(x)
            a.compiled = True
            torch.testing.assert_close(a(x), expected, atol=1e-5, rtol=0)
    restored = pickle.loads(pickle.dumps(comp))
    assert restored.compressed_estimator_.activations_[0].compiled
    np.testing.assert_allclose(restored.predict_proba(X), comp.predict_proba(X))
    assert clone(comp).get_params()["compile"] is True


def test_compile_failure_warns_and_stays_eager(monkeypatch, tmp_path):
    # a real failure (no C++ compiler) in a real process: tests/test_fused.py
    def broken(self, tensors):
        raise RuntimeError("no C++ compiler found\nmore lines")

    monkeypatch.setattr(_fused.BoundKernel, "_compile", broken)
    monkeypatch.setattr(_fused, "_FAILED", {})
    monkeypatch.setenv(_fused.ENV_CACHE_DIR, str(tmp_path))  # nothing to load
    slopes = np.array([0.5, 0.5, -1.0, 2.0, 2.0, 0.25])
    act = SplineActivation(
        torch.tensor(-2.0), torch.tensor(1.0), _uniform_table(slopes), compiled=True
    )
    x = torch.linspace(-5, 5, 11)
    with fused_kernels(True):
        assert act.madds_per_element() == 1 + 2 * 4  # truncated-power form, fused
        with pytest.warns(RuntimeWarning, match="compiled on cpu .RuntimeError: no C"):
            y = act(x)
        assert act.madds_per_element() == 3  # the table (not 4 kinks, eagerly)
        torch.testing.assert_close(y, act._forward_table(x))
        assert _fused._FAILED == {"cpu": "RuntimeError: no C++ compiler found"}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            torch.testing.assert_close(act(x), y)  # eager from now on, no warnings
        # an error of the input itself is raised as it is, not taken for a failure
        monkeypatch.setattr(_fused, "_FAILED", {})
        per_channel = SplineActivation(
            torch.zeros(2), torch.ones(2), torch.zeros(2, 2, 3), compiled=True
        )
        with pytest.raises(ValueError, match="2 channels"):
            per_channel(torch.zeros(4, 3))


def test_cnn_compressed_eager_and_compiled():
    # conv activations see (N, C, H, W): per-channel splines broadcast on dim 1
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X[:600] / 16).astype(np.float32)
    y = y[:600]
    cnn = LearnedActivationClassifier(
        (16,),
        "prelu",
        activation_params={"per_neuron": True},
        architecture="cnn",
        image_shape=(1, 8, 8),
        max_iter=2,
        random_state=0,
    )
    _fit(cnn, X, y)
    for compile in (False, True):
        with fused_kernels(True):
            comp = SplineActivationCompressor(cnn, compile=compile).fit(X)
            assert comp.report_["channels"].tolist() == [32, 64, 16]
            assert (comp.report_["max_error"] < 1e-5).all()
            assert comp.evaluate(X, y)["agreement"] == 1.0
