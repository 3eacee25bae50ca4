"""SplineActivationCompressor: every learnable kind, errors, pickling, MNIST."""

import gzip
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_learnact.compression._spline as spline_module
from sklearn_learnact import (
    LearnedActivationClassifier,
    LearnedActivationRegressor,
    SplineActivationCompressor,
)
from sklearn_learnact.activations import (
    ACTIVATIONS,
    Mixture,
    PReLU,
    Subnet,
    available_activations,
    compiled_kernels,
    fused_kernels,
    fused_kernels_available,
    get_activation,
)
from sklearn_learnact.activations._kernels import cache as _cache
from sklearn_learnact.activations._kernels import fused as _fused
from sklearn_learnact.compression import (
    CompressedLayer,
    SplineActivation,
    SymbolicActivation,
    activation_madds,
    fit_spline,
)
from sklearn_learnact.plotting import CompressionDisplay

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
    "tail_share",
    "tail_max_error",
    "tail_rms_error",
    "stored_before",
    "stored_after",
    "madds_before",
    "madds_after",
    "ns_before",
    "ns_after",
    "speedup",
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


def _fit_on(act, values, quantiles=(0.001, 0.999), **kwargs):
    """``fit_spline`` on the compressor's default recorded range of ``values``."""
    low, high = np.quantile(values, quantiles, axis=0)
    return fit_spline(act, low, high, values=values, **kwargs)


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
    new, info = _fit_on(act, values)
    assert info["exact"] and info["max_error"] < 1e-5
    n_kinks = info["n_knots"] - 2
    assert n_kinks == 16  # every kink is inside [-3.3, 3.3] and reached
    assert info["n_cells"] <= 4 * (n_kinks + 2)
    assert new.n_stored() == 4 * info["n_cells"] + 2
    # beyond the recorded range: linear, as the subnet is beyond its kinks
    x = torch.linspace(-30, 30, 200001)
    assert (new(x) - act(x)).abs().max() < 1e-5 * 30


def test_near_duplicate_kinks_are_merged_within_tol():
    act = _spread_subnet()
    with torch.no_grad():  # unit 1 gets a kink 1e-7 from unit 0's
        act.w1[1], act.b1[1] = act.w1[0], act.b1[0] + 1e-7 * act.w1[0]
    values = np.random.default_rng(0).normal(0.0, 2.0, (20000, 1))
    _, info = _fit_on(act, values)
    assert info["exact"] and info["max_error"] < 1e-5
    assert info["n_knots"] - 2 == 15
    assert info["n_cells"] <= 4 * 17


def test_unreached_kinks_fold_into_the_tails():
    act = _spread_subnet()
    values = np.random.default_rng(0).uniform(-1.0, 1.0, (20000, 1))
    new, info = _fit_on(act, values)
    assert info["max_error"] < 1e-5
    assert info["n_knots"] - 2 < 16
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
    new, info = _fit_on(act, values, exact=False)
    assert not info["exact"] and new.kinks is None and info["max_error"] < 1e-3


def test_fixed_activations_untouched_and_costed(tiny_classification):
    X, y = tiny_classification
    # every built-in activation declares its cost on its spec
    assert all(ACTIVATIONS[n].cost is not None for n in available_activations())
    clf = _fit(
        LearnedActivationClassifier(
            (8,), "relu", architecture="mlp", max_iter=2, random_state=0
        ),
        X,
        y,
    )
    with pytest.raises(ValueError, match="'relu' is fixed"):
        SplineActivationCompressor(clf).fit(X)
    assert activation_madds(torch.nn.ReLU()) == ACTIVATIONS["relu"].cost == 1.0
    assert activation_madds(Subnet(hidden_size=16)) == 16 * 3 + 1


def test_unfitted_estimator_without_y_is_a_clear_error(tiny_classification):
    X, y = tiny_classification
    with pytest.raises(NotFittedError, match="pass y so that it can be fitted"):
        SplineActivationCompressor(_clf("mlp")).fit(X)
    with pytest.raises(TypeError, match="compresses a LearnedActivationClassifier"):
        SplineActivationCompressor(LogisticRegression()).fit(X, y)
    with pytest.raises(NotFittedError):
        SplineActivationCompressor(_clf("mlp")).predict(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"degree": 2}, "degree must be one of 1, 3, got 2"),
        ({"degree": True}, "degree must be one of 1, 3, got True"),
        ({"tol": 0}, "tol must be a number > 0.0, got 0"),
        ({"tol": "small"}, "tol must be a number > 0.0, got 'small'"),
        ({"tol": float("nan")}, "tol must be a number > 0.0, got nan"),
        ({"n_knots": 1}, "n_knots must be 'auto' or an int >= 2, got 1"),
        ({"n_knots": "many"}, "n_knots must be 'auto' or an int >= 2, got 'many'"),
        ({"degree": 3, "n_knots": 3}, "n_knots must be at least degree \\+ 1 = 4"),
        ({"quantiles": (0.9, 0.1)}, "0 <= low < high <= 1"),
        ({"quantiles": (0.1, 2)}, r"0 <= low < high <= 1, got \(0.1, 2\)"),
        ({"quantiles": 0.5}, "quantiles must be two numbers"),
        ({"max_knots": 1}, "max_knots must be an int >= 2, got 1"),
        ({"exact": "yes"}, "exact must be True or False"),
        ({"symbolic": None}, "symbolic must be True or False"),
        ({"compile": 1}, "compile must be True or False"),
    ],
)
def test_bad_parameters(fitted_mlp, tiny_classification, params, match):
    X, _ = tiny_classification
    with pytest.raises(ValueError, match=match):
        SplineActivationCompressor(fitted_mlp, **params).fit(X)


def _held_out(X, y, seed=1):
    """Rows like ``X``'s that ``fit`` never saw (jittered copies)."""
    noise = np.random.default_rng(seed).normal(0.0, 0.05, X.shape)
    return (X + noise).astype(X.dtype), y


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
    X_test, y_test = _held_out(X, y)
    result = comp.evaluate(X_test, y_test)
    assert result["metric"] == "accuracy"
    assert result["agreement"] == 1.0
    assert result["score_after"] == comp.score(X_test, y_test)


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
    assert not hasattr(comp, "decision_function")
    X_test, y_test = _held_out(X, y)
    result = comp.evaluate(X_test, y_test)
    assert result["metric"] == "r2"
    assert result["agreement"] > 0.999
    assert comp.score(X_test, y_test) == pytest.approx(result["score_after"])


def _symbolic_fit(act, lo=-3.0, hi=3.0, tol=1e-3):
    """Compress one activation module on its own, symbolic on."""
    comp = SplineActivationCompressor(None, symbolic=True, tol=tol)
    values = np.linspace(lo, hi, 5001)[:, None]
    new, row, _, _ = comp._compress_one(act.requires_grad_(False), values)
    return new, row


def test_symbolic_finds_tanh_for_a_tanh_rational():
    act = get_activation("rational", init="tanh")
    new, row = _symbolic_fit(act, tol=2e-2)
    assert row["symbolic"] == "tanh"
    assert row["symbolic_r2"] > 0.999
    assert isinstance(new, SymbolicActivation)
    assert row["replaced_by"] == "symbolic:tanh"
    assert row["max_error"] < 2e-2


def test_symbolic_finds_relu_for_a_relu_mixture():
    act = Mixture()  # relu, tanh, sin
    with torch.no_grad():
        act.weight.copy_(torch.tensor([20.0, -20.0, -20.0]))  # P_relu ~ 1
    new, row = _symbolic_fit(act)
    assert row["symbolic"] == "relu"
    assert row["replaced_by"] == "symbolic:relu"
    x = torch.linspace(-5, 5, 101)
    assert (new(x) - act(x)).abs().max() < 1e-3


def test_symbolic_not_used_above_tol():
    # a bumpy piecewise-linear curve
    act = get_activation("mlp", hidden_size=4, init="sin")
    _, row = _symbolic_fit(act, tol=1e-6)
    assert row["replaced_by"] == "spline"
    assert row["symbolic"] in available_activations("fixed")


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
    # also as a submodule of a loaded net, and after a pickle round trip
    other = SplineActivation(torch.tensor(-2.0), torch.tensor(1.0), table)
    net = pickle.loads(pickle.dumps(torch.nn.Sequential(other)))
    net.load_state_dict(torch.nn.Sequential(act).state_dict())
    torch.testing.assert_close(net[0].power_d, act.power_d)


def test_eager_power_form_for_few_kinks_per_channel():
    # PReLU per neuron compressed exactly: one kink per channel, 3 ops not 10
    act = PReLU(num_parameters=3).requires_grad_(False)
    act.weight.copy_(torch.tensor([0.1, -0.5, 2.0]))
    values = np.random.default_rng(0).normal(size=(5000, 3))
    new, info = _fit_on(act, values)
    assert info["exact"] and new.power_d.shape == (1, 3)
    assert activation_madds(new) == 3.0
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
    # nothing compiled in memory either (with SKLEARN_LEARNACT_FUSED=1 earlier
    # tests compiled these variants)
    for kernel in (spline_module._TABLE, spline_module._POWER):
        monkeypatch.setattr(kernel, "_bound", {})
    monkeypatch.setenv(_cache.ENV_CACHE_DIR, str(tmp_path))  # nothing to load
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
    _fit(cnn, X[:400], y[:400])
    for compile in (False, True):
        with fused_kernels(True):
            comp = SplineActivationCompressor(cnn, compile=compile).fit(X[:400])
            assert comp.report_["channels"].tolist() == [32, 64, 16]
            assert (comp.report_["max_error"] < 1e-5).all()
            assert comp.evaluate(X[400:], y[400:])["agreement"] == 1.0


# --------------------------------------------- what the compressor keeps and says
def _recorded_inputs(estimator, X, layer):
    """The inputs of hidden activation ``layer`` on ``X``, recorded by a hook."""
    seen = []
    handle = estimator.activations_[layer].register_forward_pre_hook(
        lambda module, args: seen.append(args[0].detach().reshape(-1).double())
    )
    try:
        estimator.decision_function(X)
    finally:
        handle.remove()
    return torch.cat(seen).numpy()


def test_keeps_a_histogram_not_the_recorded_inputs(fitted_mlp):
    # main pickled every recorded input (up to 2M per layer, float64)
    X = np.random.default_rng(0).normal(size=(20_000, 6)).astype(np.float32)
    comp = SplineActivationCompressor(fitted_mlp).fit(X)
    assert len(pickle.dumps(comp)) < 200_000  # 2 x 20,000 x 8 inputs: 2.6 MB
    assert [type(layer) for layer in comp.layers_] == [CompressedLayer] * 2
    for k, layer in enumerate(comp.layers_):
        values = _recorded_inputs(fitted_mlp, X, k)
        assert layer.layer == k + 1
        assert layer.original is fitted_mlp.activations_[k]
        assert layer.compressed is comp.compressed_estimator_.activations_[k]
        row = comp.report_.iloc[k]
        assert (layer.low[0], layer.high[0]) == (row.range_low, row.range_high)
        np.testing.assert_allclose(
            [layer.low[0], layer.high[0]], np.quantile(values, (0.001, 0.999))
        )
        # the histogram counts every recorded input, in the bins it reports
        expected, _ = np.histogram(values, layer.edges[0])
        np.testing.assert_array_equal(layer.counts[0], expected)
        assert layer.below[0] == np.sum(values < layer.edges[0, 0])
        total = layer.counts.sum() + layer.below.sum() + layer.above.sum()
        assert total == len(values) == len(X) * (8, 6)[k]
        assert "layer=" in repr(layer) and "SplineActivation" in repr(layer)


def test_compressed_estimator_tells_what_it_is(fitted_mlp, tiny_classification):
    X, _ = tiny_classification
    comp = SplineActivationCompressor(fitted_mlp).fit(X)
    compressed = comp.compressed_estimator_
    assert compressed.replaced_activations_ == {
        0: "SplineActivation",
        1: "SplineActivation",
    }
    with pytest.raises(TypeError, match="activations replaced"):
        clone(compressed)
    summary = comp.summary()
    assert "with 2 of its 2 hidden activations replaced" in summary
    assert "refuses clone" in summary
    assert "layer 1: mlp -> exact piecewise-linear spline" in summary
    stored = comp.report_.loc[0, ["stored_before", "stored_after"]].tolist()
    assert f"stores {stored[1]} numbers (was {stored[0]}: more)" in summary
    # the user's estimator still clones, and refits the uncompressed network
    assert clone(fitted_mlp).activation == "mlp"


def test_compressor_uses_only_public_seams():
    # no private attribute of another object (e.g. estimator._forward) and no
    # mutation of the net's modules: the compressor goes through the
    # estimators' public surface (activations_, replace_activations, ...)
    import ast
    import inspect
    import re

    import sklearn_learnact.compression._compressor as compressor

    source = inspect.getsource(compressor)
    private = set(re.findall(r"\b(?!self\b)([a-z]\w*)\.(_[a-z]\w*)", source))
    assert private == set()
    # nor private helpers of other libraries (e.g. sklearn's _safe_indexing)
    imported = [
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.level == 0
        for alias in node.names
    ]
    assert [name for name in imported if name.startswith("_")] == []
    assert "net_" not in source and "module_" not in source


def test_fit_spline_is_the_compressors_one_path(tiny_classification):
    X, y = tiny_classification
    clf = _fit(_clf("mixture"), X, y)
    comp = SplineActivationCompressor(clf).fit(X)
    for k, layer in enumerate(comp.layers_):
        values = _recorded_inputs(clf, X, k)[:, None]
        spline, info = fit_spline(layer.original, layer.low, layer.high, values=values)
        row = comp.report_.iloc[k]
        assert (info["n_knots"], info["n_cells"]) == (row.n_knots, row.n_cells)
        for key, value in spline.state_dict().items():
            torch.testing.assert_close(layer.compressed.state_dict()[key], value)


def test_fit_spline_ranges_and_errors():
    # one spline per channel of a per-channel activation, a range per channel
    act = PReLU(num_parameters=3).requires_grad_(False)
    act.weight.copy_(torch.tensor([0.1, -0.5, 2.0]))
    spline, info = fit_spline(act, [-1.0, -2.0, -3.0], 2.0)
    assert info["exact"] and spline.num_channels == 3
    x = 5 * torch.randn(100, 3)
    torch.testing.assert_close(spline(x), act(x))
    # a smooth function: the fewest knots within tol; more knots, less error
    spline, info = fit_spline(torch.nn.Tanh(), -3.0, 3.0, tol=1e-4)
    assert info["max_error"] < 1e-4 and not info["exact"]
    coarse, coarse_info = fit_spline(torch.nn.Tanh(), -3.0, 3.0, n_knots=10)
    assert coarse_info["n_knots"] == 10 and coarse_info["max_error"] > 1e-4
    with pytest.raises(ValueError, match="low must be below high"):
        fit_spline(torch.nn.Tanh(), 1.0, 1.0)
    with pytest.raises(ValueError, match="one per channel"):
        fit_spline(act, [0.0, 1.0], 2.0)
    with pytest.raises(ValueError, match=r"values must have shape \(n_values, 3\)"):
        fit_spline(act, -1.0, 1.0, values=np.zeros((10, 2)))
    with pytest.raises(ValueError, match="tol must be a number > 0.0, got -1"):
        fit_spline(act, -1.0, 1.0, tol=-1)


def test_report_errors_over_the_same_values(tiny_classification):
    # a narrow recorded range: 20% of the inputs are in the tails, where the
    # uniform spline extrapolates; main reported an RMS over all inputs (tails
    # included) above a max measured inside the range only
    X, y = tiny_classification
    clf = _fit(_clf("rational"), X, y)
    comp = SplineActivationCompressor(clf, quantiles=(0.1, 0.9)).fit(X)
    report = comp.report_
    assert (report["rms_error"] <= report["max_error"]).all()
    assert (report["tail_rms_error"] <= report["tail_max_error"]).all()
    for k, row in report.iterrows():
        values = _recorded_inputs(clf, X, k)
        with torch.no_grad():
            x = torch.as_tensor(values, dtype=torch.float32)
            err = (comp.layers_[k].compressed(x) - clf.activations_[k](x)).abs()
        inside = (values >= row.range_low) & (values <= row.range_high)
        err = err.double().numpy()
        assert row.tail_share == pytest.approx(1 - inside.mean())
        assert 0.15 < row.tail_share < 0.25
        np.testing.assert_allclose(row.max_error, err[inside].max(), atol=1e-6)
        rms = np.sqrt(np.mean(err[inside] ** 2))
        np.testing.assert_allclose(row.rms_error, rms, atol=1e-6)
        np.testing.assert_allclose(row.tail_max_error, err[~inside].max(), atol=1e-6)
        assert row.tail_max_error > row.max_error  # linear tails are not exact


def test_report_costs_stored_numbers_honestly(tiny_classification):
    X, y = tiny_classification
    clf = _fit(_clf("mlp"), X, y)
    comp = SplineActivationCompressor(clf).fit(X)
    report = comp.report_
    # stored numbers: the state_dict of each module, before and after
    assert (report["stored_before"] == 16 * 3 + 1).all()
    for layer, row in zip(comp.layers_, report.itertuples()):
        stored = sum(v.numel() for v in layer.compressed.state_dict().values())
        assert row.stored_after == stored == layer.compressed.n_stored()
    # an exact table of a 16-unit subnet stores more numbers than the subnet
    assert (report["stored_after"] > report["stored_before"]).all()
    assert (report["madds_before"] == 49).all()
    assert (report["madds_after"] < report["madds_before"]).all()
    # measured, side by side: positive times, speedup their ratio
    assert (report[["ns_before", "ns_after"]] > 0).all().all()
    np.testing.assert_allclose(
        report["speedup"], report["ns_before"] / report["ns_after"]
    )


def test_evaluate_scores_held_out_data_only(tiny_classification):
    X, y = tiny_classification
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    comp = SplineActivationCompressor(_clf("prelu")).fit(X_train, y_train)
    with pytest.raises(ValueError, match="About 100% of the rows given to evaluate"):
        comp.evaluate(X_train, y_train)
    # the same rows in float64, or as a DataFrame, are still the same rows
    with pytest.raises(ValueError, match="are rows given to fit"):
        comp.evaluate(X_train.astype(np.float64)[:20], y_train[:20])
    with pytest.raises(ValueError, match="are rows given to fit"):
        comp.evaluate(pd.DataFrame(X_train), y_train)
    # a test set with some training rows mixed in: a warning
    mixed = np.r_[X_test, X_train[:5]], np.r_[y_test, y_train[:5]]
    with pytest.warns(UserWarning, match="About 14% of the rows"):
        comp.evaluate(*mixed)
    result = comp.evaluate(X_test, y_test, n_repeats=3)
    assert result["n_samples"] == len(X_test)
    assert result["score_before"] == comp.estimator_.score(X_test, y_test)
    assert result["score_after"] == comp.score(X_test, y_test)
    assert result["predict_seconds_before"] > 0 and result["predict_seconds_after"] > 0
    assert result["predict_speedup"] == pytest.approx(
        result["predict_seconds_before"] / result["predict_seconds_after"]
    )
    assert comp.evaluation_ is result
    with pytest.raises(ValueError, match="n_repeats must be an int >= 1, got 0"):
        comp.evaluate(X_test, y_test, n_repeats=0)


def test_evaluate_allows_duplicate_rows_of_the_data():
    # few distinct rows: a held-out split repeats training rows by chance, as
    # the training rows repeat each other; only rows given to fit beyond that
    # share count
    rng = np.random.default_rng(0)
    X = rng.integers(0, 3, (600, 3)).astype(np.float32)  # 27 distinct rows
    y = (X.sum(axis=1) > 3).astype(int)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    clf = _fit(_clf("prelu"), X_train, y_train)
    comp = SplineActivationCompressor(clf).fit(X_train)
    assert comp._fit_rows.expected > 0.9
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert comp.evaluate(X_test, y_test)["agreement"] == 1.0
    # many rows (only 2,048 hashed): the same estimate for held-out and fit rows
    X = rng.normal(size=(10_000, 3)).astype(np.float32)
    comp = SplineActivationCompressor(clf).fit(X[:8000])
    assert comp._fit_rows.expected == 0.0
    assert comp._fit_rows.share(X[8000:]) == 0.0
    assert 0.8 < comp._fit_rows.share(X[:8000]) < 1.2
    with pytest.raises(ValueError, match="are rows given to fit"):
        comp.evaluate(X[:2000], np.zeros(2000, dtype=int))


def test_pipeline_last_step_compressed_on_raw_inputs(tiny_classification):
    X, y = tiny_classification
    X = X * 50 + 100  # raw features far from the network's scale
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    pipe = make_pipeline(StandardScaler(), _clf("mixture"))
    _fit(pipe, X_train, y_train)
    comp = SplineActivationCompressor(pipe).fit(X_train)
    assert comp.estimator_ is pipe
    compressed = comp.compressed_estimator_
    assert type(compressed) is type(pipe) and compressed[0] is not pipe[0]
    inner = compressed[-1]
    assert all(isinstance(a, SplineActivation) for a in inner.activations_)
    assert not any(isinstance(a, SplineActivation) for a in pipe[-1].activations_)
    # the ranges are those of the scaled inputs the network sees
    values = _recorded_inputs(pipe[-1], pipe[0].transform(X_train), 0)
    np.testing.assert_allclose(
        [comp.layers_[0].low[0], comp.layers_[0].high[0]],
        np.quantile(values, (0.001, 0.999)),
    )
    # every method takes raw X and runs the preprocessing first
    np.testing.assert_allclose(
        comp.predict_proba(X_test), pipe.predict_proba(X_test), atol=0.02
    )
    np.testing.assert_array_equal(comp.predict(X_test), pipe.predict(X_test))
    assert comp.decision_function(X_test).shape == (len(X_test), 3)
    assert comp.score(X_test, y_test) == pipe.score(X_test, y_test)
    result = comp.evaluate(X_test, y_test)
    assert result["agreement"] == 1.0
    assert comp.n_features_in_ == X.shape[1]
    with pytest.raises(TypeError, match="activations replaced"):
        clone(compressed)
    # an unfitted pipeline is fitted on X, y; a nested one is found
    nested = make_pipeline(StandardScaler(), make_pipeline(_clf("mixture")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        comp = SplineActivationCompressor(nested).fit(X_train, y_train)
    assert not hasattr(nested[-1][-1], "net_")
    assert comp.report_["layer"].tolist() == [1, 2]
    assert comp.evaluate(X_test, y_test)["agreement"] == 1.0


def test_compression_display(fitted_mlp, tiny_classification):
    matplotlib = pytest.importorskip("matplotlib")
    X, _ = tiny_classification
    comp = SplineActivationCompressor(fitted_mlp, tol=1e-2).fit(X)
    disp = CompressionDisplay.from_compressor(comp)
    assert len(disp.axes_) == len(disp.hist_axes_) == 2
    assert len(disp.figure_.axes) == 4  # two panels, each with a histogram twin
    ax = disp.axes_[0]
    assert ax.get_title().startswith("layer 1 (mlp): exact")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["learned", "spline", "recorded range"]
    layer = comp.layers_[0]
    low, high = layer.low[0], layer.high[0]
    # the recorded range is marked: a shaded span and a line at each end
    assert [line.get_xdata()[0] for line in ax.lines[2:]] == [low, high]
    # the histogram is the stored one, over the panel's window
    hist = disp.hist_axes_[0].patches[0]
    assert disp.histograms[0][0] is not None
    drawn = hist.get_data()
    shown = (layer.edges[0][1:] > low - 0.1 * (high - low)) & (
        layer.edges[0][:-1] < high + 0.1 * (high - low)
    )
    np.testing.assert_array_equal(drawn.values, layer.counts[0][shown])
    # learned and spline agree on the plot (exact compression)
    np.testing.assert_allclose(disp.learned[0], disp.compressed[0], atol=1e-5)
    # on given axes; from an estimator (it fits the compressor)
    from matplotlib.figure import Figure

    axes = Figure().subplots(1, 2)
    disp = CompressionDisplay.from_estimator(fitted_mlp, X, ax=axes, tol=1e-2)
    assert disp.axes_[1] is axes[1]
    with pytest.raises(ValueError, match="ax has 1 axes but there are 2"):
        disp.plot(ax=axes[0])
    per_channel = _fit(_clf("prelu", per_neuron=True), *tiny_classification)
    comp = SplineActivationCompressor(per_channel).fit(X)
    disp = CompressionDisplay.from_compressor(comp, channel=5, margin=0.5)
    assert "channel 5" in disp.axes_[0].get_title()
    with pytest.raises(ValueError, match="channel=6 but layer 2 has 6 channels"):
        CompressionDisplay.from_compressor(comp, channel=6)
    assert matplotlib.get_backend()  # nothing above needed pyplot


def test_wrappers_take_the_type_of_what_they_wrap():
    # scikit-learn's is_classifier / stratified CV / scorers see the wrapped type
    from sklearn.base import is_classifier, is_regressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_learnact import LearnedActivationRegressor
    from sklearn_learnact.search import SurrogateActivationSearch

    clf = make_pipeline(StandardScaler(), LearnedActivationClassifier())
    assert is_classifier(SplineActivationCompressor(clf))
    assert is_regressor(SurrogateActivationSearch(LearnedActivationRegressor()))
    assert not is_classifier(SurrogateActivationSearch(LearnedActivationRegressor()))
