"""What makes the activations fast: formulas, compiled kernels, native operators.

Private to :mod:`sklearn_learnact.activations`: the activation modules call
their formulas (:mod:`.formulas`), their registry specs name them, and the
public names (:class:`Formula`, :class:`FusedKernel`, the switches and the
cache) are re-exported by :mod:`sklearn_learnact.activations`. Nothing else in
the library imports from here.

- :mod:`.formula`: :class:`Formula`, an activation's forward and hand-written
  backward, run as one autograd node;
- :mod:`.fused`: :class:`FusedKernel`, a function of tensors compiled by
  ``torch.compile`` into one pass, cached on disk (:mod:`.cache`);
- :mod:`.native`: the built-in formulas in C++ (``native.cpp``), one autograd
  node without Python for float32 CPU training;
- :mod:`.formulas`: the built-in formulas.
"""

from .cache import cache_dir, cache_info, clear_cache
from .formula import Formula
from .fused import (
    FusedKernel,
    compiled_kernels,
    fused_kernels,
    fused_kernels_available,
    no_new_kernels,
)

__all__ = [
    "Formula",
    "FusedKernel",
    "cache_dir",
    "cache_info",
    "clear_cache",
    "compiled_kernels",
    "fused_kernels",
    "fused_kernels_available",
    "no_new_kernels",
]
