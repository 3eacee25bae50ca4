"""Native CPU training kernels: one C++ autograd node per activation call.

At training batch sizes a learnable activation's cost is mostly fixed cost per
call: an autograd Function in Python and the call of a compiled kernel cost
tens of microseconds inside a training step, before any arithmetic
(``benchmarks/bench_training.py --sections floor``). So the formulas (affine,
swish, mixture, rational, spline, ReLU subnetwork) train float32 CPU inputs of
up to a size (``_Formula.native_below``) through operators written in C++
(``_native.cpp``), each one autograd node whose forward and backward run
without Python: the maths of their formulas in :mod:`._functional`, which stay
the reference (``tests/test_fused.py`` checks these operators' values and
gradients against them, layer-wide and per channel). A backward with
``create_graph=True`` evaluates the reference formula (through
``sklearn_learnact::eager_grads``), so that autograd records it. Float64,
other devices, inference and the larger inputs of rational and mixture use the
compiled kernels of :mod:`._fused`.

The library is built once per machine with the C++ compiler (``$CXX``, else
``c++``, ``g++`` or ``clang++``; about 15 s on 2 cores) against torch's headers
(:func:`torch.utils.cpp_extension.include_paths`) and its vector maths, for
the instruction set torch found on the CPU; it is cached beside the compiled
kernels, keyed by its source, torch, the compiler and the instruction set,
and loaded with :func:`torch.ops.load_library`. It obeys the fused kernels'
switches: off inside ``fused_kernels(False)`` or with
``SKLEARN_LEARNACT_FUSED=0``, not built inside ``fused_kernels(compile=False)``
(``predict``, which does not need it). Without a C++ compiler the CPU runs the
eager path (one warning, as for the compiled kernels); a compiler that fails
to build it warns once, and the compiled kernels train instead.
"""

import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import torch

from . import _fused

SOURCE = Path(__file__).with_name("_native.cpp")
NAMESPACE = "sklearn_learnact_native"

#: The operators the library defines (one per formula, ``_Formula.native``).
OPERATORS = ("affine", "swish", "mixture", "rational", "spline", "relu_subnet")

#: The loaded operators' namespace, once loaded in this process.
_LOADED: list = []
#: Why building the library failed (then the compiled kernels train).
_FAILED: list[str] = []


def operators(x: torch.Tensor):
    """``torch.ops.sklearn_learnact_native`` for training ``x`` natively, or None.

    None when the fused kernels are off, ``x`` is not a float32/float64 CPU
    tensor, inside ``torch.compile``, or the library is not loaded and may
    not be built or loaded now.
    """
    enabled = _fused._enabled.get()
    if enabled is None:
        enabled = _fused._ENV_ENABLED
    if (
        not enabled
        or x.dtype != torch.float32
        or "cpu" in _fused._FAILED
        or _FAILED
        or torch.compiler.is_compiling()
    ):
        return None
    if _LOADED:
        return _LOADED[0]
    if _fused._may_compile.get() is False:
        return None
    return _load()


def _load():
    with _fused._LOCK:
        if _LOADED:
            return _LOADED[0]
        if "cpu" in _fused._FAILED or _FAILED:
            return None
        start = time.perf_counter()
        path = library_path()
        how = "loaded"
        try:
            if path.is_file():
                try:
                    torch.ops.load_library(str(path))
                except OSError:  # truncated, written by another toolchain: rebuild
                    path.unlink(missing_ok=True)
            if not path.is_file():
                _build(path)
                how = "compiled"
                torch.ops.load_library(str(path))
        except FileNotFoundError as exc:  # no compiler: nothing compiles on the CPU
            _fused._fail("cpu", exc)
            return None
        except Exception as exc:  # a compiler that cannot build it, ...
            _fail(exc)
            return None
        _LOADED.append(getattr(torch.ops, NAMESPACE))
        _fused._LOG.append(
            {
                "kernel": "native",
                "variant": {"operators": ", ".join(OPERATORS)},
                "dtype": "float32",
                "device": "cpu",
                "shape": None,
                "how": how,
                "seconds": time.perf_counter() - start,
            }
        )
        return _LOADED[0]


def _fail(exc: Exception) -> None:
    reason = _fused._reason(exc)
    _FAILED.append(reason)
    warnings.warn(
        f"sklearn_learnact: the native training kernels could not be built "
        f"({reason}). The learnable activations train through the compiled "
        "kernels instead: the same results, slower at small batches (about "
        "1.2-1.8x a ReLU epoch instead of 1.1-1.25x). Set "
        f"{_fused.ENV_FUSED}=0 to use the eager path without this warning.",
        RuntimeWarning,
        stacklevel=5,
    )


def _compiler() -> str:
    """``$CXX``, else the first of c++, g++, clang++ on the PATH."""
    if os.environ.get("CXX"):
        return os.environ["CXX"]
    found = (shutil.which(name) for name in ("c++", "g++", "clang++"))
    return next((name for name in found if name), "c++")


def library_path() -> Path:
    """The built library in the kernel cache, keyed by its source, torch, the
    compiler and the machine."""
    key = repr(
        (
            hashlib.sha256(SOURCE.read_bytes()).hexdigest(),
            torch.__version__,
            torch.compiled_with_cxx11_abi(),
            platform.machine(),
            platform.system(),
            _compiler(),
            _isa_flags(),
        )
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return _fused.cache_dir() / f"native-{digest}.so"


def _isa_flags() -> list[str]:
    """Vector instructions for the compiler: those torch found on this CPU."""
    capability = torch.backends.cpu.get_cpu_capability()
    if platform.machine() not in ("x86_64", "AMD64"):
        return []
    # CPU_CAPABILITY selects torch's vector maths (at::vec) for that ISA
    if capability == "AVX512":
        isa = ["-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx512bw", "-mfma"]
    elif capability == "AVX2":
        isa = ["-mavx2", "-mfma"]
    else:
        return []
    return [*isa, f"-DCPU_CAPABILITY={capability}", f"-DCPU_CAPABILITY_{capability}"]


def _build(path: Path) -> None:
    """Compile ``_native.cpp`` into ``path`` (atomically: another process may
    be building the same library)."""
    from torch.utils import cpp_extension

    path.parent.mkdir(parents=True, exist_ok=True)
    libs = cpp_extension.library_paths()
    abi = int(torch.compiled_with_cxx11_abi())
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        out = Path(tmp) / path.name
        command = [
            _compiler(),
            "-O3",
            "-std=c++20",
            "-shared",
            "-fPIC",
            "-fopenmp",  # at::parallel_for: torch's own OpenMP runtime
            "-w",
            *_isa_flags(),
            f"-D_GLIBCXX_USE_CXX11_ABI={abi}",
            *(f"-I{p}" for p in cpp_extension.include_paths()),
            str(SOURCE),
            "-o",
            str(out),
            *(f"-L{p}" for p in libs),
            *(f"-Wl,-rpath,{p}" for p in libs),
            "-lc10",
            "-ltorch_cpu",
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            # the first error the compiler reports (its last line is often
            # a caret under source code)
            lines = done.stderr.strip().splitlines() or ["no output"]
            first = next((line for line in lines if "error" in line), lines[-1])
            raise RuntimeError(f"{command[0]} failed to build {SOURCE.name}: {first}")
        os.replace(out, path)
