"""The built-in formulas (``activations._kernels.formulas``) against plain autograd.

Each formula is checked three ways, in float64 on the eager path: its output
and gradients equal those of a small reference formula differentiated by
autograd, its hand-written backward passes :func:`torch.autograd.gradcheck`,
and a frozen parameter gets no gradient. Layer-wide and per-channel
parameters, 2-D and 4-D inputs. ``tests/test_fused.py`` checks that the fused
(compiled) path computes the same.
"""

import pytest
import torch
from torch import nn

from sklearn_learnact.activations import Rational, Spline, get_activation
from sklearn_learnact.activations._kernels import formulas as F

DTYPE = torch.float64
#: the hand-written backward formulas are what these tests check
pytestmark = pytest.mark.usefixtures("formulas_through_their_backward")
SHAPES = {"2d": (7, 3), "4d": (2, 3, 4, 5)}


# -- reference formulas (the library's math, differentiated by autograd) ------
def _channel(p, x):
    """(C, k) -> k tensors (C, 1, ..., 1); (k,) -> k scalars."""
    if p.dim() == 1:
        return list(p)
    return [p[:, i].view([-1] + [1] * (x.dim() - 2)) for i in range(p.shape[1])]


def ref_mixture(x, p, basis):
    return sum(p_i * f(x) for p_i, f in zip(_channel(p, x), basis))


def ref_rational(x, a, b):
    a, b = _channel(a, x), _channel(b, x)
    num = sum(a_k * x**k for k, a_k in enumerate(a))
    q = sum(b_k * x ** (k + 1) for k, b_k in enumerate(b))
    return num / (1.0 + q.abs())


def ref_spline(x, values, lo, step):
    n = values.shape[-1]
    d = torch.cat(
        [
            values[..., 1:2] - values[..., :1],
            (values[..., 2:] - values[..., :-2]) / 2,
            values[..., -1:] - values[..., -2:-1],
        ],
        dim=-1,
    )
    u = (x - lo) / step
    uc = u.clamp(0, n - 1)
    idx = uc.floor().clamp(max=n - 2).long()
    t = uc - idx
    if values.dim() == 1:
        values, d = values.expand(x.shape[1], n), d.expand(x.shape[1], n)
    ch = torch.arange(x.shape[1]).view([1, -1] + [1] * (x.dim() - 2)).expand_as(x)
    y0, y1 = values[ch, idx], values[ch, idx + 1]
    d0, d1 = d[ch, idx], d[ch, idx + 1]
    inside = (
        (2 * t**3 - 3 * t**2 + 1) * y0
        + (t**3 - 2 * t**2 + t) * d0
        + (3 * t**2 - 2 * t**3) * y1
        + (t**3 - t**2) * d1
    )
    beyond = u - uc
    return inside + beyond.clamp(max=0) * d[ch, 0] + beyond.clamp(min=0) * d[ch, -1]


def ref_subnet(x, w1, b1, w2, b2, hidden):
    return (hidden(x.unsqueeze(-1) * w1 + b1) * w2).sum(-1) + b2


# -- cases: (module, kernel on its params, reference on its params) ------------
def _perturb(module):
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return module


def _mixture(basis):
    def make(c):
        m = get_activation("mixture", num_features=c, per_neuron=c > 1, basis=basis)
        m = _perturb(m.to(DTYPE))
        return (
            m,
            lambda x, v: F.mixture(x, v, m.basis),
            lambda x: ref_mixture(x, m.coefficients(), m.basis),
        )

    return make


def _rational(c):
    m = _perturb(Rational(c, dtype=DTYPE))
    return (
        m,
        lambda x, a, b: F.RATIONAL(x, a, b),
        lambda x: ref_rational(x, m.numerator, m.denominator),
    )


def _spline(c):
    m = _perturb(Spline(c, n_knots=6, bound=2.0, dtype=DTYPE))
    step = 4.0 / 5
    return (
        m,
        lambda x, v: F.SPLINE(x, v, lo=-2.0, step=step),
        lambda x: ref_spline(x, m.values, -2.0, step),
    )


def _subnet(hidden):
    def make(c):
        m = get_activation("mlp", hidden_size=5, hidden_activation=hidden)
        m = _perturb(m.to(DTYPE))
        return (
            m,
            lambda x, *p: F.subnet(x, *p, m.hidden),
            lambda x: ref_subnet(x, m.w1, m.b1, m.w2, m.b2, m.hidden),
        )

    return make


CASES = {
    "mixture": _mixture(("relu", "tanh", "sin")),
    "mixture-sigmoid-identity": _mixture(("sigmoid", "identity")),
    "mixture-generic": _mixture(("elu", "tanh")),
    "rational": _rational,
    "spline": _spline,
    "mlp": _subnet("relu"),
    "mlp-generic": _subnet("tanh"),
}
# (name, channels): the subnetwork has layer-wide parameters only
LAYOUTS = [(n, 1) for n in CASES] + [(n, 3) for n in CASES if not n.startswith("mlp")]


def _params(name, channels):
    return CASES[name](channels)


def _input(shape):
    # spread beyond the spline grid, away from 0 (the kink of |x Q'(x)|)
    x = 3.0 * torch.randn(shape, dtype=DTYPE)
    return x + 1e-3 * torch.sign(x)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("name", "channels"), LAYOUTS)
def test_matches_reference(name, channels, shape):
    module, _, ref = _params(name, channels)
    x = _input(SHAPES[shape]).requires_grad_(True)
    out = module(x)
    grad = torch.randn_like(out)
    got = torch.autograd.grad(out, [x, *module.parameters()], grad)
    x_ref = x.detach().requires_grad_(True)
    out_ref = ref(x_ref)
    want = torch.autograd.grad(out_ref, [x_ref, *module.parameters()], grad)
    torch.testing.assert_close(out, out_ref)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("name", "channels"), LAYOUTS)
def test_gradcheck(name, channels, shape):
    module, kernel, _ = _params(name, channels)
    x = _input(SHAPES[shape]).requires_grad_(True)
    params = tuple(p.detach().clone().requires_grad_(True) for p in module.parameters())
    assert torch.autograd.gradcheck(kernel, (x, *params))


@pytest.mark.parametrize(("name", "channels"), LAYOUTS)
def test_frozen_parameters_get_no_gradient(name, channels):
    module, _, ref = _params(name, channels)
    module.requires_grad_(False)
    x = _input(SHAPES["4d"]).requires_grad_(True)
    module(x).sum().backward()
    assert all(p.grad is None for p in module.parameters())
    x_ref = x.detach().requires_grad_(True)
    ref(x_ref).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad)


@pytest.mark.parametrize("name", CASES)
def test_gradient_of_the_input_only_when_asked(name):
    module, _, _ = _params(name, 1)
    x = _input(SHAPES["2d"])  # no grad wanted for x
    module(x).sum().backward()
    assert all(p.grad is not None for p in module.parameters())


@pytest.mark.parametrize("name", ["mixture", "rational", "spline", "mlp"])
def test_float32(name):
    module, _, ref = _params(name, 3 if name != "mlp" else 1)
    module.float()
    x = _input(SHAPES["4d"]).float()
    out = module(x)
    assert out.dtype == torch.float32
    with torch.no_grad():
        want = ref(x)
    torch.testing.assert_close(out, want, rtol=1e-5, atol=1e-5)


def _one_node(out: torch.Tensor) -> bool:
    """Whether autograd recorded ``out`` as one node on its leaf inputs."""
    return all(
        fn is None or type(fn).__name__ == "AccumulateGrad"
        for fn, _ in out.grad_fn.next_functions
    )


def test_unknown_basis_uses_autograd():
    # a basis without a known derivative keeps autograd's graph; known ones
    # are one node (the formula's autograd Function, or with the fused
    # kernels on, the native operator)
    out = F.mixture(
        torch.ones(2, requires_grad=True),
        torch.tensor([0.5, 0.5]),
        [nn.ELU(), nn.Tanh()],
    )
    assert not _one_node(out)
    x = torch.ones(2, requires_grad=True)
    known = F.mixture(x, torch.tensor([0.5, 0.5]), [nn.ReLU(), nn.Tanh()])
    assert _one_node(known)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kind", sorted(F._BASIS_NAMES))
def test_basis_values_and_slopes_match_the_modules(kind, dtype):
    # the fused mixture evaluates its basis itself (tanh by a sigmoid)
    module = type(get_activation(kind))
    x = (4.0 * torch.randn(64, 5, dtype=dtype)).requires_grad_(True)
    want = module()(x)
    (slope,) = torch.autograd.grad(want.sum(), x)
    with torch.no_grad():
        got = F._basis_value(kind, x)
        got_slope = F._basis_slope(kind, x, got)
    tol = 1e-6 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(got, want.detach(), rtol=tol, atol=tol)
    torch.testing.assert_close(got_slope, slope, rtol=tol, atol=tol)


@pytest.mark.parametrize("n", [7, F._SUBNET_BLOCK, 2 * F._SUBNET_BLOCK + 5])
def test_relu_subnet_without_grad_by_blocks(n):
    # eager inference runs block by block: the same values as the autograd node
    module, _, ref = _params("mlp", 1)
    x = _input((n,)).view(-1, 1) if n % 2 else _input((n // 2, 2))
    with torch.no_grad():
        got = module(x)
        want = ref(x)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(got, module(x).detach())  # autograd kernel
    assert got.shape == x.shape


def test_relu_subnet_degenerate_units():
    # units that never bend (w1 == 0: on if b1 > 0, off otherwise), two units
    # bending at the same point, and inputs exactly at and around the kinks:
    # the piecewise linear form equals the sum of ReLUs, values and gradients
    w1 = torch.tensor([0.0, 0.0, 1.5, -2.0, 3.0, 1.0], dtype=DTYPE)
    b1 = torch.tensor([0.7, -0.4, -1.5, 2.0, -3.0, 0.5], dtype=DTYPE)
    w2 = torch.tensor([0.3, 2.0, -1.1, 0.8, 0.6, -0.9], dtype=DTYPE)
    b2 = torch.tensor(0.25, dtype=DTYPE)
    params = [p.clone().requires_grad_(True) for p in (w1, b1, w2, b2)]
    kinks = torch.tensor([1.0, -0.5], dtype=DTYPE)  # 1.0 is shared by three units
    x = torch.cat([kinks + 0.3, kinks - 0.3, torch.linspace(-4, 4, 40, dtype=DTYPE)])
    x = x.view(-1, 1).requires_grad_(True)
    got = F.subnet(x, *params, nn.ReLU())
    want = ref_subnet(x, *params, nn.ReLU())
    torch.testing.assert_close(got, want)
    g = torch.randn_like(got)
    got_grads = torch.autograd.grad(got, [x, *params], g)
    want_grads = torch.autograd.grad(want, [x, *params], g)
    for a, b in zip(got_grads, want_grads):
        torch.testing.assert_close(a, b)
    with torch.no_grad():  # exactly at a kink: the value is continuous there
        at = F.subnet(kinks.view(-1, 1), w1, b1, w2, b2, nn.ReLU())
        torch.testing.assert_close(
            at, ref_subnet(kinks.view(-1, 1), w1, b1, w2, b2, nn.ReLU())
        )


@pytest.mark.parametrize("name", ["affine", "swish"])
@pytest.mark.parametrize("channels", [1, 3])
def test_small_inputs_train_through_autograd_to_the_same_gradients(
    name, channels, monkeypatch
):
    # the formulas of a few ops train small inputs through autograd (cheaper
    # in a training step): the values and gradients of the hand-written backward
    act = get_activation(name, num_features=channels, per_neuron=channels > 1)
    act = _perturb(act.to(DTYPE))
    formula = {"affine": F.AFFINE, "swish": F.SWISH}[name]
    x = _input((5, 3) if channels == 1 else (2, 3, 4))
    grad = torch.randn_like(x)
    results = []
    for below in (F._AUTOGRAD_BELOW, 0):  # autograd, then the Function
        monkeypatch.setattr(formula, "autograd_below", below)
        xr = x.clone().requires_grad_(True)
        out = act(xr)
        assert (out.grad_fn.name() == "_FusedBackward") == (below == 0)
        grads = torch.autograd.grad(out, [xr, *act.parameters()], grad)
        results.append([out.detach(), *grads])
    for got, want in zip(*results):
        torch.testing.assert_close(got, want)
    assert F._AUTOGRAD_BELOW >= x.numel()
