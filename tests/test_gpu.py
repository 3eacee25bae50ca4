"""The CUDA path: fused kernels, device moves, mixed CPU/GPU pickles, the
compressor's kernels and the ONNX export of CUDA-trained models.

Every test here is ``gpu``-marked and skips without CUDA: ``python -m pytest
-m gpu`` runs them (``benchmarks/gpu_check.py`` does, on a lent GPU), with
``tests/test_fused.py``'s ``test_fused_matches_eager_on_cuda``, which checks
every learnable kind's fused kernels against the eager path on CUDA in
float32 with every parameter learned, and ``device="auto"`` training there.
That comparison is not repeated here: these add float64 and frozen
parameters (other kernel variants), reusing its helpers.
"""

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from test_fused import KERNELS, LAYOUTS, _activation, _run

from sklearn_learnact import LearnedActivationClassifier, SplineActivationCompressor
from sklearn_learnact.activations import (
    LEARNABLE_ACTIVATIONS,
    compiled_kernels,
    fused_kernels,
)
from sklearn_learnact.compression import SplineActivation

ROOT = Path(__file__).resolve().parents[1]
#: where every test trains; nothing else in this module names the device
CUDA = torch.device("cuda")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
    # the tests train for a few epochs only
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((96, 6)).astype(np.float32)
    score = X[:, 0] + X[:, 1] ** 2 - np.abs(X[:, 2])
    return X, np.digitize(score, [0.0, 1.0])


def _classifier(name, **params):
    params = {"hidden_layer_sizes": (8, 5), "max_iter": 3, "device": CUDA, **params}
    return LearnedActivationClassifier(
        activation=name, learning_rate_init=0.05, random_state=0, **params
    )


def _on_device(*tensors) -> bool:
    return all(t.device.type == CUDA.type for t in tensors)


def _kernels_on_device(names) -> set[str]:
    """Those of the kernels ``names`` compiled or loaded on the device so far."""
    return {
        r["kernel"]
        for r in compiled_kernels()
        if r["kernel"] in names and r["device"].startswith(CUDA.type)
    }


# ------------------------------------------------------------- fused kernels
@pytest.mark.usefixtures("formulas_through_their_backward")
@pytest.mark.parametrize(("name", "per_neuron"), LAYOUTS)
def test_fused_matches_eager_on_cuda_float64_and_frozen(name, per_neuron):
    shape = (6, 3, 4, 5) if per_neuron else (4096, 3)
    # float64; float32 with frozen parameters (the input's gradient alone)
    for dtype, frozen, tol in (
        (torch.float64, False, 1e-10),
        (torch.float32, True, 2e-5),
    ):
        act = _activation(name, per_neuron, dtype).to(CUDA).requires_grad_(not frozen)
        x = 3.0 * torch.randn(shape, dtype=dtype, device=CUDA)
        grad = torch.randn(shape, dtype=dtype, device=CUDA)
        eager = _run(act, x, grad, fused=False)
        fused = _run(act, x, grad, fused=True)
        assert len(fused) == (3 if frozen else 3 + len(list(act.parameters())))
        for got, want in zip(fused, eager):
            scale = max(1.0, float(want.abs().max()))
            torch.testing.assert_close(got, want, rtol=tol, atol=tol * scale)
    if KERNELS[name] is not None:
        names = {f"{KERNELS[name]}_forward", f"{KERNELS[name]}_backward"}
        assert _kernels_on_device(names) == names


# ----------------------------------------------------------------- devices
@pytest.mark.parametrize(
    ("architecture", "name"), [("mlp", "relu"), ("mlp", "rational"), ("cnn", "mixture")]
)
def test_device_auto_trains_on_cuda_with_fused_adam(architecture, name):
    rng = np.random.default_rng(1)
    X = rng.random((64, 64), dtype=np.float32)
    y = (X[:, :32].sum(axis=1) > 16).astype(int) + (X[:, 0] > 0.5)
    cnn = {"architecture": "cnn", "image_shape": (1, 8, 8)}
    clf = LearnedActivationClassifier(
        (6,),
        name,
        activation_params={"per_neuron": True} if architecture == "cnn" else None,
        max_iter=2,
        random_state=0,
        device="auto",
        **(cnn if architecture == "cnn" else {}),
    ).fit(X, y)
    assert clf.device_.type == CUDA.type
    module, optimizer = clf.net_.module_, clf.net_.optimizer_
    assert _on_device(*module.parameters(), *module.buffers())
    assert all(group["fused"] for group in optimizer.param_groups)
    assert _on_device(*(s["exp_avg"] for s in optimizer.state.values()))
    proba = clf.predict_proba(X)
    assert isinstance(proba, np.ndarray)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    kernel = KERNELS.get(name)
    if kernel is not None:  # it trained and predicts through its fused kernels
        assert _kernels_on_device({f"{kernel}_forward", f"{kernel}_backward"})


def test_warm_start_moves_training_between_the_cpu_and_cuda(data):
    X, y = data
    clf = _classifier("swish", device="cpu").fit(X, y)
    clf.set_params(warm_start=True, device=CUDA).fit(X, y)
    assert clf.device_.type == CUDA.type
    assert clf.n_iter_ == 6  # one history, continued
    state = clf.net_.optimizer_.state.values()
    assert state and _on_device(*(s["exp_avg"] for s in state))
    on_device = clf.predict_proba(X)
    clf.set_params(device="cpu").fit(X, y)
    assert clf.device_.type == "cpu"
    assert clf.predict_proba(X).shape == on_device.shape


def test_partial_fit_on_cuda_keeps_adams_state(data):
    # device="cuda" is the current CUDA device, the parameters' "cuda:0" the
    # same one: the optimiser goes on from one call to the next (as on the CPU)
    X, y = data
    clf = _classifier("relu", batch_size=32)
    clf.partial_fit(X, y, classes=np.unique(y))
    steps = [int(s["step"]) for s in clf.net_.optimizer_.state.values()]
    clf.partial_fit(X, y)
    assert [int(s["step"]) for s in clf.net_.optimizer_.state.values()] == [
        2 * n for n in steps
    ]


# --------------------------------------------------- pickles to a CPU process
#: Loads every pickle of a folder where CUDA is hidden; its probabilities on X.
_LOADER = textwrap.dedent(
    """
    import json, pickle, sys
    from pathlib import Path
    import numpy as np
    import torch

    folder = Path(sys.argv[1])
    X = np.load(folder / "X.npy")
    report = {"cuda": torch.cuda.is_available()}
    for path in sorted(folder.glob("*.pkl")):
        try:
            model = pickle.loads(path.read_bytes())
            np.save(folder / (path.stem + ".npy"), model.predict_proba(X))
            inner = getattr(model, "compressed_estimator_", model)
            report[path.stem] = str(inner.device_)
        except Exception as exc:
            report[path.stem] = type(exc).__name__ + ": " + str(exc)
    print(json.dumps(report))
    """
)


def _predict_where_there_is_no_cuda(folder: Path, models: dict, X) -> dict:
    """Each model's ``predict_proba(X)`` in a new process with CUDA hidden,
    or why it failed there."""
    np.save(folder / "X.npy", X)
    for name, model in models.items():
        (folder / f"{name}.pkl").write_bytes(pickle.dumps(model))
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", _LOADER, str(folder)],
        cwd=ROOT,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report.pop("cuda") is False
    return {
        name: np.load(folder / f"{name}.npy") if device == "cpu" else device
        for name, device in report.items()
    }


def test_cuda_trained_models_predict_where_there_is_no_cuda(tmp_path, data):
    X, y = data
    models = {
        name: _classifier(name).fit(X, y) for name in ("relu", *LEARNABLE_ACTIVATIONS)
    }
    assert all(m.device_.type == CUDA.type for m in models.values())
    loaded = _predict_where_there_is_no_cuda(tmp_path, models, X)
    for name, model in models.items():
        assert isinstance(loaded[name], np.ndarray), (name, loaded[name])
        np.testing.assert_allclose(loaded[name], model.predict_proba(X), atol=1e-5)


def test_a_cuda_fitted_compressor_predicts_where_there_is_no_cuda(tmp_path, data):
    X, y = data
    comp = SplineActivationCompressor(_classifier("mlp").fit(X, y)).fit(X)
    models = {"compressor": comp, "compressed": comp.compressed_estimator_}
    loaded = _predict_where_there_is_no_cuda(tmp_path, models, X)
    for name, model in models.items():
        assert isinstance(loaded[name], np.ndarray), (name, loaded[name])
        np.testing.assert_allclose(loaded[name], model.predict_proba(X), atol=1e-5)


# ------------------------------------------------------------- compression
@pytest.mark.parametrize(
    ("name", "params", "options", "kernel"),
    [
        ("mlp", None, {}, "power_kernel"),  # exact: the truncated-power form
        ("swish", None, {"degree": 3, "n_knots": 16}, "table_kernel"),
        # per channel, more kinks than the power form takes: the table
        ("mixture", {"per_neuron": True}, {"n_knots": 96}, "table_kernel"),
    ],
)
def test_compressor_kernels_on_cuda(data, name, params, options, kernel):
    X, y = data
    clf = _classifier(name, activation_params=params, hidden_layer_sizes=(16, 8))
    comp = SplineActivationCompressor(clf.fit(X, y), **options).fit(X)
    compressed = comp.compressed_estimator_
    splines = compressed.activations_
    assert compressed.device_.type == CUDA.type
    assert all(isinstance(s, SplineActivation) and s.compiled for s in splines)
    assert _on_device(*(b for s in splines for b in s.buffers()))
    assert (splines[0].power_d is not None) == (kernel == "power_kernel")
    assert _kernels_on_device({kernel}) == {kernel}  # fit compiled it
    # its fused kernel gives the eager evaluation's values, tails included
    x = 4.0 * torch.randn(512, 16, device=CUDA)
    with torch.inference_mode():
        fused = splines[0](x)
        with fused_kernels(False):
            eager = splines[0](x)
    torch.testing.assert_close(fused, eager, rtol=1e-5, atol=1e-5)
    # the compressed model predicts what the original does; timed on the device
    np.testing.assert_allclose(comp.predict_proba(X), clf.predict_proba(X), atol=0.02)
    times = comp.report_[["ns_before", "ns_after"]].to_numpy()
    assert np.isfinite(times).all() and (times > 0).all()


# -------------------------------------------------------------------- ONNX
def _perturb(estimator, scale: float = 0.3) -> None:
    """Learned activation parameters away from their initial values (as
    tests/test_export.py), drawn on the CPU and moved to their device."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for act in estimator.activations_:
            for p in act.parameters():
                p.add_(scale * torch.randn(p.shape, generator=generator).to(p.device))


def _check_onnx(model, X) -> None:
    from sklearn_learnact.export import to_onnx, verify_onnx

    agreement = verify_onnx(model, to_onnx(model, X[:1], options={"zipmap": False}), X)
    assert agreement["label_agreement"] == 1.0, agreement
    # onnxruntime on the CPU against CUDA's sums, in another order
    assert agreement["proba_max_rel_error"] <= 1e-4, agreement


@pytest.mark.parametrize("name", ["relu", *LEARNABLE_ACTIVATIONS])
def test_onnx_export_of_a_cuda_trained_model(data, name):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    X, y = data
    clf = _classifier(name).fit(X, y)
    _perturb(clf)
    _check_onnx(clf, X)
    assert clf.device_.type == CUDA.type  # the export left it where it was


def test_onnx_export_of_a_cuda_compressed_model(data):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    X, y = data
    comp = SplineActivationCompressor(_classifier("mlp").fit(X, y)).fit(X)
    _check_onnx(comp, X)
