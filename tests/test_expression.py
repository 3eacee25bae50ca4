"""Expression activations ("expr"): grammar, canonical form, and every place a
registry name works (estimators, grid search, comparisons, pickling, float64,
compression, plots)."""

import io
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_learnact import LearnedActivationClassifier, SplineActivationCompressor
from sklearn_learnact.activations import (
    ACTIVATIONS,
    EXPRESSION_ACTIVATIONS,
    FIXED_ACTIVATIONS,
    Expression,
    available_activations,
    get_activation,
    is_learnable,
)
from sklearn_learnact.activations.expression import (
    BINARY,
    MAX_LENGTH,
    UNARY,
    apply_operator,
    canonical_expression,
    format_expression,
)
from sklearn_learnact.compression import activation_madds
from sklearn_learnact.search import compare_activations

EXPR = "max(tanh(x), x * sigmoid(x))"
TINY = {"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _expr_clf(expr=EXPR, **kwargs):
    params = {**TINY, **kwargs}
    return LearnedActivationClassifier(
        activation="expr", activation_params={"expr": expr}, **params
    )


# ------------------------------------------------------------------ registry
def test_registry_has_one_expression_entry():
    assert EXPRESSION_ACTIVATIONS == ("expr",) == available_activations("expression")
    assert "expr" in ACTIVATIONS and ACTIVATIONS["expr"].required == ("expr",)
    assert "expr" not in FIXED_ACTIVATIONS + available_activations("all")
    assert not is_learnable("expr")
    assert all(not ACTIVATIONS[n].required for n in available_activations("all"))


def test_get_activation_builds_it_and_needs_the_expression():
    act = get_activation("expr", expr="max(tanh(x), x*sigmoid(x))")
    assert isinstance(act, Expression) and act.expr == EXPR
    assert repr(act) == f"Expression(expr='{EXPR}')"
    assert not list(act.parameters()) and not act.state_dict()
    with pytest.raises(ValueError, match=r"needs the option\(s\) \['expr'\]"):
        get_activation("expr")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['exp'\]"):
        get_activation("expr", exp="x")
    with pytest.raises(ValueError, match="does not support per_neuron"):
        get_activation("expr", expr="x", per_neuron=True, num_features=3)


# ------------------------------------------------------------------- grammar
@pytest.mark.parametrize(
    "text, why",
    [
        ("foo(x)", "unknown operator 'foo'"),
        ("tanh(x, x)", "tanh\\(\\) takes 1 argument, got 2"),
        ("max(x)", "max\\(\\) takes 2 arguments, got 1"),
        ("y + x", "unknown name 'y'"),
        ("x +", "does not parse"),
        ("", "it is empty"),
        ("__import__('os').system('true')", "only operators of the grammar"),
        ("__import__('os')", "unknown operator '__import__'"),
        ("(lambda: x)()", "only operators of the grammar can be called"),
        ("x[0]", "Subscript"),
        ("x if x else x", "IfExp"),
        ("tanh(x=1)", "plain positional arguments"),
        ("True * x", "True is not a number"),
        ("1e999 * x", "not finite"),
        ("1" + "0" * 400 + " + x", "not finite"),
        ("'x'", "'x' is not a number"),
    ],
)
def test_malformed_expressions_list_the_grammar(text, why):
    with pytest.raises(ValueError, match=why) as exc:
        Expression(text)
    message = str(exc.value)
    assert "unary operators" in message and "binary operators" in message
    assert all(name in message for name in (*UNARY, *BINARY))


def test_non_string_and_deeply_nested_expressions_are_rejected():
    with pytest.raises(ValueError, match="must be a string"):
        Expression(3.0)
    with pytest.raises(ValueError, match="nested too deeply|longer than"):
        Expression("tanh(" * 600 + "x" + ")" * 600)


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("maximum(tanh(identity(x)), mul(x, silu(x)))", "max(tanh(x), x * swish(x))"),
        ("add(x, zero(x))", "x + 0"),
        ("x - (x - x)", "x - (x - x)"),
        ("(x - x) - x", "x - x - x"),
        ("-(-x)", "x"),
        ("neg(-tanh(x))", "tanh(x)"),
        ("-(-(-x))", "-x"),
        ("neg(x * x)", "-(x * x)"),
        ("-x * x", "-x * x"),
        ("2 * -x", "2 * -x"),
        ("-2.50 * x", "-2.5 * x"),
        ("x ** 2", "pow(x, 2)"),
        ("+x / (x / x)", "x / (x / x)"),
        ("one(exp(x))", "1"),
    ],
)
def test_canonical_form(text, canonical):
    assert canonical_expression(text) == canonical
    assert canonical_expression(canonical) == canonical


def test_every_operator_is_finite_with_finite_gradients_in_both_dtypes():
    grid = np.concatenate([[0.0, -0.0, 1e-8, -1e-8], np.linspace(-5, 5, 201)])
    for dtype in (torch.float32, torch.float64):
        for name in (*UNARY, *BINARY):
            expr = f"{name}(x)" if name in UNARY else f"{name}(x, tanh(x))"
            x = torch.tensor(grid, dtype=dtype, requires_grad=True)
            y = Expression(expr)(x)
            assert y.dtype == dtype and y.shape == x.shape
            assert torch.isfinite(y).all(), (name, dtype)
            if name in ("zero", "one"):  # constants: no gradient at all
                assert not y.requires_grad
                continue
            y.sum().backward()
            assert torch.isfinite(x.grad).all(), (name, dtype)


def test_safe_division_and_pow_are_continuous_and_capped():
    x = torch.tensor([-2e-6, -1e-6, 0.0, 1e-6, 2e-6], dtype=torch.float64)
    y = Expression("1 / x")(x)
    np.testing.assert_allclose(y.numpy(), [-5e5, -1e6, 0.0, 1e6, 5e5])
    big = Expression("pow(exp(x), exp(x))")(torch.tensor([5.0]))
    assert torch.isfinite(big).all() and float(big) == pytest.approx(np.exp(30), 1e-5)
    np.testing.assert_allclose(
        Expression("pow(x, 2)")(torch.tensor([-3.0, 2.0])).numpy(), [9.0, 4.0]
    )


def test_gradcheck_in_float64():
    x = torch.linspace(-3, 3, 17, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(Expression(EXPR), (x,))
    assert torch.autograd.gradcheck(Expression("x / (x * x + 1) - erf(x)"), (x,))


def test_constant_expression_has_the_input_shape():
    out = Expression("one(x) + 1")(torch.zeros(3, 2, dtype=torch.float64))
    assert out.shape == (3, 2) and out.dtype == torch.float64
    assert (out == 2).all()


def test_cost_model_sums_the_operators():
    # max (1) + tanh (10) + mul (1) + sigmoid (12): the registered costs
    assert activation_madds(Expression(EXPR)) == 24.0
    assert activation_madds(Expression("x")) == 0.0


# -------------------------------------------------------- everywhere else
def test_module_pickles_as_text_and_rebuilds():
    act = Expression(EXPR)
    data = pickle.dumps(act)
    assert b"lambda" not in data and EXPR.encode() in data
    again = pickle.loads(data)
    x = torch.linspace(-4, 4, 9)
    assert again.expr == EXPR and torch.equal(again(x), act(x))
    buffer = io.BytesIO()
    torch.save(act, buffer)
    buffer.seek(0)
    assert torch.equal(torch.load(buffer, weights_only=False)(x), act(x))


def test_estimator_fits_predicts_clones_and_pickles(tiny_classification):
    X, y = tiny_classification
    clf = _expr_clf().fit(X, y)
    assert all(isinstance(a, Expression) and a.expr == EXPR for a in clf.activations_)
    assert clf.learned_activations_.empty
    assert clone(clf).get_params()["activation_params"] == {"expr": EXPR}
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(ValueError, match="unknown operator 'tan'"):
        _expr_clf("tan(x)").fit(X, y)


def test_grid_search_over_expressions(tiny_classification):
    X, y = tiny_classification
    grid = GridSearchCV(
        _expr_clf(),
        {"activation_params": [{"expr": "tanh(x)"}, {"expr": EXPR}, {"expr": "x"}]},
        cv=2,
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 3
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    assert grid.best_estimator_.activation == "expr"


def test_compare_activations_grid_and_optuna(tiny_classification, tmp_path):
    pytest.importorskip("optuna")
    X, y = tiny_classification
    for search in ("grid", "optuna"):
        table = compare_activations(
            _expr_clf(),
            X,
            y,
            ["expr"],
            cv=2,
            search=search,
            n_trials=2,
            storage=str(tmp_path / f"{search}.journal") if search == "optuna" else None,
            random_state=0,
        )
        assert table["activation"].tolist() == ["expr"]
        assert table["kind"].tolist() == ["fixed"]
        assert np.isfinite(table["mean_score"]).all()
    table = compare_activations(
        _expr_clf(),
        X,
        y,
        ["expr"],
        cv=2,
        param_grid={"activation_params": [{"expr": "tanh(x)"}, {"expr": EXPR}]},
        random_state=0,
    )
    assert "expr" in table["params"].iloc[0]


def test_float64_module_in_a_double_network():
    act = get_activation("expr", expr="selu(x) / (1 + abs(x))").double()
    x = torch.randn(4, 3, dtype=torch.float64)
    assert act(x).dtype == torch.float64


def test_compressing_an_expression_activation(tiny_classification):
    X, y = tiny_classification
    X_fit, X_test, y_fit, y_test = train_test_split(X, y, random_state=0)
    clf = _expr_clf(max_iter=30, learning_rate_init=1e-2).fit(X_fit, y_fit)
    comp = SplineActivationCompressor(clf, degree=3).fit(X_fit)
    assert comp.report_["kind"].tolist() == ["expr"]
    assert comp.max_abs_error_ < comp.tol
    assert comp.report_["madds_before"].iloc[0] == 24.0
    assert comp.evaluate(X_test, y_test)["agreement"] == 1.0  # held-out rows
    again = pickle.loads(pickle.dumps(comp))
    np.testing.assert_array_equal(again.predict(X), comp.predict(X))


def test_activation_display_plots_an_expression(tiny_classification):
    pytest.importorskip("matplotlib")
    from sklearn_learnact.plotting import ActivationDisplay

    X, y = tiny_classification
    disp = ActivationDisplay.from_estimator(_expr_clf().fit(X, y))
    curve = np.asarray(disp.outputs[0][0]).ravel()
    x = np.asarray(disp.inputs[0]).ravel()
    expected = Expression(EXPR)(torch.as_tensor(x, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(curve, expected, rtol=1e-5, atol=1e-6)


def test_the_limits_hold_for_what_the_library_writes_and_reads_back():
    # issue 24: 256 terms x**2 (1,789 characters) were accepted, but the model
    # held the canonical pow(x, 2) + ... (longer than the limit) and could not
    # be unpickled; anything accepted now reads back, the rest fails at once
    group = "(" + " + ".join(["x**2"] * 16) + ")"
    long = " + ".join([group] * 16)
    assert len(long) < MAX_LENGTH
    with pytest.raises(ValueError, match=r"canonical form .* is \d{4} characters"):
        Expression(long)
    with pytest.raises(ValueError, match="nested too deeply .257 levels"):
        Expression(" + ".join(["x**2"] * 256))  # a + b + c + ...: one level each
    fits = " + ".join([group] * 8)
    act = Expression(fits)
    assert len(act.expr) <= MAX_LENGTH
    assert pickle.loads(pickle.dumps(act)).expr == act.expr
    # a deep x**x**...: the clear error, not a RecursionError from the formatter
    with pytest.raises(ValueError, match="nested too deeply"):
        Expression("x" + "**x" * 340)
    tree = ("x",)
    for _ in range(400):
        tree = apply_operator("tanh", [tree])
    with pytest.raises(ValueError, match="nested too deeply"):
        format_expression(tree)
