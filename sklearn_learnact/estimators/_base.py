"""What the classifier and the regressor share: parameters, fit, predict."""

import numbers
import warnings
from collections.abc import Mapping
from contextlib import contextmanager

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)
from skorch.callbacks import EarlyStopping

from ..activations import LearnableActivation, get_activation
from ..nets import CNN, MLP
from ._skorch import (
    EpochProgress,
    LearnactNet,
    SliceIterator,
    Splits,
    TensorData,
    ValidScore,
    history_frame,
)

#: Seed 002's learning rate for the activation-only cycle of ``"alternating"``.
ALTERNATING_ACTIVATION_LR = 1e-2
_PREDICT_BATCH = {"mlp": 4096, "cnn": 256}
#: Below this many multiply-adds per batch an MLP runs on one thread: measured on
#: 2 cores, one thread is 12-20% faster up to 3M (a 784-128-64 net at batch 128 is
#: 14M, where two threads are 1.5x faster), and on a busy CPU two threads stall
#: small nets by up to 100x while they wait for each other.
_SINGLE_THREAD_MADDS = 5e6


@contextmanager
def _torch_threads(single: bool):
    """Run torch on one thread inside the block when ``single``; then restore."""
    if not single:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def resolve_device(device) -> torch.device:
    """``"auto"`` is CUDA when available, else the CPU; anything else as given."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but CUDA is not available here; use device='auto' "
            "or 'cpu'."
        )
    return resolved


def _is_int(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


class LearnedActivationMixin(BaseEstimator):
    """Base of :class:`LearnedActivationClassifier` and the regressor.

    Subclasses set ``_criterion`` and ``_score_kind`` and implement
    ``_encode_target(y) -> (y_tensor, n_outputs, fitted_attributes)``.
    """

    _doc_link_module = "sklearn_learnact"
    _doc_link_template = (
        "https://sklearn-learnact.readthedocs.io/en/latest/generated/"
        "{estimator_module}.{estimator_name}.html"
    )

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="mixture",
        *,
        activation_params=None,
        learn_activation=True,
        activation_lr=None,
        schedule="joint",
        cycle_epochs=None,
        alpha=1e-4,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        shuffle=True,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        architecture="mlp",
        image_shape=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.activation_params = activation_params
        self.learn_activation = learn_activation
        self.activation_lr = activation_lr
        self.schedule = schedule
        self.cycle_epochs = cycle_epochs
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.architecture = architecture
        self.image_shape = image_shape
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if _is_int(sizes) else sizes
        if not (
            isinstance(sizes, (tuple, list))
            and len(sizes) > 0
            and all(_is_int(s) and s > 0 for s in sizes)
        ):
            raise ValueError(
                "hidden_layer_sizes must be a positive int or a non-empty tuple of "
                f"positive ints, got {self.hidden_layer_sizes!r}."
            )
        params = self.activation_params
        if params is not None and not isinstance(params, Mapping):
            raise ValueError(
                f"activation_params must be a dict or None, got {params!r}."
            )
        params = dict(params or {})
        per_neuron = params.pop("per_neuron", False)
        # builds one module: unknown names/options raise a ValueError that lists
        # the valid ones
        get_activation(self.activation, num_features=2, per_neuron=per_neuron, **params)
        for name, low in (("learning_rate_init", 0.0), ("alpha", None)):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or not (
                value > low if low is not None else value >= 0
            ):
                bound = "> 0" if low is not None else ">= 0"
                raise ValueError(f"{name} must be a number {bound}, got {value!r}.")
        if self.activation_lr is not None and not (
            isinstance(self.activation_lr, numbers.Real) and self.activation_lr > 0
        ):
            raise ValueError(
                f"activation_lr must be None or > 0, got {self.activation_lr!r}."
            )
        for name in ("max_iter", "n_iter_no_change"):
            value = getattr(self, name)
            if not (_is_int(value) and value >= 1):
                raise ValueError(f"{name} must be an int >= 1, got {value!r}.")
        if not (
            self.batch_size == "auto"
            or (_is_int(self.batch_size) and self.batch_size >= 1)
        ):
            raise ValueError(
                f"batch_size must be 'auto' or an int >= 1, got {self.batch_size!r}."
            )
        if not (isinstance(self.tol, numbers.Real) and self.tol >= 0):
            raise ValueError(f"tol must be a number >= 0, got {self.tol!r}.")
        if not (
            isinstance(self.validation_fraction, numbers.Real)
            and 0 < self.validation_fraction < 1
        ):
            raise ValueError(
                "validation_fraction must be in (0, 1), got "
                f"{self.validation_fraction!r}."
            )
        if self.schedule not in ("joint", "alternating"):
            raise ValueError(
                f"schedule must be 'joint' or 'alternating', got {self.schedule!r}."
            )
        if self.architecture not in ("mlp", "cnn"):
            raise ValueError(
                f"architecture must be 'mlp' or 'cnn', got {self.architecture!r}."
            )
        self._cycle_plan()  # validates cycle_epochs

    def _cycle_plan(self) -> list[tuple[int, str]]:
        """Epochs and what trains in each cycle: "all", "net" or "activation"."""
        if self.schedule == "joint":
            return [(self.max_iter, "all")]
        epochs = self.cycle_epochs
        if epochs is None:
            base, extra = divmod(self.max_iter, 3)
            epochs = tuple(max(1, base + (i < extra)) for i in range(3))
        elif _is_int(epochs):
            epochs = (epochs,) * 3
        if not (
            isinstance(epochs, (tuple, list))
            and len(epochs) == 3
            and all(_is_int(e) and e >= 1 for e in epochs)
        ):
            raise ValueError(
                "cycle_epochs must be None, an int >= 1 or three ints >= 1 (epochs "
                f"of the net, activation and net cycles), got {self.cycle_epochs!r}."
            )
        return list(zip(epochs, ("net", "activation", "net")))

    def _validate_X(self, X, y="no_validation", reset=True, **kwargs):
        """``validate_data`` with a useful message for non-numeric columns."""
        name = type(self).__name__
        hint = (
            f"{name} needs numeric features: encode the other columns first, e.g. "
            "make_pipeline(make_column_transformer((OneHotEncoder(), "
            f"categorical_columns), remainder='passthrough'), {name}())."
        )
        if hasattr(X, "dtypes") and hasattr(X, "columns"):
            bad = [
                str(c)
                for c, dt in X.dtypes.items()
                if not (
                    pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt)
                )
            ]
            if bad:
                raise ValueError(f"X has non-numeric column(s) {bad}. {hint}")
        try:
            out = validate_data(self, X, y=y, reset=reset, dtype=np.float32, **kwargs)
        except ValueError as exc:
            if "could not convert" in str(exc):
                raise ValueError(
                    f"X contains non-numeric values ({exc}). {hint}"
                ) from exc
            raise
        return out

    # --------------------------------------------------------------------- fit
    def _make_module_params(self, n_features: int, n_outputs: int) -> dict:
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if _is_int(sizes) else tuple(sizes)
        common = {
            "n_outputs": n_outputs,
            "hidden_layer_sizes": sizes,
            "activation": self.activation,
            "activation_params": self.activation_params,
        }
        if self.architecture == "mlp":
            return {
                "module": MLP,
                "module__n_features": n_features,
                **{f"module__{k}": v for k, v in common.items()},
            }
        shape = self.image_shape
        if not (
            isinstance(shape, (tuple, list))
            and len(shape) == 3
            and all(_is_int(s) and s > 0 for s in shape)
        ):
            raise ValueError(
                "architecture='cnn' needs image_shape=(C, H, W), e.g. (1, 28, 28) "
                f"for MNIST; got {shape!r}."
            )
        if int(np.prod(shape)) != n_features:
            raise ValueError(
                f"image_shape={tuple(shape)} means {int(np.prod(shape))} features "
                f"per image, but X has {n_features}. X must hold flattened images "
                "in (C, H, W) order."
            )
        if shape[1] < 4 or shape[2] < 4:
            raise ValueError(
                f"image_shape={tuple(shape)}: the CNN pools twice, so H and W must "
                "be at least 4."
            )
        return {
            "module": CNN,
            "module__image_shape": tuple(shape),
            **{f"module__{k}": v for k, v in common.items()},
        }

    def fit(self, X, y, sample_weight=None, callbacks=None):
        """Train the network on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features (images flattened in (C, H, W) order).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), optional
            Per-sample weights of the training loss.
        callbacks : list of (str, skorch.callbacks.Callback), optional
            Extra skorch callbacks for this fit only (e.g. Optuna pruning), run
            after the estimator's own. They are not parameters of the
            estimator: ``clone`` and ``get_params`` do not see them.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._check_params()
        X, y = self._validate_X(X, y, reset=True, **self._validate_y_kwargs)
        y_t, n_outputs, target_attrs = self._encode_target(y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float32)
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        module_params = self._make_module_params(X.shape[1], n_outputs)
        splits = self._make_splits(X, y_t, sample_weight, rng, device)
        n_train = len(splits.train)
        batch_size = min(200 if self.batch_size == "auto" else self.batch_size, n_train)

        cuda = [device.index or 0] if device.type == "cuda" else []
        single = device.type == "cpu" and self._small(X.shape[1], n_outputs, batch_size)
        with torch.random.fork_rng(devices=cuda), _torch_threads(single):
            torch.manual_seed(seed)
            net, cycles = self._train(
                splits, module_params, batch_size, device, callbacks or []
            )
        for name, value in target_attrs.items():
            setattr(self, name, value)
        self.net_ = net
        self.device_ = str(device)
        self.n_outputs_ = n_outputs
        extra = {"cycle": cycles} if self.schedule == "alternating" else None
        self.history_ = history_frame(net.history, extra)
        self.loss_curve_ = self.history_["train_loss"].tolist()
        self.n_iter_ = len(net.history)
        return self

    def _small(self, n_features: int, n_outputs: int, batch_size: int) -> bool:
        """Whether one batch of this MLP is too little work for several threads."""
        if self.architecture != "mlp":
            return False
        sizes = self.hidden_layer_sizes
        sizes = (n_features, *((sizes,) if _is_int(sizes) else sizes), n_outputs)
        madds = batch_size * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        return madds < _SINGLE_THREAD_MADDS

    def _make_splits(self, X, y_t, sample_weight, rng, device) -> Splits:
        def data(idx=slice(None)):  # a slice is a view: no copy of X for the full set
            def tensor(a):
                a = a[idx]
                return torch.from_numpy(a if a.flags.writeable else a.copy())

            return TensorData(
                tensor(X).to(device),
                y_t[idx].to(device),
                None if sample_weight is None else tensor(sample_weight).to(device),
            )

        n = X.shape[0]
        if not self.early_stopping:
            return Splits(data())
        n_valid = int(np.ceil(self.validation_fraction * n))
        if n_valid < 1 or n - n_valid < 1:
            raise ValueError(
                f"early_stopping needs at least 2 samples; got {n} with "
                f"validation_fraction={self.validation_fraction}."
            )
        stratify = y_t.numpy() if self._score_kind == "accuracy" else None
        seed = rng.randint(np.iinfo(np.int32).max)
        try:
            train, valid = train_test_split(
                np.arange(n), test_size=n_valid, stratify=stratify, random_state=seed
            )
        except ValueError:  # a class too small to stratify: plain random split
            train, valid = train_test_split(
                np.arange(n), test_size=n_valid, random_state=seed
            )
        return Splits(data(np.sort(train)), data(np.sort(valid)))

    def _callbacks(self, total_epochs: int, validate: bool, extra: list) -> list:
        callbacks = []
        if validate:
            callbacks.append(("valid_score", ValidScore(self._score_kind)))
        if self.verbose:
            desc = f"{type(self).__name__}({self.activation})"
            callbacks.append(("progress", EpochProgress(total_epochs, desc)))
        monitor = "valid_score" if self.early_stopping else "train_loss"
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor=monitor,
                    lower_is_better=not self.early_stopping,
                    patience=self.n_iter_no_change,
                    threshold=self.tol,
                    threshold_mode="abs",
                    load_best=self.early_stopping,
                    sink=print if self.verbose >= 2 else _silent,
                ),
            )
        )
        return callbacks + list(extra)

    def _train(self, splits, module_params, batch_size, device, extra_callbacks):
        plan = self._cycle_plan()
        alternating = self.schedule == "alternating"
        act_lr = self.activation_lr
        if act_lr is None:
            act_lr = (
                ALTERNATING_ACTIVATION_LR if alternating else self.learning_rate_init
            )
        net = LearnactNet(
            criterion=self._criterion,
            criterion__reduction="none",
            optimizer=torch.optim.Adam,
            lr=self.learning_rate_init,
            weight_decay=self.alpha / batch_size,
            activation_lr=act_lr,
            batch_size=batch_size,
            max_epochs=self.max_iter,
            iterator_train=SliceIterator,
            iterator_train__shuffle=self.shuffle,
            iterator_valid=SliceIterator,
            iterator_valid__batch_size=_PREDICT_BATCH[self.architecture],
            train_split=None,
            callbacks=self._callbacks(
                sum(e for e, _ in plan),
                validate=splits.valid is not None,
                extra=extra_callbacks,
            ),
            device=device,
            verbose=int(self.verbose >= 2),
            **module_params,
        )
        net.initialize()
        act_params = net.activation_parameters()
        act_ids = {id(p) for p in act_params}
        net_params = [p for p in net.module_.parameters() if id(p) not in act_ids]
        cycles, converged = [], True
        for index, (epochs, trains) in enumerate(plan, start=1):
            if trains == "activation" and not (act_params and self.learn_activation):
                continue  # nothing to learn in the activation cycle
            for p in net_params:
                p.requires_grad_(trains != "activation")
            for p in act_params:
                p.requires_grad_(self.learn_activation and trains != "net")
            before = len(net.history)
            net.partial_fit(splits, epochs=epochs)
            ran = len(net.history) - before
            cycles += [index] * ran
            converged = converged and ran < epochs
        for p in act_params:  # leave a trainable module behind (for fine-tuning)
            p.requires_grad_(self.learn_activation)
        for p in net_params:
            p.requires_grad_(True)
        if not converged:
            warnings.warn(
                f"{type(self).__name__}: maximum number of epochs reached and the "
                "optimisation has not converged yet; increase max_iter.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return net, cycles

    # ----------------------------------------------------------------- predict
    def _forward(self, X) -> torch.Tensor:
        """Raw network outputs for ``X`` (logits or predictions), on the CPU."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        module = self.net_.module_
        module.eval()
        Xt = torch.from_numpy(X if X.flags.writeable else X.copy())
        bs = _PREDICT_BATCH[self.architecture]
        single = self.device_ == "cpu" and self._small(
            self.n_features_in_, self.n_outputs_, min(bs, len(Xt))
        )
        with torch.inference_mode(), _torch_threads(single):
            out = [
                module(Xt[i : i + bs].to(self.device_)).cpu()
                for i in range(0, Xt.shape[0], bs)
            ]
        return torch.cat(out)

    # ------------------------------------------------------------- inspection
    @property
    def activations_(self) -> tuple[torch.nn.Module, ...]:
        """The fitted activation modules, one per hidden layer, in order."""
        check_is_fitted(self)
        return tuple(self.net_.module_.activations)

    @property
    def learned_activations_(self) -> pd.DataFrame:
        """Tidy table of the learned activation parameters.

        One row per value with columns ``layer`` (1-based), ``activation``,
        ``parameter``, ``neuron`` (``<NA>`` for a layer-wide value) and
        ``value``. For ``affine`` these are seed 001's k0, k1 per layer; for
        ``mixture`` seed 002's P_1..P_n per layer. Empty for a fixed activation.
        """
        rows = []
        for layer, act in enumerate(self.activations_, start=1):
            if not isinstance(act, LearnableActivation):
                continue
            for param, value in act.learned_parameters().items():
                values = value.reshape(-1).tolist()
                neurons = [pd.NA] if value.dim() == 0 else range(len(values))
                rows += [
                    (layer, self.activation, param, neuron, v)
                    for neuron, v in zip(neurons, values)
                ]
        frame = pd.DataFrame(
            rows, columns=["layer", "activation", "parameter", "neuron", "value"]
        )
        return frame.astype({"layer": "int64", "neuron": "Int64", "value": "float64"})


def _silent(*args, **kwargs) -> None:
    """Sink for skorch messages when ``verbose < 2``."""
