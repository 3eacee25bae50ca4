"""The registry and every activation module, parametrised over registry names."""

import io
import pickle

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from sklearn_learnact.activations import (
    ACTIVATIONS,
    FIXED_ACTIVATIONS,
    LEARNABLE_ACTIVATIONS,
    Affine,
    LearnableActivation,
    Mixture,
    Rational,
    Sin,
    Spline,
    Subnet,
    available_activations,
    get_activation,
    is_learnable,
)

ALL = available_activations()
PER_NEURON = [n for n in LEARNABLE_ACTIVATIONS if ACTIVATIONS[n].per_neuron]


def test_registry_names():
    assert set(FIXED_ACTIVATIONS) == {
        "identity", "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "mish",
        "softplus", "softsign", "sigmoid", "tanh", "sin", "hardswish",
    }  # fmt: skip
    assert set(LEARNABLE_ACTIVATIONS) == {
        "affine", "prelu", "swish", "mixture", "rational", "spline", "mlp"
    }  # fmt: skip
    assert ALL == FIXED_ACTIVATIONS + LEARNABLE_ACTIVATIONS
    assert all(is_learnable(n) == (n in LEARNABLE_ACTIVATIONS) for n in ALL)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown activation 'rleu'") as exc:
        get_activation("rleu")
    for name in ALL:
        assert name in str(exc.value)


def test_unknown_option_lists_options():
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['bassis'\].*basis"):
        get_activation("mixture", bassis=("relu", "tanh"))
    with pytest.raises(ValueError, match="does not support per_neuron"):
        get_activation("mlp", per_neuron=True, num_features=3)


@pytest.mark.parametrize("name", ALL)
def test_shape_and_fresh_instances(name):
    x = torch.randn(7, 5)
    a, b = get_activation(name), get_activation(name)
    assert a is not b
    assert a(x).shape == x.shape
    assert not set(map(id, a.parameters())) & set(map(id, b.parameters()))


@pytest.mark.parametrize("name", ALL)
def test_gradients(name):
    act = get_activation(name)
    x = torch.randn(16, 4, dtype=torch.float64, requires_grad=True)
    act = act.double()
    act(x).pow(2).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    params = list(act.parameters())
    assert bool(params) == is_learnable(name)
    for p in params:
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


@pytest.mark.parametrize("name", LEARNABLE_ACTIVATIONS)
def test_gradcheck(name):
    act = get_activation(name).double()
    x = torch.linspace(-4, 4, 23, dtype=torch.float64).reshape(23, 1)
    x = (x + 0.013).requires_grad_(True)  # off the knots and kinks
    params = tuple(act.parameters())

    def fn(x, *ps):
        with torch.nn.utils.stateless._reparametrize_module(
            act, dict(zip([n for n, _ in act.named_parameters()], ps))
        ):
            return act(x)

    assert torch.autograd.gradcheck(fn, (x, *params))


@pytest.mark.parametrize("name", LEARNABLE_ACTIVATIONS)
def test_frozen_is_fixed(name):
    act = get_activation(name).requires_grad_(False)
    x = torch.randn(8, 3, requires_grad=True)
    act(x).sum().backward()
    assert all(p.grad is None for p in act.parameters())
    assert x.grad is not None


@pytest.mark.parametrize("name", ALL)
def test_state_dict_round_trip(name):
    act = get_activation(name)
    with torch.no_grad():
        for p in act.parameters():
            p.add_(0.1 * torch.randn_like(p))
    buffer = io.BytesIO()
    torch.save(act.state_dict(), buffer)
    buffer.seek(0)
    fresh = get_activation(name)
    fresh.load_state_dict(torch.load(buffer))
    x = torch.randn(9, 2)
    torch.testing.assert_close(fresh(x), act(x))
    again = pickle.loads(pickle.dumps(act))
    torch.testing.assert_close(again(x), act(x))


@pytest.mark.parametrize("name", PER_NEURON)
def test_per_neuron(name):
    act = get_activation(name, num_features=5, per_neuron=True)
    assert act.num_parameters == 5
    for x in (torch.randn(4, 5), torch.randn(2, 5, 3, 3)):
        assert act(x).shape == x.shape
    for value in act.learned_parameters().values():
        assert value.shape == (5,)
    with pytest.raises(ValueError, match="num_parameters=5"):
        act(torch.randn(4, 6))


@pytest.mark.parametrize("name", LEARNABLE_ACTIVATIONS)
def test_learned_parameters_are_detached(name):
    act = get_activation(name)
    values = act.learned_parameters()
    assert values
    for value in values.values():
        assert not value.requires_grad and value.device.type == "cpu"
        assert value.dim() == 0


def test_affine_is_seed_001_and_affine():
    act = Affine()
    assert act.k0.item() == 0.5 and act.k1.item() == 1.0
    x = torch.linspace(-3, 3, 7)
    # affine: second differences vanish
    torch.testing.assert_close(act(x).diff().diff(), torch.zeros(5))
    assert "affine function of its input" in " ".join(Affine.__doc__.split())


def test_mixture_is_normalised_and_nonnegative():
    act = Mixture()
    with torch.no_grad():
        act.weight.copy_(torch.tensor([3.0, -4.0, 0.5]))
    p = act.coefficients()
    assert torch.all(p >= 0) and torch.isclose(p.sum(), torch.tensor(1.0))
    x = torch.randn(50)
    expected = p[0] * torch.relu(x) + p[1] * torch.tanh(x) + p[2] * torch.sin(x)
    torch.testing.assert_close(act(x), expected)
    assert set(act.learned_parameters()) == {"P_relu", "P_tanh", "P_sin"}


def test_mixture_any_registry_basis():
    act = get_activation("mixture", basis=("gelu", "softsign", "swish", "elu"))
    assert len(list(act.parameters())) == 2  # weights + the learnable swish basis
    assert act(torch.randn(3, 2)).shape == (3, 2)
    with pytest.raises(ValueError, match="at least two distinct"):
        get_activation("mixture", basis=("relu", "relu"))
    with pytest.raises(ValueError, match="Unknown activation"):
        get_activation("mixture", basis=("relu", "nope"))


def test_modules_take_modules_and_only_the_registry_takes_names():
    # the learnable modules take modules; a name gets a pointer to the registry
    with pytest.raises(TypeError, match=r"get_activation\('mixture'"):
        Mixture(basis=("relu", "tanh"))
    for make in (Rational, Spline, Subnet):
        with pytest.raises(TypeError, match="get_activation"):
            make(init="tanh")
    with pytest.raises(TypeError, match="get_activation"):
        Subnet(hidden_activation="tanh")
    act = Mixture(basis={"relu": torch.nn.ReLU(), "sin": Sin()})
    assert set(act.learned_parameters()) == {"P_relu", "P_sin"}
    x = torch.linspace(-3, 3, 31)
    torch.testing.assert_close(
        Rational(init=torch.tanh)(x), get_activation("rational", init="tanh")(x)
    )


def test_the_modules_take_modules_and_the_factories_resolve_names():
    # the learnable modules never resolve names themselves: their registered
    # factories do, so a module can be built from any callable
    import ast
    import inspect

    from sklearn_learnact.activations import learnable

    for cls in (Mixture, Rational, Spline, Subnet):
        tree = ast.parse(inspect.getsource(cls))
        called = {
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert "get_activation" not in called, cls.__name__
    assert ACTIVATIONS["mixture"].factory is learnable._mixture


@pytest.mark.parametrize("init", ["tanh", "relu", "sigmoid", "leaky_relu"])
def test_rational_approximates_its_init(init):
    act = get_activation("rational", init=init)
    x = torch.linspace(-3, 3, 301)
    ref = get_activation(init)(x)
    assert (act(x) - ref).abs().max() < 0.1


def test_rational_denominator_never_vanishes():
    act = Rational()
    with torch.no_grad():
        act.denominator.copy_(torch.tensor([-1.0, 0.5, -2.0, 3.0]))
    x = torch.linspace(-50, 50, 10001)
    assert torch.isfinite(act(x)).all()


@pytest.mark.parametrize("init, tol", [("relu", 0.05), ("tanh", 5e-3), ("silu", 5e-3)])
def test_spline_interpolates_init_and_extrapolates_linearly(init, tol):
    act = get_activation("spline", init=init, n_knots=32)
    x = torch.linspace(-3, 3, 301)
    assert (act(x) - get_activation(init)(x)).abs().max() < tol
    far = torch.tensor([10.0, 20.0, 30.0])
    assert torch.allclose(act(far).diff().diff(), torch.zeros(1), atol=1e-4)
    assert "knots" in dict(act.named_buffers())
    assert "knots" in act.state_dict()


def test_subnet_is_piecewise_linear_and_starts_near_init():
    act = Subnet(hidden_size=16)  # starts as ReLU
    x = torch.linspace(-6, 6, 601)
    assert (act(x) - torch.relu(x)).abs().max() < 1e-4
    tanh_net = get_activation("mlp", hidden_size=16, init="tanh")
    assert (tanh_net(x) - torch.tanh(x)).abs().max() < 0.1
    with pytest.raises(ValueError, match="hidden_size"):
        Subnet(hidden_size=0)


def test_learnable_base_class():
    for name in LEARNABLE_ACTIVATIONS:
        assert isinstance(get_activation(name), LearnableActivation)
    for name in FIXED_ACTIVATIONS:
        assert not isinstance(get_activation(name), LearnableActivation)


def test_options_are_introspected():
    assert ACTIVATIONS["mixture"].options == ("basis",)
    assert set(ACTIVATIONS["rational"].options) == {"degrees", "init"}
    assert "inplace" not in ACTIVATIONS["relu"].options
    assert np.all(
        [isinstance(s.summary, str) and s.summary for s in ACTIVATIONS.values()]
    )


@pytest.mark.parametrize("hidden", ["prelu", "swish", "relu"])
def test_subnetwork_with_a_learnable_hidden_activation_fits(hidden):
    # a learnable (float32) hidden activation once failed the float64
    # least-squares start of the subnetwork ("prelu: Type promoting not
    # supported"); it fits and moves like any other
    from sklearn_learnact import LearnedActivationClassifier

    X = np.random.default_rng(0).normal(size=(120, 4)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    clf = LearnedActivationClassifier(
        hidden_layer_sizes=(8,),
        activation="mlp",
        activation_params={"hidden_size": 4, "hidden_activation": hidden},
        max_iter=3,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    assert np.isfinite(clf.predict_proba(X)).all()
