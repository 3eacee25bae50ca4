"""The skorch net the estimators train, and its fast data path.

skorch's defaults assemble every batch one sample at a time and do per-batch
bookkeeping for features we do not use; on a 784-128-64-10 MLP at batch 128
that costs 1.6x a hand-written loop (``../shared/perf/ANCHORS.md``). Here the
data live as tensors on the training device, batches are slices of a shuffled
index, the step is zero-grad/forward/backward/step and nothing else, and Adam
runs fused. Everything else (callbacks, history, early stopping, pickling)
stays skorch's.
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback

__all__ = [
    "EpochProgress",
    "LearnactNet",
    "SliceIterator",
    "Splits",
    "TensorData",
    "TrainingDivergedError",
    "ValidScore",
]


class TrainingDivergedError(FloatingPointError):
    """The training loss became NaN or infinite.

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
    collate, so a batch costs one gather (or one view) per tensor.
    """

    def __init__(self, dataset: TensorData, batch_size: int = 128, shuffle=False):
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle

    def __len__(self) -> int:
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        data = self.dataset
        tensors = [t for t in (data.X, data.y, data.sample_weight) if t is not None]
        n, bs = len(data), self.batch_size
        if self.shuffle:
            perm = torch.randperm(n, device=data.X.device)
            for start in range(0, n, bs):
                idx = perm[start : start + bs]
                yield tuple(t[idx] for t in tensors)
        else:
            for start in range(0, n, bs):
                yield tuple(t[start : start + bs] for t in tensors)


class LearnactNet(NeuralNet):
    """skorch ``NeuralNet`` with a lean training step and sane param groups.

    Parameters
    ----------
    weight_decay : float, default=0.0
        L2 penalty on the weights of linear/convolutional layers only (not on
        biases, not on activation parameters).
    activation_lr : float or None, default=None
        Learning rate of the activation parameters; None means ``lr``.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def __init__(self, *args, weight_decay=0.0, activation_lr=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.weight_decay = weight_decay
        self.activation_lr = activation_lr

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
    def _batch_loss(self, batch):
        X, y, *weight = batch
        y_pred = self.module_(X)
        loss = self.criterion_(y_pred, y)
        if loss.dim() > 1:  # per sample and output: average the outputs
            loss = loss.mean(dim=1)
        if weight:
            loss = (loss * weight[0]).sum() / weight[0].sum()
        else:
            loss = loss.mean()
        return loss, y_pred

    def train_step(self, batch, **fit_params):
        self.optimizer_.zero_grad(set_to_none=True)
        loss, y_pred = self._batch_loss(batch)
        loss.backward()
        self.optimizer_.step()
        return {"loss": loss, "y_pred": y_pred}

    def validation_step(self, batch, **fit_params):
        with torch.no_grad():
            loss, y_pred = self._batch_loss(batch)
        return {"loss": loss, "y_pred": y_pred}

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        self.module_.train(training)
        new_batch, record = self.history.new_batch, self.history.record_batch
        batch_count = 0
        for batch in iterator:
            new_batch()
            step = step_fn(batch)
            loss = step["loss"].item()
            if not math.isfinite(loss):
                epoch = len(self.history)
                raise TrainingDivergedError(
                    f"The {prefix} loss became {loss} at epoch {epoch}, batch "
                    f"{batch_count + 1}: training diverged. Lower the learning "
                    "rate (learning_rate_init, activation_lr), standardise the "
                    "inputs (e.g. StandardScaler) or scale the target."
                )
            record(prefix + "_loss", loss)
            record(prefix + "_batch_size", len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
            batch_count += 1
        self.history.record(prefix + "_batch_count", batch_count)


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


def history_frame(history, extra=None):
    """The per-epoch part of a skorch history as a DataFrame."""
    import pandas as pd

    keep = ("epoch", "train_loss", "valid_loss", "valid_score", "dur")
    rows = [{k: row[k] for k in keep if k in row} for row in history]
    frame = pd.DataFrame(rows, columns=[k for k in keep if any(k in r for r in rows)])
    for name, values in (extra or {}).items():
        frame[name] = np.asarray(values)
    return frame
