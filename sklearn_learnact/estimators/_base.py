"""The public base class of the classifier and the regressor.

:class:`LearnedActivationEstimator` holds the parameters, the training loop
and the public surface that the rest of the library (compression, search,
export, plots) uses: ``activations_``, :meth:`replace_activations`,
``device_``, :meth:`cycle_plan` and :func:`learnact_step`. Subclasses declare
the hooks the base calls: ``_criterion``, ``_score_kind`` and
``_encode_target``.
"""

import numbers
import threading
import warnings
from abc import ABCMeta, abstractmethod
from collections.abc import Mapping
from contextlib import contextmanager

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array, check_random_state, get_tags
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping
from torch import nn

from .._validation import (
    RANDOM_STATE,
    VERBOSE,
    Boolean,
    InstanceOf,
    Interval,
    Options,
    Satisfies,
    is_int,
    validate_params,
)
from ..activations import (
    activation_spec,
    fused_kernels_available,
    get_activation,
    learned_parameters,
    no_new_kernels,
)
from ..nets import CNN, MLP, check_hidden_layer_sizes, reset_parameters
from ._skorch import (
    EpochProgress,
    LearnactNet,
    SliceIterator,
    Splits,
    TensorData,
    ValidScore,
    history_frame,
    plain_sink,
)

__all__ = ["LearnedActivationEstimator", "learnact_step", "resolve_device"]

#: The learning rate of the activation-only cycle of ``"alternating"`` (the
#: mixture study's).
ALTERNATING_ACTIVATION_LR = 1e-2
_PREDICT_BATCH = {"mlp": 4096, "cnn": 256}
#: Inputs larger than this in magnitude get a warning: networks train on
#: standardised inputs (a loss of 1e29 with inputs of 1e30 says nothing).
_LARGE_INPUT = 1e6
#: A fit whose best epoch's training loss is within this relative change of
#: the loss before training did not learn (learning_rate_init=1e-12): it warns.
_STALLED = 1e-4
#: Below this many multiply-adds per batch an MLP runs on one thread: measured on
#: 2 cores, one thread is 12-20% faster up to 3M (a 784-128-64 net at batch 128 is
#: 14M, where two threads are 1.5x faster), and on a busy CPU two threads stall
#: small nets by up to 100x while they wait for each other.
_SINGLE_THREAD_MADDS = 5e6

# -- declared parameter constraints (one validation style) --------------------
_Real, _Int = numbers.Real, numbers.Integral


def _three_epochs(value) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) == 3
        and all(is_int(e) and e >= 1 for e in value)
    )


def _layer_sizes(value) -> bool:
    check_hidden_layer_sizes(value)
    return True


# -- threads ----------------------------------------------------------------
_THREADS_LOCK = threading.Lock()
_single_thread_users = 0
_threads_before = 0


@contextmanager
def _single_thread(enabled: bool):
    """Run torch on one thread inside the block when ``enabled``.

    Torch's thread count is process-wide: concurrent fits (threads of one
    process, e.g. ``GridSearchCV`` with a threading backend) share one counter,
    the first sets one thread and the last restores the count it found.
    """
    global _single_thread_users, _threads_before
    if not enabled:
        yield
        return
    with _THREADS_LOCK:
        if _single_thread_users == 0:
            _threads_before = torch.get_num_threads()
            torch.set_num_threads(1)
        _single_thread_users += 1
    try:
        yield
    finally:
        with _THREADS_LOCK:
            _single_thread_users -= 1
            if _single_thread_users == 0:
                torch.set_num_threads(_threads_before)


#: Serialises the construction of networks: skorch builds the module with torch's
#: default initialisation (global random state), which ``fork_rng`` restores.
_GLOBAL_RNG_LOCK = threading.Lock()


def resolve_device(device) -> torch.device:
    """``"auto"`` is CUDA when available, else the CPU; ``"cpu"`` and
    ``"cuda[:N]"`` as given; anything else is a clear error."""
    if isinstance(device, str) and device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}."
        ) from exc
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(
            f"device={device!r} is not supported: the estimators train on 'cpu' or "
            "'cuda' ('auto' picks CUDA when available). Use device='cpu'."
        )
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but CUDA is not available here; use device='auto' "
            "or 'cpu'."
        )
    if resolved.type == "cuda" and resolved.index is None:  # the current one
        resolved = torch.device("cuda", torch.cuda.current_device())
    return resolved


def _same_device(a: torch.device, b: torch.device) -> bool:
    """Whether two devices are the same one (``cpu`` is ``cpu:0``; a parameter's
    device always has its index, :func:`resolve_device`'s too)."""
    return a.type == b.type and (a.index or 0) == (b.index or 0)


def wrapped_estimator_tags(tags, estimator):
    """``tags`` of a meta-estimator that predicts as ``estimator`` does.

    For ``__sklearn_tags__`` of a wrapper (the compressor, a search): its
    estimator type and classifier/regressor tags are those of the wrapped
    estimator (or Pipeline), so scikit-learn's ``is_classifier``, stratified
    splits and scorers treat the wrapper like it.

    Parameters
    ----------
    tags : sklearn.utils.Tags
        The wrapper's own tags (``super().__sklearn_tags__()``), changed in place.
    estimator : estimator
        The wrapped estimator.

    Returns
    -------
    tags : sklearn.utils.Tags

    Examples
    --------
    >>> from sklearn.base import BaseEstimator
    >>> from sklearn.utils import get_tags
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.estimators import wrapped_estimator_tags
    >>> tags = get_tags(BaseEstimator())
    >>> wrapped_estimator_tags(tags, LearnedActivationClassifier()).estimator_type
    'classifier'
    """
    inner = get_tags(estimator)
    tags.estimator_type = inner.estimator_type
    tags.classifier_tags = inner.classifier_tags
    tags.regressor_tags = inner.regressor_tags
    return tags


def learnact_step(estimator) -> tuple[str, "LearnedActivationEstimator"]:
    """The learned-activation estimator in ``estimator`` and its parameter prefix.

    Parameters
    ----------
    estimator : estimator
        A :class:`~sklearn_learnact.LearnedActivationClassifier` or regressor,
        or a (nested) :class:`~sklearn.pipeline.Pipeline` ending in one.

    Returns
    -------
    prefix : str
        ``""``, or e.g. ``"learnedactivationclassifier__"`` for its parameters
        seen from ``estimator``.
    inner : LearnedActivationEstimator

    Raises
    ------
    TypeError
        If there is no learned-activation estimator at the end.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_learnact import LearnedActivationClassifier
    >>> from sklearn_learnact.estimators import learnact_step
    >>> learnact_step(make_pipeline(StandardScaler(), LearnedActivationClassifier()))[0]
    'learnedactivationclassifier__'
    """
    if isinstance(estimator, LearnedActivationEstimator):
        return "", estimator
    if isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        prefix, inner = learnact_step(last)
        return f"{name}__{prefix}", inner
    raise TypeError(
        "estimator must be a LearnedActivationClassifier, a "
        "LearnedActivationRegressor or a Pipeline ending in one, got "
        f"{type(estimator).__name__}."
    )


class LearnedActivationEstimator(BaseEstimator, metaclass=ABCMeta):
    """Base of :class:`LearnedActivationClassifier` and the regressor.

    It holds the parameters shared by both (documented on the classifier),
    trains the network and predicts in batches. A subclass declares

    - ``_criterion``: the loss class, called with ``reduction="none"``;
    - ``_score_kind``: ``"accuracy"`` or ``"r2"``, the validation score;
    - ``_encode_target(y, sample_weight, reset)``: the training targets as a
      tensor, the number of network outputs and the fitted attributes that
      describe the encoding (``classes_``, ``target_mean_`` ...).

    Collaborators use only the public surface: ``activations_``,
    :meth:`replace_activations`, ``device_``, :meth:`cycle_plan`,
    ``predict``/``decision_function`` and :func:`learnact_step`.
    """

    _doc_link_module = "sklearn_learnact"
    _doc_link_template = (
        "https://sklearn-learnact.readthedocs.io/en/latest/generated/"
        "{estimator_module}.{estimator_name}.html"
    )
    _validate_y_kwargs: dict = {}

    @property
    @abstractmethod
    def _criterion(self) -> type[nn.Module]:
        """The loss module class (skorch's ``criterion``)."""

    @property
    @abstractmethod
    def _score_kind(self) -> str:
        """``"accuracy"`` or ``"r2"``: what ``valid_score`` records."""

    @abstractmethod
    def _encode_target(self, y, sample_weight, reset: bool):
        """``(y_tensor, n_outputs, fitted_attributes)`` for the network.

        ``reset=False`` (warm start, ``partial_fit``) must reuse the encoding
        of the first fit.
        """

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
        warm_start=False,
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
        self.warm_start = warm_start
        self.architecture = architecture
        self.image_shape = image_shape
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    #: Each parameter's declared constraints (any one holds); checked in fit.
    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            Satisfies(_layer_sizes, "an int >= 1 or a sequence of ints >= 1")
        ],
        "activation": [InstanceOf(str, description="a registered activation name")],
        "activation_params": [
            None,
            InstanceOf(Mapping, description="a dict of the activation's options"),
        ],
        "learn_activation": [Boolean()],
        "activation_lr": [None, Interval(_Real, 0.0, None, "neither")],
        "schedule": [Options("joint", "alternating")],
        "cycle_epochs": [
            None,
            Interval(_Int, 1, None),
            Satisfies(
                _three_epochs,
                "three ints >= 1 (epochs of the net, activation and net cycles)",
            ),
        ],
        "alpha": [Interval(_Real, 0.0, None)],
        "batch_size": [Options("auto"), Interval(_Int, 1, None)],
        "learning_rate_init": [Interval(_Real, 0.0, None, "neither")],
        "max_iter": [Interval(_Int, 1, None)],
        "shuffle": [Boolean()],
        "tol": [Interval(_Real, 0.0, None)],
        "early_stopping": [Boolean()],
        "validation_fraction": [Interval(_Real, 0.0, 1.0, "neither")],
        "n_iter_no_change": [Interval(_Int, 1, None)],
        "warm_start": [Boolean()],
        "architecture": [Options("mlp", "cnn")],
        "image_shape": [
            None,
            InstanceOf(tuple, list, np.ndarray, description="(C, H, W)"),
        ],
        "device": [
            InstanceOf(
                str, torch.device, description="'auto', 'cpu', 'cuda' or 'cuda:N'"
            )
        ],
        "random_state": RANDOM_STATE,
        "verbose": VERBOSE,
    }

    def _check_params(self) -> None:
        validate_params(self.get_params(deep=False), self._parameter_constraints)
        self._check_activation()

    def _activation_options(self) -> tuple[dict, bool]:
        params = dict(self.activation_params or {})
        return params, bool(params.pop("per_neuron", False))

    def _check_activation(self) -> None:
        """Build the activation once and run it: unknown names and options, and
        options of the wrong kind, fail here with the activation named."""
        params, per_neuron = self._activation_options()
        # unknown names/options raise a ValueError that lists the valid ones
        module = get_activation(
            self.activation, num_features=2, per_neuron=per_neuron, **params
        )
        try:
            with torch.no_grad():
                module(torch.zeros(3, 2))
        except Exception as exc:
            raise ValueError(
                f"activation {self.activation!r} with activation_params="
                f"{self.activation_params!r} does not work: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def cycle_plan(self) -> list[tuple[int, str]]:
        """Epochs and what trains in each cycle of the schedule.

        Returns
        -------
        plan : list of (int, str)
            ``[(max_iter, "all")]`` for ``schedule="joint"``; the three
            cycles ``[(e1, "net"), (e2, "activation"), (e3, "net")]`` for
            ``"alternating"``. The sum is the most epochs one ``fit`` runs.

        Examples
        --------
        >>> from sklearn_learnact import LearnedActivationClassifier
        >>> clf = LearnedActivationClassifier(schedule="alternating", max_iter=30)
        >>> clf.cycle_plan()
        [(10, 'net'), (10, 'activation'), (10, 'net')]
        """
        if self.schedule == "joint":
            return [(self.max_iter, "all")]
        validate_params(
            {"cycle_epochs": self.cycle_epochs},
            {"cycle_epochs": self._parameter_constraints["cycle_epochs"]},
        )
        epochs = self.cycle_epochs
        if epochs is None:
            base, extra = divmod(self.max_iter, 3)
            epochs = tuple(max(1, base + (i < extra)) for i in range(3))
        elif is_int(epochs):
            epochs = (epochs,) * 3
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

    def _check_sample_weight(self, sample_weight, n_samples: int):
        """Sample weights as float64, checked; None stays None."""
        if sample_weight is None:
            return None
        if isinstance(sample_weight, numbers.Number):
            return np.full(n_samples, float(sample_weight))
        weight = check_array(
            sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
        )
        if weight.shape != (n_samples,):
            raise ValueError(
                f"sample_weight.shape == {weight.shape}, expected ({n_samples},)."
            )
        if (weight < 0).any():
            raise ValueError(
                f"sample_weight has {int((weight < 0).sum())} negative value(s); "
                "weights must be >= 0 (0 ignores a sample)."
            )
        if not weight.sum() > 0:
            raise ValueError(
                "sample_weight is all zero: at least one sample needs a positive "
                "weight."
            )
        return weight

    # --------------------------------------------------------------- network
    def _image_shape(self, n_features: int) -> tuple[int, int, int]:
        shape = self.image_shape
        if isinstance(shape, np.ndarray):
            shape = shape.tolist()
        if not (
            isinstance(shape, (tuple, list))
            and len(shape) == 3
            and all(is_int(s) and s > 0 for s in shape)
        ):
            raise ValueError(
                "architecture='cnn' needs image_shape=(C, H, W), e.g. (1, 28, 28) "
                f"for MNIST; got {self.image_shape!r}."
            )
        shape = tuple(int(s) for s in shape)
        if int(np.prod(shape)) != n_features:
            raise ValueError(
                f"image_shape={shape} means {int(np.prod(shape))} features "
                f"per image, but X has {n_features}. X must hold flattened images "
                "in (C, H, W) order."
            )
        if shape[1] < 4 or shape[2] < 4:
            raise ValueError(
                f"image_shape={shape}: the CNN pools twice, so H and W must "
                "be at least 4."
            )
        return shape

    def _module_params(self, n_features: int, n_outputs: int) -> dict:
        common = {
            "n_outputs": n_outputs,
            "hidden_layer_sizes": check_hidden_layer_sizes(self.hidden_layer_sizes),
            "activation": self.activation,
            "activation_params": self.activation_params,
        }
        if self.architecture == "mlp":
            module, specific = MLP, {"n_features": n_features}
        else:
            module, specific = CNN, {"image_shape": self._image_shape(n_features)}
        return {
            "module": module,
            **{f"module__{k}": v for k, v in {**specific, **common}.items()},
        }

    def _small(self, n_features: int, n_outputs: int, batch_size: int) -> bool:
        """Whether one batch of this MLP is too little work for several threads."""
        if self.architecture != "mlp":
            return False
        sizes = (
            n_features,
            *check_hidden_layer_sizes(self.hidden_layer_sizes),
            n_outputs,
        )
        madds = batch_size * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        return madds < _SINGLE_THREAD_MADDS

    # --------------------------------------------------------------------- fit
    def fit(self, X, y, sample_weight=None, callbacks=None):
        """Train the network on ``(X, y)``.

        With ``warm_start=True`` and a fitted model, training continues from
        the current weights for up to ``max_iter`` more epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features (images flattened in (C, H, W) order).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative per-sample weights of the training loss.
        callbacks : list of skorch callbacks or (name, callback), optional
            Extra skorch callbacks for this fit only (e.g.
            ``GradientNormClipping``, ``LRScheduler``, ``Checkpoint``, Optuna
            pruning), run after the estimator's own with every skorch hook.
            They are not parameters of the estimator and are not kept in the
            fitted model: ``clone``, ``get_params`` and pickling do not see
            them.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        warm = self.warm_start and hasattr(self, "net_")
        return self._fit(X, y, sample_weight, callbacks, incremental=warm)

    def _partial_fit(self, X, y, sample_weight, callbacks, **encode_kwargs):
        """One epoch over ``(X, y)``, from the current weights when fitted;
        ``encode_kwargs`` go to ``_encode_target`` (the classifier's
        ``classes``)."""
        incremental = hasattr(self, "net_")
        return self._fit(
            X, y, sample_weight, callbacks, incremental, epochs=1, **encode_kwargs
        )

    def _fit(self, X, y, sample_weight, callbacks, incremental, epochs=None, **kw):
        self._check_params()
        _check_missing_target(y)
        X, y = self._validate_X(X, y, reset=not incremental, **self._validate_y_kwargs)
        _warn_large_inputs(X, type(self).__name__)
        sample_weight = self._check_sample_weight(sample_weight, X.shape[0])
        y_t, n_outputs, target_attrs = self._encode_target(
            y, sample_weight, reset=not incremental, **kw
        )
        sample_weight = self._class_weights(y, sample_weight)
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        generator = torch.Generator(device=device).manual_seed(seed)
        splits = self._make_splits(X, y_t, sample_weight, rng, device)
        n_train = len(splits.train)
        batch_size = min(200 if self.batch_size == "auto" else self.batch_size, n_train)
        plan = [(epochs, "all")] if epochs is not None else self.cycle_plan()
        if incremental:
            net = self.net_
            if not _same_device(self.device_, device):  # e.g. CUDA, then the CPU
                net.device = str(device)
                net.module_.to(device)
                net.criterion_.to(device)
                net.initialize_optimizer()  # Adam's state lives on the old device
        else:
            net = self._new_net(X.shape[1], n_outputs, batch_size, device, plan)
            with (
                _GLOBAL_RNG_LOCK,
                torch.random.fork_rng(
                    devices=[device.index or 0] if device.type == "cuda" else []
                ),
            ):
                net.initialize()
            reset_parameters(net.module_, generator)
        # plain attributes, as skorch reads them at each fit; the shuffling
        # generator is set for this fit only (it does not pickle)
        net.batch_size = batch_size
        net.iterator_train__generator = generator
        single = device.type == "cpu" and self._small(X.shape[1], n_outputs, batch_size)
        extra = _named_callbacks(callbacks)
        try:
            with _single_thread(single), _extra_callbacks(net, extra):
                converged = self._train(net, splits, plan)
        finally:
            net.iterator_train__generator = None
        stalled = self._stalled(net) if epochs is None else None
        if stalled:
            warnings.warn(stalled, ConvergenceWarning, stacklevel=3)
        elif epochs is None and not converged:
            warnings.warn(
                f"{type(self).__name__}: maximum number of epochs reached and the "
                "optimisation has not converged yet; increase max_iter.",
                ConvergenceWarning,
                stacklevel=3,
            )
        for name, value in target_attrs.items():
            setattr(self, name, value)
        if not incremental:
            self.replaced_activations_ = {}
        self.net_ = net
        self.activation_ = self.activation if not incremental else self.activation_
        self.n_outputs_ = n_outputs
        self.converged_ = bool(converged)
        self._set_fitted_attributes(n_train)
        self._warm_inference(X)
        return self

    def _stalled(self, net) -> str | None:
        """Why this fit did not learn (its loss did not move), or None."""
        start = getattr(net, "initial_loss_", None)
        losses = [row["train_loss"] for row in net.history]
        if start is None or len(losses) < 2 or not start > 1e-8:
            return None
        best = min(losses)
        change = (start - best) / start
        if change >= _STALLED:
            return None
        return (
            f"{type(self).__name__}: the training loss did not move ({start:.6g} "
            f"before training, {best:.6g} at best over {len(losses)} epochs, a "
            f"relative change of {change:.2g}): the model has not learned; "
            + (
                f"learning_rate_init={self.learning_rate_init:g} is probably too "
                "small (the default is 0.001)."
                if self.learning_rate_init < 1e-3
                else "check the scale of the inputs (StandardScaler) and the "
                "learning rate."
            )
        )

    def _warm_inference(self, X) -> None:
        """Compile (or load) the fused kernels that ``predict`` runs, now.

        Training runs other kernels (the CPU's native operators, or the
        autograd path of small inputs) than inference does, and ``predict``
        never compiles: so ``fit`` ends with a forward pass of two rows,
        without autograd, on the threads a full prediction batch uses.
        """
        device = self.device_
        if len(X) < 2 or not fused_kernels_available(device):
            return
        module = self.net_.module_
        training = module.training
        module.eval()
        single = device.type == "cpu" and self._small(
            self.n_features_in_, self.n_outputs_, _PREDICT_BATCH[self.architecture]
        )
        try:
            with torch.inference_mode(), _single_thread(single):
                module(torch.as_tensor(np.array(X[:2]), device=device))
        finally:
            module.train(training)

    def _class_weights(self, y, sample_weight):
        """Multiply in the classifier's ``class_weight`` (none by default)."""
        return sample_weight

    def _new_net(self, n_features, n_outputs, batch_size, device, plan):
        alternating = self.schedule == "alternating"
        act_lr = self.activation_lr
        if act_lr is None:
            act_lr = (
                ALTERNATING_ACTIVATION_LR if alternating else self.learning_rate_init
            )
        own = (
            [("valid_score", ValidScore(self._score_kind))]
            if self.early_stopping
            else []
        )
        if self.verbose:
            desc = f"{type(self).__name__}({self.activation})"
            own.append(("progress", EpochProgress(sum(e for e, _ in plan), desc)))
        own.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor="valid_score" if self.early_stopping else "train_loss",
                    lower_is_better=not self.early_stopping,
                    patience=self.n_iter_no_change,
                    threshold=self.tol,
                    threshold_mode="abs",
                    load_best=self.early_stopping,
                    sink=plain_sink if self.verbose >= 2 else _silent,
                ),
            )
        )
        return LearnactNet(
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
            iterator_train__generator=None,
            iterator_valid=SliceIterator,
            iterator_valid__batch_size=_PREDICT_BATCH[self.architecture],
            train_split=None,
            callbacks=own,
            callbacks__print_log__sink=plain_sink if self.verbose >= 2 else _silent,
            device=device,
            verbose=int(self.verbose >= 2),
            **self._module_params(n_features, n_outputs),
        )

    def _make_splits(self, X, y_t, sample_weight, rng, device) -> Splits:
        def data(idx=slice(None)):  # a slice is a view: no copy of X for the full set
            def tensor(a):
                a = a[idx]
                return torch.from_numpy(a if a.flags.writeable else a.copy())

            weight = None
            if sample_weight is not None:
                w = sample_weight[idx]
                # relative to the split's mean: a batch's weighted mean loss
                # estimates the split's, and an all-zero batch has loss 0
                weight = torch.from_numpy((w / w.mean()).astype(np.float32))
            return TensorData(
                tensor(X).to(device),
                y_t[idx].to(device),
                None if weight is None else weight.to(device),
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
        if sample_weight is not None and not (
            sample_weight[train].sum() > 0 and sample_weight[valid].sum() > 0
        ):
            raise ValueError(
                "With early_stopping, both the training and the validation split "
                "need a sample of positive weight; too few samples have one."
            )
        return Splits(data(np.sort(train)), data(np.sort(valid)))

    def _train(self, net, splits, plan) -> bool:
        """Run the cycles of ``plan``; whether training stopped before the end."""
        act_params = net.activation_parameters()
        act_ids = {id(p) for p in act_params}
        net_params = [p for p in net.module_.parameters() if id(p) not in act_ids]
        alternating = len(plan) > 1
        converged = True
        for index, (epochs, trains) in enumerate(plan, start=1):
            if trains == "activation" and not (act_params and self.learn_activation):
                continue  # nothing to learn in the activation cycle
            for p in net_params:
                p.requires_grad_(trains != "activation")
            for p in act_params:
                p.requires_grad_(self.learn_activation and trains != "net")
            net.cycle = index if alternating else None
            before = len(net.history)
            net.partial_fit(splits, epochs=epochs)
            converged = converged and len(net.history) - before < epochs
        net.cycle = None
        for p in act_params:  # leave a trainable module behind (for fine-tuning)
            p.requires_grad_(self.learn_activation)
        for p in net_params:
            p.requires_grad_(True)
        return converged

    def _set_fitted_attributes(self, n_train: int) -> None:
        history = self.net_.history
        self.history_ = history_frame(history)
        self.loss_curve_ = self.history_["train_loss"].tolist()
        self.n_iter_ = len(history)
        self.t_ = int(  # training samples seen, as MLPClassifier's t_
            sum(b.get("train_batch_size", 0) for row in history for b in row["batches"])
        )
        if self.early_stopping:
            self.validation_scores_ = self.history_["valid_score"].tolist()
            self.best_validation_score_ = float(max(self.validation_scores_))
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = float(min(self.loss_curve_))

    # ----------------------------------------------------------------- predict
    def _forward(self, X) -> torch.Tensor:
        """Raw network outputs for ``X`` (logits or predictions), on the CPU."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        module = self.net_.module_
        module.eval()
        device = self.device_
        Xt = torch.from_numpy(X if X.flags.writeable else X.copy())
        bs = _PREDICT_BATCH[self.architecture]
        single = device.type == "cpu" and self._small(
            self.n_features_in_, self.n_outputs_, min(bs, len(Xt))
        )
        # no compiling in predict: fit compiled the kernels it runs
        with torch.inference_mode(), _single_thread(single), no_new_kernels():
            out = [
                module(Xt[i : i + bs].to(device)).cpu()
                for i in range(0, Xt.shape[0], bs)
            ]
        out = torch.cat(out)
        finite = torch.isfinite(out.reshape(len(out), -1)).all(dim=1)
        if not finite.all():
            warnings.warn(
                f"{type(self).__name__}: the network's outputs are not finite for "
                f"{int((~finite).sum())} of {len(out)} rows (inputs up to "
                f"{float(np.abs(X).max()):.3g}): its activations overflow far "
                "outside the range of the training inputs; scale the inputs as in "
                "training (e.g. StandardScaler in a Pipeline).",
                RuntimeWarning,
                stacklevel=3,
            )
        return out

    # ------------------------------------------------------------- inspection
    @property
    def device_(self) -> torch.device:
        """The device the fitted network is on (read from its parameters).

        A model trained on CUDA and unpickled where there is none is on the
        CPU (skorch moves it), and ``device_`` says so.
        """
        check_is_fitted(self)
        first = next(self.net_.module_.parameters(), None)
        return torch.device("cpu") if first is None else first.device

    @property
    def activations_(self) -> tuple[nn.Module, ...]:
        """The fitted activation modules, one per hidden layer, in order."""
        check_is_fitted(self)
        return tuple(self.net_.module_.activations)

    def replace_activations(self, modules: Mapping[int, nn.Module]):
        """Put other modules in place of fitted hidden activations.

        The network stays fitted; the optimiser is rebuilt for the remaining
        parameters. Used by :class:`~sklearn_learnact.SplineActivationCompressor`.
        The estimator then records the replacement in
        ``replaced_activations_`` and refuses :func:`~sklearn.base.clone`,
        which would silently rebuild the original activations from the
        parameters; a new ``fit`` (without ``warm_start``) trains the network
        its parameters describe.

        Parameters
        ----------
        modules : mapping of int to torch.nn.Module
            0-based index into ``activations_`` -> the new module (moved to
            ``device_``).

        Returns
        -------
        self : object
        """
        check_is_fitted(self)
        acts = self.net_.module_.activations
        for index, module in modules.items():
            if not (is_int(index) and 0 <= index < len(acts)):
                raise ValueError(
                    f"Activation index {index!r} out of range: the network has "
                    f"{len(acts)} hidden activations (0 to {len(acts) - 1})."
                )
            if not isinstance(module, nn.Module):
                raise TypeError(
                    f"The replacement of activation {index} must be a "
                    f"torch.nn.Module, got {type(module).__name__}."
                )
            acts[index] = module.to(self.device_)
        self.net_.initialize_optimizer()  # drop the replaced modules' parameters
        self.replaced_activations_ = {
            **getattr(self, "replaced_activations_", {}),
            **{int(i): type(m).__name__ for i, m in modules.items()},
        }
        return self

    def __sklearn_clone__(self):
        if getattr(self, "replaced_activations_", None):
            replaced = ", ".join(
                f"layer {i + 1}: {name}"
                for i, name in sorted(self.replaced_activations_.items())
            )
            raise TypeError(
                f"This {type(self).__name__} had its activations replaced ("
                f"{replaced}), e.g. by SplineActivationCompressor; clone would "
                "rebuild the original, uncompressed network from its parameters. "
                "Clone the compressor instead (clone(compressor) compresses a "
                "fresh fit), or clone compressor.estimator for the uncompressed "
                "model."
            )
        return super().__sklearn_clone__()

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weights of each weighted layer, in order, as in ``MLPClassifier``.

        Dense layers as ``(n_inputs, n_outputs)`` arrays (the transpose of
        torch's ``weight``); convolutions as torch's ``(out, in, kh, kw)``.
        """
        return [w for w, _ in self._layers()]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vector of each weighted layer, in order, as in ``MLPClassifier``."""
        return [b for _, b in self._layers()]

    def _layers(self):
        check_is_fitted(self)
        out = []
        for layer in self.net_.module_.modules():
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                w = layer.weight.detach().cpu().numpy().astype(np.float64)
                out.append(
                    (
                        w.T if isinstance(layer, nn.Linear) else w,
                        layer.bias.detach().cpu().numpy().astype(np.float64),
                    )
                )
        return out

    @property
    def learned_activations_(self) -> pd.DataFrame:
        """Tidy table of the learned activation parameters.

        One row per value with columns ``layer`` (1-based), ``activation``,
        ``parameter``, ``neuron`` (``<NA>`` for a layer-wide value) and
        ``value``. For ``affine`` these are k0, k1 per layer; for
        ``mixture`` P_1..P_n per layer. Empty for a fixed activation.
        The ``activation`` column is the name the model was fitted with
        (``activation_``), whatever ``activation`` is set to now.
        """
        rows = []
        for layer, act in enumerate(self.activations_, start=1):
            spec = activation_spec(act)
            if spec is None or not spec.learnable:
                continue
            for param, value in learned_parameters(act).items():
                values = value.reshape(-1).tolist()
                neurons = [pd.NA] if value.dim() == 0 else range(len(values))
                rows += [
                    (layer, self.activation_, param, neuron, v)
                    for neuron, v in zip(neurons, values)
                ]
        frame = pd.DataFrame(
            rows, columns=["layer", "activation", "parameter", "neuron", "value"]
        )
        return frame.astype({"layer": "int64", "neuron": "Int64", "value": "float64"})


def _check_missing_target(y) -> None:
    """A clear error for a target with missing values (None or NaN)."""
    if y is None or isinstance(y, str):
        return
    try:
        missing = pd.isna(np.asarray(y, dtype=object))
    except (TypeError, ValueError):  # ragged: validate_data says what is wrong
        return
    if np.ndim(missing) == 0:  # a scalar y: validate_data says what is wrong
        return
    n = int(np.sum(missing))
    if n:
        rows = np.flatnonzero(missing.reshape(len(missing), -1).any(axis=1))
        shown = ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "")
        raise ValueError(
            f"y has {n} missing value{'s' * (n > 1)} (None or NaN), in rows "
            f"{shown}: every sample needs a target; drop those rows or fill them "
            "in."
        )


def _warn_large_inputs(X: np.ndarray, name: str) -> None:
    """Warn when ``X`` is far from the scale networks train on."""
    # two reductions, no temporary: freeing an abs(X) the size of X (hundreds
    # of MB) left glibc's allocator in a state that slowed the training after it
    largest = max(float(X.max()), -float(X.min())) if X.size else 0.0
    if largest > _LARGE_INPUT:
        warnings.warn(
            f"{name}: X has values up to {largest:.3g}: networks train on inputs "
            "of order 1 and make little sense of larger ones (the loss grows with "
            "them); scale X first, e.g. StandardScaler in a Pipeline.",
            UserWarning,
            stacklevel=4,
        )


def _named_callbacks(callbacks) -> list[tuple[str, object]]:
    """``(name, callback)`` pairs from skorch-style callbacks or pairs."""
    named = []
    for item in callbacks or []:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            named.append(item)
        else:
            name = (item if isinstance(item, type) else type(item)).__name__
            named.append((name, item))
    names = [name for name, _ in named]
    if len(set(names)) != len(names):
        raise ValueError(
            f"Callback names must be unique, got {names}; pass (name, callback) "
            "pairs to name them."
        )
    return named


@contextmanager
def _extra_callbacks(net, extra):
    """The skorch callbacks ``extra`` on ``net`` for the block only."""
    if not extra:
        yield
        return
    own = list(net.callbacks or [])
    clash = {n for n, _ in extra} & {n for n, _ in net.callbacks_}
    if clash:
        raise ValueError(
            f"Callback name(s) {sorted(clash)} are taken by the estimator's own "
            "callbacks; pass (name, callback) pairs with other names."
        )
    net.callbacks = own + list(extra)
    net.initialize_callbacks()
    try:
        yield
    finally:
        names = {n for n, _ in extra}
        net.callbacks = own
        net.callbacks_ = [(n, cb) for n, cb in net.callbacks_ if n not in names]


def _silent(*args, **kwargs) -> None:
    """Sink for skorch messages when ``verbose < 2``."""
