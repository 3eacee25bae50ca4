"""SplineActivation: the inference module, its kernels and the truncated-power form."""

import numpy as np
import torch
from torch import nn

from ..activations import (
    FusedKernel,
    channel_view,
    check_channels,
    fused_kernels_available,
)


def _rederive_power_form(module: "SplineActivation", incompatible_keys) -> None:
    """Post-hook of ``load_state_dict``: the power form of the loaded table."""
    module._derive_power_form()


class SplineActivation(nn.Module):
    r"""A fixed piecewise polynomial on a uniform grid, with linear tails.

    Between ``lo`` and ``lo + n_cells * step`` the function is a polynomial of
    degree ``degree`` in each cell; the first and last cells hold the tails,
    straight lines that continue the function with its end slopes, so outside
    the grid it extrapolates linearly (with ``kinks``, the first and last cells
    continue as they are, kink included). Evaluation costs the same few
    elementwise ops whatever the number of cells:

    .. math::

        u = (x - lo) / step, \quad j = \text{clamp}(\lfloor u \rfloor, 0,
        n_{cells} - 1), \quad y = c_0[j] + c_1[j]\, x \;\;(\text{degree } 1)

    and, for degree > 1, Horner's scheme in the local coordinate ``u - j``.
    With one spline per channel (``lo`` of shape ``(C,)``), each channel (dim 1
    of the input) has its own grid and table. It has no parameters, only
    buffers: it follows ``.to()``, is saved in the ``state_dict`` and pickles.

    Parameters
    ----------
    lo : Tensor of shape () or (C,)
        Left edge of the grid (of the left tail cell).
    step : Tensor of shape () or (C,)
        Cell width.
    table : Tensor of shape (degree + 1, n_cells) or (degree + 1, C, n_cells)
        Per cell: for degree 1 the intercept and slope in ``x``
        (``y = table[0] + table[1] * x``); for higher degrees the coefficients
        of ``t^0 .. t^degree`` in ``t = u - j`` in ``[0, 1)``.
    kinks : Tensor of the shape of ``table``, optional
        Degree 1 only: per cell a slope change ``d`` and its position ``t``
        (rows), adding ``d * max(x, t)``: one kink per cell, so a piecewise
        linear function with kinks anywhere is represented exactly (``d = 0``
        in cells without a kink).
    compiled : bool, default=False
        Evaluate with a fused kernel (the library's compiled kernels, see
        :func:`~sklearn_learnact.activations.fused_kernels`): one loop over the
        input instead of a sequence of elementwise ops. An attribute: it can
        be switched on and off, and it pickles as a flag; the compiled kernels
        live in the process (and in the on-disk kernel cache), shared by all
        splines. A continuous degree-1 spline with at most 64 slope changes
        per channel is fused in its truncated-power form
        :math:`c_0 + c_1 x + \sum_k d_k \max(x, t_k)` (buffers ``power_c``,
        ``power_d``, ``power_t``, derived from the table, also after
        ``load_state_dict``, and not saved in it): one loop of
        multiply-adds, no look-ups; any other spline fuses its table form.
        The first call for a new kernel compiles it (seconds, or milliseconds
        from the disk cache), unless compiling is not allowed there (the
        estimators' ``predict``): then it is evaluated eagerly. If compiling
        fails, one warning says why and evaluation stays eager in this
        process.
        Eagerly, a spline with at most two slope changes (e.g. an exact PReLU)
        also uses the truncated-power form, which is then fewer ops.

    Shape:
        - Input: :math:`(N, C, *)`, or any shape for a single spline.
        - Output: same shape as the input.

    Examples
    --------
    >>> import torch
    >>> from sklearn_learnact.compression import SplineActivation
    >>> # |x| on [-1, 1]: tails of slope -1 and 1, two cells inside
    >>> table = torch.tensor([[0.0, 0.0, 0.0, 0.0], [-1.0, -1.0, 1.0, 1.0]])
    >>> act = SplineActivation(torch.tensor(-2.0), torch.tensor(1.0), table)
    >>> act(torch.tensor([-5.0, -0.5, 0.25, 3.0]))
    tensor([5.0000, 0.5000, 0.2500, 3.0000])
    >>> # the same |x| = -x + 2 max(x, 0) exactly, as one cell with a kink at 0
    >>> kinks = torch.tensor([[2.0], [0.0]])
    >>> table = torch.tensor([[0.0], [-1.0]])
    >>> act = SplineActivation(torch.tensor(-1.0), torch.tensor(2.0), table, kinks)
    >>> act(torch.tensor([-5.0, -0.5, 0.25, 3.0]))
    tensor([5.0000, 0.5000, 0.2500, 3.0000])
    """

    def __init__(
        self,
        lo: torch.Tensor,
        step: torch.Tensor,
        table: torch.Tensor,
        kinks: torch.Tensor | None = None,
        compiled: bool = False,
    ) -> None:
        super().__init__()
        self.compiled = bool(compiled)
        if table.dim() not in (2, 3) or table.shape[0] < 2:
            raise ValueError(
                "table must have shape (degree + 1, n_cells) or "
                f"(degree + 1, C, n_cells), got {tuple(table.shape)}."
            )
        self.degree = table.shape[0] - 1
        self.n_cells = table.shape[-1]
        self.num_channels = table.shape[1] if table.dim() == 3 else 1
        if lo.shape != step.shape or lo.numel() != self.num_channels:
            raise ValueError("lo and step need one value per channel of table.")
        lo, step = lo.reshape(-1), step.reshape(-1)
        if self.num_channels == 1:
            lo, step = lo[0], step[0]
        # u = x * scale + shift is one fused op
        self.register_buffer("scale", 1.0 / step)
        self.register_buffer("shift", -lo / step)
        # flat (degree + 1, C * n_cells) rows, one gather each
        self.register_buffer("table", table.reshape(self.degree + 1, -1).contiguous())
        offset = torch.arange(self.num_channels) * self.n_cells
        self.register_buffer("offset", offset if self.num_channels > 1 else None)
        if kinks is not None and (self.degree != 1 or kinks.shape != table.shape):
            raise ValueError("kinks needs degree 1 and the shape of table.")
        if kinks is not None:
            kinks = kinks.reshape(2, -1).contiguous()
        self.register_buffer("kinks", kinks)
        for key in ("power_c", "power_d", "power_t"):  # derived: not in state_dict
            self.register_buffer(key, None, persistent=False)
        self._derive_power_form()
        # the derived buffers follow a loaded table (torch's public hook)
        self.register_load_state_dict_post_hook(_rederive_power_form)

    def _derive_power_form(self) -> None:
        power = _power_form(self) if self.degree == 1 else None
        for key, value in zip(("power_c", "power_d", "power_t"), power or [None] * 3):
            setattr(self, key, value)

    def _per_channel(self, p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if self.num_channels == 1:
            return p
        owner = f"SplineActivation has {self.num_channels} channels (dim 1)"
        check_channels(x, self.num_channels, owner)
        return channel_view(p, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.num_channels > 1:
            self._per_channel(self.scale, x)  # the input has the right channels
        if self._compiling(x.device):
            kernel, args = self._kernel()
            # layer-wide splines see the input flattened (one kernel per
            # variant whatever the layer's width)
            flat = x.reshape(-1) if self.num_channels == 1 else x
            return kernel(flat, *args, fallback=self._forward_eager).view(x.shape)
        return self._forward_eager(x)

    def _forward_eager(self, x: torch.Tensor, *args) -> torch.Tensor:
        if self._uses_power_form(x.device):
            return _power_kernel(x, self.power_c, self.power_d, self.power_t)
        return self._forward_table(x)

    def _compiling(self, device=None) -> bool:
        return self.compiled and fused_kernels_available(
            self.table.device if device is None else device
        )

    def _uses_power_form(self, device=None) -> bool:
        """Whether ``forward`` evaluates the truncated-power form (fused, or
        eagerly when it has few kinks)."""
        return self.power_d is not None and (
            self._compiling(device) or len(self.power_d) <= _EAGER_POWER_KINKS
        )

    def _kernel(self):
        """The fused kernel of ``compiled`` evaluation (its static arguments
        bound) and its tensor arguments."""
        if self.power_d is not None:
            return _POWER.bind(), (self.power_c, self.power_d, self.power_t)
        args = (self.scale, self.shift, self.table, self.kinks, self.offset)
        return _TABLE.bind(n_cells=self.n_cells, degree=self.degree), args

    def _forward_table(self, x: torch.Tensor) -> torch.Tensor:
        """Eager evaluation from the cell table: a few in-place elementwise ops."""
        if self.num_channels == 1:
            # shift + x * scale with a Python scale: about 4x fewer ns than
            # addcmul with 0-dim tensors at batch 4096
            u = torch.add(self.shift, x, alpha=float(self.scale))
        else:
            u = torch.addcmul(
                self._per_channel(self.shift, x), x, self._per_channel(self.scale, x)
            )
        if self.degree == 1:
            j = u.clamp_(0, self.n_cells - 1).long()
        else:
            jf = u.clamp(0, self.n_cells - 1).floor_()
            t = u.sub_(jf)  # local coordinate in the cell (unbounded in the tails)
            j = jf.long()
        if self.offset is not None:
            j = j + self._per_channel(self.offset, x)
        # index_select on the flat index is the fastest gather on CPU (about
        # 1.3x fewer ns than advanced indexing or take at batch 4096; an int32
        # index or one gather from an interleaved table is no faster)
        j = j.reshape(-1)

        def coef(table: torch.Tensor, k: int) -> torch.Tensor:
            return table[k].index_select(0, j).view(x.shape)

        # in place on the gathered temporaries: fewer fresh allocations
        if self.degree == 1:
            y = coef(self.table, 0).addcmul_(coef(self.table, 1), x)
            if self.kinks is not None:  # + d * max(x, t), in place
                t = coef(self.kinks, 1)
                y.addcmul_(coef(self.kinks, 0), torch.maximum(x, t, out=t))
            return y
        y = coef(self.table, self.degree)
        for k in range(self.degree - 1, -1, -1):
            y = coef(self.table, k).addcmul_(y, t)
        return y

    def n_stored(self) -> int:
        """Numbers stored: the coefficient table, plus grid origin and step."""
        kinks = 0 if self.kinks is None else self.kinks.numel()
        return self.table.numel() + kinks + 2 * self.num_channels

    def madds_per_element(self) -> float:
        """Multiply-adds per element of the form evaluated: from the table, the
        index, a clamp, Horner (plus look-ups) and a max and a multiply-add for
        the kinks; in the truncated-power form, a multiply-add plus a max and a
        multiply-add per kink."""
        if self._uses_power_form():
            return float(1 + 2 * len(self.power_d))
        return float(self.degree + 2 + 2 * (self.kinks is not None))

    def extra_repr(self) -> str:
        power = None if self.power_d is None else self.power_d.shape[0]
        return (
            f"degree={self.degree}, n_cells={self.n_cells}, "
            f"num_channels={self.num_channels}, kinks={self.kinks is not None}, "
            f"power_kinks={power}, compiled={self.compiled}"
        )


#: Most slope changes of the truncated-power form (per channel), beyond which a
#: spline is evaluated from its table only.
_POWER_MAX_KINKS = 64
#: Up to this many kinks the eager truncated-power form (1 + 3 * K elementwise
#: passes) beats the table's look-ups (about 10 passes with kinks).
_EAGER_POWER_KINKS = 2


def _table_kernel(
    x: torch.Tensor,
    scale: torch.Tensor,
    shift: torch.Tensor,
    table: torch.Tensor,
    kinks: torch.Tensor | None,
    offset: torch.Tensor | None,
    n_cells: int,
    degree: int,
) -> torch.Tensor:
    """The table form of :class:`SplineActivation` in pure (out-of-place) tensor
    ops: what the fused kernel compiles into one loop, and the float64
    reference."""
    if offset is not None:
        scale, shift, offset = (channel_view(v, x) for v in (scale, shift, offset))
    u = x * scale + shift
    jf = u.clamp(0, n_cells - 1).floor()
    j = jf.long() if offset is None else jf.long() + offset
    if degree == 1:
        y = table[0][j] + table[1][j] * x
        if kinks is not None:
            y = y + kinks[0][j] * torch.maximum(x, kinks[1][j])
        return y
    t = u - jf
    y = table[degree][j]
    for k in range(degree - 1, -1, -1):
        y = table[k][j] + y * t
    return y


def _power_kernel(
    x: torch.Tensor, c: torch.Tensor, d: torch.Tensor, t: torch.Tensor
) -> torch.Tensor:
    """Truncated-power form ``c0 + c1 x + sum_k d_k max(x, t_k)`` of a
    continuous piecewise-linear function; ``c`` of shape (2,) or (2, C), ``d``
    and ``t`` of shape (K,) or (K, C). Fused, one loop with no look-ups.
    """
    if c.dim() == 2:
        c, d, t = (channel_view(v, x) for v in (c, d, t))
    y = c[0] + c[1] * x
    for k in range(d.shape[0]):
        y = y + d[k] * torch.maximum(x, t[k])
    return y


def _power_form(spline: SplineActivation):
    """``(c, d, t)`` of :func:`_power_kernel` for a continuous degree-1 spline
    with at most ``_POWER_MAX_KINKS`` slope changes per channel, else ``None``.

    The slope changes are the kinks and the cell edges where the line changes;
    the number per channel is padded (``d = 0``) to a power of two, so that few
    distinct kernels get compiled. Verified against the table in float64 at the
    cell edges, between them and far out in both tails.
    """
    C, n = spline.num_channels, spline.n_cells
    table = spline.table.double().cpu().reshape(2, C, n).numpy()
    if spline.kinks is None:
        kinks = np.zeros_like(table)
    else:
        kinks = spline.kinks.double().cpu().reshape(2, C, n).numpy()
    step = (1.0 / spline.scale.double().cpu()).reshape(C).numpy()
    lo = (-spline.shift.double().cpu()).reshape(C).numpy() * step
    left = table[:, :, 0] + np.stack([kinks[0, :, 0] * kinks[1, :, 0], np.zeros(C)])
    points = []
    for ch in range(C):
        # slope right of each cell's kink, and the change at the next cell's edge
        edge_change = table[1, ch, 1:] - (table[1, ch, :-1] + kinks[0, ch, :-1])
        edges = lo[ch] + step[ch] * np.arange(1, n)
        scale = max(1.0, np.abs(table[1, ch]).max())
        at_edges = np.abs(edge_change) > 1e-6 * scale  # not float32 rounding
        has_kink = kinks[0, ch] != 0
        t = np.r_[kinks[1, ch, has_kink], edges[at_edges]]
        d = np.r_[kinks[0, ch, has_kink], edge_change[at_edges]]
        points.append((t, d))
    k_max = max(len(t) for t, _ in points)
    if k_max > _POWER_MAX_KINKS:
        return None
    K = 1 << max(0, k_max - 1).bit_length()  # 1, 2, 4, 8, ...
    c = np.zeros((2, C))
    d_all, t_all = np.zeros((K, C)), np.zeros((K, C))
    for ch, (t, d) in enumerate(points):
        c[0, ch] = left[0, ch] - np.sum(d * t)  # d relu(x - t) = d max(x, t) - d t
        c[1, ch] = left[1, ch]
        d_all[: len(d), ch], t_all[: len(t), ch] = d, t
    # verify against the table (a discontinuous table has no such form)
    probe = np.concatenate(
        [lo + step * np.arange(-10.0, n + 10.5, 0.5)[:, None], t_all[: max(1, k_max)]]
    )
    x64 = torch.tensor(probe)  # (G, C)
    f64 = {k: v.detach().double().cpu() for k, v in spline.named_buffers()}
    offset = None if C == 1 else torch.arange(C) * n
    table64 = (f64["scale"], f64["shift"], f64["table"], f64.get("kinks"), offset)
    ref = _table_kernel(x64, *table64, n, 1)
    power = [torch.tensor(v[:, 0] if C == 1 else v) for v in (c, d_all, t_all)]
    atol = 1e-5 * max(1.0, float(ref.abs().max()))
    if not torch.allclose(_power_kernel(x64, *power), ref, rtol=1e-5, atol=atol):
        return None
    device = spline.table.device
    return [v.to(device=device, dtype=torch.float32) for v in power]


_TABLE = FusedKernel(_table_kernel)
_POWER = FusedKernel(_power_kernel)
