"""The fused activation kernels: the eager path's maths, compiled.

Every learnable kind, layer-wide and per neuron, float32 and float64: the fused
path gives the eager path's values and gradients to float rounding. Without a
C++ compiler (a real process whose compiler does not exist) training and
prediction fall back to the eager path with one warning; a model fitted with
the fused path predicts in a process without it; ``predict`` after ``fit``
never compiles; compiled kernels are reloaded from the disk cache.

The rest of the suite runs on the eager path (``tests/conftest.py``).
"""

import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from sklearn_learnact import LearnedActivationClassifier
from sklearn_learnact.activations import (
    ACTIVATIONS,
    LEARNABLE_ACTIVATIONS,
    compiled_kernels,
    fused_kernels,
    fused_kernels_available,
    get_activation,
)
from sklearn_learnact.activations._kernels import cache as _cache
from sklearn_learnact.activations._kernels import formula as _formula
from sklearn_learnact.activations._kernels import fused as _fused
from sklearn_learnact.activations._kernels import native as _native

ROOT = Path(__file__).resolve().parents[1]
#: the hand-written backward formulas are what these tests check
pytestmark = pytest.mark.usefixtures("formulas_through_their_backward")
#: The compiled kernel behind each learnable kind with a formula, read from
#: its spec (prelu has none: torch's own one-pass kernels; affine's formula
#: is evaluated eagerly, one or two ops).
KERNELS = {
    name: ACTIVATIONS[name].formula.name
    if ACTIVATIONS[name].formula is not None and ACTIVATIONS[name].formula.forward.fuse
    else None
    for name in LEARNABLE_ACTIVATIONS
}
LAYOUTS = [
    (name, per_neuron)
    for name in LEARNABLE_ACTIVATIONS
    for per_neuron in (False, True)
    if not per_neuron or ACTIVATIONS[name].per_neuron
]


def test_the_specs_name_the_formulas_and_native_operators():
    assert KERNELS == {
        "affine": None,
        "prelu": None,
        "swish": "swish",
        "mixture": "mixture",
        "rational": "rational",
        "spline": "spline",
        "mlp": "relu_subnet",
    }
    assert set(NATIVE) == set(LEARNABLE_ACTIVATIONS) - {"prelu"}
    assert all(ACTIVATIONS[n].native in _native.OPERATORS for n in NATIVE)


def _activation(name, per_neuron, dtype):
    act = get_activation(name, num_features=3, per_neuron=per_neuron).to(dtype)
    with torch.no_grad():
        for p in act.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return act


def _run(act, x, grad, fused):
    """Output, gradients of input and parameters, and the no-grad output."""
    with fused_kernels(fused):
        xr = x.clone().requires_grad_(True)
        out = act(xr)
        params = [p for p in act.parameters() if p.requires_grad]
        grads = torch.autograd.grad(out, [xr, *params], grad)
        with torch.inference_mode():
            inference = act(x)
    return [out.detach(), *grads, inference]


#: The kinds whose float32 CPU training runs the native operators (C++):
#: those whose spec's formula names one.
NATIVE = [n for n in LEARNABLE_ACTIVATIONS if ACTIVATIONS[n].native is not None]
#: Every way a layout trains: float64 and the kinds without native
#: operators through the compiled kernels; float32 of the native kinds
#: through both, the native operators and (forced) the compiled kernels.
PATHS = [
    (name, per_neuron, dtype, path)
    for name, per_neuron in LAYOUTS
    for dtype in (torch.float32, torch.float64)
    for path in (
        ("native", "compiled")
        if name in NATIVE and dtype == torch.float32
        else ("compiled",)
    )
]


@pytest.fixture
def training_calls(monkeypatch):
    """Counts the training calls through the Python autograd Function."""
    calls = []
    apply = _formula._Fused.apply

    def counted(*args):
        calls.append(args[0].formula)
        return apply(*args)

    monkeypatch.setattr(_formula._Fused, "apply", counted)
    return calls


@pytest.mark.parametrize(
    ("name", "per_neuron", "dtype", "path"),
    PATHS,
    ids=[
        "-".join((n, "channel" if c else "layer", str(d)[6:], p))
        for n, c, d, p in PATHS
    ],
)
def test_fused_matches_eager(
    name, per_neuron, dtype, path, training_calls, monkeypatch
):
    if path == "compiled" and name in NATIVE:
        monkeypatch.setattr(ACTIVATIONS[name].formula, "native_below", 0)
    act = _activation(name, per_neuron, dtype)
    # per neuron: a convolution's (N, C, H, W); layer-wide: a dense layer's
    shape = (6, 3, 4, 5) if per_neuron else (40, 3)
    x = 3.0 * torch.randn(shape, dtype=dtype)
    grad = torch.randn(shape, dtype=dtype)
    eager = _run(act, x, grad, fused=False)
    del training_calls[:]
    fused = _run(act, x, grad, fused=True)
    tol = 2e-5 if dtype == torch.float32 else 1e-11
    for got, want in zip(fused, eager):
        scale = max(1.0, float(want.abs().max()))
        torch.testing.assert_close(got, want, rtol=tol, atol=tol * scale)
    kernel = KERNELS[name]
    if path == "native":  # one C++ autograd node: no Python Function, no kernel
        assert training_calls == []
        assert any(r["kernel"] == "native" for r in compiled_kernels())
    elif kernel is not None:  # the fused path ran, compiled
        assert training_calls or name in ("affine", "swish")
        records = [
            r
            for r in compiled_kernels()
            if r["kernel"] in (f"{kernel}_forward", f"{kernel}_backward")
            and r["dtype"] == str(dtype).removeprefix("torch.")
        ]
        assert {r["kernel"] for r in records} == {
            f"{kernel}_forward",
            f"{kernel}_backward",
        }


@pytest.mark.parametrize(
    ("name", "per_neuron"), [lay for lay in LAYOUTS if lay[0] in NATIVE]
)
def test_native_operators_on_threads(name, per_neuron):
    # above 32768 elements the native loops split over torch's threads and
    # add their per-thread parameter sums: the same values and gradients
    act = _activation(name, per_neuron, torch.float32)
    shape = (700, 3, 50) if per_neuron else (35000, 3)  # 105000 elements
    x = 3.0 * torch.randn(shape)
    grad = torch.randn(shape)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        fused = _run(act, x, grad, fused=True)
    finally:
        torch.set_num_threads(threads)
    eager = _run(act, x, grad, fused=False)
    for got, want in zip(fused, eager):
        scale = max(1.0, float(want.abs().max()))
        # parameter gradients: sums of 105000 float32 terms, in another order
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.parametrize(
    ("name", "per_neuron"), [lay for lay in LAYOUTS if lay[0] in NATIVE]
)
def test_native_double_backward_differentiates_the_formula(name, per_neuron):
    # create_graph=True: the native backward hands over to the Python formula
    # (sklearn_learnact::eager_grads), which autograd records
    act = _activation(name, per_neuron, torch.float32)
    x = 3.0 * torch.randn((6, 3, 4, 5) if per_neuron else (40, 3))

    def second_order(fused):
        with fused_kernels(fused):
            xr = x.clone().requires_grad_(True)
            (gx,) = torch.autograd.grad(act(xr).pow(2).sum(), xr, create_graph=True)
            params = list(act.parameters())
            return [gx.detach(), *torch.autograd.grad(gx.sum(), [xr, *params])]

    for got, want in zip(second_order(True), second_order(False)):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


def test_native_build_failure_warns_once_and_trains_compiled(
    tmp_path, monkeypatch, training_calls
):
    # a compiler that cannot build the library: one warning, then the
    # compiled kernels train (here the test's process had not loaded it)
    monkeypatch.setattr(_native, "_LOADED", [])
    monkeypatch.setattr(_native, "_FAILED", [])
    monkeypatch.setattr(_native, "library_path", lambda: tmp_path / "native.so")

    def broken(path):
        raise RuntimeError("c++ failed to build native.cpp: error: no luck")

    monkeypatch.setattr(_native, "_build", broken)
    act = _activation("spline", False, torch.float32)
    x, grad = torch.randn(40, 3), torch.randn(40, 3)
    with pytest.warns(RuntimeWarning, match="native training kernels could not be"):
        fused = _run(act, x, grad, fused=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning
        _run(act, x, grad, fused=True)
    with fused_kernels(True):
        assert fused_kernels_available()  # the compiled kernels still run
    assert training_calls  # through the autograd Function
    for got, want in zip(fused, _run(act, x, grad, fused=False)):
        torch.testing.assert_close(got, want, rtol=2e-5, atol=2e-5)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize(("name", "per_neuron"), LAYOUTS)
def test_fused_matches_eager_on_cuda(name, per_neuron, tiny_classification):
    # the fused kernels compiled by Triton: the eager path's values and gradients
    act = _activation(name, per_neuron, torch.float32).cuda()
    shape = (6, 3, 4, 5) if per_neuron else (4096, 3)
    x = 3.0 * torch.randn(shape, device="cuda")
    grad = torch.randn(shape, device="cuda")
    eager = _run(act, x, grad, fused=False)
    fused = _run(act, x, grad, fused=True)
    for got, want in zip(fused, eager):
        scale = max(1.0, float(want.abs().max()))
        torch.testing.assert_close(got, want, rtol=2e-5, atol=2e-5 * scale)
    if KERNELS[name] is not None:
        assert any(r["device"].startswith("cuda") for r in compiled_kernels())
    # an estimator on device="auto" trains and predicts on CUDA, fused
    X, y = tiny_classification
    with fused_kernels(True):
        clf = LearnedActivationClassifier(
            (8,), name, max_iter=2, random_state=0, device="auto"
        ).fit(X, y)
        assert clf.device_.type == "cuda"
        proba = clf.predict_proba(X)
    with fused_kernels(False):
        np.testing.assert_allclose(clf.predict_proba(X), proba, atol=1e-5)


@pytest.mark.parametrize("name", [n for n, k in KERNELS.items() if k])
def test_frozen_parameters_and_small_batches(name):
    act = _activation(name, False, torch.float32).requires_grad_(False)
    for n in (1, 2, 33):  # one row runs eagerly, two or more fused
        x = torch.randn(n, 3)
        grad = torch.randn(n, 3)
        fused = _run(act, x, grad, fused=True)
        eager = _run(act, x, grad, fused=False)
        for got, want in zip(fused, eager):
            torch.testing.assert_close(got, want, rtol=2e-5, atol=2e-5)
    assert all(p.grad is None for p in act.parameters())


def test_double_backward_and_no_autograd_inside_kernels():
    # create_graph=True differentiates the (eager) backward formula
    act = get_activation("rational").double()
    a, b = act.numerator.detach().clone(), act.denominator.detach().clone()
    x = (torch.linspace(-3, 3, 12, dtype=torch.float64) + 0.01).reshape(4, 3)
    x.requires_grad_(True)
    rational = ACTIVATIONS["rational"].formula
    with fused_kernels(True):
        assert torch.autograd.gradgradcheck(rational, (x, a, b))
    bound = rational.bind(1)
    with fused_kernels(True), pytest.raises(RuntimeError, match="without autograd"):
        bound.forward(x.reshape(-1), a, b)


def test_predict_after_fit_never_compiles(tiny_classification):
    X, y = tiny_classification
    clf = LearnedActivationClassifier(
        (7,), "mixture", max_iter=2, batch_size=32, random_state=0
    )
    with fused_kernels(True):
        clf.fit(X, y)
        assert fused_kernels_available()
        seen = len(compiled_kernels())
        proba = clf.predict_proba(X)
        for rows in (slice(0, 1), slice(0, 37)):
            clf.predict(X[rows])
        assert len(compiled_kernels()) == seen  # predict compiled nothing
        # the same model with kernels never compiled in this process: predict
        # runs eagerly rather than compile
        wide = LearnedActivationClassifier(
            (5,),
            "rational",
            activation_params={"per_neuron": True},
            max_iter=2,
            random_state=0,
        )
        with fused_kernels(False):
            wide.fit(X, y)
        seen = len(compiled_kernels())
        wide_proba = wide.predict_proba(X)
        assert len(compiled_kernels()) == seen
    with fused_kernels(False):
        np.testing.assert_allclose(clf.predict_proba(X), proba, atol=1e-6)
        np.testing.assert_allclose(wide.predict_proba(X), wide_proba, atol=1e-6)


def test_disk_cache_reloads_and_survives_a_corrupt_file(tmp_path, monkeypatch):
    monkeypatch.setenv(_cache.ENV_CACHE_DIR, str(tmp_path))

    def kernel():  # a fresh kernel object: nothing in memory
        return _fused.FusedKernel(_cubic).bind()

    x = torch.randn(100)
    with fused_kernels(True):
        for expected in ("compiled", "loaded"):
            torch.testing.assert_close(kernel()(x), _cubic(x))
            assert compiled_kernels()[-1]["how"] == expected
        (path,) = tmp_path.iterdir()
        path.write_bytes(b"not a compiled kernel")
        torch.testing.assert_close(kernel()(x), _cubic(x))
        assert compiled_kernels()[-1]["how"] == "compiled"


def _cubic(x):
    return x * x * x - 0.5 * x


# -- real processes without a C++ compiler ------------------------------------------
def _python(code: str, tmp_path: Path, **env) -> dict:
    """Run ``code`` in a new Python process with empty kernel caches and no
    working C++ compiler; it prints one JSON line."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CXX": str(tmp_path / "no-such-compiler"),
        "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "inductor"),
        _cache.ENV_CACHE_DIR: str(tmp_path / "kernels"),
        _fused.ENV_FUSED: "1",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


FIT = """
    import json, warnings
    import numpy as np
    from sklearn_learnact import LearnedActivationClassifier
    from sklearn_learnact.activations import (
        compiled_kernels, fused_kernels, fused_kernels_available
    )

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)

    def fit():
        return LearnedActivationClassifier(
            (8,), "mixture", max_iter=3, random_state=0
        ).fit(X, y)
"""


def test_without_a_compiler_the_eager_path_runs_with_one_warning(tmp_path):
    result = _python(
        FIT
        + """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        proba = fit().predict_proba(X)
        fit()  # a second fit: no second warning
    messages = [
        str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)
    ]
    with fused_kernels(False):
        eager = fit().predict_proba(X)
    print(json.dumps({
        "messages": messages,
        "same": bool(np.array_equal(proba, eager)),
        "compiled": len(compiled_kernels()),
        "available": fused_kernels_available(),
    }))
    """,
        tmp_path,
    )
    (message,) = result["messages"]
    assert "fused activation kernels could not be compiled on cpu" in message
    assert "C++ compiler" in message and "slower" in message
    assert result["same"]  # both on the eager path: the same numbers
    assert result["compiled"] == 0 and not result["available"]


def test_fused_model_predicts_in_a_process_without_fused_kernels(
    tmp_path, tiny_classification
):
    X, y = tiny_classification
    with fused_kernels(True):
        clf = LearnedActivationClassifier(
            (8,), "spline", max_iter=2, random_state=0
        ).fit(X, y)
        expected = clf.predict_proba(X)
    assert any(r["kernel"].startswith("spline") for r in compiled_kernels())
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    for fused in ("1", "0"):  # no compiler; fused kernels switched off
        result = _python(
            """
        import json, pickle, warnings
        import numpy as np
        from sklearn_learnact.activations import compiled_kernels

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with open("model.pkl", "rb") as f:
                clf = pickle.load(f)
            proba = clf.predict_proba(np.load("X.npy"))
        print(json.dumps({
            "proba": proba.tolist(),
            "warnings": [str(w.message) for w in caught],
            "compiled": len(compiled_kernels()),
        }))
        """,
            tmp_path,
            SKLEARN_LEARNACT_FUSED=fused,
        )
        np.testing.assert_allclose(result["proba"], expected, atol=1e-6)
        assert result["warnings"] == [] and result["compiled"] == 0


def test_a_corrupt_native_library_is_rebuilt(tmp_path, monkeypatch):
    # a real process whose cached library is garbage (a truncated write, a
    # full disk): it builds the library again and trains natively, silently
    monkeypatch.setenv(_cache.ENV_CACHE_DIR, str(tmp_path / "kernels"))
    path = _native.library_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x7fELF but not a library")
    code = """
        import json, warnings
        import torch
        from sklearn_learnact.activations import compiled_kernels, get_activation
        act = get_activation("spline")
        x = torch.randn(64, 8, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            act(x).sum().backward()
        print(json.dumps({
            "warnings": [str(w.message) for w in caught],
            "native": [r["how"] for r in compiled_kernels() if r["kernel"] == "native"],
            "finite": bool(torch.isfinite(x.grad).all()),
        }))
    """
    compiler = os.environ.get("CXX") or _native._compiler()
    result = _python(code, tmp_path, CXX=compiler)
    assert result == {"warnings": [], "native": ["compiled"], "finite": True}
    assert path.read_bytes()[:4] == b"\x7fELF" and path.stat().st_size > 10_000


# -- per-bin sums: an operator inside compiled formulas ------------------------------
def test_bin_sums_operator_matches_index_add():
    from sklearn_learnact.activations._kernels import formulas as F

    index = torch.tensor([2, 0, 2, 4, 4, 4])
    weights = torch.arange(12, dtype=torch.float64).view(2, 6)
    want = torch.tensor([[1.0, 0, 2, 0, 12], [7, 0, 14, 0, 30]], dtype=torch.float64)
    torch.testing.assert_close(F._bin_sums(index, weights, 5), want)  # eager
    torch.testing.assert_close(
        torch.ops.sklearn_learnact.bin_sums(index, weights, 5), want
    )


@pytest.mark.parametrize(
    ("name", "formula", "statics"),
    [("spline", "spline", {"lo": -3.0, "step": 0.4}), ("mlp", "mlp", {})],
)
def test_kernels_with_bin_sums_reload_from_disk(
    name, formula, statics, tmp_path, monkeypatch
):
    # the backward formulas that call sklearn_learnact::bin_sums compile, are
    # saved, and load again (a fresh kernel object: nothing in memory) to the
    # eager path's gradients
    monkeypatch.setenv(_cache.ENV_CACHE_DIR, str(tmp_path))
    fn = ACTIVATIONS[formula].formula.backward.fn
    params = [p.detach() for p in _activation(name, False, torch.float32).parameters()]
    x, grad = 3.0 * torch.randn(4096), torch.randn(4096)
    needs = (True,) * (1 + len(params))
    want = (
        _fused.FusedKernel(fn, 2).bind(needs=needs, **statics).eager(x, grad, *params)
    )
    with fused_kernels(True), torch.no_grad():
        for expected in ("compiled", "loaded"):
            kernel = _fused.FusedKernel(fn, 2).bind(needs=needs, **statics)
            got = kernel(x, grad, *params)
            assert compiled_kernels()[-1]["how"] == expected
            for g, w in zip(got, want):
                torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-4)


def test_scalar_kernels_warn_once_and_are_not_cached(tmp_path):
    # inductor's vector-ISA probe failing (forced here by its own switch) makes
    # scalar kernels: one warning, correct values, nothing saved on disk
    if torch.backends.cpu.get_cpu_capability() == "DEFAULT":
        pytest.skip("this CPU has no vector instructions for torch to use")
    code = """
        import json, warnings
        import torch
        from sklearn_learnact.activations import (
            compiled_kernels, fused_kernels, get_activation
        )
        # float64: float32 would train through the native operators
        act = get_activation("rational").double()
        x = torch.randn(256, 4, dtype=torch.float64, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(2):
                act(x).sum().backward()
        with torch.no_grad(), fused_kernels(False):
            want = act(x)
        print(json.dumps({
            "warnings": [str(w.message) for w in caught],
            "how": [r["how"] for r in compiled_kernels()],
            "close": bool(torch.allclose(act(x), want, atol=1e-6)),
        }))
    """
    # the compiler is there (unlike in _python's other uses); the probe is not
    compiler = os.environ.get("CXX", "g++")
    result = _python(code, tmp_path, CXX=compiler, TORCHINDUCTOR_VEC_ISA_OK="0")
    scalar = [w for w in result["warnings"] if "no usable vector instruction" in w]
    assert len(scalar) == 1, result["warnings"]
    assert result["how"] == ["compiled", "compiled"] and result["close"]
    kernels = tmp_path / "kernels"
    assert not kernels.exists() or not any(kernels.iterdir())


# -- the disk cache's key and its command ----------------------------------------
_FORMULA_MODULE = """
import torch

SCALE = {scale}


def _helper(x):
    return torch.tanh(x) * SCALE


def cubic_forward(x, a):
    return _helper(x) + a * x * x * x


def unrelated():
    return {unrelated}
"""


def _digest_of(tmp_path, name, **text):
    import importlib.util

    path = tmp_path / f"{name}.py"
    path.write_text(_FORMULA_MODULE.format(**text))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return _cache.formula_digest(module.cubic_forward)


def test_the_cache_key_changes_with_the_formula_only(tmp_path):
    # a compiled kernel is compiled again when its formula (or a helper or
    # constant it uses) changes, not on any other edit of its file
    base = _digest_of(tmp_path, "f0", scale=2.0, unrelated=1)
    assert _digest_of(tmp_path, "f1", scale=2.0, unrelated=2) == base
    assert _digest_of(tmp_path, "f2", scale=3.0, unrelated=1) != base
    builtin = ACTIVATIONS["spline"].formula.backward.fn
    assert _cache.formula_digest(builtin) == _cache.formula_digest(builtin)


def test_cache_command_shows_and_clears_the_cache(tmp_path, monkeypatch, capsys):
    from sklearn_learnact.cli import main

    monkeypatch.setenv(_cache.ENV_CACHE_DIR, str(tmp_path / "kernels"))
    main(["cache", "info"])
    assert "nothing built yet" in capsys.readouterr().out
    (tmp_path / "kernels").mkdir()
    (tmp_path / "kernels" / "swish_forward-0123.bin").write_bytes(b"x" * 2048)
    (tmp_path / "kernels" / "native-0123.so").write_bytes(b"y" * 100)
    (tmp_path / "kernels" / "notes.txt").write_text("not ours")
    main(["cache", "info"])
    out = capsys.readouterr().out
    assert str(tmp_path / "kernels") in out and "2.1 KiB in all" in out
    assert "compiled kernels: 1 file(s), 2.0 KiB" in out
    main(["cache", "clear"])
    assert "Removed 2 file(s)" in capsys.readouterr().out
    assert [p.name for p in (tmp_path / "kernels").iterdir()] == ["notes.txt"]
