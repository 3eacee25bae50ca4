"""GPU check: one prepared run that proves the CUDA path and measures it.

Made for a GPU lent for a few minutes (issue 26): one run of at most 8
minutes on one GPU, through ``benchmarks/gpu_check.sh``, which also holds the
hard time limit. Steps, each timed; a step that fails is recorded (with why)
and the next step runs:

1. ``environment``: the device, torch, CUDA and Triton versions, the library's
   commit and kernel cache. Fails when CUDA is asked for and missing.
2. ``gpu tests``: ``python -m pytest -m gpu`` on the test files that hold
   ``gpu``-marked tests (a new process; JUnit XML and log in the output
   folder). Fails on a failed test, and, on the GPU, on a skipped one.
3. ``training``: one epoch of the 784-128-64-10 MLP on synthetic MNIST-shaped
   data (60,000 x 784 float32, 10 classes; nothing downloaded) at batch 128
   and 1024: ``LearnedActivationClassifier`` with ``relu`` and every learnable
   kind of the registry (``available_activations("learnable")``), against a
   hand-written loop on the device (the same net, data moved to the device
   once, ``torch.optim.Adam(fused=True)`` as the estimator's optimiser, no
   host sync per batch) and, for information, the same loop reading
   ``loss.item()`` every batch (as the estimator does). All configurations of
   both batch sizes run interleaved, in a new shuffled order each round,
   after one warm-up epoch each (which compiles the fused kernels); the
   device is synchronised around every run; medians. Targets, at each batch
   size:

   - the ``relu`` estimator <= 1.25x the hand loop's time (>= 80% of its
     speed);
   - every learnable kind <= 1.3x the ``relu`` estimator's time.

4. ``inference``: each kind trained briefly (8192 samples, 2 epochs), then
   compressed by ``SplineActivationCompressor`` (defaults: exact or uniform
   degree-1 splines, compiled); the networks' forward passes on the device
   (as ``predict`` runs them: inference mode, no compiling) at batch 4096 and
   65536, interleaved, medians, against the ``relu`` net (and ``identity``:
   the linear layers alone, the floor). Targets at batch 4096 (those of
   ``bench_inference.py``); batch 65536 for information:

   - the compressed ``mlp`` net (the default compression) <= 1.15x ``relu``;
   - every learnable kind, uncompressed, <= 1.5x ``relu``.

5. ``cpu pickle``: ``relu`` and every learnable kind trained on the device,
   the ``mlp`` one compressed, pickled (the estimators, the compressed
   estimator and the compressor itself), then loaded and predicting in a new
   process with CUDA hidden (``CUDA_VISIBLE_DEVICES=""``): each on the CPU,
   probabilities within 1e-4 of the device's.
6. ``results``: everything in ``gpu_check.json`` in the output folder, with a
   short Markdown summary beside it (``gpu_check.md``, also printed). Both are
   rewritten after every step, so an interrupted run leaves what it measured.

A global time budget (``--budget``, 450 s) bounds the run: a step starts only
with its minimum time left after reserving the later steps' minimums, ends
its measuring rounds (and the tests their run) at its own deadline, and a
step without time is recorded as ``skipped``. A missed target is a figure,
not a failure; the exit status is 1 if a step failed, else 0.

``--dry-run`` runs the same steps on the CPU with tiny sizes (seconds; of
the compressions only the ``mlp`` one), so that the suite keeps the script
working (``tests/test_gpu_check.py``); its figures mean nothing.

Usage::

    benchmarks/gpu_check.sh [--out DIR] [--budget S] [--reps N] [--steps ...]
    python benchmarks/gpu_check.py --dry-run --out /tmp/gpu_check
"""

import argparse
import copy
import dataclasses
import datetime
import importlib.metadata
import json
import math
import os
import pickle
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
import warnings
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from torch import nn

import sklearn_learnact
from sklearn_learnact import LearnedActivationClassifier, SplineActivationCompressor
from sklearn_learnact.activations import (
    available_activations,
    compiled_kernels,
    fused_kernels_available,
    kernel_cache_info,
    no_new_kernels,
)

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = (128, 64)
#: the registry's learnable kinds (read at import: built-ins and plug-ins)
KINDS = available_activations("learnable")
#: the kind whose compressed net carries the inference target
COMPRESSED_KIND = "mlp"
RELU_VS_HAND_LOOP = 1.25
LEARNED_VS_RELU = 1.3
COMPRESSED_VS_RELU = 1.15
UNCOMPRESSED_VS_RELU = 1.5
#: probabilities of a model loaded on the CPU vs on its training device
PICKLE_ATOL = 1e-4
RESULTS_JSON, RESULTS_MD = "gpu_check.json", "gpu_check.md"
HAND, HAND_SYNC = "hand loop", "hand loop + loss.item()"


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Sizes of a run: the GPU's, or the dry run's tiny ones."""

    n_train: int
    train_batches: tuple[int, int]
    train_reps: int
    n_fit: int
    fit_batch: int
    fit_epochs: int
    infer_batches: tuple[int, int]
    infer_reps: int
    #: seconds of forward passes per timed sample (0: one pass)
    infer_sample_s: float
    #: the kinds compressed for inference timing (None: every learnable kind)
    compressed: tuple[str, ...] | None
    n_pickle: int
    budget_s: float


GPU_SIZES = Sizes(
    n_train=60000,
    train_batches=(128, 1024),
    train_reps=7,
    n_fit=8192,
    fit_batch=128,
    fit_epochs=2,
    infer_batches=(4096, 65536),
    infer_reps=30,
    infer_sample_s=0.005,
    compressed=None,
    n_pickle=1024,
    budget_s=450.0,
)
DRY_SIZES = Sizes(
    n_train=256,
    train_batches=(32, 128),
    train_reps=1,
    n_fit=256,
    fit_batch=32,
    fit_epochs=1,
    infer_batches=(32, 128),
    infer_reps=2,
    infer_sample_s=0.0,
    compressed=(COMPRESSED_KIND,),
    n_pickle=96,
    budget_s=300.0,
)


# -- the run: context, step records, results files ----------------------------
class StepFailed(Exception):
    """A step's own verdict of failure, with what it measured before."""

    def __init__(self, message: str, result: dict | None = None) -> None:
        super().__init__(message)
        self.result = result or {}


@dataclasses.dataclass
class Context:
    device: torch.device
    sizes: Sizes
    out: Path
    reps: int | None
    deadline: float = math.inf  # of the running step (time.monotonic())
    targets: list = dataclasses.field(default_factory=list)

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def target(self, step: str, what: str, value: float, limit: float) -> None:
        self.targets.append(
            {
                "step": step,
                "what": what,
                "value": value,
                "target": limit,
                "held": bool(value <= limit),
            }
        )


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA); nothing on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-shaped float32 rows in [0, 1]: sparse noisy copies of 10 class
    centres (a learnable signal, realistic activation inputs), int64 labels."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(0).random((10, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    X = centres[y] * (rng.random((n, 784), dtype=np.float32) < 0.3)
    return X.astype(np.float32), y


def estimator(kind: str, device: torch.device, batch: int, epochs: int = 1):
    return LearnedActivationClassifier(
        HIDDEN,
        kind,
        batch_size=batch,
        max_iter=epochs,
        alpha=0.0,
        learning_rate_init=1e-3,
        random_state=0,
        device=device,
    )


def kernels_since(start: int) -> dict:
    """The fused kernel variants compiled or loaded since ``compiled_kernels()``
    had ``start`` records: counts and seconds per device and how."""
    summary: dict = {}
    for record in compiled_kernels()[start:]:
        key = f"{record['device']} {record['how']}"
        entry = summary.setdefault(key, {"n": 0, "seconds": 0.0})
        entry["n"] += 1
        entry["seconds"] = round(entry["seconds"] + record["seconds"], 3)
    return summary


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


# -- 1. environment -----------------------------------------------------------
def _version(*distributions: str) -> str | None:
    for name in distributions:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _commit() -> str | None:
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def step_environment(ctx: Context) -> tuple[dict, str]:
    device = ctx.device
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "triton": _version("triton", "pytorch-triton"),
        "sklearn_learnact": sklearn_learnact.__version__,
        "commit": _commit(),
        "skorch": _version("skorch"),
        "scikit-learn": _version("scikit-learn"),
        "numpy": np.__version__,
        "device": str(device),
        "cuda_available": torch.cuda.is_available(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "fused_kernels_available": fused_kernels_available(device),
        "fused_env": os.environ.get("SKLEARN_LEARNACT_FUSED"),
        "kernel_cache": kernel_cache_info(),
        "learnable_kinds": list(KINDS),
    }
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise StepFailed(
                "CUDA is not available (torch "
                f"{torch.__version__}, built for CUDA {torch.version.cuda}): "
                "use --dry-run for the CPU",
                info,
            )
        props = torch.cuda.get_device_properties(device)
        info.update(
            device_name=props.name,
            capability=f"{props.major}.{props.minor}",
            memory_gib=round(props.total_memory / 2**30, 1),
            cudnn=torch.backends.cudnn.version(),
            tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
        )
    name = info.get("device_name", str(device))
    summary = (
        f"{name}; torch {info['torch']} (CUDA {info['torch_cuda']}), "
        f"Triton {info['triton']}"
    )
    return info, summary


# -- 2. the gpu-marked tests --------------------------------------------------
def gpu_test_files() -> list[str]:
    """The test files that hold ``gpu``-marked tests (relative paths)."""
    return sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").glob("test_*.py")
        if "mark.gpu" in path.read_text(encoding="utf-8")
    )


def _junit_counts(path: Path) -> dict:
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failures, skip_reasons = [], set()
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed" if child.tag == "failure" else "errors"
                message = (child.get("message") or "").splitlines()[:1]
                failures.append(f"{name}: {message[0] if message else child.tag}")
            elif child.tag == "skipped":
                outcome = "skipped"
                skip_reasons.add(child.get("message") or "")
        counts[outcome] += 1
    return {**counts, "failures": failures, "skip_reasons": sorted(skip_reasons)}


def _pythonpath() -> str:
    return os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


def step_gpu_tests(ctx: Context) -> tuple[dict, str]:
    files = gpu_test_files()
    xml, log = ctx.out / "pytest_gpu.xml", ctx.out / "pytest_gpu.log"
    xml.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", "-m", "gpu", "-p", "no:cacheprovider"]
    # one process on the one GPU, and no need for pytest-xdist (the suite's -n 2)
    command += ["-o", "addopts=-ra"]
    command += [f"--junitxml={xml}", *files]
    result: dict = {"command": " ".join(command[1:]), "files": files}
    env = {**os.environ, "PYTHONPATH": _pythonpath()}
    try:
        proc = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=max(1.0, ctx.left()),
        )
        output, returncode = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout
        output, returncode = output or "", None
    log.write_text(output, encoding="utf-8")
    result["returncode"] = returncode
    result["log_tail"] = output.splitlines()[-25:]
    if xml.is_file():
        result.update(_junit_counts(xml))
    if returncode is None:
        raise StepFailed(f"timed out after {ctx.left():.0f} s left", result)
    if "passed" not in result:
        raise StepFailed(f"pytest exited {returncode} without a report", result)
    summary = (
        f"{result['passed']} passed, {result['failed']} failed, "
        f"{result['errors']} errors, {result['skipped']} skipped"
    )
    if returncode != 0 or result["failed"] or result["errors"]:
        raise StepFailed(f"{summary} (pytest exit {returncode})", result)
    if result["skipped"] and ctx.device.type == "cuda":
        raise StepFailed(f"{summary}: a gpu test skipped on the GPU", result)
    return result, summary


# -- timing -------------------------------------------------------------------
def measure(
    runs: dict[str, Callable[[], None]], ctx: Context, reps: int
) -> tuple[dict, dict, int]:
    """Median seconds per run, interleaved in a new shuffled order per round.

    Each run is warmed up once first (compiling what it compiles); a run that
    raises (then or later) is recorded in ``errors`` and left out. Rounds stop
    at ``reps``, or earlier when the next round would pass the step's deadline
    (a first round starts if any time is left). The device is synchronised
    before and after each timed run.
    """
    device = ctx.device
    errors, live = {}, []
    for name, run in runs.items():
        if ctx.left() <= 0:
            errors[name] = "not measured: the step's time budget ran out in warm-up"
            continue
        try:
            run()
            sync(device)
            live.append(name)
        except Exception as exc:  # recorded; the other runs go on
            errors[name] = f"{type(exc).__name__}: {exc}"
    times: dict[str, list[float]] = {name: [] for name in live}
    rng = random.Random(0)
    last_round = 0.0
    rounds = 0
    while rounds < reps and ctx.left() > last_round and live:
        start_round = time.monotonic()
        rng.shuffle(live)
        for name in list(live):
            torch.manual_seed(rounds)
            sync(device)
            t0 = time.perf_counter()
            try:
                runs[name]()
                sync(device)
            except Exception as exc:  # recorded; the other runs go on
                errors[name] = f"{type(exc).__name__}: {exc}"
                live.remove(name)
                continue
            times[name].append(time.perf_counter() - t0)
        rounds += 1
        last_round = time.monotonic() - start_round
        print(f"    round {rounds}/{reps} ({last_round:.1f} s)", flush=True)
    medians = {name: statistics.median(ts) for name, ts in times.items() if ts}
    return medians, errors, rounds


# -- 3. training --------------------------------------------------------------
def hand_loop(batch: int, device: torch.device, read_loss: bool) -> Callable:
    """One epoch of a plain PyTorch loop on ``device``: the estimator's net
    (784-128-64-10, ReLU) and optimiser (Adam, lr 1e-3, fused), the data moved
    to the device once, batches gathered from a shuffled index there;
    ``read_loss``: ``loss.item()`` every batch (a host sync, as the estimator
    records each batch's loss)."""

    def fit(X: np.ndarray, y: np.ndarray) -> None:
        Xt = torch.from_numpy(X).to(device)
        yt = torch.from_numpy(y).to(device)
        model = nn.Sequential(
            nn.Linear(X.shape[1], HIDDEN[0]),
            nn.ReLU(),
            nn.Linear(HIDDEN[0], HIDDEN[1]),
            nn.ReLU(),
            nn.Linear(HIDDEN[1], 10),
        ).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
        perm = torch.randperm(len(Xt), device=device)
        for start in range(0, len(Xt), batch):
            idx = perm[start : start + batch]
            opt.zero_grad(set_to_none=True)
            out = model(Xt.index_select(0, idx))
            loss = nn.functional.cross_entropy(out, yt.index_select(0, idx))
            loss.backward()
            opt.step()
            if read_loss:
                loss.item()

    return fit


def step_training(ctx: Context) -> tuple[dict, str]:
    sizes, device = ctx.sizes, ctx.device
    X, y = make_data(sizes.n_train)
    first = len(compiled_kernels())
    runs = {}
    for batch in sizes.train_batches:
        fits = {
            HAND: hand_loop(batch, device, read_loss=False),
            HAND_SYNC: hand_loop(batch, device, read_loss=True),
            **{kind: estimator(kind, device, batch).fit for kind in ("relu", *KINDS)},
        }
        for name, fit in fits.items():
            runs[f"{name} @ {batch}"] = lambda fit=fit: fit(X, y)
    medians, errors, rounds = measure(runs, ctx, ctx.reps or sizes.train_reps)
    per_batch: dict = {}
    for batch in sizes.train_batches:
        rows = {}
        for name in (HAND, HAND_SYNC, "relu", *KINDS):
            seconds = medians.get(f"{name} @ {batch}")
            base = {HAND: None, HAND_SYNC: HAND, "relu": HAND}.get(name, "relu")
            base_s = medians.get(f"{base} @ {batch}")
            ratio = seconds / base_s if seconds and base_s else None
            rows[name] = {"seconds": seconds, "vs": base, "ratio": ratio}
        per_batch[batch] = rows
        where = f"batch {batch}"
        if rows["relu"]["ratio"] is not None:
            what = f"{where}: relu estimator / hand loop (time)"
            ctx.target("training", what, rows["relu"]["ratio"], RELU_VS_HAND_LOOP)
        for kind in KINDS:
            if rows[kind]["ratio"] is not None:
                what = f"{where}: {kind} / relu estimator (time)"
                ctx.target("training", what, rows[kind]["ratio"], LEARNED_VS_RELU)
    result = {
        "n_samples": sizes.n_train,
        "rounds": rounds,
        "per_batch": per_batch,
        "errors": errors,
        "kernels": kernels_since(first),
        "fused_kernels_available": fused_kernels_available(device),
    }
    if errors:
        raise StepFailed(f"{len(errors)} configurations failed", result)
    relu = [per_batch[b]["relu"]["ratio"] for b in sizes.train_batches]
    summary = f"{rounds} rounds; relu / hand loop " + ", ".join(
        f"{r:.2f}x @ {b}" for r, b in zip(relu, sizes.train_batches) if r
    )
    return result, summary


# -- 4. inference -------------------------------------------------------------
def step_inference(ctx: Context) -> tuple[dict, str]:
    sizes, device = ctx.sizes, ctx.device
    X, y = make_data(sizes.n_fit)
    first = len(compiled_kernels())
    errors: dict = {}
    fitted, compressions = {}, {}
    for kind in ("relu", *KINDS):
        model = estimator(kind, device, sizes.fit_batch, sizes.fit_epochs)
        try:
            fitted[kind] = model.fit(X, y)
        except Exception as exc:
            errors[f"fit {kind}"] = f"{type(exc).__name__}: {exc}"
    if "relu" not in fitted:
        raise StepFailed("the relu reference did not fit", {"errors": errors})
    nets: dict[str, nn.Module] = {}
    identity = copy.deepcopy(fitted["relu"])
    identity.replace_activations({i: nn.Identity() for i in range(len(HIDDEN))})
    nets["identity"] = identity.net_.module_.eval()
    nets.update({kind: clf.net_.module_.eval() for kind, clf in fitted.items()})
    for kind in KINDS if sizes.compressed is None else sizes.compressed:
        if kind not in fitted:
            continue
        start = time.perf_counter()
        try:
            comp = SplineActivationCompressor(fitted[kind]).fit(X)
        except Exception as exc:
            errors[f"compress {kind}"] = f"{type(exc).__name__}: {exc}"
            continue
        compressions[kind] = {
            "fit_s": time.perf_counter() - start,
            "max_abs_error": comp.max_abs_error_,
            "n_knots": [int(k) for k in comp.report_["n_knots"]],
        }
        nets[f"{kind} compressed"] = comp.compressed_estimator_.net_.module_.eval()
    inputs = {
        batch: torch.from_numpy(make_data(batch, seed=1)[0]).to(device)
        for batch in sizes.infer_batches
    }
    # the compressed nets compute what the originals do (to the compressor's tol)
    probe = inputs[sizes.infer_batches[0]]
    with torch.inference_mode(), no_new_kernels():
        for kind in compressions:
            diff = nets[f"{kind} compressed"](probe) - nets[kind](probe)
            compressions[kind]["max_logit_diff"] = float(diff.abs().max())
    runs = {}
    calls = {}
    for batch, x in inputs.items():
        calls[batch] = _calls_per_sample(nets["relu"], x, device, sizes.infer_sample_s)
        for name, net in nets.items():

            def run(net=net, x=x, n=calls[batch]):
                with torch.inference_mode(), no_new_kernels():
                    for _ in range(n):
                        net(x)

            runs[f"{name} @ {batch}"] = run
    medians, run_errors, rounds = measure(runs, ctx, ctx.reps or sizes.infer_reps)
    errors.update(run_errors)
    per_batch: dict = {}
    for batch in sizes.infer_batches:
        relu = medians.get(f"relu @ {batch}")
        rows = {}
        for name in nets:
            median = medians.get(f"{name} @ {batch}")
            rows[name] = {
                "ms": None if median is None else 1e3 * median / calls[batch],
                "vs_relu": median / relu if median and relu else None,
            }
        per_batch[batch] = rows
    rows = per_batch[sizes.infer_batches[0]]
    where = f"batch {sizes.infer_batches[0]}"
    compressed = rows.get(f"{COMPRESSED_KIND} compressed", {}).get("vs_relu")
    if compressed is not None:
        what = f"{where}: {COMPRESSED_KIND} compressed / relu (time)"
        ctx.target("inference", what, compressed, COMPRESSED_VS_RELU)
    for kind in KINDS:
        ratio = rows.get(kind, {}).get("vs_relu")
        if ratio is not None:
            what = f"{where}: {kind} uncompressed / relu (time)"
            ctx.target("inference", what, ratio, UNCOMPRESSED_VS_RELU)
    result = {
        "n_fit": sizes.n_fit,
        "rounds": rounds,
        "calls_per_sample": calls,
        "per_batch": per_batch,
        "compressions": compressions,
        "errors": errors,
        "kernels": kernels_since(first),
    }
    if errors:
        raise StepFailed(f"{len(errors)} fits, compressions or runs failed", result)
    ratios = [
        (batch, per_batch[batch].get(f"{COMPRESSED_KIND} compressed", {}))
        for batch in sizes.infer_batches
    ]
    summary = f"{rounds} rounds; {COMPRESSED_KIND} compressed / relu " + ", ".join(
        f"{row['vs_relu']:.2f}x @ {batch}"
        for batch, row in ratios
        if row.get("vs_relu")
    )
    return result, summary


def _calls_per_sample(net: nn.Module, x: torch.Tensor, device, seconds: float) -> int:
    """Forward calls per timed sample: about ``seconds`` of ``net``'s work, 1
    to 50 calls (a GPU's small batches take microseconds, shorter than a
    clock's noise)."""
    if seconds <= 0:
        return 1
    with torch.inference_mode():
        net(x)
        sync(device)
        t0 = time.perf_counter()
        net(x)
        sync(device)
        single = time.perf_counter() - t0
    return int(min(50, max(1, round(seconds / max(single, 1e-6)))))


# -- 5. a device-trained model loaded on the CPU ------------------------------
#: Run with CUDA hidden: loads every pickle of a folder, predicts, reports.
CPU_LOADER = textwrap.dedent(
    """
    import json, pickle, sys, warnings
    from pathlib import Path
    import numpy as np
    import torch

    folder = Path(sys.argv[1])
    X = np.load(folder / "X.npy")
    report = {"cuda_available": torch.cuda.is_available(), "models": {}}
    for path in sorted(folder.glob("*.pkl")):
        entry = report["models"][path.stem] = {}
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model = pickle.loads(path.read_bytes())
                proba = model.predict_proba(X)
            inner = getattr(model, "compressed_estimator_", model)
            entry["device"] = str(inner.device_)
            entry["warnings"] = sorted({str(w.message)[:200] for w in caught})
            np.save(folder / (path.stem + ".cpu.npy"), proba)
        except Exception as exc:
            entry["error"] = type(exc).__name__ + ": " + str(exc)[:500]
    print(json.dumps(report))
    """
)


def step_cpu_pickle(ctx: Context) -> tuple[dict, str]:
    sizes, device = ctx.sizes, ctx.device
    X, y = make_data(sizes.n_pickle, seed=2)
    models, errors = {}, {}
    for kind in ("relu", *KINDS):
        try:
            models[kind] = estimator(kind, device, 32, 2).fit(X, y)
        except Exception as exc:
            errors[f"fit {kind}"] = f"{type(exc).__name__}: {exc}"
    if COMPRESSED_KIND in models:
        try:
            comp = SplineActivationCompressor(models[COMPRESSED_KIND]).fit(X)
            models[f"{COMPRESSED_KIND} compressed"] = comp.compressed_estimator_
            models[f"{COMPRESSED_KIND} compressor"] = comp
        except Exception as exc:
            errors[f"compress {COMPRESSED_KIND}"] = f"{type(exc).__name__}: {exc}"
    result: dict = {"models": {}, "errors": errors}
    with tempfile.TemporaryDirectory(prefix="gpu-check-pickles-") as tmp:
        folder = Path(tmp)
        np.save(folder / "X.npy", X)
        expected, files = {}, {}
        for name, model in models.items():
            stem = name.replace(" ", "_")
            inner = getattr(model, "compressed_estimator_", model)
            entry = result["models"][name] = {"trained_on": str(inner.device_)}
            try:
                expected[name] = model.predict_proba(X)
                (folder / f"{stem}.pkl").write_bytes(pickle.dumps(model))
                files[name] = stem
            except Exception as exc:
                entry["error"] = f"pickling: {type(exc).__name__}: {exc}"
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": _pythonpath()}
        proc = subprocess.run(
            [sys.executable, "-c", CPU_LOADER, str(folder)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=max(1.0, ctx.left()),
        )
        if proc.returncode != 0:
            result["loader_stderr"] = proc.stderr.splitlines()[-20:]
            raise StepFailed(f"the CPU process exited {proc.returncode}", result)
        report = json.loads(proc.stdout.splitlines()[-1])
        result["cuda_hidden"] = not report["cuda_available"]
        for name, stem in files.items():
            entry = result["models"][name]
            loaded = report["models"].get(stem, {"error": "not loaded"})
            entry.update(loaded)
            if "error" in loaded:
                continue
            proba = np.load(folder / f"{stem}.cpu.npy")
            entry["max_abs_diff"] = float(np.abs(proba - expected[name]).max())
            agree = proba.argmax(axis=1) == expected[name].argmax(axis=1)
            entry["label_agreement"] = float(agree.mean())
    bad = [
        name
        for name, entry in result["models"].items()
        if "error" in entry
        or entry.get("device") != "cpu"
        or entry.get("max_abs_diff", math.inf) > PICKLE_ATOL
    ]
    result["bad"] = bad
    if not result["cuda_hidden"]:
        raise StepFailed("CUDA was visible in the CPU process", result)
    if errors or bad:
        names = ", ".join([*errors, *bad])
        raise StepFailed(f"{len(errors) + len(bad)} models failed: {names}", result)
    worst = max(entry["max_abs_diff"] for entry in result["models"].values())
    summary = (
        f"{len(files)} models trained on {device}, loaded on the CPU with CUDA "
        f"hidden; largest probability difference {worst:.1e}"
    )
    return result, summary


# -- 6. results ---------------------------------------------------------------
def _fmt(value, spec: str = ".3f") -> str:
    return "" if value is None else format(value, spec)


def markdown(results: dict) -> str:
    """The short summary: steps, targets, and the two timing tables."""
    env = next((s for s in results["steps"] if s["name"] == "environment"), None)
    lines = [
        f"# GPU check ({results['mode']}, device {results['device']})",
        "",
        f"{results['started']}, {results['seconds']:.0f} s of a "
        f"{results['budget_s']:.0f} s budget"
        + (f"; {env['summary']}" if env and env.get("summary") else ""),
        "",
        "| step | status | seconds | summary |",
        "|---|---|---:|---|",
    ]
    for step in results["steps"]:
        note = step.get("summary") or step.get("error") or ""
        note = note.splitlines()[0].replace("|", "\\|") if note else ""
        lines.append(
            f"| {step['name']} | {step['status']} | {step['seconds']:.1f} | {note} |"
        )
    if results["targets"]:
        lines += ["", "| target | value | limit | held |", "|---|---:|---:|---|"]
        for t in results["targets"]:
            held = "yes" if t["held"] else "**no**"
            lines.append(
                f"| {t['step']}, {t['what']} | {t['value']:.2f} | "
                f"<= {t['target']:.2f} | {held} |"
            )
    steps = {s["name"]: s for s in results["steps"]}
    training = steps.get("training", {}).get("result", {}).get("per_batch")
    if training:
        batches = list(training)
        lines += [
            "",
            "Training, one epoch (median s; ratio to the row's reference):",
            "",
            "| config | vs | "
            + " | ".join(f"batch {b} s | ratio" for b in batches)
            + " |",
            "|---|---|" + "---:|---:|" * len(batches),
        ]
        for name in next(iter(training.values())):
            rows = [training[b][name] for b in batches]
            cells = " | ".join(
                f"{_fmt(r['seconds'])} | {_fmt(r['ratio'], '.2f')}" for r in rows
            )
            lines.append(f"| {name} | {rows[0]['vs'] or ''} | {cells} |")
    inference = steps.get("inference", {}).get("result", {}).get("per_batch")
    if inference:
        batches = list(inference)
        lines += [
            "",
            "Inference, one forward pass (median ms; ratio to relu):",
            "",
            "| net | " + " | ".join(f"batch {b} ms | vs relu" for b in batches) + " |",
            "|---|" + "---:|---:|" * len(batches),
        ]
        for name in next(iter(inference.values())):
            rows = [inference[b][name] for b in batches]
            cells = " | ".join(
                f"{_fmt(r['ms'])} | {_fmt(r['vs_relu'], '.2f')}" for r in rows
            )
            lines.append(f"| {name} | {cells} |")
    return "\n".join(lines) + "\n"


def write_results(results: dict, out: Path) -> str:
    """Both files, each written whole then renamed into place; the Markdown."""
    results = _json_safe(results)
    summary = markdown(results)
    for name, text in (
        (RESULTS_JSON, json.dumps(results, indent=2)),
        (RESULTS_MD, summary),
    ):
        tmp = out / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out / name)
    return summary


# -- the run ------------------------------------------------------------------
#: name -> (function, most seconds, fewest seconds worth starting it with)
STEPS: dict[str, tuple[Callable[[Context], tuple[dict, str]], float, float]] = {
    "environment": (step_environment, 30.0, 1.0),
    "gpu tests": (step_gpu_tests, 200.0, 20.0),
    "training": (step_training, 150.0, 20.0),
    "inference": (step_inference, 90.0, 15.0),
    "cpu pickle": (step_cpu_pickle, 60.0, 10.0),
}
#: what the results step (writing the files) keeps for itself
RESULTS_RESERVE_S = 1.0
#: distinct warnings kept per step
MAX_WARNINGS = 20


def run_step(name: str, ctx: Context, end: float, later: Sequence[str]) -> dict:
    """Run one step to its deadline; its record (status passed, failed or
    skipped; seconds; summary or error; result; warnings)."""
    function, most, fewest = STEPS[name]
    now = time.monotonic()
    reserve = RESULTS_RESERVE_S + sum(STEPS[n][2] for n in later)
    ctx.deadline = min(now + most, end - reserve)
    record = {"name": name, "status": "skipped", "seconds": 0.0}
    if ctx.left() < fewest:
        record["error"] = (
            f"time budget: {max(0.0, ctx.left()):.0f} s left for it, needs {fewest:.0f}"
        )
        return record
    print(f"[{name}] up to {ctx.left():.0f} s", flush=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # the short fits of the steps do not converge: that is no news
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        try:
            result, summary = function(ctx)
            record.update(status="passed", summary=summary, result=result)
        except StepFailed as exc:
            record.update(status="failed", error=str(exc), result=exc.result)
        except Exception as exc:
            record.update(
                status="failed",
                error=f"{type(exc).__name__}: {exc}",
                traceback=traceback.format_exc().splitlines()[-15:],
            )
    record["seconds"] = time.monotonic() - now
    messages = {f"{w.category.__name__}: {w.message}"[:300] for w in caught}
    record["warnings"] = sorted(messages)[:MAX_WARNINGS]
    print(
        f"[{name}] {record['status']} in {record['seconds']:.1f} s: "
        f"{record.get('summary') or record.get('error', '')}",
        flush=True,
    )
    return record


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check; 1 if a step failed, else 0 (missed targets included).

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="the same steps on the CPU with tiny sizes (seconds)",
    )
    parser.add_argument("--out", type=Path, default=Path("gpu_check_results"))
    parser.add_argument("--device", default="cuda", help="(default cuda)")
    parser.add_argument(
        "--budget", type=float, default=None, help="seconds for the whole run"
    )
    parser.add_argument("--reps", type=int, default=None, help="timing rounds")
    parser.add_argument(
        "--steps",
        default=",".join(STEPS),
        help=f"comma-separated subset of: {', '.join(STEPS)}",
    )
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.steps.split(",") if name.strip()]
    unknown = set(chosen) - set(STEPS)
    if unknown:
        parser.error(f"unknown steps {sorted(unknown)}; choose from {list(STEPS)}")
    threads = torch.get_num_threads()
    try:
        return _run(args, [name for name in STEPS if name in chosen])
    finally:
        torch.set_num_threads(threads)


def _run(args: argparse.Namespace, order: list[str]) -> int:
    """The steps of ``order``, then the results; main's return value."""
    started = time.monotonic()
    sizes = DRY_SIZES if args.dry_run else GPU_SIZES
    budget = sizes.budget_s if args.budget is None else args.budget
    end = started + budget
    device = torch.device("cpu" if args.dry_run else args.device)
    if args.dry_run:  # tiny nets on a shared CPU: one thread does not stall
        torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    ctx = Context(device, sizes, args.out, args.reps)
    results = {
        "mode": "dry-run" if args.dry_run else "gpu",
        "device": str(device),
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "budget_s": budget,
        "seconds": 0.0,
        "sizes": dataclasses.asdict(sizes),
        "steps": [],
        "targets": ctx.targets,
    }
    for index, name in enumerate(order):
        results["steps"].append(run_step(name, ctx, end, order[index + 1 :]))
        results["seconds"] = time.monotonic() - started
        write_results(results, args.out)
    record = {"name": "results", "status": "passed", "seconds": 0.0}
    record["summary"] = f"{args.out / RESULTS_JSON}, {args.out / RESULTS_MD}"
    results["steps"].append(record)
    start = time.monotonic()
    write_results(results, args.out)
    record["seconds"] = time.monotonic() - start
    results["seconds"] = time.monotonic() - started
    print("\n" + write_results(results, args.out), flush=True)
    return int(any(step["status"] == "failed" for step in results["steps"]))


if __name__ == "__main__":
    sys.exit(main())
