"""Native CPU training kernels: one C++ autograd node per activation call.

At training batch sizes a learnable activation's cost is mostly fixed cost per
call: an autograd Function in Python and the call of a compiled kernel cost
tens of microseconds inside a training step, before any arithmetic
(``benchmarks/bench_training.py --sections floor``). So the built-in formulas
(affine, swish, mixture, rational, spline, ReLU subnetwork) train float32 CPU
inputs of up to a size (``Formula.native_below``) through operators written in
C++ (``native.cpp``), each one autograd node whose forward and backward run
without Python: the maths of their formulas in :mod:`.formulas`, which stay
the reference (``tests/test_fused.py`` checks these operators' values and
gradients against them, layer-wide and per channel). A backward with
``create_graph=True`` evaluates the reference formula (through
``sklearn_learnact::eager_grads``), so that autograd records it. Float64,
other devices, inference and the larger inputs of rational and mixture use the
compiled kernels of :mod:`.fused`.

The library is built once per machine by torch's extension builder
(:func:`torch.utils.cpp_extension.load`: the C++ compiler, ``$CXX`` or
``c++``, with torch's headers and libraries; about 15 s on 2 cores) for the
instruction set torch found on the CPU (torch's vector maths need it), then
kept in the kernel cache under a name keyed by its source, torch, the compiler
and the instruction set, and loaded from there with
:func:`torch.ops.load_library` by later processes (a millisecond). It obeys
the fused kernels' switches: off inside ``fused_kernels(False)`` or with
``SKLEARN_LEARNACT_FUSED=0``, not built inside ``fused_kernels(compile=False)``
(``predict``, which does not need it). Without a C++ compiler the CPU runs the
eager path (one warning, as for the compiled kernels); a compiler that fails
to build it warns once, and the compiled kernels train instead.
"""

import contextlib
import hashlib
import io
import os
import platform
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import torch

from . import fused as _fused
from .cache import cache_dir

SOURCE = Path(__file__).with_name("native.cpp")
NAMESPACE = "sklearn_learnact_native"

#: The operators the library defines (one per formula, ``Formula.native``).
OPERATORS = ("affine", "swish", "mixture", "rational", "spline", "relu_subnet")

#: The loaded operators' namespace, once loaded in this process.
_LOADED: list = []
#: Why building the library failed (then the compiled kernels train).
_FAILED: list[str] = []


def enabled(x: torch.Tensor) -> bool:
    """Whether ``x`` may train through a native operator: the fused kernels
    are on and work on the CPU, ``x`` is float32, and no compiler traces."""
    on = _fused._enabled.get()
    if on is None:
        on = _fused._ENV_ENABLED
    return (
        on
        and x.dtype == torch.float32
        and "cpu" not in _fused._FAILED
        and not torch.compiler.is_compiling()
    )


def operators(x: torch.Tensor):
    """``torch.ops.sklearn_learnact_native`` for training ``x`` natively, or None.

    None when ``x`` may not train natively (:func:`enabled`), or the library
    is not loaded and may not be built or loaded now (or failed to build).
    """
    if _FAILED or not enabled(x):
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
                _build(path)  # and loaded by the builder
                how = "compiled"
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
    return cache_dir() / f"native-{digest}.so"


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
    """Build ``native.cpp`` with torch's extension builder into ``path``
    (atomically: another process may be building the same library)."""
    compiler = _compiler()
    if shutil.which(compiler) is None:  # as the compiled kernels see it
        raise FileNotFoundError(f"no C++ compiler: {compiler!r} is not on the PATH")
    from torch.utils import cpp_extension

    path.parent.mkdir(parents=True, exist_ok=True)
    flags = ["-O3", "-fopenmp", "-w", *_isa_flags()]
    with (
        tempfile.TemporaryDirectory(dir=path.parent) as tmp,
        _environ(CXX=compiler),  # the builder's compiler: $CXX, else c++
        contextlib.redirect_stdout(io.StringIO()),
    ):
        try:
            built = cpp_extension.load(
                name=NAMESPACE,
                sources=[str(SOURCE)],
                extra_cflags=flags,
                extra_ldflags=["-fopenmp"],  # torch's own OpenMP runtime
                build_directory=tmp,
                is_python_module=False,
            )
        except Exception as exc:
            raise RuntimeError(
                f"{compiler} failed to build {SOURCE.name}: {_first_error(exc)}"
            ) from exc
        os.replace(built, path)


@contextlib.contextmanager
def _environ(**values):
    """The environment variables ``values`` set inside the block."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _first_error(exc: Exception) -> str:
    """The first line of a build failure that names an error (the compiler's
    last line is often a caret under source code)."""
    lines = str(exc).strip().splitlines() or ["no output"]
    return next((line for line in lines if "error" in line), lines[-1]).strip()
