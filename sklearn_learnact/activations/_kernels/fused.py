"""Fused kernels: an activation's formula compiled into one pass over the data.

The formulas of the learnable activations (:mod:`.formulas`) and of the
compressed splines are plain functions of tensors: run as they are, each
elementwise op reads and writes the whole tensor (the *eager* path, about
20-40 passes per layer). A :class:`FusedKernel` compiles such a function with
``torch.compile`` (inductor: C++/OpenMP on the CPU, Triton on a GPU) into a
kernel that reads its inputs once and writes its outputs once, reductions
included, and calls it with little Python overhead:

- **Compiled ahead of time, called directly.** Each variant (the formula's
  static arguments, dtype, device and the shapes of everything but the batch
  dimension) is compiled once with ``aot_compile`` into a function whose only
  dynamic size is the batch dimension, and called without ``torch.compile``'s
  per-call guard evaluation (two to three times less overhead per call: it
  dominates at training batch sizes). The dispatch key here stands in for the
  guards: it holds everything the compiled code specialises on, and batches
  of fewer than two rows (which torch.compile specialises) run eagerly. One
  compiled kernel serves training (under ``no_grad``, from the autograd
  function) and inference (also under ``inference_mode``); on the CPU it
  runs on the thread count torch had when it was compiled.
- **Cached on disk.** Compiled kernels are saved (``save_compiled_function``)
  under ``$SKLEARN_LEARNACT_CACHE_DIR`` (default
  ``~/.cache/sklearn_learnact/kernels``), keyed by the variant, the formula
  (its source and that of the helpers it calls, :func:`.cache.formula_digest`),
  torch, Python and the CPU, so that a new process loads them in
  milliseconds instead of compiling again (seconds).
- **Never compiled where it must not be.** Inside :func:`fused_kernels`
  ``(compile=False)`` a kernel runs compiled only if it is already in memory,
  else eagerly: the estimators predict this way, so a ``predict`` after ``fit``
  never compiles (``fit`` compiled what it runs).
- **Fallback.** Without a working compiler (no C++ compiler on the CPU, no
  Triton on a GPU) or when the environment variable
  ``SKLEARN_LEARNACT_FUSED=0`` is set, every formula runs eagerly: the same
  results to float rounding, slower. A failed compilation warns once per
  device type, saying why.

Both paths evaluate the same function, so the hand-written formulas stay the
single source of the maths. (The one exception, for speed: float32 CPU
training runs the formulas' C++ version, :mod:`.native`, which the tests
hold to them.)
"""

import contextlib
import contextvars
import hashlib
import math
import os
import platform
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

from .cache import cache_dir, formula_digest

__all__ = [
    "BoundKernel",
    "FusedKernel",
    "compiled_kernels",
    "fused_kernels",
    "fused_kernels_available",
    "no_new_kernels",
]

#: Environment variable: "0" (or "false", "no", "off") turns the fused kernels off.
ENV_FUSED = "SKLEARN_LEARNACT_FUSED"

_FLOAT_DTYPES = (torch.float32, torch.float64)
#: Rows of the example a kernel is compiled with: enough elements (about 64k)
#: that inductor parallelises and vectorises the loops as for real batches.
_EXAMPLE_ELEMENTS = 1 << 16

_enabled: contextvars.ContextVar[bool | None] = contextvars.ContextVar(
    "sklearn_learnact_fused_enabled", default=None
)
#: True, False, or None: allowed, not said explicitly (see no_new_kernels)
_may_compile: contextvars.ContextVar[bool | None] = contextvars.ContextVar(
    "sklearn_learnact_fused_compile", default=None
)
#: Why compiling failed, per device type ("cpu", "cuda"): those run eagerly.
_FAILED: dict[str, str] = {}
#: One record per kernel variant compiled or loaded in this process.
_LOG: list[dict] = []
_LOCK = threading.RLock()


def _env_enabled() -> bool:
    value = os.environ.get(ENV_FUSED, "1").strip().lower()
    return value not in ("0", "false", "no", "off")


#: The process default, read once (at import).
_ENV_ENABLED = _env_enabled()


@contextlib.contextmanager
def fused_kernels(
    enabled: bool | None = None, *, compile: bool | None = None
) -> Iterator[None]:
    """Control the fused activation kernels inside a ``with`` block.

    The setting holds for the current thread (and asyncio task) only. Outside
    any block, fused kernels are used and compiled on first use, unless the
    environment variable ``SKLEARN_LEARNACT_FUSED=0`` was set when the package
    was imported.

    Parameters
    ----------
    enabled : bool, optional
        Use the fused kernels (False: the eager path, e.g. to compare both).
        None leaves the setting as it is.
    compile : bool, optional
        Allow compiling (or loading from the disk cache) kernels not yet in
        memory. With False, only kernels already compiled in this process run
        fused, everything else eagerly. True also allows it inside
        :func:`no_new_kernels` (the estimators' ``predict``). None leaves the
        setting as it is.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.activations import fused_kernels, get_activation
    >>> act = get_activation("mixture")
    >>> with fused_kernels(False):  # the eager path
    ...     y = act(torch.randn(4, 3))
    """
    tokens = [
        (var, var.set(bool(value)))
        for var, value in ((_enabled, enabled), (_may_compile, compile))
        if value is not None
    ]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


@contextlib.contextmanager
def no_new_kernels() -> Iterator[None]:
    """Inside the block, kernels not compiled yet run eagerly: nothing compiles.

    Unless an enclosing :func:`fused_kernels` block says ``compile=True``
    explicitly. The estimators predict inside it, so that ``predict`` after
    ``fit`` never compiles (``fit`` compiled what ``predict`` runs).

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.activations import get_activation, no_new_kernels
    >>> with torch.no_grad(), no_new_kernels():
    ...     y = get_activation("rational")(torch.randn(8, 3))
    """
    token = _may_compile.set(False) if _may_compile.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _may_compile.reset(token)


def fused_kernels_available(device: str | torch.device = "cpu") -> bool:
    """Whether the fused kernels are used on ``device`` here and now.

    True unless they are switched off (:func:`fused_kernels`, or
    ``SKLEARN_LEARNACT_FUSED=0``) or compiling them failed on this device
    type earlier in the process (no C++ compiler, no triton). A first
    compilation may still fail.

    Parameters
    ----------
    device : str or torch.device, default="cpu"

    Returns
    -------
    available : bool

    Examples
    --------
    >>> from sklearn_learnact.activations import fused_kernels, fused_kernels_available
    >>> with fused_kernels(False):
    ...     fused_kernels_available("cpu")
    False
    """
    enabled = _enabled.get()
    if enabled is None:
        enabled = _ENV_ENABLED
    return enabled and torch.device(device).type not in _FAILED


def compiled_kernels() -> list[dict]:
    """The kernel variants compiled or loaded in this process, in order.

    Returns
    -------
    records : list of dict
        Each with ``kernel`` (the formula's name), ``variant`` (its static
        arguments), ``dtype``, ``device``, ``shape`` (of the batched input, the
        batch dimension as -1), ``how`` (``"compiled"`` or ``"loaded"`` from
        the disk cache) and ``seconds``. The library of native CPU training
        operators, once built or loaded, is the record whose ``kernel`` is
        ``"native"`` (``shape`` None).

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.activations import compiled_kernels, get_activation
    >>> act = get_activation("rational")
    >>> y = act(torch.randn(256, 8))  # compiles (or loads) its kernels, if it can
    >>> all(r["how"] in ("compiled", "loaded") for r in compiled_kernels())
    True
    """
    with _LOCK:
        return [dict(r) for r in _LOG]


class FusedKernel:
    """A function of tensors, run as fused compiled kernels where possible.

    Parameters
    ----------
    fn : callable
        ``fn(*tensors, **statics)``: a pure function of tensors (no in-place
        change of its inputs), traceable by ``torch.compile``.
    n_batched : int, default=1
        The first ``n_batched`` tensors share a leading batch dimension (of
        any size); every other dimension, and the other tensors, have the
        shapes of the variant compiled.
    fuse : bool, default=True
        False: always evaluate eagerly (for a function of one or two
        elementwise ops, cheaper than a call of a compiled kernel).

    Calling it, ``kernel(*tensors, fallback=None, **statics)``, runs ``fn``
    compiled for the variant, or eagerly (``fallback(*tensors)`` if given,
    else ``fn``) when fused kernels are off or unavailable, the batch has
    fewer than two rows, the dtype is not float32/float64, or compiling is
    not allowed and the variant is not compiled yet. ``statics`` are
    hashable keyword arguments baked into the compiled code (one variant
    each); :meth:`bind` fixes them once, for hot call sites. Tensors needing
    a gradient are an error: call it without autograd (from a
    :class:`torch.autograd.Function`, or under ``torch.no_grad``).

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.activations import FusedKernel
    >>> def cubic(x, a):
    ...     return a * x * x * x - x
    >>> kernel = FusedKernel(cubic)
    >>> x, a = torch.linspace(-1, 1, 64), torch.tensor(0.5)
    >>> with torch.no_grad():
    ...     y = kernel(x, a)  # compiled once (or loaded), else eager
    >>> torch.allclose(y, cubic(x, a))
    True
    """

    def __init__(self, fn: Callable, n_batched: int = 1, fuse: bool = True) -> None:
        self.fn = fn
        self.n_batched = n_batched
        self.fuse = fuse
        self._bound: dict[tuple, BoundKernel] = {}

    def __repr__(self) -> str:
        return f"FusedKernel({self.fn.__module__}.{self.fn.__qualname__})"

    def bind(self, **statics) -> "BoundKernel":
        """The kernel with its static arguments fixed (one object per set)."""
        key = tuple(statics.items())
        bound = self._bound.get(key)
        if bound is None:
            bound = self._bound[key] = BoundKernel(self, statics)
        return bound

    def __call__(self, *tensors: torch.Tensor | None, fallback=None, **statics):
        return self.bind(**statics)(*tensors, fallback=fallback)


class BoundKernel:
    """A :class:`FusedKernel` with its static arguments fixed; see there."""

    def __init__(self, kernel: FusedKernel, statics: dict) -> None:
        self.kernel, self.statics = kernel, statics
        self.statics_key = tuple(statics.items())
        self.skip = kernel.n_batched  # tensors after these are parameters
        self.fuse = kernel.fuse
        self._variants: dict[tuple, Callable] = {}

    def __repr__(self) -> str:
        return f"{self.kernel!r} with {self.statics}"

    def __call__(self, *tensors: torch.Tensor | None, fallback=None):
        # the hot path of every activation, twice per layer and step: few
        # Python operations (each costs more once a matrix product has
        # evicted the interpreter's data from the CPU caches)
        x = tensors[0]
        enabled = _enabled.get()
        if enabled is None:
            enabled = _ENV_ENABLED
        if (
            not enabled
            or not self.fuse
            or x.shape[0] < 2
            or x.dtype not in _FLOAT_DTYPES
            or x.device.type in _FAILED
        ):
            return self._eager(tensors, fallback)
        if torch.is_grad_enabled():
            for t in tensors:
                if t is not None and t.requires_grad:
                    raise RuntimeError(
                        f"{self.kernel!r} runs without autograd: call it from an "
                        "autograd.Function or under torch.no_grad()."
                    )
        key = [x.dtype, x.device, x.shape[1:]]
        for t in tensors[self.skip :]:
            key.append(None if t is None else t.shape)
        key = tuple(key)
        compiled = self._variants.get(key)
        if compiled is None:
            if _may_compile.get() is not False:
                compiled = self._build(key, tensors)
            if compiled is None:
                return self._eager(tensors, fallback)
        return compiled(*_as_inputs(tensors))

    def _eager(self, tensors, fallback):
        if fallback is not None:
            return fallback(*tensors)
        return self.kernel.fn(*tensors, **self.statics)

    def eager(self, *tensors: torch.Tensor | None):
        """The function evaluated eagerly, op by op (autograd records it)."""
        return self.kernel.fn(*tensors, **self.statics)

    # -- compiling ----------------------------------------------------------
    def _build(self, key: tuple, tensors) -> Callable | None:
        """Load the variant from the disk cache or compile it; None if compiling
        failed (then this device type runs eagerly from now on)."""
        device_type = tensors[0].device.type
        with _LOCK:
            if key in self._variants:
                return self._variants[key]
            if device_type in _FAILED:
                return None
            start = time.perf_counter()
            path = _cache_path(self.kernel.fn, self.statics_key, key)
            compiled, how = _load(path, self.kernel.fn), "loaded"
            if compiled is None:
                try:
                    compiled, how = self._compile(tensors), "compiled"
                except Exception as exc:  # no compiler, no triton, unsupported, ...
                    _fail(device_type, exc)
                    return None
                if device_type != "cpu" or _cpu_kernels_vectorised():
                    _save(compiled, path)
            # the key stands for torch.compile's guards (see the module docstring)
            compiled.disable_guard_check()
            self._variants[key] = compiled
            _LOG.append(
                {
                    "kernel": self.kernel.fn.__name__.lstrip("_"),
                    "variant": dict(self.statics),
                    "dtype": str(key[0]).replace("torch.", ""),
                    "device": str(key[1]),
                    "shape": (-1, *key[2]),
                    "how": how,
                    "seconds": time.perf_counter() - start,
                }
            )
            return compiled

    def _compile(self, tensors):
        fn, statics, n_batched = self.kernel.fn, self.statics, self.kernel.n_batched
        scalars = tuple(t is not None and t.dim() == 0 for t in tensors)

        def kernel(*args):
            args = [a.view(()) if s else a for a, s in zip(args, scalars)]
            return fn(*args, **statics)

        examples = []
        for i, t in enumerate(_as_inputs(tensors)):
            if t is not None and i < n_batched:
                rest = math.prod(t.shape[1:])
                rows = max(2, -(-_EXAMPLE_ELEMENTS // max(rest, 1)))
                t = torch.zeros((rows, *t.shape[1:]), dtype=t.dtype, device=t.device)
                # the batch dimension is the only dynamic size: torch's public
                # way to say so lives in torch._dynamo
                torch._dynamo.mark_dynamic(t, 0)
            elif t is not None:
                t = t.detach().clone()
            examples.append(t)
        compiled = torch.compile(kernel, fullgraph=True, dynamic=False)
        with torch.no_grad():
            # experimental public API (torch>=2.9): compile now, save, reload
            return compiled.aot_compile((tuple(examples), {}))


def _as_inputs(tensors) -> list:
    """The tensors as the compiled kernels take them: contiguous, and 0-d ones
    as shape (1,) (inductor restarts its analysis on a 0-d float64 input, which
    ahead-of-time compilation does not support)."""
    out = []
    for t in tensors:
        if t is not None:
            t = t.reshape(1) if t.dim() == 0 else t.contiguous()
        out.append(t)
    return out


#: Whether compiling on this CPU warned that its kernels are not vectorised.
_SCALAR_WARNED: list[bool] = []


def _cpu_kernels_vectorised() -> bool:
    """Whether inductor compiled this process's CPU kernels with vector
    instructions; warns once if not, where the CPU has them.

    Inductor picks the vector instruction set by building and loading a probe
    library in a child process; when that probe fails (a crashing or timed
    out child), it compiles scalar code, two to three times slower, without
    a word. Such kernels are not saved to the disk cache (whose key holds the
    CPU's capability, not what the probe found), so that a later process
    compiles them again. Only a private function tells (inductor's
    ``pick_vec_isa``; cached per process, it costs nothing after compiling).
    """
    from torch._inductor import cpu_vec_isa

    if cpu_vec_isa.pick_vec_isa():
        return True
    capability = torch.backends.cpu.get_cpu_capability()
    if capability != "DEFAULT" and not _SCALAR_WARNED:
        _SCALAR_WARNED.append(True)
        warnings.warn(
            "sklearn_learnact: torch's compiler found no usable vector instruction "
            f"set on this CPU ({capability}): its probe, a child process that "
            "loads a test library, failed. The fused activation kernels compiled "
            "in this process are scalar (2-3x slower) and are not cached on disk. "
            "The child imports from this process's sys.path: a script directory "
            "holding a file named like a standard module (e.g. nt.py) can crash "
            "it; TORCHINDUCTOR_VEC_ISA_OK=0 also forces scalar code.",
            RuntimeWarning,
            stacklevel=5,
        )
    return False


def _reason(exc: Exception) -> str:
    """An exception in one line: its type and the first line of its message."""
    text = str(exc).strip()
    return type(exc).__name__ + (f": {text.splitlines()[0]}" if text else "")


def _fail(device_type: str, exc: Exception) -> None:
    reason = _reason(exc)
    _FAILED[device_type] = reason
    needs = "a C++ compiler (e.g. g++)" if device_type == "cpu" else "triton"
    warnings.warn(
        f"sklearn_learnact: the fused activation kernels could not be compiled "
        f"on {device_type} ({reason}). Learnable activations and compressed "
        "splines run on the eager path in this process: the same results, but "
        "slower (about 1.3-2x a ReLU training epoch instead of 1.1-1.3x). "
        f"Installing {needs} enables them; set {ENV_FUSED}=0 to use the eager "
        "path without this warning.",
        RuntimeWarning,
        stacklevel=4,
    )


# -- disk cache ----------------------------------------------------------------
def _cache_path(fn: Callable, statics_key: tuple, key: tuple) -> Path:
    dtype, device, *shapes = key
    # CPU kernels run on the thread count they were compiled with
    threads = torch.get_num_threads() if device.type == "cpu" else 0
    machine = [torch.__version__, sys.version, platform.machine(), platform.system()]
    if device.type == "cpu":
        machine.append(torch.backends.cpu.get_cpu_capability())
    elif device.type == "cuda":
        machine.append(torch.cuda.get_device_name(device))
    text = repr(
        (
            fn.__module__,
            fn.__qualname__,
            formula_digest(fn),
            statics_key,
            dtype,
            str(device),
            threads,
            shapes,
            machine,
        )
    )
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return cache_dir() / f"{fn.__name__.lstrip('_')}-{digest}.bin"


def _load(path: Path, fn: Callable):
    """The compiled kernel saved at ``path``, or None (missing, stale, broken)."""
    if not path.is_file():
        return None
    try:
        import torch._inductor.config

        # The kernel was compiled on this CPU (its capability is in the cache
        # key): skip inductor's once-per-process probe that builds and loads
        # a test library per vector ISA (about 2 s on a busy machine). No
        # public switch exists; TORCHINDUCTOR_VEC_ISA_OK is this config's
        # environment variable.
        with (
            torch._inductor.config.patch({"cpp.vec_isa_ok": True}),
            open(path, "rb") as f,
        ):
            return torch.compiler.load_compiled_function(f, f_globals=fn.__globals__)
    except Exception:  # written by another torch, truncated, ...: compile anew
        return None


def _save(compiled, path: Path) -> None:
    """Save a compiled kernel (atomically); a read-only cache is no error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        compiled.save_compiled_function(str(path))
    except Exception:
        pass
