"""Behaviour of the two estimators, as a scikit-learn user sees them."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_learnact import (
    LearnedActivationClassifier,
    LearnedActivationRegressor,
    TrainingDivergedError,
)
from sklearn_learnact.activations import Mixture, available_activations

FAST = {"hidden_layer_sizes": (16,), "max_iter": 3, "random_state": 0}


@pytest.fixture(autouse=True)
def _no_convergence_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.mark.parametrize("activation", available_activations())
def test_every_activation_fits(tiny_classification, activation):
    X, y = tiny_classification
    clf = LearnedActivationClassifier(activation=activation, **FAST).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert set(clf.predict(X)) <= set(clf.classes_)
    assert clf.n_iter_ == 3 and len(clf.history_) == 3


def test_learns_a_simple_problem(tiny_classification):
    X, y = tiny_classification
    clf = LearnedActivationClassifier(
        (32,), "mixture", max_iter=150, learning_rate_init=1e-2, random_state=0
    )
    assert clf.fit(X, y).score(X, y) > 0.9


def test_string_labels_and_binary():
    rng = np.random.RandomState(0)
    X = rng.randn(80, 3).astype(np.float32)
    y = np.where(X[:, 0] > 0, "yes", "no")
    clf = LearnedActivationClassifier(
        (8,), "relu", max_iter=100, learning_rate_init=1e-2, random_state=0
    ).fit(X, y)
    assert list(clf.classes_) == ["no", "yes"]
    assert clf.predict(X).dtype == y.dtype
    assert clf.score(X, y) > 0.9
    np.testing.assert_allclose(
        np.exp(clf.predict_log_proba(X)), clf.predict_proba(X), rtol=1e-10
    )


def test_pandas_input_keeps_feature_names(tiny_classification):
    X, y = tiny_classification
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = LearnedActivationClassifier(**FAST).fit(frame, pd.Series(y))
    assert list(clf.feature_names_in_) == list(frame.columns)
    assert clf.predict(frame).shape == (len(frame),)


def test_learned_activations_affine_and_mixture(tiny_classification):
    X, y = tiny_classification
    clf = LearnedActivationClassifier((8, 4), "affine", max_iter=2, random_state=0)
    table = clf.fit(X, y).learned_activations_
    assert list(table.columns) == [
        "layer",
        "activation",
        "parameter",
        "neuron",
        "value",
    ]
    assert set(table.parameter) == {"k0", "k1"} and set(table.layer) == {1, 2}
    assert table.neuron.isna().all()
    k0 = table.query("layer == 1 and parameter == 'k0'").value.item()
    assert k0 != 0.5  # it was learned away from seed 001's initial value

    clf.set_params(activation="mixture").fit(X, y)
    p = clf.learned_activations_.pivot(
        index="layer", columns="parameter", values="value"
    )
    assert list(p.columns) == ["P_relu", "P_sin", "P_tanh"]
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    assert (p.values >= 0).all()

    clf.set_params(activation="relu").fit(X, y)
    assert clf.learned_activations_.empty


def test_per_neuron_table(tiny_classification):
    X, y = tiny_classification
    clf = LearnedActivationClassifier(
        (8,), "swish", activation_params={"per_neuron": True}, max_iter=2
    ).fit(X, y)
    table = clf.learned_activations_
    assert list(table.neuron) == list(range(8))
    assert clf.activations_[0].num_parameters == 8


def test_history_with_early_stopping(tiny_classification):
    X, y = tiny_classification
    clf = LearnedActivationClassifier(
        (16,), early_stopping=True, n_iter_no_change=3, max_iter=200,
        learning_rate_init=1e-2, random_state=0,
    ).fit(X, y)  # fmt: skip
    hist = clf.history_
    assert {"epoch", "train_loss", "valid_loss", "valid_score", "dur"} <= set(hist)
    assert hist.valid_score.between(0, 1).all()
    assert clf.n_iter_ < 200  # it stopped early
    assert clf.loss_curve_ == hist.train_loss.tolist()


def test_regressor_valid_score_is_r2(tiny_regression):
    X, y = tiny_regression
    reg = LearnedActivationRegressor(
        (16,), "relu", early_stopping=True, max_iter=5, random_state=0
    ).fit(X, y)
    assert reg.history_.valid_score.le(1).all()


def test_alternating_schedule(tiny_classification):
    X, y = tiny_classification
    clf = LearnedActivationClassifier(
        (8,), "mixture", schedule="alternating", cycle_epochs=(2, 3, 2),
        n_iter_no_change=100, random_state=0,
    )  # fmt: skip
    clf.fit(X, y)
    assert clf.history_.cycle.tolist() == [1, 1, 2, 2, 2, 3, 3]
    assert clf.n_iter_ == 7


def test_alternating_moves_activations_only_in_cycle_two(tiny_classification):
    X, y = tiny_classification
    kw = {"schedule": "alternating", "n_iter_no_change": 100, "random_state": 0}

    def weights(cycle_epochs):
        clf = LearnedActivationClassifier(
            (8,), "mixture", cycle_epochs=cycle_epochs, **kw
        )
        return clf.fit(X, y).activations_[0].weight.detach().clone()

    w_init = Mixture().weight.detach()  # equal weights
    a, b = weights((3, 2, 1)), weights((3, 2, 4))
    torch.testing.assert_close(a, b)  # cycle 3 trains the net only
    assert not torch.allclose(a, w_init)  # cycle 2 trained the activation


def test_learn_activation_false_freezes(tiny_classification):
    X, y = tiny_classification
    clf = LearnedActivationClassifier(
        (8,), "mixture", learn_activation=False, max_iter=3, random_state=0
    ).fit(X, y)
    p = clf.learned_activations_.value.to_numpy()
    np.testing.assert_allclose(p, 1 / 3, rtol=1e-6)


def test_param_groups(tiny_classification):
    X, y = tiny_classification
    clf = LearnedActivationClassifier(
        (8,), "rational", alpha=0.5, batch_size=10, activation_lr=0.05, max_iter=1
    ).fit(X, y)
    groups = clf.net_.optimizer_.param_groups
    act_ids = {id(p) for p in clf.activations_[0].parameters()}
    act_group = [g for g in groups if {id(p) for p in g["params"]} == act_ids]
    assert act_group and act_group[0]["lr"] == 0.05
    assert act_group[0]["weight_decay"] == 0.0
    decays = sorted(g["weight_decay"] for g in groups)
    assert decays == [0.0, 0.0, 0.05]  # alpha / batch_size on weights only


def test_same_random_state_same_predictions(tiny_classification):
    X, y = tiny_classification
    state = torch.get_rng_state()
    a = LearnedActivationClassifier(activation="spline", **FAST).fit(X, y)
    b = LearnedActivationClassifier(activation="spline", **FAST).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert torch.equal(state, torch.get_rng_state())  # global RNG untouched
    c = LearnedActivationClassifier(activation="spline", **{**FAST, "random_state": 1})
    assert not np.array_equal(c.fit(X, y).predict_proba(X), a.predict_proba(X))


def test_pickle_joblib_clone(tiny_classification, tmp_path):
    X, y = tiny_classification
    clf = LearnedActivationClassifier(activation="mlp", **FAST).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    joblib.dump(clf, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params() and not hasattr(fresh, "net_")


def test_pipeline_with_column_transformer():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {
            "age": rng.uniform(1, 80, 200),
            "fare": rng.exponential(30, 200),
            "sex": rng.choice(["male", "female"], 200),
        }
    )
    y = ((frame.sex == "female") | (frame.age < 10)).astype(int)
    pre = make_column_transformer(
        (OneHotEncoder(sparse_output=False), ["sex"]),
        (StandardScaler(), ["age", "fare"]),
    )
    pipe = make_pipeline(
        pre,
        LearnedActivationClassifier(
            (16,), "mixture", max_iter=60, learning_rate_init=1e-2, random_state=0
        ),
    )
    assert pipe.fit(frame, y).score(frame, y) > 0.85


def test_grid_search_over_activations_parallel(tiny_classification):
    X, y = tiny_classification
    grid = {"activation": ["relu", "tanh", "affine", "mixture", "mlp"]}
    search = GridSearchCV(
        LearnedActivationClassifier((8,), max_iter=3, random_state=0), grid, cv=3,
        n_jobs=2, error_score="raise",
    ).fit(X, y)  # fmt: skip
    assert len(search.cv_results_["mean_test_score"]) == 5
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_grid_search_over_activation_params(tiny_classification):
    X, y = tiny_classification
    grid = {
        "activation": ["mixture"],
        "activation_params": [
            {"basis": ("relu", "tanh", "sin")},
            {"basis": ("relu", "tanh")},
            {"basis": ("relu", "tanh"), "per_neuron": True},
        ],
    }
    search = GridSearchCV(
        LearnedActivationClassifier(**FAST), grid, cv=2, error_score="raise"
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 3


def test_regressor_single_and_multi_output(tiny_regression):
    X, y = tiny_regression
    reg = LearnedActivationRegressor(
        (32,), "rational", max_iter=200, learning_rate_init=1e-2, random_state=0
    ).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == y.shape and pred.dtype == np.float64
    assert reg.score(X, y) > 0.9
    Y = np.column_stack([y, -2 * y])
    multi = clone(reg).fit(X, Y)
    assert multi.predict(X).shape == (len(X), 2) and multi.n_outputs_ == 2
    assert multi.score(X, Y) > 0.9


def test_sample_weight(tiny_classification):
    X, y = tiny_classification
    kw = {"hidden_layer_sizes": (16,), "max_iter": 5, "random_state": 0}
    plain = LearnedActivationClassifier(**kw).fit(X, y)
    ones = LearnedActivationClassifier(**kw).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_allclose(plain.predict_proba(X), ones.predict_proba(X))
    weights = np.where(y == 0, 50.0, 1.0)
    heavy = LearnedActivationClassifier(**{**kw, "max_iter": 40}).fit(X, y, weights)
    light = LearnedActivationClassifier(**{**kw, "max_iter": 40}).fit(X, y)
    assert heavy.predict_proba(X)[:, 0].mean() > light.predict_proba(X)[:, 0].mean()


def test_verbose_progress_bar(tiny_classification, capsys):
    X, y = tiny_classification
    LearnedActivationClassifier(
        (8,), verbose=1, early_stopping=True, max_iter=2, random_state=0
    ).fit(X, y)
    err = capsys.readouterr().err
    assert "2/2" in err and "train_loss" in err and "valid_score" in err


def test_convergence_warning(tiny_classification):
    X, y = tiny_classification
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LearnedActivationClassifier((8,), max_iter=2).fit(X, y)
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)


def test_device_auto_is_cpu_without_cuda(tiny_classification):
    X, y = tiny_classification
    clf = LearnedActivationClassifier(device="auto", **FAST).fit(X, y)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert clf.device_.type == expected
    with pytest.raises(ValueError, match="device must be"):
        LearnedActivationClassifier(device="gpu0", **FAST).fit(X, y)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            LearnedActivationClassifier(device="cuda", **FAST).fit(X, y)


def test_cnn_on_flat_images():
    rng = np.random.RandomState(0)
    X = rng.rand(60, 2 * 8 * 8).astype(np.float32)
    y = (X[:, :64].mean(axis=1) > X[:, 64:].mean(axis=1)).astype(int)
    clf = LearnedActivationClassifier(
        (16,), "mixture", architecture="cnn", image_shape=(2, 8, 8), max_iter=2,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    assert clf.predict(X).shape == (60,)
    assert len(clf.activations_) == 3
    assert set(clf.learned_activations_.layer) == {1, 2, 3}


# --------------------------------------------------------------- bad input
def _clf(**kw):
    return LearnedActivationClassifier(**{**FAST, **kw})


def test_nan_and_inf_suggest_an_imputer(tiny_classification):
    X, y = tiny_classification
    Xn = X.copy()
    Xn[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"(?s)Input X contains NaN.*imputer"):
        _clf().fit(Xn, y)
    Xi = X.copy()
    Xi[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        _clf().fit(Xi, y)
    clf = _clf().fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(Xn)


def test_wrong_feature_count_at_predict(tiny_classification):
    X, y = tiny_classification
    clf = _clf().fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but .* expecting 6"):
        clf.predict(X[:, :5])


def test_1d_and_empty_x(tiny_classification):
    X, y = tiny_classification
    with pytest.raises(ValueError, match=r"(?s)Expected 2D array.*Reshape"):
        _clf().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="0 sample"):
        _clf().fit(X[:0], y[:0])


def test_single_class(tiny_classification):
    X, _ = tiny_classification
    with pytest.raises(ValueError, match="only one class.*at least two"):
        _clf().fit(X, np.zeros(len(X)))


def test_non_numeric_columns_name_them():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "sex": ["m", "f", "m", "f"]})
    with pytest.raises(ValueError, match=r"non-numeric column\(s\) \['sex'\].*OneHot"):
        _clf().fit(frame, [0, 1, 0, 1])
    array = frame.to_numpy()
    with pytest.raises(ValueError, match="non-numeric values.*OneHotEncoder"):
        _clf().fit(array, [0, 1, 0, 1])


def test_image_shape_errors(tiny_classification):
    X, y = tiny_classification
    with pytest.raises(ValueError, match=r"image_shape=\(1, 2, 2\) means 4 .* X has 6"):
        _clf(architecture="cnn", image_shape=(1, 2, 2)).fit(X, y)
    with pytest.raises(ValueError, match="needs image_shape"):
        _clf(architecture="cnn").fit(X, y)


def test_unknown_activation_lists_names(tiny_classification):
    X, y = tiny_classification
    with pytest.raises(ValueError, match="Unknown activation 'swishy'.*mixture"):
        _clf(activation="swishy").fit(X, y)
    with pytest.raises(ValueError, match="unknown option"):
        _clf(activation="relu", activation_params={"basis": ("relu",)}).fit(X, y)


@pytest.mark.parametrize(
    "param, value, match",
    [
        ("hidden_layer_sizes", (4, 0), "hidden_layer_sizes"),
        ("schedule", "cyclic", "schedule must be"),
        ("cycle_epochs", (1, 2), "cycle_epochs"),
        ("batch_size", 0, "batch_size"),
        ("max_iter", 0, "max_iter"),
        ("validation_fraction", 1.5, "validation_fraction"),
        ("learning_rate_init", -1.0, "learning_rate_init"),
        ("activation_lr", 0.0, "activation_lr"),
        ("architecture", "rnn", "architecture"),
        ("activation_params", ["basis"], "activation_params"),
    ],
)
def test_bad_parameters(tiny_classification, param, value, match):
    X, y = tiny_classification
    params = {"schedule": "alternating"} if param == "cycle_epochs" else {}
    with pytest.raises(ValueError, match=match):
        _clf(**{**params, param: value}).fit(X, y)


def test_diverging_training_names_the_epoch(tiny_regression):
    X, y = tiny_regression
    reg = LearnedActivationRegressor(
        (16,), "relu", learning_rate_init=1e6, max_iter=50, random_state=0
    )
    with pytest.raises(TrainingDivergedError, match=r"epoch \d+.*Lower the learning"):
        reg.fit(X * 1e18, y * 1e18)
    assert not hasattr(reg, "net_")  # nothing half-fitted left behind


def test_fit_callbacks_run_and_are_not_parameters(tiny_classification):
    from skorch.callbacks import Callback

    class Count(Callback):
        epochs = 0

        def on_epoch_end(self, net, **kwargs):
            Count.epochs += 1

    X, y = tiny_classification
    clf = LearnedActivationClassifier(**FAST)
    clf.fit(X, y, callbacks=[("count", Count())])
    assert Count.epochs == 3
    assert "callbacks" not in clf.get_params()
    clone(clf).fit(X, y)  # a clone runs without them
    assert Count.epochs == 3


def test_small_nets_train_on_one_thread_and_restore_the_setting(tiny_classification):
    from skorch.callbacks import Callback

    class Threads(Callback):
        seen: list = []

        def on_epoch_end(self, net, **kwargs):
            Threads.seen.append(torch.get_num_threads())

    X, y = tiny_classification
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        LearnedActivationClassifier(**FAST).fit(X, y, callbacks=[("t", Threads())])
        assert Threads.seen == [1, 1, 1]  # 120 x 6 -> 16 -> 3: tiny
        assert torch.get_num_threads() == 2
        Threads.seen = []
        big = LearnedActivationClassifier((2048, 2048), max_iter=1, batch_size=120)
        big.fit(X, y, callbacks=[("t", Threads())])
        assert Threads.seen == [2]  # 120 * 4.2M multiply-adds per batch
    finally:
        torch.set_num_threads(before)


# -- issue 11: estimators that fail loudly and reproduce -------------------
def test_divergence_that_never_reaches_nan_is_an_error(tiny_regression):
    X, y = tiny_regression
    reg = LearnedActivationRegressor(
        (16,), "relu", learning_rate_init=1e6, max_iter=20, random_state=0
    )
    with pytest.raises(TrainingDivergedError, match="times its value before the first"):
        reg.fit(X, y)
    assert not hasattr(reg, "net_")


def test_a_loss_growing_for_epochs_is_a_divergence(tiny_regression):
    from skorch.callbacks import Callback

    class Grow(Callback):  # a learning rate that keeps growing
        def on_epoch_end(self, net, **kwargs):
            for group in net.optimizer_.param_groups:
                group["lr"] *= 3.0

    X, y = tiny_regression
    reg = LearnedActivationRegressor(
        (16,), "tanh", learning_rate_init=0.02, max_iter=60, random_state=0,
        n_iter_no_change=100,
    )  # fmt: skip
    with pytest.raises(TrainingDivergedError, match="diverged"):
        reg.fit(X, y, callbacks=[Grow()])


def test_zero_weights_are_ignored_and_negative_ones_rejected(tiny_classification):
    X, y = tiny_classification
    order = np.argsort(np.arange(len(y)) % 2)  # first half: even rows
    X, y = X[order], y[order]
    weight = np.r_[np.zeros(60), np.ones(60)]  # whole batches of zero weight
    kw = {"hidden_layer_sizes": (8,), "max_iter": 5, "batch_size": 20, "shuffle": False}
    clf = LearnedActivationClassifier(random_state=0, **kw)
    clf.fit(X, y, sample_weight=weight)  # no false divergence (no 0/0)
    assert np.isfinite(clf.loss_curve_).all()
    with pytest.raises(ValueError, match="negative"):
        clf.fit(X, y, sample_weight=np.r_[-np.ones(60), np.ones(60)])
    with pytest.raises(ValueError, match="all zero"):
        clf.fit(X, y, sample_weight=np.zeros(120))


def test_same_random_state_same_model_in_concurrent_threads(tiny_classification):
    from concurrent.futures import ThreadPoolExecutor

    X, y = tiny_classification

    def fit(_):
        clf = LearnedActivationClassifier((32,), "mixture", max_iter=5, random_state=7)
        return clf.fit(X, y).predict_proba(X)

    before = torch.get_num_threads()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(fit, range(8)))
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])
    assert torch.get_num_threads() == before  # the single-thread switch is scoped


def test_bad_activation_options_devices_and_image_shape(tiny_classification):
    X, y = tiny_classification
    with pytest.raises(ValueError, match="leaky_relu.*negative_slope"):
        _clf(activation="leaky_relu", activation_params={"negative_slope": "x"}).fit(
            X, y
        )
    for device in ("meta", "mps"):
        with pytest.raises(ValueError, match="not supported"):
            _clf(device=device).fit(X, y)
    images = np.random.RandomState(0).rand(40, 64).astype(np.float32)
    labels = np.arange(40) % 2
    cnn = _clf(architecture="cnn", image_shape=np.array([1, 8, 8]))
    assert cnn.fit(images, labels).predict(images).shape == (40,)


def test_set_params_after_fit_does_not_relabel(tiny_classification):
    X, y = tiny_classification
    clf = _clf(activation="affine").fit(X, y)
    clf.set_params(activation="mixture")
    table = clf.learned_activations_
    assert set(table["activation"]) == {"affine"}
    assert set(table["parameter"]) == {"k0", "k1"}
    assert clf.activation_ == "affine"


# -- issue 10: what a scikit-learn user expects -----------------------------
def test_regressor_standardises_a_raw_target():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)  # target 25..346
    X = StandardScaler().fit_transform(X)
    kw = {"hidden_layer_sizes": (32,), "activation": "relu", "max_iter": 60,
          "learning_rate_init": 1e-2, "random_state": 0}  # fmt: skip
    reg = LearnedActivationRegressor(**kw).fit(X[:300], y[:300])
    assert reg.target_mean_ == pytest.approx(y[:300].mean())
    assert reg.target_scale_ == pytest.approx(y[:300].std())
    assert reg.score(X[300:], y[300:]) > 0.3  # Ridge gets ~0.5
    raw = LearnedActivationRegressor(standardize_target=False, **kw)
    assert raw.fit(X[:300], y[:300]).score(X[300:], y[300:]) < 0.0  # under-trained


def test_warm_start_and_partial_fit_continue_training(tiny_classification):
    X, y = tiny_classification
    clf = _clf(max_iter=3, warm_start=True, n_iter_no_change=100).fit(X, y)
    first = clf.loss_curve_[-1]
    clf.fit(X, y)
    assert clf.n_iter_ == 6 and clf.loss_curve_[-1] < first
    part = LearnedActivationClassifier((8,), random_state=0)
    part.partial_fit(X[:30], y[:30], classes=np.unique(y))
    part.partial_fit(X[30:], y[30:])
    assert part.n_iter_ == 2 and list(part.classes_) == [0, 1, 2]
    with pytest.raises(ValueError, match="not in classes"):
        LearnedActivationClassifier().partial_fit(X, y, classes=[0, 1])
    reg = LearnedActivationRegressor((8,), random_state=0)
    reg.partial_fit(X, y * 10.0).partial_fit(X, y * 10.0)
    assert reg.n_iter_ == 2


@pytest.mark.parametrize("device", ["cpu", "cpu:0"])
def test_partial_fit_keeps_adams_state_on_the_same_device(tiny_classification, device):
    # "cpu:0" and the parameters' "cpu" (as "cuda" and "cuda:0") are one
    # device: continuing training must not rebuild the optimiser
    X, y = tiny_classification
    clf = LearnedActivationClassifier((8,), device=device, random_state=0)
    clf.partial_fit(X, y, classes=np.unique(y))
    optimizer = clf.net_.optimizer_
    clf.partial_fit(X, y)
    assert clf.net_.optimizer_ is optimizer
    steps = {int(state["step"]) for state in optimizer.state.values()}
    assert steps == {2 * -(-len(X) // 200)}  # two epochs of 200-row batches


def test_class_weight_is_a_sample_weight(tiny_classification):
    X, y = tiny_classification
    weights = {0: 1.0, 1: 3.0, 2: 0.5}
    a = _clf(class_weight=weights).fit(X, y)
    b = _clf().fit(X, y, sample_weight=np.vectorize(weights.get)(y))
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-6)
    c = _clf(class_weight="balanced").fit(X, y)
    assert c.predict(X).shape == y.shape
    with pytest.raises(ValueError, match="class_weight"):
        _clf(class_weight="heavy").fit(X, y)


def test_decision_function_and_mlp_attributes(tiny_classification):
    X, y = tiny_classification
    clf = _clf(hidden_layer_sizes=(8, 4)).fit(X, y)
    scores = clf.decision_function(X)
    assert scores.shape == (120, 3)
    np.testing.assert_array_equal(clf.classes_[scores.argmax(1)], clf.predict(X))
    binary = _clf().fit(X, y == 1)
    log_odds = binary.decision_function(X)
    assert log_odds.shape == (120,)
    np.testing.assert_array_equal(binary.classes_[(log_odds > 0).astype(int)],
                                  binary.predict(X))  # fmt: skip
    assert [w.shape for w in clf.coefs_] == [(6, 8), (8, 4), (4, 3)]
    assert [b.shape for b in clf.intercepts_] == [(8,), (4,), (3,)]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.t_ == 120 * clf.n_iter_
    early = _clf(early_stopping=True).fit(X, y)
    assert early.best_loss_ is None
    assert early.best_validation_score_ == max(early.validation_scores_)


def test_verbose_2_writes_no_colour_codes_to_a_pipe(tiny_classification, capsys):
    X, y = tiny_classification
    _clf(verbose=2, early_stopping=True).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "\x1b[" not in out


def test_replaced_activations_refuse_clone(tiny_classification):
    from sklearn_learnact.activations import get_activation

    X, y = tiny_classification
    clf = _clf(activation="prelu").fit(X, y)
    clf.replace_activations({0: get_activation("relu")})
    assert clf.replaced_activations_ == {0: "ReLU"}
    assert clf.learned_activations_.empty  # tells what it is now
    assert all(p.requires_grad for p in clf.net_.module_.parameters())
    params = {id(p) for g in clf.net_.optimizer_.param_groups for p in g["params"]}
    assert params == {id(p) for p in clf.net_.module_.parameters()}
    with pytest.raises(TypeError, match="clone would rebuild the original"):
        clone(clf)
    with pytest.raises(ValueError, match="out of range"):
        clf.replace_activations({3: get_activation("relu")})
    clf.fit(X, y)  # a new fit trains what the parameters describe
    assert clf.replaced_activations_ == {} and clone(clf).activation == "prelu"


@pytest.mark.parametrize(
    "weights",
    [
        {0: -1.0, 1: 1.0, 2: 1.0},
        {0: np.nan, 1: 1.0, 2: 1.0},
        dict.fromkeys(range(3), 0.0),
    ],
)
def test_class_weights_are_checked_like_sample_weights(tiny_classification, weights):
    # issue 24: a negative weight trained (loss -7.5); NaN or all zero were
    # reported as a diverged training ("lower the learning rate")
    X, y = tiny_classification
    with pytest.raises(ValueError, match="class_weight must be .* weights >= 0") as exc:
        _clf(class_weight=weights).fit(X, y)
    assert "learning rate" not in str(exc.value)


def test_a_loss_that_does_not_move_warns(tiny_classification):
    # issue 24: learning_rate_init=1e-12 stopped as converged after 11 epochs
    X, y = tiny_classification
    with pytest.warns(ConvergenceWarning, match="training loss did not move .*1e-12"):
        LearnedActivationClassifier((8,), learning_rate_init=1e-12, random_state=0).fit(
            X, y
        )


def test_huge_inputs_missing_targets_and_overflowing_outputs_say_so(
    tiny_classification, tiny_regression
):
    X, y = tiny_classification
    # issue 24 (low): inputs of 1e30 trained with loss 1e29 and no hint
    with pytest.warns(UserWarning, match="X has values up to .*e\\+30.*scale"):
        _clf(max_iter=2).fit(X * 1e30, y)
    with pytest.warns(UserWarning, match="X has values up to .*e\\+30.*scale"):
        _clf(max_iter=2).fit(-np.abs(X) * 1e30, y)  # negative ones count too
    # y holding None: numpy's raw TypeError, or a "diverged" regressor
    for labels in (y.astype(object), np.array(["a", "b", "c"], object)[y]):
        labels[[3, 7]] = None
        with pytest.raises(ValueError, match="y has 2 missing values .None or NaN"):
            _clf().fit(X, labels)
    Xr, yr = tiny_regression
    yr = yr.astype(object)
    yr[0] = None
    with pytest.raises(ValueError, match="y has 1 missing value .None or NaN"):
        LearnedActivationRegressor((4,), max_iter=2).fit(Xr, yr)
    # rational predicted NaN/-inf above ~1e8 without a word
    reg = LearnedActivationRegressor((4,), "rational", max_iter=3, random_state=0)
    reg.fit(Xr, tiny_regression[1])
    with pytest.warns(RuntimeWarning, match="not finite for 2 of 2 rows.*scale"):
        reg.predict(np.full((2, Xr.shape[1]), 1e9, np.float32))
