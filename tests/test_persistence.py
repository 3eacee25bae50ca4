"""Model files that never run code (issue 24): save_model and load_model.

Every activation, a user's registered one, compressed estimators and
Pipelines round-trip into a fresh process with identical predictions; a
changed, foreign or untrusted file is refused; and ``learnact export`` never
opens a pickle unless told to (a real ``__reduce__`` payload, checked by the
file it would create).
"""

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import safetensors.numpy
from sklearn.compose import make_column_transformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from torch import nn

from sklearn_learnact import (
    LearnedActivationClassifier,
    LearnedActivationRegressor,
    SplineActivationCompressor,
    load_model,
    save_model,
)
from sklearn_learnact.activations import (
    available_activations,
)
from sklearn_learnact.cli import main
from sklearn_learnact.compression import SymbolicActivation
from sklearn_learnact.persistence import ModelFileError, UntrustedTypeError
from sklearn_learnact.persistence._files import _digest

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 4)).astype(np.float32)
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def _clf(activation="relu", **kw):
    kw = {"max_iter": 2, "random_state": 0, **kw}
    return LearnedActivationClassifier((6, 5), activation, **kw)


def _predictions(model, X) -> dict:
    out = {"predict": model.predict(X)}
    if hasattr(model, "predict_proba"):
        out["proba"] = model.predict_proba(X)
    if hasattr(model, "compressed_estimator_"):
        out["compressed"] = model.compressed_estimator_.predict_proba(X)
    return out


def test_every_model_round_trips_into_a_fresh_process(plugins, data, tmp_path):
    X, y = data
    frame = pd.DataFrame(X, columns=list("abcd")).assign(
        colour=np.array(["red", "green", "blue", None], dtype=object)[
            np.arange(len(X)) % 4
        ]
    )
    models = {name: _clf(name).fit(X, y) for name in available_activations("all")}
    models["expr"] = _clf("expr", activation_params={"expr": "max(tanh(x), x**2)"})
    models["mixture_per_neuron"] = _clf(
        "mixture", activation_params={"per_neuron": True}
    )
    for name in ("expr", "mixture_per_neuron"):
        models[name].fit(X, y)
    models["regressor"] = LearnedActivationRegressor(
        (6,), "rational", max_iter=3, early_stopping=True, random_state=0
    ).fit(X, X[:, 0] - X[:, 2])
    prep = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["colour"]),
        remainder=StandardScaler(),
    )
    models["pipeline"] = make_pipeline(prep, _clf("swish")).fit(frame, y)
    models["spline"] = SplineActivationCompressor(
        _clf("mlp").fit(X, y), compile=False
    ).fit(X)
    # what the compressor does when a * f(b * x + c) + d fits (its search for
    # f takes minutes on a busy machine: the module is put in as it would)
    models["symbolic"] = _clf("affine").fit(X, y)
    models["symbolic"].replace_activations(
        {1: SymbolicActivation("tanh", 2, 0.5, 0, 0)}
    )
    models["pipeline_spline"] = SplineActivationCompressor(
        make_pipeline(prep, _clf("rational")), compile=False
    ).fit(frame, y)
    expected = {}
    for name, model in models.items():
        save_model(model, tmp_path / f"{name}.safetensors")
        inputs = frame if name.startswith("pipeline") else X
        expected[name] = _predictions(model, inputs)
    frame.to_pickle(tmp_path / "frame.pkl")  # our own input data, not a model
    np.save(tmp_path / "X.npy", X)
    code = f"""
        import json, sys
        import numpy as np, pandas as pd
        from sklearn_learnact import load_model
        from sklearn_learnact.persistence import UntrustedTypeError
        folder = {str(tmp_path)!r}
        X, frame = np.load(folder + "/X.npy"), pd.read_pickle(folder + "/frame.pkl")
        try:  # a user's activation: its module is imported only if trusted
            load_model(folder + "/scaled_tanh.safetensors")
        except UntrustedTypeError as exc:
            print("refused:", exc)
        assert "plugin_activations" not in sys.modules
        out = {{}}
        for name in {sorted(models)!r}:
            model = load_model(
                folder + f"/{{name}}.safetensors", trusted=["plugin_activations"]
            )
            inputs = frame if name.startswith("pipeline") else X
            out[name] = {{"predict": model.predict(inputs).tolist()}}
            if hasattr(model, "predict_proba"):
                out[name]["proba"] = model.predict_proba(inputs).tolist()
            if hasattr(model, "compressed_estimator_"):
                compressed = model.compressed_estimator_.predict_proba(inputs)
                out[name]["compressed"] = compressed.tolist()
        print(json.dumps(out))
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("refused: The model uses the activation 'scaled_tanh'")
    loaded = json.loads(lines[-1])
    for name, predictions in expected.items():
        for key, values in predictions.items():
            assert np.array_equal(np.asarray(loaded[name][key]), values), (name, key)


def test_a_loaded_model_is_the_same_model(data, tmp_path):
    X, y = data
    clf = _clf("mixture", warm_start=True).fit(X, y)
    again = load_model(save_model(clf, tmp_path / "m.safetensors"))
    assert type(again) is type(clf) and again.get_params() == clf.get_params()
    assert again.history_.equals(clf.history_) and again.t_ == clf.t_
    # warm_start goes on from the saved weights and Adam's saved moments
    clf.fit(X, y)
    again.fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    comp = SplineActivationCompressor(clf, compile=False).fit(X)
    again = load_model(save_model(comp, tmp_path / "c.safetensors"))
    layer = again.layers_[0]
    assert layer.original is again.estimator_.activations_[0]
    assert layer.compressed is again.compressed_estimator_.activations_[0]
    assert again.estimator is again.estimator_  # shared, as in the original
    assert again.report_.equals(comp.report_)
    with pytest.raises(ValueError, match="optimistic|in-sample"):
        again.evaluate(X, y)  # it still knows the rows it was fitted on


def _rewrite(path: Path, out: Path, edit) -> Path:
    """``path`` with its document edited by ``edit`` and a matching digest: what
    someone who knows the format can write."""
    with safetensors.safe_open(str(path), framework="numpy") as f:
        metadata = f.metadata()
    tensors = safetensors.numpy.load_file(str(path))
    document = edit(metadata["object"])
    metadata.update(object=document, sha256=_digest(document, tensors))
    safetensors.numpy.save_file(tensors, str(out), metadata=metadata)
    return out


def test_a_changed_foreign_or_untrusted_file_is_refused(data, tmp_path):
    X, y = data
    pipe = make_pipeline(StandardScaler(), _clf()).fit(X, y)
    path = save_model(pipe, tmp_path / "pipe.safetensors")
    raw = path.read_bytes()

    def refused(data: bytes, match: str, error=ModelFileError):
        bad = tmp_path / "bad.safetensors"
        bad.write_bytes(data)
        with pytest.raises(error, match=match):
            load_model(bad)

    changed = "changed after it was saved"
    refused(raw[:-1] + bytes([raw[-1] ^ 1]), changed)  # one bit of a tensor
    start = raw.index(b"relu")
    refused(raw[:start] + b"tanh" + raw[start + 4 :], changed)  # the document
    refused(raw[: len(raw) // 2], "not a sklearn-learnact model file|damaged")
    refused(b"x,y\n1,2\n", "not a sklearn-learnact model file")
    refused(pickle.dumps(pipe), "looks like a pickle .* runs any code")
    tensors = tmp_path / "weights.safetensors"
    safetensors.numpy.save_file({"w": np.zeros(3, np.float32)}, str(tensors))
    refused(tensors.read_bytes(), "holds tensors only")
    # a file that names another type, with a digest that matches: refused
    # before anything is imported (importing `this` would print a poem)
    sys.modules.pop("this", None)
    for name in ("this.s", "builtins.eval", "os.system"):
        forged = _rewrite(
            path,
            tmp_path / "forged.safetensors",
            lambda d, name=name: d.replace(
                "sklearn.preprocessing.StandardScaler", name
            ),
        )
        with pytest.raises(UntrustedTypeError, match=f"names the type '{name}'"):
            load_model(forged)
    assert "this" not in sys.modules
    # trusting a name that is not a class does not make it one
    with pytest.raises(UntrustedTypeError, match="'os.system'"):
        load_model(forged, trusted=["os.system"])
    assert np.array_equal(load_model(path).predict(X), pipe.predict(X))


def test_values_a_file_cannot_hold_fail_at_save(data, tmp_path):
    X, y = data
    clf = _clf("rational", activation_params={"init": "tanh"}).fit(X, y)
    clf.set_params(activation_params={"init": nn.Tanh()})  # a module as an option
    with pytest.raises(TypeError, match=r"Cannot save model.*activation_params.*Tanh"):
        save_model(clf, tmp_path / "m.safetensors")
    clf.set_params(activation_params={"init": "tanh"})
    clf.replace_activations({0: nn.Tanh()})  # a module its parameters do not say
    with pytest.raises(TypeError, match=r"Cannot save model.net_.*Tanh"):
        save_model(clf, tmp_path / "m.safetensors")
    assert not list(tmp_path.iterdir())


class _Payload:
    """Unpickling it runs ``open(marker, "w")``: a file appears if it ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_export_never_opens_a_pickle_unless_trusted(data, tmp_path, capsys):
    X, y = data
    marker = tmp_path / "the-payload-ran"
    evil = tmp_path / "evil.joblib"
    evil.write_bytes(pickle.dumps(_Payload(marker)))
    pd.DataFrame(X).to_csv(tmp_path / "sample.csv", index=False)
    argv = ["export", str(evil), "--out", str(tmp_path / "m.onnx")]
    argv += ["--sample", str(tmp_path / "sample.csv")]
    done = subprocess.run(
        [sys.executable, "-m", "sklearn_learnact", *argv],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "is not a model file written by sklearn_learnact.save_model" in done.stderr
    assert "--trust-pickle" in done.stderr
    assert not marker.exists()  # the payload did not run
    # --trust-pickle opens a (genuine) pickle, saying what that means
    joblib.dump(_clf().fit(X, y), tmp_path / "model.joblib")
    argv[1] = str(tmp_path / "model.joblib")
    assert main([*argv, "--trust-pickle"]) == 0
    err = capsys.readouterr().err
    assert (
        "learnact export: warning: " + str(tmp_path / "model.joblib") + " is loaded "
        "as a pickle (--trust-pickle): loading a pickle runs any code it holds; open "
        "pickles only from someone you trust"
    ) in err
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert (
        "A pickle (joblib.dump) runs any code it holds when it is loaded" in help_text
    )
    assert "should come only from someone you trust" in help_text
