"""The skorch net the estimators train, and its fast data path.

skorch's defaults assemble every batch one sample at a time and do per-batch
bookkeeping for features we do not use; on a 784-128-64-10 MLP at batch 128
that costs 1.6x a hand-written loop (``../shared/perf/ANCHORS.md``). Here the
data live as tensors on the training device, batches are slices of a shuffled
index (drawn from a generator owned by the fit) and Adam runs fused.

Everything else is skorch's contract, kept: every callback hook fires as in
:class:`skorch.NeuralNet` (``on_train_begin/end``, ``on_epoch_begin/end``,
``on_batch_begin/end`` and ``on_grad_computed``, with the same arguments), fit
parameters reach the module's ``forward``, and a batch is ``(X, y)`` as
:func:`skorch.utils.unpack_data` expects; with sample weights ``X`` is the dict
``{"X": X, "sample_weight": w}`` (skorch's documented way to pass weights).
So any skorch callback (``GradientNormClipping``, ``LRScheduler``,
``EpochScoring``, ``Checkpoint``, ``LoadInitState``, ``EarlyStopping``, ...)
works as it does in skorch.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.utils import TeeGenerator

__all__ = [
    "EpochProgress",
    "LearnactNet",
    "SliceIterator",
    "Splits",
    "TensorData",
    "TrainingDivergedError",
    "ValidScore",
]

#: An epoch whose mean training loss exceeds this many times the loss before
#: the first update has diverged (healthy training lowers the loss).
DIVERGENCE_FACTOR = 1e3
#: Epochs of ever-growing training loss (ending above 10x its minimum) that
#: count as a divergence.
DIVERGENCE_EPOCHS = 5


class TrainingDivergedError(FloatingPointError):
    """The training loss became NaN or infinite, or grew without bound.

    Usually the learning rate is too high for the data's scale: lower
    ``learning_rate_init`` (or ``activation_lr``), or standardise the inputs.
    """


class TensorData:
    """One split as tensors: inputs, targets and optional sample weights."""

    def __init__(self, X, y=None, sample_weight=None):
        self.X, self.y, self.sample_weight = X, y, sample_weight

    def __len__(self) -> int:
        return len(self.X)


@dataclass
class Splits:
    """What the estimator hands to the net: the train and (optional) valid split."""

    train: TensorData
    valid: TensorData | None = None


class SliceIterator:
    """Batches by slicing tensors (a shuffled index when training).

    It replaces skorch's ``DataLoader``: no per-sample ``__getitem__`` and no
    collate, so a batch costs one gather (or one view) per tensor. Batches are
    ``(X, y)``, or ``({"X": X, "sample_weight": w}, y)`` with sample weights.

    Parameters
    ----------
    dataset : TensorData
    batch_size : int, default=128
    shuffle : bool, default=False
    generator : torch.Generator, optional
        Draws the shuffling (on the data's device); None uses torch's global
        random state.
    """

    def __init__(
        self, dataset: TensorData, batch_size: int = 128, shuffle=False, generator=None
    ):
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.generator = shuffle, generator

    def __len__(self) -> int:
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        data = self.dataset
        n, bs = len(data), self.batch_size
        weighted = data.sample_weight is not None
        tensors = [data.X, data.y] + ([data.sample_weight] if weighted else [])
        if self.shuffle:
            perm = torch.randperm(n, device=data.X.device, generator=self.generator)
            # index_select copies whole rows (memcpy, in parallel): 3.4x faster
            # than advanced indexing for a 128 x 784 float32 batch (measured)
            parts = (
                [t.index_select(0, perm[start : start + bs]) for t in tensors]
                for start in range(0, n, bs)
            )
        else:
            parts = (
                [t[start : start + bs] for t in tensors] for start in range(0, n, bs)
            )
        for part in parts:
            if weighted:
                yield {"X": part[0], "sample_weight": part[2]}, part[1]
            else:
                yield part[0], part[1]


class LearnactNet(NeuralNet):
    """skorch ``NeuralNet`` with a lean training step and sane param groups.

    Parameters
    ----------
    weight_decay : float, default=0.0
        L2 penalty on the weights of linear/convolutional layers only (not on
        biases, not on activation parameters).
    activation_lr : float or None, default=None
        Learning rate of the activation parameters; None means ``lr``.
    cycle : int or None, default=None
        Recorded as ``cycle`` in the history of every epoch (the estimators'
        alternating schedule sets it before each cycle).
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def __init__(
        self, *args, weight_decay=0.0, activation_lr=None, cycle=None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.weight_decay = weight_decay
        self.activation_lr = activation_lr
        self.cycle = cycle

    # -- data -------------------------------------------------------------
    def get_split_datasets(self, X, y=None, **fit_params):
        if not isinstance(X, Splits):
            raise TypeError("LearnactNet is trained by the estimators on Splits.")
        return X.train, X.valid

    # -- optimiser --------------------------------------------------------
    def activation_parameters(self) -> list[torch.nn.Parameter]:
        """Parameters of the hidden activations (``module_.activations``)."""
        return list(self.module_.activations.parameters())

    def initialize_optimizer(self, triggered_directly=None):
        act_ids = {id(p) for p in self.activation_parameters()}
        decay, no_decay = [], []
        for p in self.module_.parameters():
            if id(p) not in act_ids:
                (decay if p.dim() > 1 else no_decay).append(p)
        act_lr = self.lr if self.activation_lr is None else self.activation_lr
        # groups with the same settings are merged: each group costs the fused
        # Adam one more kernel launch and its Python bookkeeping every step
        merged: dict[tuple[float, float], list] = {}
        for params, settings in (
            (decay, (self.weight_decay, self.lr)),
            (no_decay, (0.0, self.lr)),
            (self.activation_parameters(), (0.0, act_lr)),
        ):
            if params:
                merged.setdefault(settings, []).extend(params)
        groups = [
            {"params": params, "weight_decay": wd, "lr": lr}
            for (wd, lr), params in merged.items()
        ]
        kwargs = self.get_params_for("optimizer")
        kwargs.setdefault("lr", self.lr)
        devices = {p.device.type for p in self.module_.parameters()}
        if self.optimizer is torch.optim.Adam and devices <= {"cpu", "cuda"}:
            # one kernel per step instead of a loop of small ops; it also keeps
            # the denormals of dead ReLU units out of Adam's state
            kwargs.setdefault("fused", True)
        self.optimizer_ = self.optimizer(groups, **kwargs)
        return self

    # -- steps ------------------------------------------------------------
    def infer(self, x, **fit_params):
        if isinstance(x, Mapping):  # {"X": X, "sample_weight": w}
            x = x["X"]
        return self.module_(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Mean criterion over the batch, weighted by ``X["sample_weight"]``.

        The estimators divide the weights by their mean over the split, so
        the weighted batch loss estimates the weighted mean loss of the split,
        and a batch whose weights are all zero has loss 0 (no 0/0).
        """
        loss = self.criterion_(y_pred, y_true)
        if loss.dim() > 1:  # per sample and output: average the outputs
            loss = loss.mean(dim=1)
        if isinstance(X, Mapping):
            return (loss * X["sample_weight"]).mean()
        return loss.mean()

    def train_step_single(self, batch, **fit_params):
        # the module's mode is set once per epoch in run_single_epoch
        Xi, yi = batch
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        # skorch's step without the optimiser closure (Adam needs none): zero
        # the gradients, forward/backward, on_grad_computed, optimiser step
        self.optimizer_.zero_grad(set_to_none=True)
        step = self.train_step_single(batch, **fit_params)
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        self.optimizer_.step()
        return step

    def validation_step(self, batch, **fit_params):
        Xi, yi = batch
        with torch.no_grad():
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=False)
        return {"loss": loss, "y_pred": y_pred}

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        if not len(self.history):  # a fresh net (not a warm start)
            self.initial_loss_ = None

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        if self.cycle is not None:
            self.history.record("cycle", self.cycle)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # skorch's loop (the same hooks, in the same order, with the same
        # arguments), plus a divergence check on every batch and epoch
        if iterator is None:
            return
        self.module_.train(training)
        batch_count, total, seen = 0, 0.0, 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            loss = step["loss"].item()
            if not math.isfinite(loss):
                self._diverged(
                    f"The {prefix} loss became {loss} at epoch {len(self.history)}, "
                    f"batch {batch_count + 1}"
                )
            n = len(batch[1])
            if training and loss > 0 and getattr(self, "initial_loss_", None) is None:
                self.initial_loss_ = loss  # before any update (of a weighted batch)
            self.history.record_batch(prefix + "_loss", loss)
            self.history.record_batch(prefix + "_batch_size", n)
            self.notify("on_batch_end", batch=batch, training=training, **step)
            batch_count += 1
            total, seen = total + loss * n, seen + n
        self.history.record(prefix + "_batch_count", batch_count)
        if training and seen:
            self._check_growth(total / seen)

    def _check_growth(self, epoch_loss: float) -> None:
        """Raise :class:`TrainingDivergedError` if the loss grows without bound."""
        start = self.initial_loss_
        if start is not None and epoch_loss > DIVERGENCE_FACTOR * max(start, 1e-12):
            self._diverged(
                f"The training loss of epoch {len(self.history)} is {epoch_loss:.3g}, "
                f"{epoch_loss / max(start, 1e-12):.3g} times its value before the "
                f"first update ({start:.3g})"
            )
        losses = [row["train_loss"] for row in self.history[-DIVERGENCE_EPOCHS:-1]] + [
            epoch_loss
        ]
        if len(losses) == DIVERGENCE_EPOCHS and all(
            b > a for a, b in zip(losses, losses[1:])
        ):
            lowest = min(self.history[:-1, "train_loss"] + [epoch_loss])
            if epoch_loss > 10 * lowest:
                self._diverged(
                    f"The training loss grew for {DIVERGENCE_EPOCHS} epochs in a row "
                    f"up to epoch {len(self.history)} ({epoch_loss:.3g}, more than "
                    f"10 times its lowest value {lowest:.3g})"
                )

    @staticmethod
    def _diverged(what: str):
        raise TrainingDivergedError(
            f"{what}: training diverged. Lower the learning rate "
            "(learning_rate_init, activation_lr), standardise the inputs (e.g. "
            "StandardScaler) or scale the target."
        )


class ValidScore(Callback):
    """Records ``valid_score`` (accuracy or R^2) from the validation batches.

    It reuses the predictions of the validation step, so it costs no extra
    pass over the data.
    """

    def __init__(self, kind: str):
        self.kind = kind

    def on_epoch_begin(self, net, **kwargs):
        self._preds, self._targets = [], []

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs):
        if not training:
            self._preds.append(y_pred.detach())
            self._targets.append(batch[1])

    def on_epoch_end(self, net, **kwargs):
        if not self._preds:
            return
        y_pred, y = torch.cat(self._preds), torch.cat(self._targets)
        if self.kind == "accuracy":
            score = (y_pred.argmax(dim=1) == y).double().mean().item()
        else:  # R^2 averaged over outputs, as sklearn's r2_score
            ss_res = ((y - y_pred) ** 2).sum(dim=0).double()
            ss_tot = ((y - y.mean(dim=0)) ** 2).sum(dim=0).double()
            r2 = torch.where(ss_tot > 0, 1 - ss_res / ss_tot, torch.zeros_like(ss_res))
            score = r2.mean().item()
        net.history.record("valid_score", score)
        self._preds, self._targets = [], []


class EpochProgress(Callback):
    """A tqdm progress bar over epochs, showing loss and validation score."""

    def __init__(self, total: int, desc: str):
        self.total, self.desc = total, desc

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=self.total, desc=self.desc, unit="epoch", leave=True)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        shown = ("train_loss", "valid_loss", "valid_score")
        self.bar_.set_postfix(
            {k: f"{row[k]:.4f}" for k in shown if k in row}, refresh=False
        )
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()


def history_frame(history):
    """The per-epoch part of a skorch history as a DataFrame."""
    import pandas as pd

    keep = ("epoch", "cycle", "train_loss", "valid_loss", "valid_score", "dur")
    rows = [{k: row[k] for k in keep if k in row} for row in history]
    return pd.DataFrame(rows, columns=[k for k in keep if any(k in r for r in rows)])


def plain_sink(text: str) -> None:
    """``print`` for skorch's epoch table; colour codes only on a terminal."""
    import re
    import sys

    if not sys.stdout.isatty():
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    print(text)
