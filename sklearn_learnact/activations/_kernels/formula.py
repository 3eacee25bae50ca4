"""An activation's formula: forward and hand-written backward, run fast.

A :class:`Formula` is the part of an activation that makes it fast: its
forward ``f(x, *params)`` and its backward (the gradients of the input and
of the parameters from the upstream gradient), both plain functions of
tensors. One :class:`torch.autograd.Function` (:class:`_Fused`) runs them:
one graph node per activation, nothing saved but the input and the
parameters (the backward recomputes what it needs), no gradient computed for
a parameter that does not require one. Each function is a
:class:`~.fused.FusedKernel`: compiled into one loop that reads the input once
(forward) or the input and the gradient once (backward, parameter reductions
included) where a compiler is available, else evaluated eagerly, op by op.
Both evaluate the same functions, so they are the single source of the maths.

Two faster paths for CPU training, chosen per formula:

- ``autograd_below``: a formula of a few elementwise ops trains small CPU
  inputs through autograd, its forward recorded op by op (cheaper there than
  any autograd Function in Python);
- ``native``: an operator that is one C++ autograd node (the built-in
  formulas' are in :mod:`.native`) trains float32 CPU inputs of at most
  ``native_below`` elements. Its backward with ``create_graph=True`` hands
  over to this formula's backward through the operator
  ``sklearn_learnact::eager_grads``, which autograd records.

Layouts. A layer-wide activation sees its input flattened, ``(M,)``, and its
parameters have no channel axis. A per-channel one sees ``(N, C, S)`` (``S``
the product of the dims after the channels, 1 after a dense layer) and its
parameters have a leading channel axis ``C``, broadcast along dim 1 by
:func:`~sklearn_learnact.activations.channel_view`.
"""

import torch

from . import native as _native
from .fused import FusedKernel

__all__ = ["Formula"]

#: The library's operator namespace (``sklearn_learnact::``): helpers the
#: compiled formulas call, and the native operators' eager backward.
if hasattr(torch.ops.sklearn_learnact, "eager_grads"):  # a reloaded module
    LIBRARY = None
else:
    LIBRARY = torch.library.Library("sklearn_learnact", "DEF")

#: The formulas whose native operator hands its create_graph backward over
#: to them, by operator name.
_NATIVE: dict[str, "Formula"] = {}


class Formula:
    """An activation's forward and hand-written backward, run fused.

    Parameters
    ----------
    forward : callable
        ``forward(x, *params, **statics) -> out``: a pure function of tensors
        (no in-place change of its inputs), traceable by ``torch.compile``.
        ``x`` is in kernel layout: ``(M,)`` layer-wide, ``(N, C, S)`` per
        channel (parameters then have a leading ``C`` axis: broadcast them
        with :func:`~sklearn_learnact.activations.channel_view`).
    backward : callable
        ``backward(x, grad, *params, needs, **statics) -> grads``: one
        gradient per tensor of ``(x, *params)``, None where ``needs`` (a
        tuple of bools, one per tensor) is False.
    layer_dims : int, default=0
        Dimensions of the first parameter in a layer-wide activation: a
        per-channel one has one more (the leading channel axis), which is
        how a call finds its layout.
    fuse : bool, default=True
        False: always evaluate eagerly (for one or two elementwise ops,
        cheaper than a call of a compiled kernel).
    autograd_below : int, default=0
        CPU inputs of at most this many elements train through the forward
        evaluated eagerly and recorded by autograd (cheaper for a few ops).
    native : str or callable, optional
        An operator that trains float32 CPU inputs as one autograd node,
        ``native(x, *params, *native_args(**statics))``: a callable (e.g.
        ``torch.ops.mylib.my_activation``), or the name of one of the
        library's own C++ operators.
    native_args : callable, optional
        ``native_args(**statics)``: the operator's arguments after the
        tensors (default: the static arguments' values, in order).
    native_below : int, optional
        Largest input (in elements) trained natively; default: any.
    native_statics : tuple of str, default=()
        For the library's own operators: the names of the static arguments
        they hand back (as floats) with ``create_graph=True``.

    Calling it, ``formula(x, *params, **statics)``, runs the activation on
    ``x`` of any shape (channels on dim 1 when per channel): an autograd node
    when a gradient is needed, the compiled forward otherwise.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.activations import Formula, channel_view
    >>> def forward(x, a):
    ...     a = a if a.dim() == 0 else channel_view(a, x)
    ...     return a * torch.tanh(x)
    >>> def backward(x, grad, a, *, needs):
    ...     t = torch.tanh(x)
    ...     a_ = a if a.dim() == 0 else channel_view(a, x)
    ...     grad_x = grad * a_ * (1 - t * t) if needs[0] else None
    ...     dims = None if a.dim() == 0 else (0, 2)
    ...     grad_a = (grad * t).sum(dim=dims) if needs[1] else None
    ...     return grad_x, grad_a
    >>> scaled_tanh = Formula(forward, backward)
    >>> a = torch.tensor(2.0, requires_grad=True)
    >>> y = scaled_tanh(torch.zeros(4, 3), a)
    >>> y.shape
    torch.Size([4, 3])
    """

    def __init__(
        self,
        forward,
        backward,
        *,
        layer_dims: int = 0,
        fuse: bool = True,
        autograd_below: int = 0,
        native=None,
        native_args=None,
        native_below: int = 1 << 62,
        native_statics: tuple[str, ...] = (),
    ) -> None:
        self.forward = FusedKernel(forward, n_batched=1, fuse=fuse)
        self.backward = FusedKernel(backward, n_batched=2, fuse=fuse)
        self.layer_dims = layer_dims
        self.autograd_below = autograd_below
        self.native = native
        self.native_below = native_below
        self.native_args = native_args or (lambda **statics: tuple(statics.values()))
        self.native_statics = tuple(native_statics)
        self._bound: dict[tuple, _Bound] = {}
        if isinstance(native, str):
            _NATIVE[native] = self

    @property
    def name(self) -> str:
        """The forward function's name, without a leading ``_`` and ``_forward``."""
        return self.forward.fn.__name__.lstrip("_").removesuffix("_forward")

    def __repr__(self) -> str:
        return f"Formula({self.name})"

    def __call__(self, x: torch.Tensor, *params: torch.Tensor, **statics):
        p = params[0]
        channels = p.shape[0] if p.dim() > self.layer_dims else 1
        return self.bind(channels, **statics)(x, *params)

    def bind(self, channels: int, **statics) -> "_Bound":
        """The formula for one layout and set of static arguments (cached)."""
        key = (channels, *statics.items())
        bound = self._bound.get(key)
        if bound is None:
            bound = self._bound[key] = _Bound(self, channels, statics)
        return bound


class _Bound:
    """A :class:`Formula` bound to a layout (``channels``) and static arguments."""

    def __init__(self, formula: Formula, channels: int, statics: dict) -> None:
        self.formula, self.channels, self.statics = formula, channels, statics
        self.forward = formula.forward.bind(**statics)
        self.native_args = formula.native_args(**statics) if formula.native else ()
        self._backward: dict[tuple, object] = {}

    def backward(self, needs: tuple):
        bound = self._backward.get(needs)
        if bound is None:
            bound = self.formula.backward.bind(needs=needs, **self.statics)
            self._backward[needs] = bound
        return bound

    def view(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` in kernel layout: ``(M,)`` layer-wide, ``(N, C, S)`` per channel."""
        return kernel_layout(x, self.channels)

    def __call__(self, x: torch.Tensor, *params: torch.Tensor) -> torch.Tensor:
        """The activation on ``x``: an autograd node when a gradient is needed."""
        if torch.is_grad_enabled() and (
            x.requires_grad or any(p.requires_grad for p in params)
        ):
            if x.device.type == "cpu":
                n = x.numel()
                native = self.formula.native
                if native is not None and n <= self.formula.native_below:
                    op = _native_operator(native, x)
                    if op is not None:  # x as it is: the operator knows layouts
                        return op(x, *params, *self.native_args)
                if n <= self.formula.autograd_below:
                    return self.forward.eager(self.view(x), *params).view(x.shape)
            return _Fused.apply(self, x, *params)
        return self.forward(self.view(x), *params).view(x.shape)


def _native_operator(native, x: torch.Tensor):
    """The operator training ``x`` natively, or None (see :func:`.native.operators`)."""
    if not isinstance(native, str):
        return native if _native.enabled(x) else None
    ops = _native.operators(x)
    return None if ops is None else getattr(ops, native)


def kernel_layout(x: torch.Tensor, channels: int) -> torch.Tensor:
    """``x`` as the formulas take it: ``(M,)`` layer-wide, ``(N, C, S)`` per channel."""
    if channels == 1:
        return x.reshape(-1)
    return x.reshape(x.shape[0], channels, -1)


class _Fused(torch.autograd.Function):
    @staticmethod
    def forward(ctx, bound, x, *params):
        ctx.bound = bound
        ctx.save_for_backward(x, *params)
        return bound.forward(bound.view(x), *params).view(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x, *params = ctx.saved_tensors
        xk = ctx.bound.view(x)
        backward = ctx.bound.backward(ctx.needs_input_grad[1:])
        if torch.is_grad_enabled():
            # create_graph=True: the eager formula, recorded by autograd, so
            # that the gradient itself can be differentiated
            grads = backward.eager(xk, grad.reshape(xk.shape), *params)
        else:
            grads = backward(xk, grad.reshape(xk.shape), *params)
        grad_x = grads[0]
        if grad_x is not None:
            grad_x = grad_x.view(grad.shape)
        return (None, grad_x, *grads[1:])


# ``sklearn_learnact::eager_grads``: the backward formula of a native
# operator, evaluated eagerly so that autograd records it; the operator's C++
# backward calls it when the gradient itself is to be differentiated
# (``create_graph=True``). Every gradient is returned.
def _eager_grads(kind, x, grad, params, statics):
    # "mixture:relu,tanh,sin": the mixture's basis after the colon
    kind, _, basis = kind.partition(":")
    formula = _NATIVE[kind]
    kwargs = dict(zip(formula.native_statics, statics))
    if basis:
        kwargs["basis"] = tuple(basis.split(","))
    # the operators take x as it is: here, in the formulas' layout (as _Bound)
    p = params[0]
    shape = x.shape
    channels = p.shape[0] if p.dim() > formula.layer_dims else 1
    x, grad = kernel_layout(x, channels), kernel_layout(grad, channels)
    needs = (True,) * (1 + len(params))
    grads = list(formula.backward.fn(x, grad, *params, **kwargs, needs=needs))
    grads[0] = grads[0].reshape(shape)
    return grads


if LIBRARY is not None:
    LIBRARY.define(
        "eager_grads(str kind, Tensor x, Tensor grad, Tensor[] params, "
        "float[] statics) -> Tensor[]"
    )
    LIBRARY.impl("eager_grads", _eager_grads, "CompositeImplicitAutograd")
