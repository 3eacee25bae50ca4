"""The fused kernels' one-time costs, timed in a new Python process.

Shared by ``bench_training.py`` and ``bench_inference.py`` (beside this file).
A probe is Python code that starts with :data:`PRELUDE` (it times the
compiler's once-per-process cost as ``once``) and prints one JSON line;
:func:`run_probe` runs it with its own kernel and inductor caches, so that the
first run is cold (empty caches, a fresh machine) and the second warm.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

#: Code that a probe starts with: torch on ``{threads}`` threads, then the
#: compiler's once-per-process cost (importing it, the first kernel's CPU
#: probe) timed apart as ``once``, on one unrelated kernel (affine's formula,
#: which the library itself runs eagerly) compiled or loaded like the others;
#: ``compiled_kernels()[1:]`` are then the kernels timed after it.
PRELUDE = """
import json, sys, time, warnings
import torch
torch.set_num_threads({threads})
import sklearn_learnact
t0 = time.perf_counter()
from sklearn_learnact.activations import FusedKernel
from sklearn_learnact.activations import ACTIVATIONS
with torch.no_grad():
    FusedKernel(ACTIVATIONS["affine"].formula.forward.fn).bind()(
        torch.ones(64), torch.ones(()), torch.ones(())
    )
once = time.perf_counter() - t0
import numpy as np
rng = np.random.default_rng(0)
X = rng.random((512, 784), dtype=np.float32)
y = rng.integers(0, 10, 512)
warnings.simplefilter("ignore")
"""


def run_probe(code: str, cache: Path, what: str) -> dict:
    """Run ``code`` in a new process with the kernel caches under ``cache``
    (fused kernels on); the JSON line it printed last."""
    env = {
        **os.environ,
        "TORCHINDUCTOR_CACHE_DIR": str(cache / "inductor"),
        "SKLEARN_LEARNACT_CACHE_DIR": str(cache / "kernels"),
        "SKLEARN_LEARNACT_FUSED": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    if done.returncode:
        raise RuntimeError(f"compile probe of {what} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
